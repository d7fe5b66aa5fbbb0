package session

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"

	"github.com/m2bbs/m2bbs/host/handler/screens"
	"github.com/m2bbs/m2bbs/host/handler/store"
)

// evil is a line a hostile caller types: a window title (OSC 0), a clear
// screen and cursor home (CSI), a clipboard write (OSC 52), a C1 CSI, a
// pipe code and a DCS request. On a terminal that obeys them, the next
// line could be a fake password prompt.
const evil = "A\x1b]0;pwned\x07B\x1b[2J\x1b[HC\x1b]52;c;ZXZpbA==\x07D\u009b2J|04E\x1bP+q544e\x1b\\F"

// evilShown is evil as another caller must see it: the text, nothing a
// terminal obeys, the pipe code as typed.
const evilShown = "ABCD2J|04EF"

// textBoard runs the shipped board over a fresh database it returns too.
func textBoard(t *testing.T, cfg Config) (*Table, *recorder, *store.SQLite) {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "bbs.db"), store.Options{BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	cfg.ScriptsDir, cfg.MainScript = "../../../scripts", "../../../scripts/bbs.lua"
	cfg.RatePerSecond, cfg.RateBurst = 1e6, 1<<20 // a test types faster than any caller
	rec := &recorder{}
	var logs strings.Builder
	tbl, err := New(cfg, Deps{
		Replier: rec,
		Screens: screens.NewDir("../../../screens"),
		Store:   db,
		Log:     slog.New(slog.NewTextHandler(&logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tbl.Close)
	return tbl, rec, db
}

// obeyed returns the first thing in text a terminal would act on other
// than printing it, a newline, a tab and colour (SGR: ESC [ digits ; m),
// or "".
func obeyed(text string) string {
	if !utf8.ValidString(text) {
		return "invalid UTF-8"
	}
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case c == 0x1b:
			j := i + 1
			if j < len(text) && text[j] == '[' {
				for j++; j < len(text) && (text[j] >= '0' && text[j] <= '9' || text[j] == ';'); j++ {
				}
				if j < len(text) && text[j] == 'm' {
					i = j
					continue
				}
			}
			return strings.ToValidUTF8(text[i:min(len(text), i+8)], "?")
		case c == '\n', c == '\t':
		case c < 0x20, c == 0x7f:
			return string(rune(c))
		case c == 0xc2 && i+1 < len(text) && text[i+1] >= 0x80 && text[i+1] <= 0x9f:
			return text[i : i+2]
		}
	}
	return ""
}

// say sends each line as the caller, keeping the replies for textsFor.
func say(tbl *Table, connID string, lines ...string) {
	for _, line := range lines {
		tbl.Handle(msg(connID, line))
	}
}

// textsFor returns every message text conn received, forgetting them.
func textsFor(rec *recorder, conn string) []string {
	var out []string
	for _, r := range rec.replies {
		if r.connID == conn && r.msg != nil {
			out = append(out, r.msg["msg"].(string))
		}
	}
	rec.replies = nil
	return out
}

// TestCallerTextReachesOtherCallersAsText: a caller whose name, post,
// one-liner and page hold escape sequences, control characters and pipe
// codes cannot make another caller's terminal do anything but print the
// text; the board's own colour still reaches them.
func TestCallerTextReachesOtherCallersAsText(t *testing.T) {
	tbl, rec, _ := textBoard(t, Config{})
	converse(tbl, rec, "1", "connect", "ann", "pw", "pw", "y")
	say(tbl, "2", "connect", "e\x1b]0;pwned\x07ve\x1b[2J", "pw", "pw", "y",
		"1", evil, "second "+evil, ".", // a message
		"6", evil, // a one-liner
		"8", "ann", evil) // a page
	page := textsFor(rec, "1")
	say(tbl, "1", "2", "", "6", "", "5", "7")
	shown := append(page, textsFor(rec, "1")...)

	all := strings.Join(shown, "\n")
	for _, want := range []string{
		"Page from eve: " + evilShown,
		"From: eve\n" + evilShown + "\nsecond " + evilShown,
		"eve\x1b[0;37m: " + evilShown, // the wall: the board's colour, then the text
		"  eve",                       // who's online
	} {
		if !strings.Contains(all, want) {
			t.Errorf("ann was not shown %q; she saw:\n%q", want, all)
		}
	}
	for _, text := range shown {
		if bad := obeyed(text); bad != "" {
			t.Errorf("ann's terminal would obey %q in %q", bad, text)
		}
	}
	if !strings.Contains(all, "\x1b[1;37mThe wall") {
		t.Errorf("the board's own colour was lost:\n%q", all)
	}
}

// TestTextStoredBeforeTheFixIsShownAsText: posts, one-liners and mail
// written raw into the database (as before callers' lines were cleaned)
// reach readers cleaned.
func TestTextStoredBeforeTheFixIsShownAsText(t *testing.T) {
	tbl, rec, db := textBoard(t, Config{})
	ctx := context.Background()
	converse(tbl, rec, "1", "connect", "ann", "pw", "pw", "y")
	if err := db.RegisterUser(ctx, "eve", "pw"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.PostMessage(ctx, "eve", []string{evil}); err != nil {
		t.Fatal(err)
	}
	if err := db.AddOneliner(ctx, "eve", evil); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SendMail(ctx, "ann", "eve", []string{evil}); err != nil {
		t.Fatal(err)
	}
	rec.replies = nil
	say(tbl, "1", "2", "", "6", "", "4", "")
	shown := textsFor(rec, "1")
	all := strings.Join(shown, "\n")
	if n := strings.Count(all, evilShown); n != 3 {
		t.Errorf("the stored text was shown %d times as text, want 3 (message, wall, mail):\n%q", n, all)
	}
	for _, text := range shown {
		if bad := obeyed(text); bad != "" {
			t.Errorf("ann's terminal would obey %q in %q", bad, text)
		}
	}
}

// TestRawControlBytesInALineAreCleaned: a raw client may put control
// characters and C1 into its JSON (escaped, as JSON wants them) and
// bytes that are not UTF-8; the script sees text.
func TestRawControlBytesInALineAreCleaned(t *testing.T) {
	tbl, rec, _ := textBoard(t, Config{})
	converse(tbl, rec, "1", "connect", "ann", "pw", "pw", "y")
	tbl.Handle(jsonReq("1", "{\"type\":\"msg\",\"msg\":\"6\"}"))
	tbl.Handle(jsonReq("1", `{"type":"msg","msg":"x\u001b]0;t\u0007y\u009b2J`+"\xff"+`z\r\nw"}`))
	rec.replies = nil
	say(tbl, "1", "6", "")
	all := strings.Join(textsFor(rec, "1"), "\n")
	if !strings.Contains(all, ": xy2J\ufffdz  w") {
		t.Errorf("the one-liner was not cleaned:\n%q", all)
	}
}

// TestLongLinesCostLinearTime: the name prompt, the main menu and a
// board's prompts take lines far longer than any name or key without
// spending the script's budget. The shipped trim (s:gsub('%s+$', ”)) was
// quadratic: a 4 KiB name line cost about a second of worker time, a 64
// KiB one minutes. With ui.trim the same lines cost microseconds, so a
// budget of half a second is a margin of thousands, not a race.
func TestLongLinesCostLinearTime(t *testing.T) {
	tbl, rec, _ := textBoard(t, Config{ResumeBudget: 500 * time.Millisecond, MaxLineBytes: 64 << 10})
	inner := func(n int) string { return "x" + strings.Repeat(" ", n-2) + "x" }
	tooLong := "prompt:That name is too long: names are at most 32 characters."
	converse(tbl, rec, "1", "connect")
	expect(t, converse(tbl, rec, "1", inner(4<<10)), "1 "+tooLong)
	expect(t, converse(tbl, rec, "1", inner(64<<10)), "1 "+tooLong)
	expect(t, converse(tbl, rec, "1", strings.Repeat(" ", 64<<10)), "1 prompt:What's your name?")
	expect(t, converse(tbl, rec, "1", strings.Repeat("k", 33)), "1 "+tooLong)
	expect(t, converse(tbl, rec, "1", strings.Repeat("k", 32)), "1 prompt:What's your password?")
	converse(tbl, rec, "1", "pw", "pw", "y")
	got := converse(tbl, rec, "1", strings.Repeat(" ", 16<<10)+inner(32<<10)+strings.Repeat(" ", 16<<10))
	if len(got) == 0 || !strings.HasPrefix(got[0], "1 screen:That's not on the menu.") {
		t.Errorf("a long menu line: %q", got)
	}
	got = converse(tbl, rec, "1", "8", inner(64<<10))
	if len(got) < 2 || got[1] != "1 screen:Nobody by that name is online." {
		t.Errorf("a long name to page: %q", got)
	}
	got = converse(tbl, rec, "1", "D", "1", strings.Repeat(" ", 64<<10))
	if len(got) == 0 || !strings.Contains(got[len(got)-1], "A whole number from") {
		t.Errorf("a long guess in the door: %q", got)
	}
	if st := tbl.Stats(); st.Overran != 0 || st.Errored != 0 {
		t.Errorf("scripts overran their budget on long lines: %+v", st)
	}
}

// TestBoardsAndMailShowCallerTextAsText: subjects and lines of posts and
// mail, typed with escape sequences or stored raw before the fix (the
// store always refused control characters in subjects, not in lines),
// reach the reader as text through scripts/boards.lua, pipe codes as
// typed.
func TestBoardsAndMailShowCallerTextAsText(t *testing.T) {
	tbl, rec, db := boardsTable(t)
	if _, err := db.Post(context.Background(), store.NewPost{Area: "general", Author: "cy", Subject: "old |04red", Lines: []string{"old " + evil}}); err != nil {
		t.Fatal(err)
	}
	ann := call(t, tbl, rec, "1", "ann")
	ann.sayAll("B", "1", "W", evil, evil, ".", "Q", "Q")
	ann.sayAll("M", "S", "bob", evil, evil, ".", "Q")

	bob := call(t, tbl, rec, "2", "bob")
	var seen []string
	look := func(s *shown) *shown {
		seen = append(seen, s.msgs...)
		return s
	}
	look(bob.sayAll("B", "1")).shows("1. "+evilShown, "2. old |04red")
	look(bob.say("1")).shows("Subject: "+evilShown, evilShown)
	look(bob.say("")).shows("---")
	look(bob.say("2")).shows("Subject: old |04red", "old "+evilShown)
	bob.sayAll("", "Q", "Q")
	look(bob.say("M")).shows(evilShown)
	look(bob.say("1")).shows("Subject: "+evilShown, evilShown)
	for _, text := range seen {
		if bad := obeyed(text); bad != "" {
			t.Errorf("bob's terminal would obey %q in %q", bad, text)
		}
	}
}

// TestSysopBroadcastKeepsItsColour: the sysop's text is the board's, and
// keeps its pipe codes and escapes.
func TestSysopBroadcastKeepsItsColour(t *testing.T) {
	tbl, rec, _ := textBoard(t, Config{})
	converse(tbl, rec, "1", "connect")
	if n := tbl.Broadcast("|12Back in 5 \x1b[5mminutes"); n != 1 {
		t.Fatalf("Broadcast reached %d callers", n)
	}
	if got := textsFor(rec, "1"); len(got) != 1 || got[0] != "\x1b[1;31mBack in 5 \x1b[5mminutes" {
		t.Errorf("the caller saw %q", got)
	}
}
