package qwkmail_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/m2bbs/m2bbs/host/qwk"
)

// maxREP is a REP at the limits: 100 messages of about 10 KiB of text
// each (1 MiB unpacked in all).
func maxREP(b *testing.B, salt int) []byte {
	b.Helper()
	line := strings.Repeat("the quick brown fox jumps over the lazy dog ", 2)
	var msgs []qwk.Message
	for i := range 100 {
		lines := make([]string, 0, 100)
		for j := range 100 {
			lines = append(lines, fmt.Sprintf("%d %d %d %s", salt, i, j, line))
		}
		msgs = append(msgs, qwk.Message{Conference: 1, To: "All", Subject: "load", Lines: lines})
	}
	rep, err := qwk.BuildREP("TESTBBS", msgs)
	if err != nil {
		b.Fatal(err)
	}
	return rep
}

// BenchmarkParseMaxREP is the pure part of posting a REP at the limits.
func BenchmarkParseMaxREP(b *testing.B) {
	rep := maxREP(b, 0)
	b.SetBytes(int64(len(rep)))
	for b.Loop() {
		if _, err := qwk.ParseREP(rep, "TESTBBS", qwk.DefaultLimits); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPostMaxREP posts a REP at the limits: parse and one
// transaction of 100 posts.
func BenchmarkPostMaxREP(b *testing.B) {
	_, svc := newBoardB(b)
	ctx := context.Background()
	reps := make([][]byte, 0, 8)
	for i := range 8 {
		reps = append(reps, maxREP(b, i))
	}
	i := 0
	for b.Loop() {
		r, err := svc.Post(ctx, board, "ann", reps[i%len(reps)], []string{"general"})
		if err != nil || (i < len(reps) && r.Posted() != 100) {
			b.Fatalf("%v %+v", err, r.Refused)
		}
		i++
	}
}

// BenchmarkBuild500 builds a packet of 500 posts of 20 lines.
func BenchmarkBuild500(b *testing.B) {
	db, svc := newBoardB(b)
	ctx := context.Background()
	lines := make([]string, 20)
	for i := range lines {
		lines[i] = strings.Repeat("text of a post ", 5)
	}
	for range 500 {
		post(b, db, "general", "bob", "a post", lines...)
	}
	for b.Loop() {
		built, err := svc.Build(ctx, board, "ann", []string{"general"})
		if err != nil || built.Messages != 500 {
			b.Fatal(err)
		}
	}
}
