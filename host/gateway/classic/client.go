package classic

import (
	"context"
	"errors"
	"fmt"
	"github.com/m2bbs/m2bbs/host/message"
	"github.com/m2bbs/m2bbs/host/shared/termprofile"
	"io"
	"net"
	"strings"
	"time"
)

// WriteTimeout bounds each Send.
const WriteTimeout = 10 * time.Second

// Errors Client returns, for errors.Is.
var (
	// ErrBadRoute means a route that is not '@' followed by a name without
	// spaces or NULs.
	ErrBadRoute = errors.New("bad route")
	// ErrOutOfLines means Run met a prompt with no line left to answer.
	ErrOutOfLines = errors.New("no line left to answer the prompt")
)

// Client is one caller connected to the BBS over TCP. Its methods are not
// safe for concurrent use.
type Client struct {
	// Terminal, if set, describes the caller's terminal; "connect" and
	// every line then carry it (a "terminal" member, as the telnet
	// gateway sends), so the BBS's scripts know its size and type.
	Terminal func() termprofile.Profile

	conn  net.Conn
	fr    *FrameReader
	route string
	req   []byte
}

// Dial connects to addr (Mongrel2's caller port). It sends nothing: call
// Connect to start a session as the classic client does. raw says the BBS
// sends bare JSON frames instead of base64.
func Dial(ctx context.Context, addr, route string, raw bool) (*Client, error) {
	if err := checkRoute(route); err != nil {
		return nil, err
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("classic: dial: %w", err)
	}
	return &Client{conn: conn, fr: NewFrameReader(conn, raw), route: route}, nil
}

// checkRoute refuses a route Mongrel2 would not take.
func checkRoute(route string) error {
	if len(route) < 2 || route[0] != '@' || strings.ContainsAny(route, " \t\r\n\x00") {
		return fmt.Errorf("classic: %w: %q", ErrBadRoute, route)
	}
	return nil
}

// NewClient is a Client on a connection dialed by the caller (from a
// chosen local address, say); route and raw are as for Dial. The Client
// owns conn from then on: Close closes it.
func NewClient(conn net.Conn, route string, raw bool) (*Client, error) {
	if err := checkRoute(route); err != nil {
		return nil, err
	}
	return &Client{conn: conn, fr: NewFrameReader(conn, raw), route: route}, nil
}

// Connect sends "connect", the classic client's first message.
func (c *Client) Connect() error {
	return c.send(c.withTerminal(AppendConnect(c.req[:0], c.route, true)))
}

// ConnectPlain is Connect for a client that shows no colour: the BBS
// leaves colour codes out of what it sends.
func (c *Client) ConnectPlain() error {
	return c.send(c.withTerminal(AppendConnect(c.req[:0], c.route, false)))
}

// Send sends one message (a line the caller typed).
func (c *Client) Send(msg string) error {
	return c.send(c.withTerminal(AppendRequest(c.req[:0], c.route, msg)))
}

// withTerminal adds the caller's terminal to req, if Terminal is set.
func (c *Client) withTerminal(req []byte) []byte {
	if c.Terminal == nil {
		return req
	}
	return AppendMember(req, "terminal", c.Terminal().AppendJSON(nil))
}

// send writes one framed request.
func (c *Client) send(req []byte) error {
	c.req = req
	if err := c.conn.SetWriteDeadline(time.Now().Add(WriteTimeout)); err != nil {
		return fmt.Errorf("classic: send: %w", err)
	}
	if _, err := c.conn.Write(c.req); err != nil {
		return fmt.Errorf("classic: send: %w", err)
	}
	return nil
}

// Next reads the next message, waiting at most timeout (no limit if
// timeout <= 0). A timeout error matches os.ErrDeadlineExceeded, and a
// frame cut by it is completed by the next call.
func (c *Client) Next(timeout time.Duration) (message.Message, error) {
	var deadline time.Time
	if timeout > 0 {
		deadline = time.Now().Add(timeout)
	}
	if err := c.conn.SetReadDeadline(deadline); err != nil {
		return message.Message{}, fmt.Errorf("classic: next: %w", err)
	}
	return c.fr.Next()
}

// Close hangs up.
func (c *Client) Close() error { return c.conn.Close() }

// Converse plays one caller's side of a conversation the way client.py
// does: it reads messages, writes every non-empty msg on its own line to w,
// and at each prompt sends the line that answer returns for the prompt's
// pchar (answer shows the pchar, if the caller is to see it). It returns
// nil after an exit message. A failed read, write or send ends it with that
// error, and so does an error from answer, wrapped (errors.Is finds it).
// Converse does not send "connect"; call Connect first. Each read waits
// at most timeout (no limit if timeout <= 0).
func (c *Client) Converse(w io.Writer, answer func(pchar string) (string, error), timeout time.Duration) error {
	for {
		m, err := c.Next(timeout)
		if err != nil {
			return fmt.Errorf("classic: converse: %w", err)
		}
		if m.Msg != "" {
			if _, err := io.WriteString(w, m.Msg+"\n"); err != nil {
				return fmt.Errorf("classic: converse: %w", err)
			}
		}
		switch m.Type {
		case message.TypePrompt:
			line, err := answer(m.PChar)
			if err != nil {
				return fmt.Errorf("classic: converse: %w", err)
			}
			if err := c.Send(line); err != nil {
				return fmt.Errorf("classic: converse: %w", err)
			}
		case message.TypeExit:
			return nil
		}
	}
}

// Run plays a caller: it reads messages, answering each prompt with the
// next of lines, until an exit message, and returns the transcript a
// person would see in the terminal running client.py: every non-empty msg
// on its own line, and each prompt's pchar followed by the answer. Run
// does not send "connect"; call Connect first. Each read waits at most
// timeout.
//
// If a prompt comes when lines are used up, the transcript ends the way
// client.py ends at the end of its input, with the pchar and "\nBye.\n",
// and the error is ErrOutOfLines. A read error is returned with the
// transcript so far.
func (c *Client) Run(lines []string, timeout time.Duration) (transcript string, err error) {
	var b strings.Builder
	err = c.Converse(&b, func(pchar string) (string, error) {
		b.WriteString(pchar)
		if len(lines) == 0 {
			b.WriteString("\nBye.\n")
			return "", ErrOutOfLines
		}
		line := lines[0]
		lines = lines[1:]
		b.WriteString(line)
		b.WriteByte('\n')
		return line, nil
	}, timeout)
	return b.String(), err
}
