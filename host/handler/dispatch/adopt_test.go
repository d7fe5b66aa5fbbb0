package dispatch

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/m2bbs/m2bbs/host/handler/session"
	"github.com/m2bbs/m2bbs/host/handler/store"
	"github.com/m2bbs/m2bbs/host/wire/m2proto"
)

// FuzzRequestConnID: the conn id an adopted line's forwarder reads from a
// request is the one ParseRequest reads, for every request ParseRequest
// accepts; anything else gives an id of 64 bytes at most, or none.
func FuzzRequestConnID(f *testing.F) {
	f.Add([]byte("m2bbs-line-1 42 @bbs.1 2:{},20:{\"type\":\"msg\",\"msg\":\"x\"},"))
	f.Add([]byte("s 1"))
	f.Add([]byte("no-space"))
	f.Add([]byte("\x00front-end-gone 1796242668286"))
	f.Fuzz(func(t *testing.T, msg []byte) {
		id := requestConnID(msg)
		if len(id) > 64 {
			t.Fatalf("conn id of %d bytes", len(id))
		}
		if req, err := m2proto.ParseRequest(msg); err == nil && id != req.ConnID {
			t.Fatalf("requestConnID(%q) = %q, ParseRequest says %q", msg, id, req.ConnID)
		}
	})
}

// TestAdoptedLineFloodDoesNotDelayOthers: line 2's host adopts line 1,
// which went down with a caller on it; that caller floods the adopted
// line with lines while kim, on line 2's own handler, keeps typing: her
// answers never wait long, the flooder is still served (or refused, as
// on any line), and the line is let go once its caller hangs up.
func TestAdoptedLineFloodDoesNotDelayOthers(t *testing.T) {
	ctx := t.Context()
	db, err := store.Open(filepath.Join(t.TempDir(), "bbs.db"), store.Options{BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	old := time.Now().Add(-time.Hour)
	dead := store.LineBeat{Line: 1, Route: "@bbs.1", Capacity: 10, Instance: "dead", At: old}
	if _, err := db.ClaimLine(ctx, dead); err != nil {
		t.Fatal(err)
	}
	if _, err := db.BeatLine(ctx, dead, []store.Presence{{Line: 1, ConnID: "9"}}, nil); err != nil {
		t.Fatal(err)
	}
	adopted := newFakeTransport()
	asked := make(chan int, 1)
	released := make(chan struct{})
	cfg := Config{Line: 2, Workers: 2, Heartbeat: 20 * time.Millisecond, StaleAfter: 200 * time.Millisecond,
		Session: session.Config{Journal: true, RatePerSecond: 1e6, RateBurst: 1e6}}
	b := startBoardDeps(t, versioned("v1"), cfg, Deps{Store: db, Lines: db,
		AdoptLine: func(line int) (Transport, func(), error) {
			asked <- line
			return adopted, func() { close(released) }, nil
		}})
	select {
	case line := <-asked:
		if line != 1 {
			t.Fatalf("adopted line %d", line)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("line 1 was never adopted")
	}
	b.say("1", "connect")
	b.ft.waitFor(t, "1", kind("prompt"))
	if got := b.host.Status().AdoptedLines; !slices.Equal(got, []int{1}) {
		t.Errorf("status: adopted lines %v, want [1]", got)
	}

	const flood = 3000
	flooded := make(chan struct{})
	go func() {
		defer close(flooded)
		for i := range flood {
			body, _ := json.Marshal(map[string]string{"type": "msg", "msg": "x" + strconv.Itoa(i)})
			select {
			case adopted.in <- request("JSON", "9", "@bbs.1", string(body)):
			case <-ctx.Done():
				return
			}
		}
	}()
	var worst time.Duration
	for i := range 20 {
		start := time.Now()
		text := "ping " + strconv.Itoa(i)
		b.say("1", text)
		b.ft.waitFor(t, "1", func(r reply) bool { return r.kind == "prompt" && r.text == "v1 "+text })
		worst = max(worst, time.Since(start))
	}
	t.Logf("kim's slowest answer while the adopted line's caller flooded: %v", worst)
	if worst > time.Second {
		t.Errorf("kim waited %v for an answer while the adopted line was flooded", worst)
	}
	b.ft.waitFor(t, "9", func(r reply) bool { return strings.HasPrefix(r.text, "v1 x") })

	// The flooder hangs up (after the last of the flood): the line is let
	// go.
	<-flooded
	adopted.in <- request("JSON", "9", "@*", `{"type":"disconnect"}`)
	select {
	case <-released:
	case <-time.After(10 * time.Second):
		t.Fatal("the adopted line was not let go after its caller hung up")
	}
	if got := b.host.Status().AdoptedLines; len(got) != 0 {
		t.Errorf("status after the line was let go: adopted lines %v", got)
	}
}
