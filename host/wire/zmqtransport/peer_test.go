package zmqtransport

import (
	"bytes"
	"crypto/rand"
	"strconv"
	"testing"
	"time"

	"github.com/pebbe/zmq4"
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
	// The front end's request socket is the test's own, watched, so that
	// the test knows when the stopped handler's connection is gone.
	push, gone := watchedPush(t, s.send)
	listen(t, specs{send: "inproc://unused-" + rand.Text(), recv: s.recv}, ServerConfig{})
	old := dial(t, s)
	if _, err := push.SendBytes([]byte("before"), 0); err != nil {
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
	// ZeroMQ gives the front end's socket no word that the handler's
	// connection is gone, and a line sent before it notices goes down
	// that connection: wait for its monitor to tell.
	waitGone(t, push, gone)
	// With no handler the front end holds the line (the send blocks)
	// until the next one connects.
	sent := make(chan error, 1)
	go func() {
		_, err := push.SendBytes([]byte("meanwhile"), 0)
		sent <- err
	}()
	next := dial(t, s)
	if got := recv(t, next); string(got) != "meanwhile" {
		t.Fatalf("the next handler got %q, want the line sent meanwhile", got)
	}
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	old.StopReceiving() // twice, and before Close: harmless
}

// watchedPush binds a PUSH socket, owned by the test's goroutine, on spec
// and returns it with a monitor of its disconnections.
func watchedPush(t *testing.T, spec string) (push, mon *zmq4.Socket) {
	t.Helper()
	ctx, err := zmq4.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	push, err = ctx.NewSocket(zmq4.PUSH)
	if err != nil {
		t.Fatal(err)
	}
	endpoint := "inproc://test-monitor-" + rand.Text()
	if err := push.Monitor(endpoint, zmq4.EVENT_DISCONNECTED); err != nil {
		t.Fatal(err)
	}
	if mon, err = ctx.NewSocket(zmq4.PAIR); err != nil {
		t.Fatal(err)
	}
	if err := mon.Connect(endpoint); err != nil {
		t.Fatal(err)
	}
	if err := push.Bind(spec); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		push.SetLinger(0)
		push.Close()
		mon.SetLinger(0)
		mon.Close()
		ctx.Term()
	})
	return push, mon
}

// waitGone waits (up to guard) until push's monitor reports the
// disconnection, then until push has let the connection go (it takes no
// message any more): a message sent in between would go down it.
func waitGone(t *testing.T, push, mon *zmq4.Socket) {
	t.Helper()
	poller := zmq4.NewPoller()
	poller.Add(mon, zmq4.POLLIN)
	polled, err := poller.Poll(guard)
	if err != nil || len(polled) == 0 {
		t.Fatalf("no disconnection within %v (%v)", guard, err)
	}
	if _, _, _, err := mon.RecvEvent(0); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(guard)
	for {
		// Reading the events makes the socket handle the connection's end.
		ev, err := push.GetEvents()
		if err != nil {
			t.Fatal(err)
		}
		if ev&zmq4.POLLOUT == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the front end still holds the stopped handler's connection after %v", guard)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestRepliesForAGoneFrontEndAreNotDelivered: a reply sent after the front
// end went away (its caller went with it) never reaches the next front
// end, which would write it to whoever holds that conn id there; replies
// sent once the host has forgotten the old callers (ResumeSending) do.
func TestRepliesForAGoneFrontEndAreNotDelivered(t *testing.T) {
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
	waitClosed(t, h.Subscribed(), "subscription")
	if err := first.Send([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	recv(t, h)
	if err := h.Send([]byte("reply to 5")); err != nil {
		t.Fatal(err)
	}
	if got := recv(t, first); string(got) != "reply to 5" {
		t.Fatalf("first front end got %q", got)
	}
	first.Close()
	if got := recv(t, h); !bytes.HasPrefix(got, []byte("\x00gone ")) {
		t.Fatalf("got %q, want the note that the front end went away", got)
	}
	// A worker answers the old caller 5 late.
	if err := h.Send([]byte("late reply to old 5")); err != nil {
		t.Fatal(err)
	}
	second := listen(t, s, ServerConfig{})
	h.ResumeSending()
	// The new front end's subscription comes when it likes: send until a
	// reply gets through, and look at everything that came.
	deadline := time.Now().Add(guard)
	for {
		if err := h.Send([]byte("reply to new 5")); err != nil {
			t.Fatal(err)
		}
		select {
		case got := <-second.Messages():
			if string(got) != "reply to new 5" {
				t.Fatalf("the next front end got %q, want only replies sent after it came", got)
			}
			if st := h.PeerStats(); st.AwayDropped != 1 || st.Drops != 1 {
				t.Errorf("PeerStats = %+v, want 1 drop and 1 reply dropped", st)
			}
			return
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("no reply reached the next front end")
		}
	}
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
