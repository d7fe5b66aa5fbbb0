package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/m2bbs/m2bbs/host/message"
	"github.com/m2bbs/m2bbs/host/shared/access"
	"github.com/m2bbs/m2bbs/host/wire/m2proto"
	"github.com/m2bbs/m2bbs/host/wire/zmqtransport"
)

// MuxConfig configures a Mux.
type MuxConfig struct {
	// SendSpec and RecvSpec are the handler's addresses, bound here as a
	// front end binds them: requests go out on SendSpec, replies come in
	// on RecvSpec.
	SendSpec, RecvSpec string
	// SenderID is the send_ident every request carries.
	SenderID string
	// Route is the JSON-socket route; DefaultRoute when empty.
	Route string
	// Raw says the board sends raw JSON frames instead of base64.
	Raw bool
	// Log receives the transport's logs; nil discards them.
	Log *slog.Logger
}

// maxStatusBytes bounds the status page Status reads.
const maxStatusBytes = 16 << 20

// statusConnBase numbers the made-up connections of status requests, far
// above the callers'.
const statusConnBase = 1 << 40

// Mux plays the front end for many callers over one pair of ZeroMQ
// sockets: each caller is a conn id of its own, and the board cannot tell
// them from callers on TCP connections. It needs one file descriptor pair
// however many callers it carries. Its methods are safe for concurrent
// use.
type Mux struct {
	cfg MuxConfig
	t   *zmqtransport.Transport

	mu      sync.Mutex
	calls   map[string]*MuxCall
	pending map[string]chan []byte // status requests by conn id
	nextID  uint64

	unexpected atomic.Int64 // frames for callers that are parked, done or unknown
	hungUp     atomic.Int64 // parked callers the board hung up on
	loopDone   chan struct{}
}

// MuxStats count what a Mux's callers got that no visit expected.
type MuxStats struct {
	// Unexpected counts frames for callers not in a visit (parked, done
	// or unknown).
	Unexpected int64
	// HungUp counts parked callers the board hung up on.
	HungUp int64
	// Dropped counts requests the transport could not send.
	Dropped uint64
}

// ListenMux binds the handler's sockets and starts relaying replies.
func ListenMux(cfg MuxConfig) (*Mux, error) {
	if cfg.Route == "" {
		cfg.Route = DefaultRoute
	}
	if cfg.SenderID == "" {
		return nil, errors.New("loadgen: mux needs a sender id")
	}
	t, err := zmqtransport.ListenServer(zmqtransport.ServerConfig{
		SendSpec: cfg.SendSpec, RecvSpec: cfg.RecvSpec, Log: cfg.Log,
	})
	if err != nil {
		return nil, fmt.Errorf("loadgen: mux: %w", err)
	}
	m := &Mux{
		cfg: cfg, t: t,
		calls:    make(map[string]*MuxCall),
		pending:  make(map[string]chan []byte),
		loopDone: make(chan struct{}),
	}
	go m.loop()
	return m, nil
}

// Close unbinds the sockets. Callers still connected are dropped without
// a disconnect notice.
func (m *Mux) Close() error {
	err := m.t.Close()
	<-m.loopDone
	return err
}

// Stats returns the counters.
func (m *Mux) Stats() MuxStats {
	return MuxStats{Unexpected: m.unexpected.Load(), HungUp: m.hungUp.Load(), Dropped: m.t.Stats().Dropped}
}

// MuxCall is one visit of a caller carried by a Mux.
type MuxCall struct {
	m      *Mux
	id     string
	script Script
	done   chan struct{}

	// Fields below belong to the Mux's loop goroutine until done closes.
	sent    time.Time
	leaving bool
	err     error
	final   Action
	samples []time.Duration
}

// Done is closed when the visit ends: the caller left, hung up, parked,
// or failed.
func (c *MuxCall) Done() <-chan struct{} { return c.done }

// Err is why the visit failed, or nil; valid after Done.
func (c *MuxCall) Err() error { return c.err }

// Parked reports whether the visit ended with the caller staying
// connected; valid after Done.
func (c *MuxCall) Parked() bool { return c.final == Park && c.err == nil }

// RoundTrips are the visit's prompt round-trip times, in order; valid
// after Done.
func (c *MuxCall) RoundTrips() []time.Duration { return c.samples }

// Start connects a new caller, who sends "connect" and then plays script.
func (m *Mux) Start(script Script) (*MuxCall, error) {
	m.mu.Lock()
	m.nextID++
	c := &MuxCall{m: m, id: strconv.FormatUint(m.nextID, 10), script: script, done: make(chan struct{})}
	m.calls[c.id] = c
	c.sent = time.Now()
	m.mu.Unlock()
	if err := m.sendLine(c.id, "connect"); err != nil {
		m.mu.Lock()
		delete(m.calls, c.id)
		m.mu.Unlock()
		return nil, err
	}
	return c, nil
}

// Park plays every script (each normally ending parked at a prompt) with
// at most window visits in progress at once, and waits for all of them;
// each visit may take at most timeout. When ctx ends no more visits start,
// and those in progress are still waited for, so that the board is quiet
// when Park returns. It returns the first error.
func (m *Mux) Park(ctx context.Context, scripts []Script, window int, timeout time.Duration) error {
	sem := make(chan struct{}, max(window, 1))
	var (
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	fail := func(err error) { errOnce.Do(func() { firstErr = err }) }
	waitCtx := context.WithoutCancel(ctx)
	for _, s := range scripts {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			fail(ctx.Err())
			break
		}
		c, err := m.Start(s)
		if err != nil {
			<-sem
			fail(err)
			break
		}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := c.Wait(waitCtx, timeout); err != nil {
				fail(err)
			} else if !c.Parked() {
				fail(fmt.Errorf("loadgen: caller %s left instead of parking", c.id))
			}
		})
	}
	wg.Wait()
	return firstErr
}

// Wait waits up to timeout for the visit to end and returns its error.
func (c *MuxCall) Wait(ctx context.Context, timeout time.Duration) error {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-c.done:
		return c.err
	case <-t.C:
		return fmt.Errorf("loadgen: caller %s: no end of visit after %v", c.id, timeout)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Status asks the board's handler for path (an HTTP GET, as the sysop's
// tool would through the front end: from the loopback, with
// access.SysopHeader) and returns the response body, or an error for a
// status other than 200. path may end in a query: the host's status page
// takes "?online=0" to leave out the list of callers online, which would
// be long.
func (m *Mux) Status(ctx context.Context, path string) ([]byte, error) {
	m.mu.Lock()
	m.nextID++
	id := strconv.FormatUint(statusConnBase+m.nextID, 10)
	reply := make(chan []byte, 1)
	m.pending[id] = reply
	m.mu.Unlock()
	defer func() {
		m.mu.Lock()
		delete(m.pending, id)
		m.mu.Unlock()
	}()
	uri := path
	path, query, hasQuery := strings.Cut(path, "?")
	headers := []m2proto.Header{
		{Name: "PATH", Value: path}, {Name: "host", Value: "localhost"},
		{Name: strings.ToLower(access.SysopHeader), Value: "1"},
		{Name: "METHOD", Value: "GET"}, {Name: "VERSION", Value: "HTTP/1.1"}, {Name: "URI", Value: uri},
	}
	if hasQuery {
		headers = append(headers, m2proto.Header{Name: "QUERY", Value: query})
	}
	headers = append(headers, m2proto.Header{Name: "PATTERN", Value: path},
		m2proto.Header{Name: "URL_SCHEME", Value: "http"}, m2proto.Header{Name: "REMOTE_ADDR", Value: "127.0.0.1"})
	req := &m2proto.Request{Sender: m.cfg.SenderID, ConnID: id, Path: path, Headers: headers}
	if err := m.t.Send(m2proto.AppendRequest(nil, req, m2proto.JSONHeaders)); err != nil {
		return nil, fmt.Errorf("loadgen: status: %w", err)
	}
	var raw []byte
	select {
	case raw = <-reply:
	case <-ctx.Done():
		return nil, fmt.Errorf("loadgen: status: %w", ctx.Err())
	}
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(raw)), nil)
	if err != nil {
		return nil, fmt.Errorf("loadgen: status: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxStatusBytes))
	if err != nil {
		return nil, fmt.Errorf("loadgen: status: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("loadgen: status: %s: %s", resp.Status, bytes.TrimSpace(body))
	}
	return body, nil
}

// sendLine sends a caller's line as the front end would forward it.
func (m *Mux) sendLine(connID, line string) error {
	text, _ := json.Marshal(line)
	body := append([]byte(`{"type":"msg","msg":`), text...)
	body = append(body, '}')
	req := &m2proto.Request{
		Sender: m.cfg.SenderID, ConnID: connID, Path: m.cfg.Route,
		Headers: []m2proto.Header{
			{Name: "PATH", Value: m.cfg.Route}, {Name: "x-forwarded-for", Value: "127.0.0.1"},
			{Name: "METHOD", Value: "JSON"}, {Name: "PATTERN", Value: m.cfg.Route},
			{Name: "URL_SCHEME", Value: "http"}, {Name: "REMOTE_ADDR", Value: "127.0.0.1"},
		},
		Body: body,
	}
	if err := m.t.Send(m2proto.AppendRequest(nil, req, m2proto.JSONHeaders)); err != nil {
		return fmt.Errorf("loadgen: mux send: %w", err)
	}
	return nil
}

// disconnect sends the front end's notice that a caller has gone.
func (m *Mux) disconnect(connID string) {
	req := &m2proto.Request{
		Sender: m.cfg.SenderID, ConnID: connID, Path: "@*",
		Headers: []m2proto.Header{{Name: "METHOD", Value: "JSON"}},
		Body:    []byte(`{"type":"disconnect"}`),
	}
	_ = m.t.Send(m2proto.AppendRequest(nil, req, m2proto.JSONHeaders))
}

// loop relays every reply to its callers.
func (m *Mux) loop() {
	defer close(m.loopDone)
	for msg := range m.t.Messages() {
		_, ids, body, err := m2proto.ParseReply(msg)
		if err != nil {
			m.unexpected.Add(1)
			continue
		}
		now := time.Now()
		for _, id := range ids {
			m.deliver(id, body, now)
		}
	}
	// The transport is closed: end the visits still waiting.
	m.mu.Lock()
	defer m.mu.Unlock()
	for id, c := range m.calls {
		if c.err == nil && c.final != Park {
			c.finish(errors.New("loadgen: mux closed"))
		}
		delete(m.calls, id)
	}
}

// deliver hands one reply body to the caller or status request id.
func (m *Mux) deliver(id string, body []byte, now time.Time) {
	m.mu.Lock()
	c := m.calls[id]
	reply := m.pending[id]
	m.mu.Unlock()
	switch {
	case reply != nil:
		select {
		case reply <- body:
		default:
		}
		return
	case c == nil:
		if len(body) > 0 {
			m.unexpected.Add(1)
		}
		return
	}
	select {
	case <-c.done:
		if len(body) == 0 && c.final == Park {
			m.hungUp.Add(1)
			m.forget(c)
		} else if len(body) > 0 {
			m.unexpected.Add(1)
		}
		return
	default:
	}
	if len(body) == 0 {
		if c.leaving {
			c.finish(nil)
		} else {
			c.finish(errors.New("loadgen: the board hung up in the middle of the visit"))
		}
		m.forget(c)
		return
	}
	for frame := range bytes.SplitSeq(bytes.TrimSuffix(body, []byte{0}), []byte{0}) {
		msg, err := decodeFrame(frame, m.cfg.Raw)
		if err == nil {
			err = c.handle(msg, now)
		}
		if err != nil {
			c.finish(err)
			m.disconnect(c.id)
			m.forget(c)
			return
		}
	}
}

// handle runs one message through the caller's script.
func (c *MuxCall) handle(msg message.Message, now time.Time) error {
	if c.leaving {
		return fmt.Errorf("loadgen: %w after the goodbye: %s %q", ErrUnexpected, msg.Type, msg.Msg)
	}
	act, line, err := c.script.Handle(msg)
	if err != nil || act == Read {
		return err
	}
	c.samples = append(c.samples, now.Sub(c.sent))
	switch act {
	case Leave:
		c.leaving = true
	case HangUp:
		c.m.disconnect(c.id)
		c.m.forget(c)
		c.final = HangUp
		c.finish(nil)
	case Park:
		c.final = Park
		c.finish(nil)
	case Answer:
		c.sent = time.Now()
		return c.m.sendLine(c.id, line)
	}
	return nil
}

func (c *MuxCall) finish(err error) {
	select {
	case <-c.done:
		return
	default:
	}
	c.err = err
	close(c.done)
}

func (m *Mux) forget(c *MuxCall) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.calls[c.id] == c {
		delete(m.calls, c.id)
	}
}

// decodeFrame turns one frame (NUL removed) into a message.
func decodeFrame(frame []byte, raw bool) (message.Message, error) {
	data := frame
	if !raw {
		var err error
		if data, err = base64.StdEncoding.AppendDecode(nil, frame); err != nil {
			return message.Message{}, fmt.Errorf("loadgen: frame is not base64: %w", err)
		}
	}
	msg, err := message.Decode(data)
	if err != nil {
		return message.Message{}, fmt.Errorf("loadgen: frame: %w", err)
	}
	return msg, nil
}

// ParkedCalls returns up to n of the callers parked now, in no set order.
func (m *Mux) ParkedCalls(n int) []*MuxCall {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*MuxCall
	for _, c := range m.calls {
		if len(out) >= n {
			break
		}
		if c.parkedNow() {
			out = append(out, c)
		}
	}
	return out
}

// parkedNow reports whether c's visit has ended parked.
func (c *MuxCall) parkedNow() bool {
	select {
	case <-c.done:
		return c.Parked()
	default:
		return false
	}
}

// Continue has parked caller c type line and plays script with what the
// board answers, as a visit of its own (a caller back at their screen
// after a while); its first round trip is that line's.
func (m *Mux) Continue(c *MuxCall, line string, script Script) (*MuxCall, error) {
	next := &MuxCall{m: m, id: c.id, script: script, done: make(chan struct{})}
	m.mu.Lock()
	if m.calls[c.id] != c || !c.parkedNow() {
		m.mu.Unlock()
		return nil, fmt.Errorf("loadgen: caller %s is not parked", c.id)
	}
	m.calls[c.id] = next
	next.sent = time.Now()
	m.mu.Unlock()
	if err := m.sendLine(c.id, line); err != nil {
		m.mu.Lock()
		m.calls[c.id] = c
		m.mu.Unlock()
		return nil, err
	}
	return next, nil
}

// ParkAtPrompt is a Script that reads what the board shows and parks at
// its first prompt.
type ParkAtPrompt struct{}

// Handle implements Script.
func (ParkAtPrompt) Handle(m message.Message) (Action, string, error) {
	switch m.Type {
	case message.TypePrompt:
		return Park, "", nil
	case message.TypeExit:
		return 0, "", fmt.Errorf("loadgen: %w: the board said goodbye: %q", ErrUnexpected, m.Msg)
	}
	return Read, "", nil
}
