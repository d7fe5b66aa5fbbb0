package dispatch

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/m2bbs/m2bbs/host/handler/session"
)

// spinner answers each line; "spin" keeps its worker busy for a while
// before answering, "quit" ends the session.
const spinner = `require 'ui'
function m2bbs(conn, req)
    while true do
        local m = req.data.msg
        if m == 'quit' then return end
        if m == 'spin' then
            local t = os.clock()
            while os.clock() - t < 1.5 do end
        end
        req = ui.ask(conn, req, 'said ' .. m)
    end
end`

func said(text string) func(reply) bool {
	return func(r reply) bool { return r.kind == "prompt" && r.text == "said "+text }
}

func disconnect(b *board, connID string) {
	b.ft.in <- request("JSON", connID, "@*", `{"type":"disconnect"}`)
}

// waitStatus polls the host's status until ok holds: the counters have no
// event to wait on.
func waitStatus(t *testing.T, b *board, ok func(Status) bool) Status {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		st := b.host.Status()
		if ok(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("status never as expected: %+v", st)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// TestFullWorkerDoesNotStallOthers: while one worker is busy and its queue
// full, the dispatch loop goes on serving the other worker's callers, and
// the lines it cannot queue are refused with a word.
func TestFullWorkerDoesNotStallOthers(t *testing.T) {
	b := startBoard(t, spinner, Config{Workers: 2, WorkerQueue: 4, MaxQueuedPerCaller: 10_000,
		Session: session.Config{ResumeBudget: 10 * time.Second}})
	b.say("1", "connect")
	b.ft.waitFor(t, "1", said("connect"))
	b.say("2", "connect") // the other worker
	b.ft.waitFor(t, "2", said("connect"))

	b.say("1", "spin")
	go func() {
		// More than the 1,024 a worker's queue held before the fix.
		for i := range 1100 {
			b.say("1", "x"+strconv.Itoa(i))
		}
		b.say("3", "connect") // a newcomer for the full worker (fewest callers, first)
		b.say("2", "hello")
	}()
	start := time.Now()
	b.ft.waitFor(t, "2", said("hello"))
	if waited := time.Since(start); waited > time.Second {
		t.Errorf("caller 2 waited %v for a worker caller 1 filled", waited)
	}
	// Caller 1 has lines queued, whose answers bring prompts: the refusal
	// is text. The newcomer has none: the refusal is a prompt.
	b.ft.waitFor(t, "1", func(r reply) bool { return r.kind == "screen" && r.text == busyText })
	b.ft.waitFor(t, "3", func(r reply) bool { return r.kind == "prompt" && r.text == busyText })
	st := waitStatus(t, b, func(st Status) bool { return st.Admission.RefusedBusy > 0 })
	if st.Admission.RefusedBusy > 1100-1 {
		t.Errorf("refused %d lines, want fewer than the 1,100 sent (the queue holds some)", st.Admission.RefusedBusy)
	}
	b.ft.waitFor(t, "1", said("spin")) // the spinner is served in the end
}

// TestQueuedLinesPerCallerAreBounded: past MaxQueuedPerCaller lines
// waiting, a caller's lines are refused, and answered once.
func TestQueuedLinesPerCallerAreBounded(t *testing.T) {
	b := startBoard(t, spinner, Config{Workers: 1, MaxQueuedPerCaller: 3,
		Session: session.Config{ResumeBudget: 10 * time.Second}})
	b.say("1", "connect")
	b.ft.waitFor(t, "1", said("connect"))
	b.say("1", "spin")
	for i := range 10 {
		b.say("1", "x"+strconv.Itoa(i))
	}
	b.say("2", "connect") // behind caller 1's lines: a barrier
	b.ft.waitFor(t, "2", said("connect"))
	if st := b.host.Status(); st.Admission.RefusedQueued != 8 {
		t.Errorf("refused %d lines, want 8 (3 waiting: spin, x0, x1)", st.Admission.RefusedQueued)
	}
	b.ft.waitFor(t, "1", said("x1"))
	busy := 0
	b.ft.mu.Lock()
	for _, raw := range b.ft.sent {
		for _, r := range decodeReply(t, raw) {
			if r.connID == "1" && r.text == busyText {
				busy++
			}
		}
	}
	b.ft.mu.Unlock()
	if busy != 1 {
		t.Errorf("caller 1 was told %d times the board is busy, want once", busy)
	}
}

// TestFloodRefusedInTheQueueIsCutOff: a flooder whose lines mostly pile
// up in the dispatch loop, because their worker is slower than the flood,
// is cut off by the session's flood limit as if the session had seen every
// line, rather than left at a prompt with the flood shrugged off.
func TestFloodRefusedInTheQueueIsCutOff(t *testing.T) {
	b := startBoard(t, spinner, Config{Workers: 1, MaxQueuedPerCaller: 3,
		Session: session.Config{ResumeBudget: 10 * time.Second, RateBurst: 5}})
	b.say("1", "connect")
	b.ft.waitFor(t, "1", said("connect"))
	b.say("1", "spin")
	for i := range 30 {
		b.say("1", "x"+strconv.Itoa(i))
	}
	b.ft.waitFor(t, "1", func(r reply) bool {
		return r.kind == "exit" && strings.Contains(r.text, "Too many lines too fast")
	})
	b.ft.waitFor(t, "1", kind("hangup"))
	b.say("2", "connect") // a barrier: one worker serves in order
	b.ft.waitFor(t, "2", said("connect"))
	b.ft.mu.Lock()
	defer b.ft.mu.Unlock()
	for _, raw := range b.ft.sent {
		for _, r := range decodeReply(t, raw) {
			if r.connID == "1" && strings.HasPrefix(r.text, "said x") {
				t.Errorf("the flooder's queued line was answered after the cut-off: %q", r.text)
			}
		}
	}
}

// TestLinesAfterSessionEndAreDropped: after a session ends, what its
// caller had sent after is dropped, without a new session, until the
// front end says the caller left; then the conn id may start afresh.
func TestLinesAfterSessionEndAreDropped(t *testing.T) {
	b := startBoard(t, spinner, Config{Workers: 1})
	b.say("1", "connect")
	b.ft.waitFor(t, "1", said("connect"))
	b.say("1", "quit")
	b.say("1", "connect") // pipelined behind the quit
	b.say("1", "again")
	b.ft.waitFor(t, "1", kind("hangup"))
	b.say("1", "late")    // after the hang-up reached the front end
	b.say("2", "connect") // a barrier: one worker serves in order
	b.ft.waitFor(t, "2", said("connect"))
	st := b.host.Status()
	if st.Sessions.Started != 2 || st.Admission.DroppedAfterEnd != 3 {
		t.Fatalf("started %d sessions, dropped %d lines; want 2 (callers 1 and 2) and 3",
			st.Sessions.Started, st.Admission.DroppedAfterEnd)
	}
	disconnect(b, "1")
	b.say("1", "connect")
	b.ft.waitFor(t, "1", said("connect"))
}

// TestDisconnectWaitsForRoomInAFullQueue: a disconnect notice that finds
// the worker's queue full is not lost: the session is freed once the
// worker gets to it.
func TestDisconnectWaitsForRoomInAFullQueue(t *testing.T) {
	b := startBoard(t, spinner, Config{Workers: 1, WorkerQueue: 1,
		Session: session.Config{ResumeBudget: 10 * time.Second}})
	b.say("1", "connect")
	b.ft.waitFor(t, "1", said("connect"))
	b.say("2", "connect")
	b.ft.waitFor(t, "2", said("connect"))
	b.say("2", "spin")
	for range 5 { // one of them fills the queue of one, the others are refused
		b.say("2", "x")
	}
	disconnect(b, "1")
	st := waitStatus(t, b, func(st Status) bool { return st.Sessions.Disconnected == 1 })
	if st.Admission.DeferredDisconnects != 1 {
		t.Errorf("deferred disconnects = %d, want 1", st.Admission.DeferredDisconnects)
	}
	b.ft.waitFor(t, "2", said("spin"))
}
