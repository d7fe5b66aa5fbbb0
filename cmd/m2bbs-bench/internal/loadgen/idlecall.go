package loadgen

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/m2bbs/m2bbs/host/gateway/telnet"
)

// The terminal an idle caller says it has, over telnet (TTYPE, NAWS) and
// SSH (its PTY request) alike.
const (
	IdleTerminal = "xterm"
	IdleWidth    = 80
	IdleHeight   = 24
)

// maxBeforePrompt bounds what an idle caller reads while waiting for its
// prompt: a board that never shows it fails the caller instead of
// filling memory.
const maxBeforePrompt = 64 << 10

// ParkTelnet calls the telnet gateway at addr as a telnet client would:
// it answers the gateway's option negotiation (terminal type
// IdleTerminal, window IdleWidth × IdleHeight, echo and go-ahead
// suppression accepted, anything else refused), reads until prompt has
// been shown and returns the connection, which stays open and silent
// until closed. timeout and ctx bound the call up to the prompt.
func ParkTelnet(ctx context.Context, addr, prompt string, timeout time.Duration) (net.Conn, error) {
	d := net.Dialer{Timeout: timeout}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("loadgen: telnet caller: %w", err)
	}
	// Until the prompt, a cancelled ctx or the deadline fails the call.
	defer context.AfterFunc(ctx, func() { conn.Close() })()
	_ = conn.SetDeadline(time.Now().Add(timeout))
	var (
		dec    telnet.Decoder
		tokens []telnet.Token
		seen   []byte
		buf    = make([]byte, 4096)
	)
	for !bytes.Contains(seen, []byte(prompt)) {
		n, err := conn.Read(buf)
		if err != nil {
			conn.Close()
			return nil, fmt.Errorf("loadgen: telnet caller: %w after %q", err, lastBytes(seen))
		}
		tokens = dec.Decode(tokens[:0], buf[:n])
		var reply []byte
		for _, t := range tokens {
			switch t.Kind {
			case telnet.KindData:
				seen = append(seen, t.Data...)
			case telnet.KindNegotiation:
				reply = answerTelnet(reply, t.Command, t.Option)
			case telnet.KindSubnegotiation:
				if t.Option == telnet.OptTerminalType && len(t.Data) > 0 && t.Data[0] == telnet.TerminalTypeSend {
					reply = telnet.AppendSubnegotiation(reply, telnet.OptTerminalType, append([]byte{telnet.TerminalTypeIs}, IdleTerminal...))
				}
			}
		}
		if len(seen) > maxBeforePrompt {
			conn.Close()
			return nil, fmt.Errorf("loadgen: telnet caller: no %q in the first %d bytes", prompt, len(seen))
		}
		if len(reply) > 0 {
			if _, err := conn.Write(reply); err != nil {
				conn.Close()
				return nil, fmt.Errorf("loadgen: telnet caller: %w", err)
			}
		}
	}
	_ = conn.SetDeadline(time.Time{})
	return conn, nil
}

// answerTelnet appends a client's answer to the gateway's verb for
// option: the options a terminal client takes on are accepted (with the
// window size after WILL NAWS), the others refused. The gateway asks
// each option once, so answering every request cannot loop.
func answerTelnet(dst []byte, verb, option byte) []byte {
	switch verb {
	case telnet.DO:
		switch option {
		case telnet.OptNAWS:
			dst = telnet.AppendNegotiation(dst, telnet.WILL, option)
			return telnet.AppendSubnegotiation(dst, telnet.OptNAWS, []byte{0, IdleWidth, 0, IdleHeight})
		case telnet.OptTerminalType, telnet.OptSuppressGoAhead:
			return telnet.AppendNegotiation(dst, telnet.WILL, option)
		}
		return telnet.AppendNegotiation(dst, telnet.WONT, option)
	case telnet.WILL:
		if option == telnet.OptEcho || option == telnet.OptSuppressGoAhead {
			return telnet.AppendNegotiation(dst, telnet.DO, option)
		}
		return telnet.AppendNegotiation(dst, telnet.DONT, option)
	}
	return dst
}

// ParkSSH calls the SSH gateway at addr as user with no password (the
// board's guest names, such as "new", land at its own prompts), opens a
// session with a PTY (IdleTerminal, IdleWidth × IdleHeight) and a shell,
// reads until prompt has been shown and returns the call, which stays
// open and silent until closed. timeout and ctx bound the call up to
// the prompt.
func ParkSSH(ctx context.Context, addr, user, prompt string, timeout time.Duration) (io.Closer, error) {
	d := net.Dialer{Timeout: timeout}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("loadgen: ssh caller: %w", err)
	}
	// The deadline (or a cancelled ctx) covers the handshake and the wait
	// for the prompt: the client's reader fails with it, and so does
	// every read below.
	defer context.AfterFunc(ctx, func() { conn.Close() })()
	_ = conn.SetDeadline(time.Now().Add(timeout))
	sc, chans, reqs, err := ssh.NewClientConn(conn, addr, &ssh.ClientConfig{
		User: user, HostKeyCallback: ssh.InsecureIgnoreHostKey(),
	})
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("loadgen: ssh caller: %w", err)
	}
	client := ssh.NewClient(sc, chans, reqs)
	fail := func(err error) (io.Closer, error) {
		client.Close()
		return nil, fmt.Errorf("loadgen: ssh caller: %w", err)
	}
	sess, err := client.NewSession()
	if err != nil {
		return fail(err)
	}
	if err := sess.RequestPty(IdleTerminal, IdleHeight, IdleWidth, ssh.TerminalModes{}); err != nil {
		return fail(err)
	}
	// Without a stdin pipe the client sends EOF at once: a hang-up.
	if _, err := sess.StdinPipe(); err != nil {
		return fail(err)
	}
	out, err := sess.StdoutPipe()
	if err != nil {
		return fail(err)
	}
	if err := sess.Shell(); err != nil {
		return fail(err)
	}
	var seen []byte
	buf := make([]byte, 4096)
	for !bytes.Contains(seen, []byte(prompt)) {
		n, err := out.Read(buf)
		if err != nil {
			return fail(fmt.Errorf("%w after %q", err, lastBytes(seen)))
		}
		if seen = append(seen, buf[:n]...); len(seen) > maxBeforePrompt {
			return fail(fmt.Errorf("no %q in the first %d bytes", prompt, len(seen)))
		}
	}
	_ = conn.SetDeadline(time.Time{})
	return client, nil
}

// lastBytes is the end of what a caller saw, for an error message.
func lastBytes(seen []byte) []byte {
	const n = 200
	if len(seen) > n {
		return seen[len(seen)-n:]
	}
	return seen
}

// Parked are callers left connected and silent by ParkMany.
type Parked struct {
	// Calls are the callers that reached their prompt.
	Calls []io.Closer
	// Failed counts the callers that did not; FirstErr is the first of
	// their errors.
	Failed   int
	FirstErr error
}

// ParkMany places n callers with call, window of them at a time.
func ParkMany(ctx context.Context, n, window int, call func(context.Context) (io.Closer, error)) *Parked {
	p := &Parked{}
	var (
		mu  sync.Mutex
		wg  sync.WaitGroup
		sem = make(chan struct{}, max(window, 1))
	)
	for range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			c, err := call(ctx)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				p.Failed++
				if p.FirstErr == nil {
					p.FirstErr = err
				}
				return
			}
			p.Calls = append(p.Calls, c)
		})
	}
	wg.Wait()
	return p
}

// Close hangs up every parked caller; how a hang-up went is of no
// interest to a measure taken before it.
func (p *Parked) Close() {
	for _, c := range p.Calls {
		_ = c.Close()
	}
	p.Calls = nil
}
