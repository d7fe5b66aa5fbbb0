package frontend

import (
	"strconv"
	"testing"

	sess "github.com/m2bbs/m2bbs/host/handler/session"
)

// connIDOfRun starts a front end with the default first conn id, connects
// one caller and returns the conn id the handler saw for it.
func connIDOfRun(t *testing.T) string {
	t.Helper()
	h := &Handler{SendSpec: freeSpec(t), RecvSpec: freeSpec(t), SendIdent: "test"}
	s, err := Listen(Config{Addr: "127.0.0.1:0", Routes: []Route{{"@bbs", h}}})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(t.Context()) }()
	defer func() {
		s.Close()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}()
	b := &bbs{s: s, h: dialRawHandler(t, h.SendSpec, h.RecvSpec)}
	c, id := b.connect(t)
	c.Close()
	b.h.stop()
	return id
}

// TestConnIDsNeverRepeatAcrossRuns: a front end that is stopped and
// started again (Ctrl-C, a crash) never hands out a conn id of its
// previous run, so nobody can be taken for a caller of that run.
func TestConnIDsNeverRepeatAcrossRuns(t *testing.T) {
	first := connIDOfRun(t)
	second := connIDOfRun(t)
	if first == second || !sess.LessConnID(first, second) {
		t.Fatalf("first run's caller got conn id %s, the next run's first caller %s", first, second)
	}
	if _, err := strconv.ParseUint(second, 10, 64); err != nil || len(second) > 20 {
		t.Fatalf("conn id %q is not a decimal Mongrel2 id", second)
	}
}
