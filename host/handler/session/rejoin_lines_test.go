package session

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/m2bbs/m2bbs/host/handler/live"
)

// onceBell rings once, then ends Listen: one poll of the other lines.
type onceBell struct{ rung bool }

func (b *onceBell) Ring(context.Context) error { return nil }
func (b *onceBell) Wait(context.Context) error {
	if b.rung {
		return errors.New("done")
	}
	b.rung = true
	return nil
}

// TestCallerInTheRoomAllAlongHearsAnotherLineAcrossAnUpgrade: lee, on
// phone line 2, left the room and came back, and has been in it since.
// Kim, on line 1, says a line; before line 2's host reads it, an upgrade
// moves lee onto the new scripts (Detach, then Adopt by replay, on the
// same host's hub). Lee has listened all along: he must be shown kim's
// line.
func TestCallerInTheRoomAllAlongHearsAnotherLineAcrossAnUpgrade(t *testing.T) {
	db, scripts := chatBoard(t)
	h := newLineChatHost(t, db, scripts)
	line1 := live.New(func(string, live.Event) {}, db, nil)

	h.join(0, "2", "lee")
	h.say(0, "2", "rejoin") // lee leaves the room and comes back: in it from now on
	h.recs[0].take()
	if _, err := line1.Publish("1", "kim", "chat", "kim: hello lee"); err != nil {
		t.Fatal(err)
	}
	sender, ok := h.tables[0].Detach("2") // the upgrade moves lee (Host.Upgrade)
	if !ok || !h.tables[1].Adopt("2", sender) {
		t.Fatal("lee was not moved")
	}
	h.recs[1].take()
	h.hub.Listen(context.Background(), &onceBell{}) // line 2's host reads line 1's events
	h.pump()
	if got := strings.Join(h.recs[1].take(), "\n"); !strings.Contains(got, "kim: hello lee") {
		t.Errorf("lee, in the room all along, was not shown kim's line; he got:\n%s", got)
	}
}
