package rlogin

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestParseHandshake(t *testing.T) {
	for _, c := range []struct {
		name string
		in   string
		want Handshake
		n    int
		err  string // "" ok; "incomplete"; else part of the HandshakeError
	}{
		{"full", "\x00s3cret\x00alpha:bob\x00ansi-bbs/38400\x00", Handshake{"s3cret", "alpha:bob", "ansi-bbs", 38400}, 33, ""},
		{"keys follow", "\x00\x00alpha:bob\x00xterm/9600\x00hi", Handshake{"", "alpha:bob", "xterm", 9600}, 23, ""},
		{"no speed", "\x00a\x00b\x00vt100\x00", Handshake{"a", "b", "vt100", 0}, 11, ""},
		{"bad speed", "\x00a\x00b\x00vt100/fast\x00", Handshake{"a", "b", "vt100", 0}, 16, ""},
		{"empty", "", Handshake{}, 0, "incomplete"},
		{"half", "\x00a\x00alpha:b", Handshake{}, 0, "incomplete"},
		{"no terminal yet", "\x00a\x00b\x00ansi", Handshake{}, 0, "incomplete"},
		{"no leading NUL", "a\x00b\x00c\x00", Handshake{}, 0, "does not start"},
		{"control char", "\x00a\x00b\x1b[2J\x00c\x00", Handshake{}, 0, "control character"},
		{"client user too long", "\x00" + strings.Repeat("x", MaxClientUser+1), Handshake{}, 0, "longer than"},
		{"server user too long", "\x00\x00" + strings.Repeat("x", MaxServerUser+1) + "\x00", Handshake{}, 0, "longer than"},
		{"terminal too long", "\x00\x00b\x00" + strings.Repeat("x", MaxTerminal+1), Handshake{}, 0, "longer than"},
		{"longest", "\x00" + strings.Repeat("c", MaxClientUser) + "\x00" + strings.Repeat("s", MaxServerUser) + "\x00" + strings.Repeat("t", MaxTerminal) + "\x00",
			Handshake{strings.Repeat("c", MaxClientUser), strings.Repeat("s", MaxServerUser), strings.Repeat("t", MaxTerminal), 0}, MaxHandshake, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, n, err := ParseHandshake([]byte(c.in))
			switch {
			case c.err == "incomplete":
				if !errors.Is(err, ErrIncomplete) {
					t.Errorf("err = %v, want ErrIncomplete", err)
				}
			case c.err != "":
				var he *HandshakeError
				if !errors.As(err, &he) || !strings.Contains(he.Error(), c.err) {
					t.Errorf("err = %v, want a HandshakeError saying %q", err, c.err)
				}
			default:
				if err != nil || got != c.want || n != c.n {
					t.Errorf("got %+v, %d, %v; want %+v, %d", got, n, err, c.want, c.n)
				}
			}
		})
	}
}

func TestAppendHandshakeRoundTrip(t *testing.T) {
	h := Handshake{ClientUser: "s3cret", ServerUser: "alpha:bob", Terminal: "ansi-bbs", Speed: 115200}
	b := AppendHandshake(nil, h)
	got, n, err := ParseHandshake(b)
	if err != nil || got != h || n != len(b) {
		t.Errorf("round trip: %+v %d %v", got, n, err)
	}
}

// FuzzParseHandshake: any bytes, cut anywhere, give a handshake, a need
// for more, or a HandshakeError; never a panic, never more than
// MaxHandshake bytes taken, and the same answer for a prefix that holds
// the whole handshake as for the whole input.
func FuzzParseHandshake(f *testing.F) {
	f.Add([]byte("\x00s3cret\x00alpha:bob\x00ansi-bbs/38400\x00keys"), 5)
	f.Add([]byte("\x00\x00b\x00t\x00"), 0)
	f.Add([]byte("x"), 1)
	f.Fuzz(func(t *testing.T, b []byte, cut int) {
		h, n, err := ParseHandshake(b)
		var he *HandshakeError
		switch {
		case err == nil:
			if n < 4 || n > MaxHandshake || n > len(b) || b[n-1] != 0 {
				t.Fatalf("took %d of %d bytes", n, len(b))
			}
			if again, m, err := ParseHandshake(b[:n]); err != nil || again != h || m != n {
				t.Fatalf("the handshake alone parses as %+v %d %v, not %+v", again, m, err, h)
			}
			if bytes.ContainsAny([]byte(h.ClientUser+h.ServerUser+h.Terminal), "\x00\r\n\x1b") {
				t.Fatalf("control bytes in %+v", h)
			}
		case errors.Is(err, ErrIncomplete):
			if len(b) >= MaxHandshake {
				t.Fatalf("%d bytes still incomplete", len(b))
			}
		case errors.As(err, &he):
			if he.Offset < 0 || he.Offset > len(b) {
				t.Fatalf("offset %d of %d", he.Offset, len(b))
			}
		default:
			t.Fatalf("unexpected error %v", err)
		}
		if cut < 0 || cut > len(b) {
			return
		}
		// A prefix never gives a different handshake.
		if ph, pn, perr := ParseHandshake(b[:cut]); perr == nil && (ph != h || pn != n) {
			t.Fatalf("prefix %d gives %+v, whole gives %+v %v", cut, ph, h, err)
		}
	})
}

func BenchmarkParseHandshake(b *testing.B) {
	in := AppendHandshake(nil, Handshake{ClientUser: "s3cret-of-twenty-four-ch", ServerUser: "alpha:bob", Terminal: "ansi-bbs", Speed: 38400})
	for b.Loop() {
		if _, _, err := ParseHandshake(in); err != nil {
			b.Fatal(err)
		}
	}
}
