// Package authkey reads the public keys callers register for SSH logins:
// one OpenSSH authorized_keys line, checked against the board's limits
// (the key types it accepts, RSA's size, the line's length) and
// normalised to the form the store keeps.
//
// The line is parsed by golang.org/x/crypto/ssh (ssh.ParseAuthorizedKey);
// this package only bounds it and rebuilds it from the parsed key, so
// that what is stored is the key and a printable comment, never options
// or trailing text.
package authkey

import (
	"bytes"
	"crypto/rsa"
	"errors"
	"fmt"
	"strings"
	"unicode"

	"golang.org/x/crypto/ssh"
)

// Limits of a registered key.
const (
	// MaxLine bounds the authorized_keys line a caller pastes, in bytes.
	MaxLine = 8 << 10
	// MinRSABits is the smallest RSA modulus accepted.
	MinRSABits = 2048
	// MaxComment bounds the comment kept with a key, in bytes.
	MaxComment = 64
)

// Types are the key types accepted, in the order the board lists them.
var types = []string{ssh.KeyAlgoED25519, ssh.KeyAlgoECDSA256, ssh.KeyAlgoRSA}

// Types returns the key types accepted.
func Types() []string { return append([]string(nil), types...) }

// Errors Parse returns, wrapped, for errors.Is.
var (
	// ErrTooLong: the line is longer than MaxLine.
	ErrTooLong = errors.New("authkey: line too long")
	// ErrNotAKey: the text is not an authorized_keys line, or holds more
	// than one key.
	ErrNotAKey = errors.New("authkey: not a public key line")
	// ErrType: a key type the board does not take, or an RSA key shorter
	// than MinRSABits.
	ErrType = errors.New("authkey: key type not accepted")
	// ErrOptions: the line carries options (command=, from=, ...), which
	// mean nothing here.
	ErrOptions = errors.New("authkey: options are not accepted")
)

// Key is a parsed, accepted public key.
type Key struct {
	// Type is the key's type ("ssh-ed25519", ...).
	Type string
	// Fingerprint is its SHA-256 fingerprint ("SHA256:...", as ssh-keygen
	// -l shows it).
	Fingerprint string
	// Line is the normalised authorized_keys line: type, base64 key and
	// the comment, if any.
	Line string
	// Public is the key itself.
	Public ssh.PublicKey
}

// Parse reads one authorized_keys line (surrounding space and a final
// newline are allowed) and returns the key, or an error wrapping one of
// the package's errors.
func Parse(line string) (Key, error) {
	if len(line) > MaxLine {
		return Key{}, fmt.Errorf("%w: %d bytes, at most %d", ErrTooLong, len(line), MaxLine)
	}
	text := []byte(strings.TrimSpace(line))
	if len(text) == 0 || bytes.ContainsAny(text, "\r\n") {
		return Key{}, ErrNotAKey
	}
	pub, comment, options, rest, err := ssh.ParseAuthorizedKey(text)
	if err != nil {
		return Key{}, fmt.Errorf("%w: %v", ErrNotAKey, err)
	}
	if len(bytes.TrimSpace(rest)) != 0 {
		return Key{}, ErrNotAKey
	}
	if len(options) != 0 {
		return Key{}, ErrOptions
	}
	if err := Accepted(pub); err != nil {
		return Key{}, err
	}
	out := strings.TrimSuffix(string(ssh.MarshalAuthorizedKey(pub)), "\n")
	if c := cleanComment(comment); c != "" {
		out += " " + c
	}
	return Key{Type: pub.Type(), Fingerprint: ssh.FingerprintSHA256(pub), Line: out, Public: pub}, nil
}

// Accepted reports whether pub is of a type the board takes (nil), or
// why not (ErrType, wrapped).
func Accepted(pub ssh.PublicKey) error {
	switch pub.Type() {
	case ssh.KeyAlgoED25519, ssh.KeyAlgoECDSA256:
		return nil
	case ssh.KeyAlgoRSA:
		ck, ok := pub.(ssh.CryptoPublicKey)
		if !ok {
			return ErrType
		}
		rk, ok := ck.CryptoPublicKey().(*rsa.PublicKey)
		if !ok {
			return ErrType
		}
		if bits := rk.N.BitLen(); bits < MinRSABits {
			return fmt.Errorf("%w: RSA key of %d bits, at least %d", ErrType, bits, MinRSABits)
		}
		return nil
	}
	return fmt.Errorf("%w: %q (the board takes %s)", ErrType, clip(pub.Type()), strings.Join(types, ", "))
}

// cleanComment keeps the printable characters of a comment, at most
// MaxComment bytes of them.
func cleanComment(c string) string {
	var b strings.Builder
	for _, r := range strings.TrimSpace(c) {
		if !unicode.IsPrint(r) || r == unicode.ReplacementChar {
			continue
		}
		if b.Len()+len(string(r)) > MaxComment {
			break
		}
		b.WriteRune(r)
	}
	return strings.TrimSpace(b.String())
}

// clip shortens s for an error message.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}
