package frontend

import (
	"strconv"
	"testing"
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
	a, errA := strconv.ParseUint(first, 10, 64)
	b, errB := strconv.ParseUint(second, 10, 64)
	if errA != nil || errB != nil {
		t.Fatalf("conn ids %q and %q are not decimal Mongrel2 ids", first, second)
	}
	if a >= b {
		t.Fatalf("first run's caller got conn id %s, the next run's first caller %s", first, second)
	}
}
