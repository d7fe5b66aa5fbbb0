package session

import (
	"context"
	"strings"
	"testing"
	"time"
)

// A caller who plays a native door for longer than the idle timeout,
// typing all along, keeps their journal from the pruning of calls nobody
// wrote (a door's keys are not journaled): when they quit the door they
// get the menu back.
func TestDoorLongerThanTheIdleTimeoutKeepsTheCallersJournal(t *testing.T) {
	b := newNativeBoard(t)
	expect(t, b.say("2", "connect"), "2 prompt:menu")
	expect(t, b.say("2", "d"), "2 keys:")
	b.pumpUntil(t, "Q quits.")
	written := time.Now().UnixMilli() // her journal's last write, or after it
	for time.Now().UnixMilli() <= written {
		// The store keeps milliseconds: the notes made in the door come later.
	}
	for range 17 { // a key every 50 s, 14 minutes in all (the idle timeout is a minute)
		b.now = b.now.Add(50 * time.Second)
		b.keys("2", "a")
		b.pumpUntil(t, `key 'a'`)
		if reaped := b.tbl.ReapIdle(); len(reaped) != 0 {
			t.Fatalf("reaped %v while playing", reaped)
		}
	}
	// The host prunes the journals nobody wrote since she entered the door.
	if n, err := b.db.PruneJournals(context.Background(), time.UnixMilli(written+1)); err != nil {
		t.Fatal(err)
	} else if n != 0 {
		t.Errorf("pruned %d journal(s) of a caller online in a door", n)
	}
	b.keys("2", "q")
	var all strings.Builder
	deadline := time.After(3 * time.Second)
	for {
		for _, r := range b.rec.take() {
			all.WriteString(r + "\n")
		}
		if strings.Contains(all.String(), "2 prompt:menu") {
			break
		}
		select {
		case fn := <-b.posted:
			fn()
			b.tbl.Commit()
		case <-deadline:
			t.Fatalf("she quit the door and never got the menu back (online: %v); replies:\n%s", b.tbl.Has("2"), all.String())
		}
	}
}
