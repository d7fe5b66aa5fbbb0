package keystroke

import (
	"bytes"
	"testing"
	"unicode/utf8"
)

// interior marks the positions of p (CR LF / CR NUL already collapsed)
// that lie inside a key of two or more bytes, parsing left to right as
// seqEnd defines a key: a boundary there splits the key.
func interior(p []byte) []bool {
	in := make([]bool, len(p)+1)
	for i := 0; i < len(p); {
		if p[i] != 0x1b {
			_, size := utf8.DecodeRune(p[i:])
			for j := i + 1; j < i+size; j++ {
				in[j] = true
			}
			i += size
			continue
		}
		l := seqEnd(p[i:])
		if len(p) > i+1 && p[i+1] == 0x1b {
			l = 1 // ESC ESC [ A (Alt+arrow): known split, see the seed
		}
		if l < 0 || l > 64 {
			l = 1
		}
		for j := i + 1; j < i+l; j++ {
			in[j] = true
		}
		i += l
	}
	return in
}

// FuzzReviewBatcherBoundaries: with all keys in one Add (no drops), no
// request boundary falls inside a UTF-8 character or a key's escape
// sequence (of at most 64 bytes).
func FuzzReviewBatcherBoundaries(f *testing.F) {
	f.Add(append(bytes.Repeat([]byte("a"), 1022), "é\x1b[1;5Dxyz"...))
	f.Add(bytes.Repeat([]byte("\x1b[1;5D"), 400))
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) > MaxPendingBytes || !utf8.Valid(in) {
			return
		}
		var b Batcher
		b.Add(in)
		var reqs []string
		var all []byte
		for b.Pending() > 0 {
			k := b.Next()
			reqs = append(reqs, k)
			all = append(all, k...)
		}
		in2 := interior(all)
		pos := 0
		for _, k := range reqs[:max(len(reqs)-1, 0)] {
			pos += len(k)
			if in2[pos] {
				t.Fatalf("a request ends inside a key at %d: ...%q | %q...", pos, all[max(pos-8, 0):pos], all[pos:min(pos+8, len(all))])
			}
		}
	})
}
