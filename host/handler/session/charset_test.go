package session

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/m2bbs/m2bbs/host/handler/store"
)

// vt100Line is line from a telnet caller whose terminal says VT100: a
// type that tells no encoding.
func vt100Line(line, enc string) string {
	term := map[string]any{"type": "VT100", "width": 80, "height": 24, "ansi": true}
	if enc != "" {
		term["encoding"] = enc
	}
	body, _ := json.Marshal(map[string]any{"type": "msg", "msg": line, "terminal": term})
	return string(body)
}

// TestShippedBoardAsksTheEncodingOnce: a caller whose terminal type tells
// no encoding is asked, after logging in, whether a box shows as a box,
// first in UTF-8, then in CP437; the answer reaches their edge with the
// next message and is kept, so the next call is not asked. A caller whose
// client names no terminal is not asked.
func TestShippedBoardAsksTheEncodingOnce(t *testing.T) {
	b := newJournaledBoard(t)
	tbl, rec := b.table(t)
	var last map[string]any
	say := func(connID, enc string, lines ...string) []string {
		for _, l := range lines {
			handle(tbl, jsonReq(connID, vt100Line(l, enc)))
		}
		if n := len(rec.replies); n > 0 {
			last = rec.replies[n-1].msg
		}
		return rec.take()
	}
	const box = "Does this look like a box: ┌─┐ ? (Y/n)"
	if got := say("1", "", "connect", "ann", "pw", "pw"); !strings.HasSuffix(strings.Join(got, "\n"), box) || last["encoding"] != "utf-8" {
		t.Fatalf("after registering: %q (last %v), want the box question in UTF-8", got, last)
	}
	if got := say("1", "utf-8", "n"); len(got) != 1 || got[0] != "1 prompt:"+box || last["encoding"] != "cp437" {
		t.Fatalf("after n: %q (last %v), want the box question in CP437", got, last)
	}
	if got := say("1", "cp437", "y"); !strings.Contains(strings.Join(got, "\n"), "MOTD") {
		t.Fatalf("after y: %q, want the MOTD", got)
	}

	if a, err := b.db.Account(context.Background(), "ann"); err != nil || a.Encoding != "cp437" {
		t.Fatalf("ann's account after answering: %+v, %v; want encoding cp437", a, err)
	}
	if got := say("2", "", "connect", "ann", "pw"); strings.Contains(strings.Join(got, "\n"), box) {
		t.Errorf("the second call was asked again: %q", got)
	}
	// The MOTD came in CP437: the answer was kept.
	handle(tbl, jsonReq("3", vt100Line("connect", "")))
	handle(tbl, jsonReq("3", vt100Line("ann", "")))
	rec.take()
	handle(tbl, jsonReq("3", vt100Line("pw", "")))
	if got := rec.replies[len(rec.replies)-1].msg; !strings.Contains(got["msg"].(string), "MOTD") || got["encoding"] != "cp437" {
		t.Errorf("a returning caller's first prompt: %v, want the MOTD in CP437", got)
	}
	rec.take()

	for _, l := range []string{"connect", "bob", "pw", "pw", "y"} {
		handle(tbl, msg("4", l))
	}
	if got := strings.Join(rec.take(), "\n"); strings.Contains(got, box) || !strings.Contains(got, "MOTD") {
		t.Errorf("a classic caller: %q, want the MOTD and no question", got)
	}
}

// TestAnEncodingKeptTheOldWayMovesToTheAccount: a board that kept answers
// in the shared table 'encodings' (before accounts had a column for it)
// does not ask its callers again: the answer moves to the account.
func TestAnEncodingKeptTheOldWayMovesToTheAccount(t *testing.T) {
	b := newJournaledBoard(t)
	tbl, rec := b.table(t)
	for _, l := range []string{"connect", "ann", "pw", "pw", "y"} {
		handle(tbl, msg("1", l)) // registers ann without asking: a classic caller
	}
	rec.take()
	ctx := context.Background()
	if _, _, err := b.db.SharedUpdate(ctx, "encodings", "ann", func(store.SharedValue, bool) (*store.SharedValue, bool, error) {
		return &store.SharedValue{Kind: store.SharedString, Str: "ascii"}, true, nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{"connect", "ann"} {
		handle(tbl, jsonReq("2", vt100Line(l, "")))
	}
	rec.take()
	handle(tbl, jsonReq("2", vt100Line("pw", "")))
	if got := rec.replies[len(rec.replies)-1].msg; !strings.Contains(got["msg"].(string), "MOTD") || got["encoding"] != "ascii" {
		t.Fatalf("ann's first prompt: %v, want the MOTD in ASCII, unasked", got)
	}
	if a, err := b.db.Account(ctx, "ann"); err != nil || a.Encoding != "ascii" {
		t.Errorf("ann's account: %+v, %v; want encoding ascii", a, err)
	}
	if v, ok, err := b.db.SharedGet(ctx, "encodings", "ann"); err != nil || ok {
		t.Errorf("the old table still holds ann: %v, %v", v, err)
	}
}
