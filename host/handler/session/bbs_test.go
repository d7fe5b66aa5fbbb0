package session

import (
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/m2bbs/m2bbs/host/handler/screens"
	"github.com/m2bbs/m2bbs/host/handler/store"
)

// newBoard runs main (with scripts/ on the require path) over the shipped
// screens and a fresh database.
func newBoard(t *testing.T, main string, logs *strings.Builder) (*Table, *recorder) {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "bbs.db"), store.Options{BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	rec := &recorder{}
	// A test types faster than any caller: no throttling.
	tbl, err := New(Config{ScriptsDir: "../../../scripts", MainScript: main, RatePerSecond: 1e6, RateBurst: 1 << 20}, Deps{
		Replier: rec,
		Screens: screens.NewDir("../../../screens"),
		Store:   db,
		Log:     slog.New(slog.NewTextHandler(logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tbl.Close)
	return tbl, rec
}

// converse sends each line as the caller (handle) and returns every
// message's "type:first line" in order.
func converse(tbl *Table, rec *recorder, connID string, lines ...string) []string {
	for _, line := range lines {
		handle(tbl, msg(connID, line))
	}
	var out []string
	for _, r := range rec.take() {
		if i := strings.IndexByte(r, '\n'); i >= 0 {
			r = r[:i]
		}
		out = append(out, r)
	}
	return out
}

func TestThePostsFunctionRunsAsWritten(t *testing.T) {
	var logs strings.Builder
	tbl, rec := newBoard(t, "testdata/post_function.lua", &logs)
	got := converse(tbl, rec, "1", "connect", "zed", "secret", "secret", "y", "1", "hello from 2010", ".", "2", "", "Q")
	want := []string{
		"1 prompt:           ____  _     _         ", // welcome banner
		"1 prompt:What's your password?",
		"1 prompt:Looks like you're new here. Type your password again to register:",
		"1 screen:You're registered. Welcome aboard! Leave a message so we know you're here.",
		"1 prompt:MOTD: This board is a rebuild of a 2010 experiment: every caller is one Lua",
		"1 prompt:---(((MAIN MENU)))---",
		"1 screen:Type your message, at most 24 lines. A line with a single . ends it.",
		"1 prompt:",
		"1 prompt:",
		"1 screen:Message posted. Thanks!",
		"1 prompt:---(((MAIN MENU)))---",
		"1 screen:Messages, newest first. Enter shows the next one, Q goes back to the menu.",
		"1 prompt:--- 1 of 1 ---",
		"1 prompt:---(((MAIN MENU)))---",
		"1 exit:Alright, see ya later.",
		"1 hangup",
	}
	expect(t, got, want...)
	if !strings.Contains(logs.String(), `text="message:\t1"`) || !strings.Contains(logs.String(), "conn_id=1") {
		t.Errorf("the post's print calls did not reach the log with the conn_id:\n%s", logs.String())
	}
	if st := tbl.Stats(); st.Errored != 0 || st.Active != 0 {
		t.Errorf("stats = %+v", st)
	}
}

func TestCallersAreKnownByNameAfterLogin(t *testing.T) {
	var logs strings.Builder
	tbl, rec := newBoard(t, "../../../scripts/bbs.lua", &logs)
	converse(tbl, rec, "3", "connect", "Kim", "pw", "pw", "y")
	callers := tbl.Callers()
	if len(callers) != 1 || callers[0].User != "Kim" || callers[0].Showing != "Q. Quit the BBS." {
		t.Fatalf("callers = %+v", callers)
	}
	if !strings.Contains(logs.String(), `msg="caller logged in" conn_id=3 user=Kim`) {
		t.Errorf("no login line in the log:\n%s", logs.String())
	}
}

// TestMessagesStopAtTwentyFourLines: a message ends at 24 lines even
// without the closing '.'; the next line is a menu choice again.
func TestMessagesStopAtTwentyFourLines(t *testing.T) {
	var logs strings.Builder
	tbl, rec := newBoard(t, "../../../scripts/bbs.lua", &logs)
	lines := []string{"connect", "Kim", "pw", "pw", "y", "1"}
	for i := 1; i <= 25; i++ {
		lines = append(lines, fmt.Sprintf("line %d", i))
	}
	got := strings.Join(converse(tbl, rec, "4", lines...), "\n")
	if !strings.Contains(got, "4 screen:Message posted. Thanks!") {
		t.Fatalf("the message was not posted after 24 lines:\n%s", got)
	}
	if !strings.Contains(got, "4 screen:That's not on the menu.") {
		t.Errorf("line 25 was not taken as a menu choice:\n%s", got)
	}
	rec.take()
	tbl.Handle(msg("4", "2"))
	tbl.Handle(msg("4", "")) // past the "-- more --" of a 24-line window
	tbl.Handle(msg("4", "Q"))
	var read string
	for _, r := range rec.replies {
		if text := r.msg["msg"].(string); strings.HasPrefix(text, "--- 1 of 1 ---") {
			read = text
		} else if read != "" && strings.HasPrefix(text, "line") {
			read += "\n" + text
		}
	}
	if !strings.HasSuffix(read, "line 23\nline 24") || strings.Contains(read, "line 25") {
		t.Errorf("stored message:\n%s", read)
	}
}
