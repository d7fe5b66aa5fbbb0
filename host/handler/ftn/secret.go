package ftn

import (
	"crypto/subtle"
	"log/slog"
	"strings"
)

// Secret is a password from the settings. It prints and logs as
// "[secret]"; Reveal returns it.
type Secret string

// String implements fmt.Stringer without the secret.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "[secret]"
}

// GoString implements fmt.GoStringer without the secret.
func (s Secret) GoString() string { return s.String() }

// LogValue implements slog.LogValuer without the secret.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// Reveal returns the secret itself, for the mailer's config and packet
// headers only.
func (s Secret) Reveal() string { return string(s) }

// MatchesFold reports whether got is the secret, ignoring ASCII case (as
// packet passwords are compared), in time that depends on neither's
// content: a sender timing the answer learns nothing of the password but
// that it is not longer than maxSecretCompare bytes.
func (s Secret) MatchesFold(got string) bool {
	var a, b [maxSecretCompare]byte
	want := string(s)
	if len(got) > maxSecretCompare || len(want) > maxSecretCompare {
		// Never the case for packet passwords (8 bytes); compare the
		// whole anyway, still without an early exit on content.
		return subtle.ConstantTimeCompare([]byte(strings.ToUpper(got)), []byte(strings.ToUpper(want))) == 1
	}
	copy(a[:], strings.ToUpper(got))
	copy(b[:], strings.ToUpper(want))
	sameLen := subtle.ConstantTimeEq(int32(len(got)), int32(len(want)))
	return subtle.ConstantTimeCompare(a[:], b[:])&sameLen == 1
}

// maxSecretCompare is the length up to which MatchesFold pads.
const maxSecretCompare = 64
