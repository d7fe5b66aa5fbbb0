package session

import (
	"testing"
	"time"
)

// TestIdleCallerInADoorIsEnded: a caller who leaves their keyboard in a
// door that waits for keys is ended at the idle timeout like anywhere
// else, and the door goes with them; a caller typing in a door is not.
func TestIdleCallerInADoorIsEnded(t *testing.T) {
	b := newNativeBoard(t)
	b.say("1", "connect")
	b.say("1", "h")
	b.pumpUntil(t, "hanging, child")
	pgid := b.doorGroup("1")
	b.now = b.now.Add(50 * time.Second)
	b.keys("1", "x") // typing in the door counts as input
	b.now = b.now.Add(50 * time.Second)
	if reaped := b.tbl.ReapIdle(); len(reaped) != 0 {
		t.Fatalf("a caller typing in a door was ended: %v", reaped)
	}
	b.now = b.now.Add(time.Minute)
	if reaped := b.tbl.ReapIdle(); len(reaped) != 1 || reaped[0] != "1" {
		t.Fatalf("idle caller in a door not ended: %v", reaped)
	}
	b.awaitGroupGone(t, pgid, "after the idle timeout")
	if b.tbl.Has("1") {
		t.Error("session left after the idle timeout")
	}
}

// TestDoorsBusy: when the board runs as many doors as it may at once, a
// caller's door is refused with words they understand (and back to the
// menu), not started; once a door ends, the next caller gets in.
func TestDoorsBusy(t *testing.T) {
	b := newNativeBoardWith(t, 1)
	b.say("1", "connect")
	b.say("2", "connect")
	b.say("1", "h")
	b.pumpUntil(t, "hanging, child")
	expect(t, b.say("2", "d"), "2 screen:"+doorsBusy, "2 screen:door: nil "+doorsBusy+" nil", "2 prompt:menu")
}
