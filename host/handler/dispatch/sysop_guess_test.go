package dispatch

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/m2bbs/m2bbs/host/wire/m2proto"
)

// The wrong-token limit counts an IPv6 caller's whole /64 as one address,
// as every per-address limit of the board does: rotating the low bits
// gives no more guesses.
func TestWrongTokensCountAnIPv6Slash64AsOneAddress(t *testing.T) {
	const token = "0123456789abcdef"
	b := startBoard(t, versioned("v1"), Config{SysopToken: token})
	n := 100
	post := func(addr, tok string) string {
		n++
		id := strconv.Itoa(n)
		b.ft.in <- request("POST", id, "/status/broadcast", "Guess.",
			m2proto.Header{Name: "REMOTE_ADDR", Value: addr},
			m2proto.Header{Name: "authorization", Value: "Bearer " + tok})
		return statusCode(b.ft.waitFor(t, id, kind("http")).text)
	}
	guesses := 3 * MaxWrongTokens
	refused := 0
	for i := range guesses {
		addr := fmt.Sprintf("2001:db8:1:2::%x", i+1) // one /64
		if code := post(addr, fmt.Sprintf("guess-%012d", i)); code == "429" {
			refused++
		}
	}
	if refused == 0 {
		t.Errorf("%d wrong tokens from one /64 within a minute: none answered 429 (limit is %d)", guesses, MaxWrongTokens)
	}
	if code := post("2001:db8:1:2::ffff", token); code != "429" {
		t.Errorf("the right token from the same /64 after %d wrong ones answered %s, want 429", guesses, code)
	}
}

// Once maxTokenAddrs addresses are counted in a window, a further address
// is counted with every other such one, not let through uncounted.
func TestWrongTokensPastTheCountedAddressesAreStillCounted(t *testing.T) {
	const token = "0123456789abcdef"
	b := startBoard(t, versioned("v1"), Config{SysopToken: token})
	// What maxTokenAddrs addresses with one wrong token each leave in the
	// guard (each refused request counts once under its caller's key).
	now := time.Now()
	for i := range maxTokenAddrs {
		b.host.sysop.wrongToken(fmt.Sprintf("2001:db8:%x::", i+1), now)
	}
	n := 100
	attacker := m2proto.Header{Name: "REMOTE_ADDR", Value: "203.0.113.9"}
	post := func(tok string) string {
		n++
		id := strconv.Itoa(n)
		b.ft.in <- request("POST", id, "/status/broadcast", "Guess.", attacker,
			m2proto.Header{Name: "authorization", Value: "Bearer " + tok})
		return statusCode(b.ft.waitFor(t, id, kind("http")).text)
	}
	guesses := 3 * MaxWrongTokens
	for i := range guesses {
		post(fmt.Sprintf("guess-%012d", i))
	}
	if code := post(token); code != "429" {
		t.Errorf("after %d wrong tokens from one IPv4 address (table full) the right token answered %s, want 429", guesses, code)
	}
}

// A program on the board's machine (or a caller behind a reverse proxy
// there that passes headers on) that names another address in
// X-M2BBS-Proxied-For and sends wrong tokens does not lock out the sysop
// calling from that address directly.
func TestLoopbackCallerCannotLockOutAnotherAddress(t *testing.T) {
	const token = "0123456789abcdef"
	b := startBoard(t, versioned("v1"), Config{SysopToken: token})
	n := 100
	post := func(hs ...m2proto.Header) string {
		n++
		id := strconv.Itoa(n)
		b.ft.in <- request("POST", id, "/status/broadcast", "Hi.", hs...)
		return statusCode(b.ft.waitFor(t, id, kind("http")).text)
	}
	sysopIP := "198.51.100.7"
	for i := range MaxWrongTokens {
		post(m2proto.Header{Name: "x-m2bbs-proxied-for", Value: sysopIP},
			m2proto.Header{Name: "authorization", Value: fmt.Sprintf("Bearer guess-%012d", i)})
	}
	if code := post(m2proto.Header{Name: "REMOTE_ADDR", Value: sysopIP},
		m2proto.Header{Name: "authorization", Value: "Bearer " + token}); code != "200" {
		t.Errorf("the sysop calling directly from %s with the right token answered %s after a loopback caller named that address", sysopIP, code)
	}
}
