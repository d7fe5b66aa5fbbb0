package authkey

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

// line returns the authorized_keys line of key, with comment.
func line(t testing.TB, key any, comment string) string {
	t.Helper()
	pub, err := ssh.NewPublicKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(string(ssh.MarshalAuthorizedKey(pub)), "\n") + " " + comment
}

func TestParseAcceptsTheBoardsTypes(t *testing.T) {
	edPub, _, _ := ed25519.GenerateKey(rand.Reader)
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	for _, tc := range []struct {
		key  any
		typ  string
		line string
	}{
		{edPub, "ssh-ed25519", ""},
		{&ec.PublicKey, "ecdsa-sha2-nistp256", ""},
		{&rk.PublicKey, "ssh-rsa", ""},
	} {
		in := line(t, tc.key, "dave@home")
		k, err := Parse("  " + in + "\n")
		if err != nil {
			t.Fatalf("%s: %v", tc.typ, err)
		}
		if k.Type != tc.typ || k.Line != in || !strings.HasPrefix(k.Fingerprint, "SHA256:") {
			t.Errorf("%s: got %+v", tc.typ, k)
		}
	}
}

func TestParseRefuses(t *testing.T) {
	edPub, _, _ := ed25519.GenerateKey(rand.Reader)
	good := line(t, edPub, "x")
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	ec384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	for _, tc := range []struct {
		name, in string
		want     error
	}{
		{"empty", "", ErrNotAKey},
		{"garbage", "hello there", ErrNotAKey},
		{"two keys", good + "\n" + good, ErrNotAKey},
		{"options", `command="/bin/sh" ` + good, ErrOptions},
		{"small rsa", line(t, &small.PublicKey, ""), ErrType},
		{"p384", line(t, &ec384.PublicKey, ""), ErrType},
		{"too long", good + " " + strings.Repeat("a", MaxLine), ErrTooLong},
	} {
		if _, err := Parse(tc.in); !errors.Is(err, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestParseCleansTheComment(t *testing.T) {
	edPub, _, _ := ed25519.GenerateKey(rand.Reader)
	k, err := Parse(line(t, edPub, "me\x1b[2J"+strings.Repeat("z", 100)))
	if err != nil {
		t.Fatal(err)
	}
	comment := k.Line[strings.LastIndexByte(k.Line, ' ')+1:]
	if strings.ContainsRune(comment, 0x1b) || len(comment) > MaxComment || !strings.HasPrefix(comment, "me[2J") {
		t.Errorf("comment kept as %q", comment)
	}
}
