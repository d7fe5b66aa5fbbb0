package zmqtransport

import (
	"bytes"
	"strconv"
	"testing"
	"time"
)

func gone(at time.Time) []byte { return []byte("\x00gone " + strconv.FormatInt(at.UnixMilli(), 10)) }

// TestPeerGoneNoteComesInOrder: a front end that restarts on the same
// addresses is reported by one note, after every message of the old one
// and before every message of the new one; a handler that starts while its
// front end runs hears no note.
func TestPeerGoneNoteComesInOrder(t *testing.T) {
	s := tcpSpecs(t)
	first, err := ListenServer(ServerConfig{SendSpec: s.send, RecvSpec: s.recv})
	if err != nil {
		t.Fatal(err)
	}
	h, err := DialHandler(HandlerConfig{SendSpec: s.send, RecvSpec: s.recv, PeerGone: gone})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	if err := first.Send([]byte("old")); err != nil {
		t.Fatal(err)
	}
	if got := recv(t, h); string(got) != "old" {
		t.Fatalf("got %q, want the old front end's message", got)
	}
	first.Close()
	second := listen(t, s, ServerConfig{})
	if err := second.Send([]byte("new")); err != nil {
		t.Fatal(err)
	}
	if got := recv(t, h); !bytes.HasPrefix(got, []byte("\x00gone ")) {
		t.Fatalf("got %q, want the note that the front end went away first", got)
	}
	if got := recv(t, h); string(got) != "new" {
		t.Fatalf("got %q after the note, want the new front end's message", got)
	}
	if h.PeerDrops() != 1 {
		t.Errorf("PeerDrops = %d, want 1", h.PeerDrops())
	}
	// A handler joining a running front end hears no note.
	late, err := DialHandler(HandlerConfig{SendSpec: s.send, RecvSpec: s.recv, PeerGone: gone})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { late.Close() })
	waitClosed(t, late.Subscribed(), "subscription")
	if late.PeerDrops() != 0 {
		t.Errorf("a handler that joined a running front end counted %d drops", late.PeerDrops())
	}
}

// TestStopReceivingLeavesMessagesForTheNextHandler: what the front end
// sends after StopReceiving reaches the handler that connects next, not
// the one that is stopping.
func TestStopReceivingLeavesMessagesForTheNextHandler(t *testing.T) {
	s := tcpSpecs(t)
	srv := listen(t, s, ServerConfig{})
	old := dial(t, s)
	if err := srv.Send([]byte("before")); err != nil {
		t.Fatal(err)
	}
	if got := recv(t, old); string(got) != "before" {
		t.Fatalf("got %q", got)
	}
	old.StopReceiving()
	select {
	case msg, ok := <-old.Messages():
		if ok {
			t.Fatalf("a stopped transport still delivered %q", msg)
		}
	case <-time.After(guard):
		t.Fatal("Messages not closed after StopReceiving")
	}
	// ZeroMQ gives the front end no signal that the handler's connection
	// is gone; a line sent in the instant before it notices goes down
	// that connection. Give it the moment a caller's typing takes.
	time.Sleep(100 * time.Millisecond)
	if err := srv.Send([]byte("meanwhile")); err != nil {
		t.Fatal(err)
	}
	next := dial(t, s)
	if got := recv(t, next); string(got) != "meanwhile" {
		t.Fatalf("the next handler got %q, want the line sent meanwhile", got)
	}
	old.StopReceiving() // twice, and before Close: harmless
}

// TestFlushThenCloseDeliversEveryReply: replies queued before Flush reach
// the front end even though the handler closes right after.
func TestFlushThenCloseDeliversEveryReply(t *testing.T) {
	s := tcpSpecs(t)
	srv := listen(t, s, ServerConfig{})
	h, err := DialHandler(HandlerConfig{SendSpec: s.send, RecvSpec: s.recv})
	if err != nil {
		t.Fatal(err)
	}
	waitClosed(t, h.Subscribed(), "subscription")
	const n = 500
	for i := range n {
		if err := h.Send([]byte("reply " + strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	if !h.Flush(guard) {
		t.Fatal("Flush timed out")
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if got := recv(t, srv); string(got) != "reply "+strconv.Itoa(i) {
			t.Fatalf("front end got %q, want reply %d", got, i)
		}
	}
	if h.Flush(time.Millisecond) {
		t.Error("Flush of a closed transport reported success")
	}
}
