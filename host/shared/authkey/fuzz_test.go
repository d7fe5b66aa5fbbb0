package authkey

import (
	"strings"
	"testing"
	"unicode"
)

// FuzzParse: any text either is refused or gives a key whose stored line
// parses back to the same key, within the limits, with a printable
// comment.
func FuzzParse(f *testing.F) {
	f.Add("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGq0gQ4m0J8mV3l1p2xJ4oE3m1bY8o7b0n2a9E9l8c2k me@home")
	f.Add(`from="1.2.3.4" ssh-rsa AAAA x`)
	f.Add("ecdsa-sha2-nistp256 AAAA\n")
	f.Fuzz(func(t *testing.T, in string) {
		k, err := Parse(in)
		if err != nil {
			return
		}
		if len(k.Line) > MaxLine || strings.ContainsFunc(k.Line, func(r rune) bool { return !unicode.IsPrint(r) }) {
			t.Fatalf("stored line %q", k.Line)
		}
		again, err := Parse(k.Line)
		if err != nil || again.Fingerprint != k.Fingerprint || again.Line != k.Line {
			t.Fatalf("%q does not parse back: %v", k.Line, err)
		}
	})
}
