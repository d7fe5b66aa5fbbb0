package ftn

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/m2bbs/m2bbs/host/handler/store"
)

// A caller's subject of 72 bytes (the board's limit) ending in a two-byte
// character goes out in a UTF-8 packet (the default charset) cut to
// FTS-0001's 71 bytes before that character, not in its middle.
func TestExportedSubjectIsCutBetweenCharacters(t *testing.T) {
	ctx := context.Background()
	a := newBoard(t, "21:1/100", "21:1/101")
	b := newBoard(t, "21:1/101", "21:1/100")
	subject := strings.Repeat("x", 70) + "é" // 72 bytes
	if _, err := a.st.Post(ctx, store.NewPost{Area: "fido", Author: "ann", Subject: subject, Lines: []string{"hi"}}); err != nil {
		t.Fatal(err)
	}
	mustScan(t, a)
	raw := deliver(t, a, b)
	if len(raw) != 1 {
		t.Fatalf("%d packets", len(raw))
	}
	m := mustParse(t, raw[0]).Messages[0]
	if !utf8.ValidString(m.Subject) || m.Subject != strings.Repeat("x", 70) {
		t.Errorf("exported subject %q (CHRS UTF-8), want the 70 x's before the é", m.Subject)
	}
}
