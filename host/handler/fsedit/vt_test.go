package fsedit

import (
	"strconv"
	"strings"
	"testing"
)

// screen is a tiny terminal for tests: it applies the editor's output
// (cursor moves, erase, SGR ignored) to a grid, so tests read what the
// caller sees.
type screen struct {
	w, h     int
	cells    [][]rune
	row, col int
	bells    int
}

func newScreen(w, h int) *screen {
	s := &screen{w: w, h: h}
	s.clear()
	return s
}

func (s *screen) clear() {
	s.cells = make([][]rune, s.h)
	for i := range s.cells {
		s.cells[i] = []rune(strings.Repeat(" ", s.w))
	}
}

func (s *screen) write(t *testing.T, out string) {
	t.Helper()
	r := []rune(out)
	for i := 0; i < len(r); i++ {
		c := r[i]
		switch {
		case c == 0x1b:
			if i+1 >= len(r) || r[i+1] != '[' {
				t.Fatalf("bare ESC in output %q", out)
			}
			j := i + 2
			for j < len(r) && (r[j] < 0x40 || r[j] > 0x7e) {
				j++
			}
			if j >= len(r) {
				t.Fatalf("unfinished sequence in %q", out)
			}
			s.csi(string(r[i+2:j]), r[j])
			i = j
		case c == '\a':
			s.bells++
		case c < 0x20:
			t.Fatalf("control %q in output %q", c, out)
		default:
			w := runeWidth(c)
			if s.row < s.h && s.col+w <= s.w {
				s.cells[s.row][s.col] = c
				if w == 2 {
					s.cells[s.row][s.col+1] = wideTail
				}
			}
			s.col += w
		}
	}
}

func (s *screen) csi(params string, final rune) {
	switch final {
	case 'H':
		s.row, s.col = 0, 0
		if params != "" {
			p := strings.Split(params, ";")
			s.row, _ = strconv.Atoi(p[0])
			s.col, _ = strconv.Atoi(p[1])
			s.row--
			s.col--
		}
	case 'J':
		s.clear()
	case 'K':
		for c := s.col; c < s.w; c++ {
			s.cells[s.row][c] = ' '
		}
	}
}

// wideTail marks the second cell of a wide character.
const wideTail = -1

// line is screen row n (0-based), without trailing spaces.
func (s *screen) line(n int) string {
	var b strings.Builder
	for _, r := range s.cells[n] {
		if r != wideTail {
			b.WriteRune(r)
		}
	}
	return strings.TrimRight(b.String(), " ")
}

func (s *screen) text() string {
	var out []string
	for i := range s.h {
		out = append(out, s.line(i))
	}
	return strings.Join(out, "\n")
}
