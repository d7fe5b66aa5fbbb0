package sshgw

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/m2bbs/m2bbs/host/gateway/telnet"
	"github.com/m2bbs/m2bbs/host/message"
	"github.com/m2bbs/m2bbs/host/shared/keylogin"
)

// fakeKeys knows one registered key of dave's; it counts the keys checked
// and the logins that proved one.
type fakeKeys struct {
	fingerprint       string
	checked, verified atomic.Int32
}

func (k *fakeKeys) CheckKey(ctx context.Context, name, fingerprint, peer string) (string, Verdict, error) {
	k.checked.Add(1)
	if strings.EqualFold(name, "dave") && fingerprint == k.fingerprint {
		return "Dave", Member, nil
	}
	return "", Refused, nil
}

func (k *fakeKeys) KeyLoginSucceeded(ctx context.Context, name, peer string) error {
	k.verified.Add(1)
	return nil
}

// connectCatcher is a board that hands each call's first request (its
// JSON) to got and answers with one prompt.
func connectCatcher(got chan<- map[string]any) func(ctx context.Context, remote net.Addr) (net.Conn, error) {
	return func(ctx context.Context, remote net.Addr) (net.Conn, error) {
		gateway, board := net.Pipe()
		go func() {
			defer board.Close()
			req, err := bufio.NewReader(board).ReadString(0)
			if err != nil {
				return
			}
			_, js, _ := strings.Cut(strings.TrimSuffix(req, "\x00"), " ")
			var body map[string]any
			_ = json.Unmarshal([]byte(js), &body)
			got <- body
			m, _ := json.Marshal(message.Message{Type: message.TypePrompt, Msg: "Menu", PChar: "> "})
			_, _ = io.WriteString(board, base64.StdEncoding.EncodeToString(m)+"\x00")
			_, _ = io.Copy(io.Discard, board)
		}()
		return gateway, nil
	}
}

// TestKeyLogin: dave's registered key logs him in (once the client
// proved it holds it); the call's connect carries an assertion the host's
// Verifier accepts for "Dave". A key that is not registered is refused.
func TestKeyLogin(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	signer, _ := ssh.NewSignerFromKey(priv)
	sshPub, _ := ssh.NewPublicKey(pub)
	keys := &fakeKeys{fingerprint: ssh.FingerprintSHA256(sshPub)}
	loginKey := keylogin.NewKey()
	got := make(chan map[string]any, 1)
	calls, err := telnet.New(telnet.Config{Dial: connectCatcher(got), Log: testLog(t)})
	if err != nil {
		t.Fatal(err)
	}
	_, _, addr := startServer(t, Config{Calls: calls, Keys: keys, KeyLoginKey: loginKey})

	term := call(t, addr, legacyClient("dave", ssh.PublicKeys(signer)), 80, 24)
	var connect map[string]any
	select {
	case connect = <-got:
	case <-time.After(waitLimit):
		t.Fatal("no connect reached the board")
	}
	term.readUntil("Menu")
	at, _ := connect[keylogin.FieldAt].(float64)
	a := keylogin.Assertion{Name: str(connect[keylogin.FieldName]), At: int64(at), Nonce: str(connect[keylogin.FieldNonce]), MAC: str(connect[keylogin.FieldMAC])}
	if name, err := keylogin.NewVerifier(loginKey).Verify(a, time.Now()); err != nil || name != "Dave" || connect["msg"] != "connect" {
		t.Errorf("the connect %v: verified as %q, %v", connect, name, err)
	}
	if keys.verified.Load() != 1 {
		t.Errorf("%d key logins told to the throttle, want 1", keys.verified.Load())
	}

	_, other, _ := ed25519.GenerateKey(rand.Reader)
	otherSigner, _ := ssh.NewSignerFromKey(other)
	if _, err := ssh.Dial("tcp", addr, legacyClient("dave", ssh.PublicKeys(otherSigner))); err == nil {
		t.Error("a key dave never registered logged in")
	}
	if keys.verified.Load() != 1 {
		t.Errorf("refused keys reached the throttle as logins: %d", keys.verified.Load())
	}
}

// TestNoKeyLoginsWithoutAKey: a gateway given no key to sign with takes
// no public keys at all.
func TestNoKeyLoginsWithoutAKey(t *testing.T) {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	signer, _ := ssh.NewSignerFromKey(priv)
	keys := &fakeKeys{fingerprint: ssh.FingerprintSHA256(signer.PublicKey())}
	_, _, addr := startServer(t, Config{Keys: keys})
	if _, err := ssh.Dial("tcp", addr, legacyClient("dave", ssh.PublicKeys(signer))); err == nil {
		t.Error("a key logged in")
	}
	if keys.checked.Load() != 0 {
		t.Errorf("%d keys checked", keys.checked.Load())
	}
}

func str(v any) string { s, _ := v.(string); return s }
