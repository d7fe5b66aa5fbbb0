package session

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/m2bbs/m2bbs/host/handler/screens"
)

// TestPagerShowsEveryTextWhole: a text no taller than the caller's
// window (24 rows, the default) is shown as it is, newlines and
// carriage returns included, whatever its ends; a taller one comes a
// screenful at a time, and the screenfuls put together are the text.
func TestPagerShowsEveryTextWhole(t *testing.T) {
	jb := newJournaledBoard(t)
	rec := &recorder{}
	tbl, err := New(Config{
		ScriptsDir: "../../../scripts", MainScript: "testdata/pager_main.lua",
		RatePerSecond: 1e6, RateBurst: 1 << 20,
	}, Deps{Replier: rec, Screens: screens.NewDir("../../../screens"), Store: jb.db, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tbl.Close)
	say := func(line string) []string {
		handle(tbl, msg("1", line))
		return rec.take()
	}
	say("connect")
	for n, text := range map[string]string{
		"1": "", "2": "one line", "3": "a trailing newline\n", "4": "\n\n", "5": "a CRLF\r\nline",
	} {
		expect(t, say(n), "1 screen:"+text, "1 prompt:Which text?")
	}

	var shown []string
	got := say("6")
	for len(got) == 1 && strings.HasPrefix(got[0], "1 prompt:") && !strings.HasSuffix(got[0], "Which text?") {
		shown = append(shown, strings.TrimPrefix(got[0], "1 prompt:")) // a screenful, then "-- more --"
		got = say("")
	}
	if len(got) != 2 || got[1] != "1 prompt:Which text?" {
		t.Fatalf("the tall text did not end with its last screenful and the question: %q", got)
	}
	shown = append(shown, strings.TrimPrefix(got[0], "1 screen:"))
	want := strings.Repeat("a line of fifty\n", 49) + "the last line"
	if len(shown) != 3 || strings.Join(shown, "\n") != want {
		t.Errorf("the tall text came in %d screenfuls that make %q, want 3 making the text", len(shown), strings.Join(shown, "\n"))
	}
}
