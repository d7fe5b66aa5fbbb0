package loadgen

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/m2bbs/m2bbs/cmd/m2bbs-bench/internal/echo"
	"github.com/m2bbs/m2bbs/host/gateway/mongrel2"
	"github.com/m2bbs/m2bbs/host/message"
	"github.com/m2bbs/m2bbs/host/wire/zmqtransport"
)

// parkAfter answers n prompts with "ok", then parks.
type parkAfter struct{ n int }

func (p *parkAfter) Handle(m message.Message) (Action, string, error) {
	if p.n == 0 {
		return Park, "", nil
	}
	p.n--
	return Answer, "ok", nil
}

// failAt fails at the first message.
type failAt struct{}

func (failAt) Handle(message.Message) (Action, string, error) {
	return Read, "", errors.New("not what I expected")
}

// muxWithEcho binds a Mux and connects an echo handler to it over TCP.
func muxWithEcho(t *testing.T) (*Mux, *echo.Handler) {
	t.Helper()
	var specs []string
	for range 2 {
		port, err := mongrel2.FreePort()
		if err != nil {
			t.Fatal(err)
		}
		specs = append(specs, fmt.Sprintf("tcp://127.0.0.1:%d", port))
	}
	m, err := ListenMux(MuxConfig{SendSpec: specs[0], RecvSpec: specs[1], SenderID: "bench"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	tr, err := zmqtransport.DialHandler(zmqtransport.HandlerConfig{SendSpec: specs[0], RecvSpec: specs[1], Identity: "echo"})
	if err != nil {
		t.Fatal(err)
	}
	h := echo.New(tr, false, nil)
	done := make(chan error, 1)
	go func() { done <- h.Run(t.Context()) }()
	t.Cleanup(func() {
		tr.Close()
		if err := <-done; err != nil && t.Context().Err() == nil {
			t.Errorf("echo handler: %v", err)
		}
	})
	return m, h
}

func TestMuxCarriesManyCallersOverOneLink(t *testing.T) {
	m, h := muxWithEcho(t)
	body, err := m.Status(t.Context(), echo.StatusPath)
	if err != nil {
		t.Fatal(err)
	}
	var st echo.Status
	if err := json.Unmarshal(body, &st); err != nil || st.HeapBytes == 0 {
		t.Fatalf("status %q: %v", body, err)
	}

	var calls []*MuxCall
	for range 20 {
		c, err := m.Start(NewEchoScript(5))
		if err != nil {
			t.Fatal(err)
		}
		calls = append(calls, c)
	}
	for i, c := range calls {
		if err := c.Wait(t.Context(), 10*time.Second); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		if c.Parked() || len(c.RoundTrips()) != 5 {
			t.Errorf("call %d: parked %v, %d round trips, want 5", i, c.Parked(), len(c.RoundTrips()))
		}
	}
	if got := h.Stats().Echoed; got != 20*5 {
		t.Errorf("echoed %d lines, want %d", got, 20*5)
	}
	// Each caller hung up: the handler heard of it. Requests arrive in
	// order, so once a status request is answered the notices are in.
	if _, err := m.Status(t.Context(), echo.StatusPath); err != nil {
		t.Fatal(err)
	}
	if got := h.Stats().Ignored; got != 20 {
		t.Errorf("%d disconnect notices, want 20", got)
	}
	if st := m.Stats(); st != (MuxStats{}) {
		t.Errorf("stats %+v", st)
	}
}

func TestMuxParksCallers(t *testing.T) {
	m, h := muxWithEcho(t)
	var scripts []Script
	for range 50 {
		scripts = append(scripts, &parkAfter{n: 2})
	}
	if err := m.Park(t.Context(), scripts, 8, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if got := h.Stats().Echoed; got != 50*3 {
		t.Errorf("echoed %d lines, want %d", got, 50*3)
	}
	if st := m.Stats(); st != (MuxStats{}) {
		t.Errorf("stats %+v", st)
	}
}

func TestMuxEndsAFailedVisit(t *testing.T) {
	m, h := muxWithEcho(t)
	c, err := m.Start(failAt{})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Wait(t.Context(), 10*time.Second); err == nil || c.Err() == nil {
		t.Fatal("a failing script ended without an error")
	}
	// The caller is hung up on: the handler gets the disconnect notice
	// (before the answer to a later status request).
	if _, err := m.Status(t.Context(), echo.StatusPath); err != nil {
		t.Fatal(err)
	}
	if h.Stats().Ignored != 1 {
		t.Fatalf("%d disconnect notices after a failed visit, want 1", h.Stats().Ignored)
	}
	if err := m.Park(t.Context(), []Script{failAt{}}, 1, 10*time.Second); err == nil {
		t.Error("Park reported no error for a failing script")
	}
	if err := m.Park(t.Context(), []Script{NewEchoScript(1)}, 1, 10*time.Second); err == nil {
		t.Error("Park reported no error for a caller who left")
	}
}

func TestMuxStatusOfAnUnknownPage(t *testing.T) {
	m, _ := muxWithEcho(t)
	if _, err := m.Status(t.Context(), "/nowhere"); err == nil {
		t.Error("no error for a 404")
	}
}

func TestMuxParkStopsStartingWhenItsContextEnds(t *testing.T) {
	m, h := muxWithEcho(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	// The third caller's first prompt cancels the parking: callers already
	// started finish parking, no more start.
	var scripts []Script
	for i := range 10 {
		if i == 2 {
			scripts = append(scripts, cancelling{cancel})
			continue
		}
		scripts = append(scripts, &parkAfter{n: 1})
	}
	err := m.Park(ctx, scripts, 1, 10*time.Second)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if _, err := m.Status(t.Context(), echo.StatusPath); err != nil {
		t.Fatal(err)
	}
	if got := h.Stats().Echoed; got != 2*2+1 {
		t.Errorf("echoed %d lines, want the 5 of the first three callers", got)
	}
}

// cancelling cancels a context at its first message, then parks.
type cancelling struct{ cancel context.CancelFunc }

func (c cancelling) Handle(message.Message) (Action, string, error) {
	c.cancel()
	return Park, "", nil
}

func TestMuxContinuesParkedCallers(t *testing.T) {
	m, h := muxWithEcho(t)
	var scripts []Script
	for range 5 {
		scripts = append(scripts, &parkAfter{n: 1})
	}
	if err := m.Park(t.Context(), scripts, 5, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	parked := m.ParkedCalls(10)
	if len(parked) != 5 {
		t.Fatalf("%d callers parked, want 5", len(parked))
	}
	for _, c := range parked {
		next, err := m.Continue(c, "back", ParkAtPrompt{})
		if err != nil {
			t.Fatal(err)
		}
		if err := next.Wait(t.Context(), 10*time.Second); err != nil || !next.Parked() || len(next.RoundTrips()) != 1 {
			t.Fatalf("continued caller: %v, parked %v, %d round trips", err, next.Parked(), len(next.RoundTrips()))
		}
		if _, err := m.Continue(c, "again", ParkAtPrompt{}); err == nil {
			t.Fatal("a caller continued twice from the same parked visit")
		}
	}
	if got := h.Stats().Echoed; got != 5*3 {
		t.Errorf("echoed %d lines, want %d", got, 5*3)
	}
	if st := m.Stats(); st != (MuxStats{}) {
		t.Errorf("stats %+v", st)
	}
}
