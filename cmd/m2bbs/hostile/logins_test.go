package hostile

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/m2bbs/m2bbs/host/gateway/classic"
)

// Password guessing and account grabbing (issue 12, item 7): the attacker
// calls from attackerIP, the sysop from other loopback addresses.

// sysopIP is where the real sysop calls from while the attacker guesses.
const sysopIP = "127.0.0.3"

// nameVariants are spellings of one name that the board folds to it: a
// throttle keyed by the name as typed would count each apart.
func nameVariants(name string) []string {
	upper := strings.ToUpper(name)
	fullwidth := strings.Map(func(r rune) rune { return r - 'a' + 'ａ' }, name)
	return []string{name, upper, name + "\u2009", " " + name, fullwidth, "\u200b" + name}
}

// guessOutcome is what one wrong guess got.
type guessOutcome int

const (
	guessWrong   guessOutcome = iota // "Wrong password": the guess was tried
	guessRefused                     // "too many failed logins: try again in ..."
)

// guess calls from attackerIP and tries password for name; it fails the
// test if the attacker gets in.
func (b *board) guess(t *testing.T, name, password string) guessOutcome {
	t.Helper()
	c := b.call(t, attackerIP)
	out := c.answer(t, name, password)
	switch {
	case strings.Contains(out, "Wrong password"):
		return guessWrong
	case strings.Contains(out, "too many failed logins: try again in"):
		return guessRefused
	}
	t.Fatalf("a guess as %q got:\n%s", name, c.seen.String())
	return 0
}

// guessMany makes n wrong guesses at name, cycling through its spellings,
// and checks that at most a few are tried before guesses are refused,
// refusals coming for other spellings too.
func guessMany(t *testing.T, n int, guess func(name string) guessOutcome, name string) {
	t.Helper()
	variants := nameVariants(name)
	tried, refused, refusedVariant := 0, 0, false
	for i := range n {
		v := variants[i%len(variants)]
		switch guess(v) {
		case guessWrong:
			tried++
		case guessRefused:
			if tried < 3 {
				t.Fatalf("refused after only %d wrong guesses", tried)
			}
			refused++
			refusedVariant = refusedVariant || v != name
		}
	}
	// Three go through, then pauses of 1 s, 2 s, 4 s, 8 s...: even a
	// slow machine's attacker gets at most three more tried.
	if tried > 6 || refused < n-6 {
		t.Errorf("of %d quick guesses, %d were tried and %d refused; want at most 6 tried", n, tried, refused)
	}
	if !refusedVariant {
		t.Errorf("no guess under another spelling of %q was refused", name)
	}
}

// TestGuessingTheSysopsPasswordLeavesTheSysopIn: a stranger guesses the
// sysop's password from one address, under every spelling of the name; the
// guesses are soon refused, and the sysop, online meanwhile and calling
// again from another address, gets in at once.
func TestGuessingTheSysopsPasswordLeavesTheSysopIn(t *testing.T) {
	b := startBoard(t, boardOptions{extra: []string{"-bcrypt-cost", "4"}})
	sysop := b.bystander(t, "zed") // the first account: the sysop
	assertResponsive(t, sysop, func() {
		guessMany(t, 12, func(name string) guessOutcome { return b.guess(t, name, "hunter2-guess") }, "zed")
	})
	again := b.call(t, sysopIP)
	start := time.Now()
	if out := again.answer(t, "zed", bystanderPassword); !strings.Contains(out, "Do you want to continue?") {
		t.Fatalf("the sysop calling from %s was not let in:\n%s", sysopIP, again.seen.String())
	}
	if took := time.Since(start); took > maxRoundTrip {
		t.Errorf("the sysop's login took %v", took)
	}
	// The sysop hears of the guesses, by address; no password, right or
	// wrong, is in the log or the database files (journals included).
	if n := b.proc.logs.Count("login failed: wrong password", "peer=127.0.0.1"); n < 3 {
		t.Errorf("%d failed logins logged from the attacker's address, want at least 3:\n%s", n, b.proc.logs)
	}
	assertNoSecrets(t, b, bystanderPassword, "hunter2-guess")
}

// assertNoSecrets checks that none of secrets is in the board's log, its
// database file or the database's WAL.
func assertNoSecrets(t *testing.T, b *board, secrets ...string) {
	t.Helper()
	files := map[string][]byte{"the log": []byte(b.proc.logs.String())}
	for _, f := range []string{b.db, b.db + "-wal"} {
		raw, err := os.ReadFile(f)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		files[filepath.Base(f)] = raw
	}
	for name, raw := range files {
		for _, secret := range secrets {
			if bytes.Contains(raw, []byte(secret)) {
				t.Errorf("%q is in %s in clear", secret, name)
			}
		}
	}
}

// TestGrabbingAccounts: one address registers only a few accounts an
// hour; look-alikes of reserved names, names without a letter and short
// passwords are refused; another address still registers.
func TestGrabbingAccounts(t *testing.T) {
	b := startBoard(t, boardOptions{extra: []string{"-bcrypt-cost", "4"}})
	bystander := b.bystander(t, "zed")
	register := func(from, name, password string) string {
		c := b.call(t, from)
		return c.answer(t, name, password, password)
	}
	assertResponsive(t, bystander, func() {
		for name, want := range map[string]string{
			"sys0p": "is reserved", "SysOp.": "is reserved", "\u0455ysop": "", "r00t": "is reserved",
			"Adm1n": "is reserved", "1234": "a name needs a letter",
		} {
			out := register(attackerIP, name, "long enough password")
			if want == "" {
				want = "Could not register you" // Cyrillic: not a valid name at all
			}
			if !strings.Contains(out, want) {
				t.Errorf("registering %q:\n%s", name, out)
			}
		}
		if out := register(attackerIP, "shorty", "pw"); !strings.Contains(out, "a password needs at least 8 characters") {
			t.Errorf("a short password:\n%s", out)
		}
		for i := range 3 {
			name := fmt.Sprintf("grab%c", 'a'+i)
			if out := register(attackerIP, name, "long enough password"); !strings.Contains(out, "Do you want to continue?") {
				t.Fatalf("registration %d of 3 refused:\n%s", i+1, out)
			}
		}
		if out := register(attackerIP, "grabd", "long enough password"); !strings.Contains(out, "too many new accounts from your address: try again in") {
			t.Errorf("a fourth registration from one address:\n%s", out)
		}
	})
	if out := register(sysopIP, "honest", "long enough password"); !strings.Contains(out, "Do you want to continue?") {
		t.Errorf("a registration from another address:\n%s", out)
	}
}

// TestTelnetBehindMongrel2ThrottlesEachCaller: with `run -mongrel2`, the
// telnet gateway reaches the host through Mongrel2 from 127.0.0.1, and
// tells the host each caller's own address: a stranger guessing the
// sysop's password over telnet is refused, the sysop calling over telnet
// from another address is not. Forged addresses sent straight to
// Mongrel2 without the gateway's key are not believed.
func TestTelnetBehindMongrel2ThrottlesEachCaller(t *testing.T) {
	// The guesses' telnet calls stay open to the end of the test: more
	// than the 8 one address may hold by default.
	b := startBoard(t, boardOptions{telnet: true, extra: []string{"-mongrel2", "-bcrypt-cost", "4", "-max-per-addr", "16"}})
	reg := dialTelnetLogin(t, sysopIP, b.telnetAddr)
	reg.answer(t, "What's your name?", "zed")
	reg.answer(t, "password?", bystanderPassword)
	reg.answer(t, "Type your password again", bystanderPassword)
	reg.await(t, "Do you want to continue?")

	guessMany(t, 9, func(name string) guessOutcome {
		c := dialTelnetLogin(t, attackerIP, b.telnetAddr)
		c.answer(t, "What's your name?", name)
		c.answer(t, "password?", "hunter2-guess")
		return c.outcome(t)
	}, "zed")
	// Forged: straight to Mongrel2's JSON socket, naming a fresh address
	// at each call, with a key guessed.
	for i := range 3 {
		conn := dialFrom(t, attackerIP, b.addr)
		forged := fmt.Sprintf(`@bbs {"type":"msg","msg":"connect","peer":"198.51.100.%d","peer_key":"guess"}`+"\x00", i+1)
		if _, err := conn.Write([]byte(forged)); err != nil {
			t.Fatal(err)
		}
		c := &caller{c: newClassic(t, conn)}
		if out := c.answer(t, "zed", "hunter2-guess"); !strings.Contains(out, "too many failed logins") {
			t.Errorf("a forged address was believed:\n%s", c.seen.String())
		}
	}

	sysop := dialTelnetLogin(t, sysopIP, b.telnetAddr)
	sysop.answer(t, "What's your name?", "zed")
	sysop.answer(t, "password?", bystanderPassword)
	if out := sysop.await(t, "Do you want to continue?", "too many failed logins"); strings.Contains(out, "too many failed logins") {
		t.Fatalf("the sysop calling over telnet from %s was refused:\n%s", sysopIP, out)
	}
	assertNoSecrets(t, b, bystanderPassword, "hunter2-guess")
}

// telnetLogin is a dumb telnet client: it drops option negotiation and
// reads text.
type telnetLogin struct {
	conn net.Conn
	seen bytes.Buffer
}

func dialTelnetLogin(t *testing.T, local, addr string) *telnetLogin {
	t.Helper()
	return &telnetLogin{conn: dialFrom(t, local, addr)}
}

// await reads until the text shown contains one of wants, and returns all
// of it.
func (c *telnetLogin) await(t *testing.T, wants ...string) string {
	t.Helper()
	deadline := time.Now().Add(readTimeout)
	buf := make([]byte, 4096)
	for {
		for _, w := range wants {
			if strings.Contains(c.seen.String(), w) {
				return c.seen.String()
			}
		}
		_ = c.conn.SetReadDeadline(deadline)
		n, err := c.conn.Read(buf)
		c.seen.Write(stripTelnetCommands(buf[:n]))
		if err != nil {
			t.Fatalf("telnet: waiting for %q: %v; seen:\n%s", wants, err, c.seen.String())
		}
	}
}

// answer waits for prompt, then types line.
func (c *telnetLogin) answer(t *testing.T, prompt, line string) {
	t.Helper()
	c.await(t, prompt)
	c.seen.Reset()
	if _, err := c.conn.Write([]byte(line + "\r\n")); err != nil {
		t.Fatal(err)
	}
}

// outcome waits for the answer to a wrong password.
func (c *telnetLogin) outcome(t *testing.T) guessOutcome {
	t.Helper()
	out := c.await(t, "Wrong password", "too many failed logins: try again in", "continue?")
	switch {
	case strings.Contains(out, "Wrong password"):
		return guessWrong
	case strings.Contains(out, "too many failed logins"):
		return guessRefused
	}
	t.Fatalf("a guess got in:\n%s", out)
	return 0
}

// stripTelnetCommands drops telnet commands (IAC sequences) from p.
func stripTelnetCommands(p []byte) []byte {
	const iac, sb, se = 255, 250, 240
	out := p[:0:0]
	for i := 0; i < len(p); i++ {
		if p[i] != iac || i+1 >= len(p) {
			out = append(out, p[i])
			continue
		}
		switch cmd := p[i+1]; {
		case cmd == sb:
			j := bytes.Index(p[i:], []byte{iac, se})
			if j < 0 {
				return out
			}
			i += j + 1
		case cmd >= 251:
			i += 2
		default:
			i++
		}
	}
	return out
}

// newClassic is a classic client on conn, whose connect was already sent.
func newClassic(t *testing.T, conn net.Conn) *classic.Client {
	t.Helper()
	c, err := classic.NewClient(conn, "@bbs", false)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
