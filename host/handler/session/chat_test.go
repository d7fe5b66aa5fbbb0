package session

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/m2bbs/m2bbs/host/handler/screens"
	"github.com/m2bbs/m2bbs/host/handler/store"
)

// chatRooms is the shipped chat rooms (scripts/chat.lua, through the
// Teleconference door) with kim, lee and max in the lobby, all on worker
// 0 (the harness's online list is per worker).
func chatRooms(t testing.TB) *chatHost {
	t.Helper()
	// The tests and the fuzz type faster than a caller may, on a clock
	// that stands still: the list limit (a /who a second, by door.now's
	// whole seconds) holds however slowly the machine runs them.
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	h := doorsHost(t, 1e9, clock.Now)
	for i, name := range []string{"kim", "lee", "max"} {
		id := string(rune('1' + i))
		h.join(0, id, name)
		h.say(0, id, "3") // the third door: Teleconference
	}
	h.recs[0].take()
	return h
}

// doorsHost is a host of two workers running the shipped doors
// (testdata/doors_main.lua) over a fresh database, callers allowed rate
// lines a second (0: the default), on the clock now (nil: time.Now).
func doorsHost(t testing.TB, rate float64, now func() time.Time) *chatHost {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "bbs.db"), store.Options{BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return newHubHost(t, db, Config{
		ScriptsDir: "../../../scripts", MainScript: "testdata/doors_main.lua", Journal: true,
		RatePerSecond: rate, RateBurst: int(rate),
	}, screens.NewDir("../../../screens"), now)
}

// lines is what the callers were sent, as one text.
func lines(h *chatHost) string { return strings.Join(h.recs[0].take(), "\n") }

// TestChatRoomCommands: /who, /me, a /msg only its target sees, /join,
// /rooms, and a line of control sequences shown as text.
func TestChatRoomCommands(t *testing.T) {
	h := chatRooms(t)
	h.say(0, "3", "/who")
	expect(t, h.recs[0].take(), "3 prompt:In lobby: kim, lee, max")

	h.say(0, "1", "/me waves")
	got := lines(h)
	for _, want := range []string{"1 prompt:* kim waves", "2 prompt:* kim waves", "3 prompt:* kim waves"} {
		if !strings.Contains(got, want) {
			t.Errorf("after /me: no %q in\n%s", want, got)
		}
	}

	h.say(0, "1", "/msg LEE psst, lee")
	expect(t, h.recs[0].take(), "1 prompt:(to lee) psst, lee", "2 prompt:*kim* psst, lee")
	h.say(0, "1", "/msg zed hello")
	expect(t, h.recs[0].take(), "1 prompt:(nobody called zed is in the chat)")

	h.say(0, "3", "/join Cellar") // within a second of max's /who: no list
	got = lines(h)
	for _, want := range []string{"3 prompt:You are in cellar.\n(/who lists who is here)", "1 prompt:* max leaves for cellar.", "2 prompt:* max leaves for cellar."} {
		if !strings.Contains(got, want) {
			t.Errorf("after /join: no %q in\n%s", want, got)
		}
	}
	h.say(0, "2", "/rooms")
	expect(t, h.recs[0].take(), "2 prompt:Rooms:\n  cellar (1): max\n  lobby (2): kim, lee")
	h.say(0, "2", "/who") // a list a second, at most
	expect(t, h.recs[0].take(), "2 prompt:(one /who or /rooms a second: wait a moment)")
	h.say(0, "3", "/join no/such room")
	expect(t, h.recs[0].take(), "3 prompt:(a room name is 1-16 letters, digits or -)")

	// In the lobby now: kim and lee. What max says in the cellar stays there.
	h.say(0, "3", "anyone?")
	expect(t, h.recs[0].take(), "3 prompt:")
	h.say(0, "2", "\x1b[2J\x1b]0;owned\x07clear")
	got = lines(h)
	if strings.ContainsAny(got, "\x1b\x07") || !strings.Contains(got, "1 prompt:lee: ") {
		t.Errorf("lee's control sequences reached kim: %q", got)
	}
	h.say(0, "2", "/frobnicate")
	expect(t, h.recs[0].take(), "2 prompt:(no such command: /frobnicate; /help lists them)")
	h.say(0, "2", "/quit")
	got = lines(h)
	if !strings.Contains(got, "1 prompt:* lee leaves.") || !strings.Contains(got, "2 prompt:---(((DOORS)))---") {
		t.Errorf("after lee's /quit:\n%s", got)
	}
	h.say(0, "1", "/who")
	expect(t, h.recs[0].take(), "1 prompt:In lobby: kim")
}

// TestChatHangUpIsAnnounced: max hangs up in the room; the host (not his
// script, which is gone) tells the others, and frees his seat.
func TestChatHangUpIsAnnounced(t *testing.T) {
	h := chatRooms(t)
	h.tables[0].Disconnect("3")
	h.hub.Forget("3")
	h.hub.WaitDepartures()
	h.pump()
	got := lines(h)
	for _, want := range []string{"1 prompt:* max hangs up.", "2 prompt:* max hangs up."} {
		if !strings.Contains(got, want) {
			t.Errorf("no %q in\n%s", want, got)
		}
	}
	h.say(0, "1", "/rooms")
	expect(t, h.recs[0].take(), "1 prompt:Rooms:\n  lobby (2): kim, lee")
}

// FuzzChatLine: whatever kim types in the room, his call goes on (no
// script error ends it) and lee, in the same room, is shown only text:
// no escape, bell or other control character but newlines.
func FuzzChatLine(f *testing.F) {
	for _, seed := range []string{"hello", "/who", "/me waves", "/msg lee hi", "/msg", "/join cellar", "/join lobby",
		"/rooms", "/help", "/x", "/", "/me", "/join " + strings.Repeat("a", 40), "\x1b[2J\x1b]0;t\x07hi", "|04red",
		strings.Repeat("x", 401), "/msg lee \x9b31m", "%s %d %%"} {
		f.Add(seed)
	}
	h := chatRooms(f) // one board for the whole run: the room goes on
	f.Fuzz(func(t *testing.T, line string) {
		if verb := strings.ToLower(strings.Fields(line + " x")[0]); verb == "/quit" || verb == "/q" {
			t.Skip("leaves the room")
		}
		h.say(0, "1", line)
		if !h.tables[0].Has("1") {
			t.Fatalf("kim's call ended on %q", line)
		}
		for _, r := range h.recs[0].take() {
			if !strings.HasPrefix(r, "2 ") {
				continue
			}
			for _, c := range r {
				if c < 0x20 && c != '\n' || c == 0x7f || c >= 0x80 && c < 0xa0 {
					t.Fatalf("lee was shown %q (after kim typed %q)", r, line)
				}
			}
		}
	})
}

// crowdedLobby is the shipped doors with members callers (caller00,
// ...) in the lobby, all on worker 0, on a clock of its own.
func crowdedLobby(b testing.TB, members int) (*chatHost, *fakeClock) {
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	h := doorsHost(b, 1e9, clock.Now)
	for i := range members {
		id := fmt.Sprint(i + 1)
		h.join(0, id, fmt.Sprintf("caller%02d", i))
		h.say(0, id, "3")
	}
	h.recs[0].take()
	return h, clock
}

// BenchmarkChatWho: what a /who costs the worker in a room of 50 callers
// (the seats read at once from the shared table, the read journaled).
func BenchmarkChatWho(b *testing.B) {
	h, clock := crowdedLobby(b, 50)
	b.ResetTimer()
	for range b.N {
		clock.Advance(time.Second) // past the list limit
		h.say(0, "1", "/who")
	}
	b.StopTimer()
	if got := h.recs[0].take(); len(got) == 0 || !strings.Contains(got[len(got)-1], "caller49") {
		b.Fatalf("the last /who: %q", got[len(got)-1:])
	}
}
