package session

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/m2bbs/m2bbs/host/handler/store"
)

// Regression tests of the chat rooms' seats (scripts/chat.lua): who sits
// where, on which connection, and what it costs to find out.

// TestChatSecondConnectionTakesTheSeat: max sits in room secret and
// enters the chat again on a second connection (the lobby). His first
// connection leaves the chat, so /who in secret, which no longer lists
// him, is true: he does not hear what is said there.
func TestChatSecondConnectionTakesTheSeat(t *testing.T) {
	h := chatRooms(t)
	h.say(0, "1", "/join secret")
	h.say(0, "3", "/join secret")
	h.recs[0].take()
	h.join(0, "4", "max") // max again, on a second connection
	h.say(0, "4", "3")    // the Teleconference: lobby
	moved := lines(h)
	for _, want := range []string{"3 screen:(you went into the chat on another connection)", "1 prompt:* max leaves.", "2 prompt:* max comes in."} {
		if !strings.Contains(moved, want) {
			t.Errorf("max entering on a second connection: no %q in\n%s", want, moved)
		}
	}
	h.say(0, "1", "/who")
	expect(t, h.recs[0].take(), "1 prompt:In secret: kim")
	h.say(0, "1", "my pin is 1234")
	if heard := lines(h); strings.Contains(heard, "1234") {
		t.Errorf("max's first connection, out of the chat, still hears room secret: %q", heard)
	}
	h.say(0, "2", "/who")
	expect(t, h.recs[0].take(), "2 prompt:In lobby: lee, max")
}

// TestChatOtherConnectionHangsUp: kim is in the lobby on two
// connections; the second takes his seat, and when it hangs up the room
// is told and /who leaves him out, which is true: his first connection
// left the chat when the second came in.
func TestChatOtherConnectionHangsUp(t *testing.T) {
	h := chatRooms(t)
	h.join(0, "4", "kim")
	h.say(0, "4", "3")
	if got := lines(h); strings.Contains(got, "* kim leaves.") || !strings.Contains(got, "1 screen:(you went into the chat on another connection)") {
		t.Errorf("kim coming into his own room on a second connection: %q", got)
	}
	h.tables[0].Disconnect("4")
	h.hub.Forget("4")
	h.hub.WaitDepartures()
	h.pump()
	if got := lines(h); !strings.Contains(got, "2 prompt:* kim hangs up.") {
		t.Errorf("after kim's second connection hung up: %q", got)
	}
	h.say(0, "2", "/who")
	expect(t, h.recs[0].take(), "2 prompt:In lobby: lee, max")
	h.say(0, "2", "kim left, so: the door code is 4711")
	if heard := lines(h); strings.Contains(heard, "1 prompt:lee: kim left") {
		t.Errorf("kim's first connection hears the lobby unlisted: %q", heard)
	}
}

// TestChatSeatLeftBehindIsCleared: the host dies while kim is in the
// lobby (no departure). Kim calls again and stays at the doors menu: his
// old seat is not his connection's, so /who leaves him out, a /msg to
// him is not sent, and the seat is deleted.
func TestChatSeatLeftBehindIsCleared(t *testing.T) {
	h := chatRooms(t)
	db := h.tables[0].deps.Store
	for _, tbl := range h.tables {
		crash(tbl)
	}
	h2 := newHubHost(t, db, Config{
		ScriptsDir: "../../../scripts", MainScript: "testdata/doors_main.lua", Journal: true,
		RatePerSecond: 1e9, RateBurst: 1e9,
	}, h.tables[0].deps.Screens, nil)
	h2.join(0, "7", "kim") // a new call: at the doors menu, not in the chat
	h2.join(0, "8", "zed")
	h2.say(0, "8", "3")
	h2.recs[0].take()
	h2.say(0, "8", "/msg kim are you there?")
	expect(t, h2.recs[0].take(), "8 prompt:(nobody called kim is in the chat)")
	h2.say(0, "8", "/who")
	expect(t, h2.recs[0].take(), "8 prompt:In lobby: zed")
	for _, name := range []string{"kim", "lee", "max"} {
		if v, held, err := db.SharedGet(context.Background(), "chat.where", name); err != nil || held {
			t.Errorf("%s's seat left behind: %v %v %v", name, v, held, err)
		}
	}
}

// TestChatEntryAnnouncedAfterTalkingFast: lee has spent his publishing
// burst talking; his /join is still announced in the room he comes into
// (notices have an allowance of their own).
func TestChatEntryAnnouncedAfterTalkingFast(t *testing.T) {
	h := chatRooms(t)
	h.say(0, "1", "/join cellar") // kim waits in the cellar
	h.recs[0].take()
	for i := range 12 {
		h.say(0, "2", fmt.Sprintf("x%d", i)) // lee spends his burst in the lobby
	}
	if got := lines(h); !strings.Contains(got, "2 prompt:(publishing too fast: wait a moment)") {
		t.Fatalf("lee's 12 lines were all published: %q", got)
	}
	h.say(0, "2", "/join cellar")
	got := lines(h)
	for _, want := range []string{"2 prompt:You are in cellar.", "1 prompt:* lee comes in.", "3 prompt:* lee leaves for cellar."} {
		if !strings.Contains(got, want) {
			t.Errorf("lee's /join after talking fast: no %q in\n%s", want, got)
		}
	}
}

// TestChatJoinRefusedPastTheNotices: joins come at most as fast as their
// notices: past the notice allowance, a /join is refused and the caller
// stays where they are, seat and all.
func TestChatJoinRefusedPastTheNotices(t *testing.T) {
	h := chatRooms(t)
	var got string
	for i := range 8 {
		h.say(0, "2", fmt.Sprintf("/join room%d", i))
		got = lines(h)
	}
	if !strings.Contains(got, "2 prompt:(publishing too fast: wait a moment)") {
		t.Fatalf("8 /join at once: the last one answered %q", got)
	}
	v, _, _ := h.tables[0].deps.Store.SharedGet(context.Background(), "chat.where", "lee")
	h.say(0, "2", "where am I?")
	heard := lines(h)
	room := strings.Fields(v.Str)[0]
	if room == "lobby" || strings.Contains(heard, "1 prompt:lee: where") {
		t.Errorf("lee's seat %q; what he said reached the lobby: %q", v.Str, heard)
	}
}

// TestChatLinesAreFlat: what a caller says reaches the others as one
// line of words: tabs and runs of spaces cannot push a forged notice to
// a row of its own, and bidi and zero-width characters are dropped.
func TestChatLinesAreFlat(t *testing.T) {
	h := chatRooms(t)
	h.say(0, "2", "ok"+strings.Repeat("\t", 10)+"* kim hangs up.")
	got := lines(h)
	for _, want := range []string{"1 prompt:lee: ok * kim hangs up.", "3 prompt:lee: ok * kim hangs up."} {
		if !strings.Contains(got, want) {
			t.Errorf("a line padded with tabs: no %q in %q", want, got)
		}
	}
	h.say(0, "2", "/me waves"+strings.Repeat(" ", 76)+"max: type /quit")
	got = lines(h)
	if !strings.Contains(got, "1 prompt:* lee waves max: type /quit") {
		t.Errorf("a padded /me: %q", got)
	}
	h.say(0, "2", "/msg kim  \u202eyrros\u200b\u2066  ")
	expect(t, h.recs[0].take(), "2 prompt:(to kim) yrros", "1 prompt:*lee* yrros")
	h.say(0, "2", "\u202e\u200b")
	expect(t, h.recs[0].take(), "2 prompt:")
}

// TestChatMsgAndJoinJournalLittle: with 50 callers in the rooms, a /msg
// looks one name up and a /join counts rooms from a small table: neither
// reads every seat, so neither grows the caller's journal by a read of
// each (the chat never checkpoints). And the list limit is the caller's,
// not their stay's: leaving and coming back does not reset it.
func TestChatMsgAndJoinJournalLittle(t *testing.T) {
	h := chatRooms(t)
	for i := range 47 {
		id := fmt.Sprint(10 + i)
		h.join(1, id, fmt.Sprintf("caller%02d", i))
		h.say(1, id, "3")
	}
	h.recs[0].take()
	h.recs[1].take()
	count := func() int {
		_, n, err := h.tables[0].deps.Store.LoadJournal(context.Background(), "1")
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := count()
	for range 20 {
		h.say(0, "1", "/msg nobody x")
	}
	after := count()
	for i := range 20 {
		if i%2 == 0 {
			h.say(0, "1", "/join cellar")
		} else {
			h.say(0, "1", "/join lobby")
		}
	}
	joined := count()
	t.Logf("kim's journal: %d entries, %d after 20 /msg, %d after 20 /join", before, after, joined)
	if per := (after - before) / 20; per > 5 {
		t.Errorf("a /msg to nobody journals %d entries", per)
	}
	if per := (joined - after) / 20; per > 10 {
		t.Errorf("a /join journals %d entries", per)
	}

	h.say(0, "2", "/who")
	h.say(0, "2", "/quit")
	h.say(0, "2", "3")
	h.recs[0].take()
	h.say(0, "2", "/who")
	expect(t, h.recs[0].take(), "2 prompt:(one /who or /rooms a second: wait a moment)")
}

// BenchmarkChatMsgNobody: what a /msg to a name not in the chat costs the
// worker with 50 callers in the rooms (compare BenchmarkChatWho).
func BenchmarkChatMsgNobody(b *testing.B) {
	h, _ := crowdedLobby(b, 50)
	b.ResetTimer()
	for range b.N {
		h.say(0, "1", "/msg nobody x")
	}
	b.StopTimer()
	if got := h.recs[0].take(); !strings.Contains(got[len(got)-1], "nobody called") {
		b.Fatalf("%q", got[len(got)-1:])
	}
}

// divergingRoom is a room whose script the sysop edits (EXTRA) while kim
// is in it.
const divergingRoom = `
local ui = require 'ui'
local shared = require 'shared'
function m2bbs(conn, req)
  req = ui.ask(conn, req, 'Name?', '> ')
  local me = req.data.msg
  assert(shared.subscribe(conn, 'chat', '* ' .. me .. ' hangs up.'))
  assert(shared.hold(conn, 'seats', me, 'here'))
  EXTRA
  while true do
    local r, events = shared.ask(conn, req, 'Say:', '> ')
    if events then
      for _, ev in ipairs(events) do ui.display(conn, req, ev.text) end
    else
      req = r
      assert(shared.publish(conn, 'chat', me .. ': ' .. req.data.msg))
    end
  end
end
`

// TestChatDivergedReplayLeavesTheRoom: kim is in the room when the host
// restarts on edited scripts; his replay sets up his subscription,
// farewell and seat again, then diverges and he starts over at the top,
// outside the room. What the replay set up goes too: he hears nothing of
// the room, his seat is free, and his hang-up is not announced there.
func TestChatDivergedReplayLeavesTheRoom(t *testing.T) {
	db, scripts := chatBoard(t)
	write := func(extra string) {
		src := strings.Replace(divergingRoom, "EXTRA", extra, 1)
		if err := os.WriteFile(filepath.Join(scripts, "main.lua"), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("")
	h := newChatHost(t, db, scripts)
	h.join(0, "1", "kim")
	for _, tbl := range h.tables {
		crash(tbl)
	}
	write("shared.get('seats', 'edited')") // the sysop edits the room
	h2 := newChatHost(t, db, scripts)
	h2.join(1, "2", "lee")
	h2.recs[1].take()
	h2.say(0, "1", "still here") // kim's replay diverges: back at Name?
	if got := strings.Join(h2.recs[0].take(), "\n"); !strings.Contains(got, "1 prompt:Name?") {
		t.Fatalf("kim after the replay: %q", got)
	}
	if st := h2.tables[0].JournalStats(); st.Diverged != 1 {
		t.Fatalf("journal stats %+v; want a divergence", st)
	}
	if v, held, err := db.SharedGet(context.Background(), "seats", "kim"); err != nil || held {
		t.Errorf("kim's seat after he started over: %v %v %v", v, held, err)
	}
	h2.say(1, "2", "is anyone here?")
	if got := strings.Join(h2.recs[0].take(), "\n"); strings.Contains(got, "is anyone here") {
		t.Errorf("kim, started over outside the room, hears it: %q", got)
	}
	h2.tables[0].Disconnect("1")
	h2.hub.Forget("1")
	h2.hub.WaitDepartures()
	h2.pump()
	if got := strings.Join(h2.recs[1].take(), "\n"); strings.Contains(got, "* kim hangs up.") {
		t.Errorf("kim, started over outside the room, was announced by his farewell: %q", got)
	}
}

// TestChatMeCannotFakeANotice: "/me hangs up." would read as the host's
// notice that someone hung up: it is refused, and nobody sees it.
func TestChatMeCannotFakeANotice(t *testing.T) {
	h := chatRooms(t)
	for _, action := range []string{"hangs up.", "Comes in.", "leaves for cellar."} {
		h.say(0, "2", "/me "+action)
		expect(t, h.recs[0].take(), "2 prompt:(that is how the host's notices read: say it another way)")
	}
	h.say(0, "2", "/me leans back")
	if got := lines(h); !strings.Contains(got, "1 prompt:* lee leans back") {
		t.Errorf("an action that starts like no notice: %q", got)
	}
}

// TestChatFullOfSeatsLeftBehindTakesACaller: chat.where is full of seats
// left behind (their connections long gone); a caller entering the chat
// clears them and sits down, instead of finding the chat closed.
func TestChatFullOfSeatsLeftBehindTakesACaller(t *testing.T) {
	h := doorsHost(t, 1e9, nil)
	db := h.tables[0].deps.Store
	for i := range store.MaxSharedKeysPerTable {
		v := store.SharedValue{Kind: store.SharedString, Str: fmt.Sprintf("lobby ghost%d %d", i, 9000+i)}
		if _, _, err := db.SharedUpdate(context.Background(), "chat.where", fmt.Sprintf("ghost%d", i), func(store.SharedValue, bool) (*store.SharedValue, bool, error) {
			return &v, true, nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	h.join(0, "1", "kim")
	h.say(0, "1", "3")
	got := lines(h)
	if strings.Contains(got, "The chat is closed") || !strings.Contains(got, "1 prompt:You are in lobby.") {
		t.Errorf("kim entering a chat full of seats left behind: %q", got)
	}
	if keys, err := db.SharedKeys(context.Background(), "chat.where"); err != nil || len(keys) != 1 || keys[0] != "kim" {
		t.Errorf("the seats after kim came in: %d, %v", len(keys), err)
	}
}

// TestChatSixteenRoomsBesidesTheLobby: 16 rooms with callers in them,
// besides the lobby, and a 17th is refused; rooms emptied since do not
// count, and a caller who has just listed waits a second for the count.
func TestChatSixteenRoomsBesidesTheLobby(t *testing.T) {
	h, clock := crowdedLobby(t, 18)
	for i := range 16 {
		h.say(0, fmt.Sprint(i+1), fmt.Sprintf("/join room%d", i))
	}
	h.recs[0].take()
	h.say(0, "17", "/join one-more")
	expect(t, h.recs[0].take(), "17 prompt:(16 rooms are open already: join one of them (/rooms))")
	h.say(0, "17", "/join room3") // an open room: fine
	if got := lines(h); !strings.Contains(got, "17 prompt:You are in room3.") {
		t.Fatalf("/join of an open room: %q", got)
	}
	clock.Advance(time.Second)
	h.say(0, "4", "/join lobby") // room3 still has caller 17; room0 empties next
	h.say(0, "1", "/join lobby")
	h.say(0, "18", "/who") // caller 18 has just listed
	h.recs[0].take()
	h.say(0, "18", "/join one-more")
	expect(t, h.recs[0].take(), "18 prompt:(16 rooms are open already: join one of them (/rooms))")
	clock.Advance(time.Second)
	h.say(0, "18", "/join one-more")
	if got := lines(h); !strings.Contains(got, "18 prompt:You are in one-more.") {
		t.Errorf("/join once room0 is empty: %q", got)
	}
}
