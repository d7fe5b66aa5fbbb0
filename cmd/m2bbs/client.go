package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/term"

	"github.com/m2bbs/m2bbs/host/gateway/classic"
	"github.com/m2bbs/m2bbs/host/message"
	"github.com/m2bbs/m2bbs/host/shared/termprofile"
	"github.com/m2bbs/m2bbs/host/shared/termtext"
)

// Defaults of "m2bbs client".
const (
	defaultClientHost    = "127.0.0.1"
	defaultClientPort    = 6767
	defaultClientRoute   = "@bbs"
	defaultScriptTimeout = 30 * time.Second
)

// maxScriptLineBytes bounds one line of a script, its newline included.
const maxScriptLineBytes = 64 << 10

// Errors of "m2bbs client", for errors.Is.
var (
	// errServerHungUp means the BBS closed the connection without an exit
	// message.
	errServerHungUp = errors.New("connection closed by the server")
	// errLineTooLong means a script line longer than maxScriptLineBytes.
	errLineTooLong = fmt.Errorf("line longer than %d bytes", maxScriptLineBytes)
)

// clientOptions are the flags and arguments of "m2bbs client".
type clientOptions struct {
	host    string
	port    int
	route   string
	raw     bool
	script  string        // file of the caller's lines; "" for stdin
	timeout time.Duration // per read from the BBS when not interactive
	// noColour asks the BBS to leave colour codes out.
	noColour bool
	// dial looks up the lines directory and calls a line that is not busy.
	dial bool
	// tty, when the client runs on one, is described to the BBS
	// (terminal).
	tty *os.File
}

// terminal describes o's tty to the BBS (classic.Client.Terminal): its
// size, and the type $TERM names; nil without a tty.
func (o clientOptions) terminal() func() termprofile.Profile {
	if o.tty == nil {
		return nil
	}
	fd := int(o.tty.Fd())
	return func() termprofile.Profile {
		p := termprofile.Profile{}.WithType(os.Getenv("TERM"))
		if w, h, err := term.GetSize(fd); err == nil {
			p.Width, p.Height = w, h
		}
		p.NoANSI = p.NoANSI || o.noColour
		return p
	}
}

// runClient is "m2bbs client": the classic BBS client. On a terminal it
// is interactive, with line editing and history; otherwise, or with
// -script, it answers each prompt with the next line of its input and
// prints the transcript as cmd/classic-client/client.py does.
func runClient(ctx context.Context, args []string, stderr io.Writer) error {
	o, err := parseClientArgs(args, stderr)
	if err != nil {
		return err
	}
	if o.script == "" && term.IsTerminal(int(os.Stdin.Fd())) {
		return callInteractive(ctx, o, os.Stdin, os.Stdout)
	}
	in := io.Reader(os.Stdin)
	if o.script != "" && o.script != "-" {
		f, err := os.Open(o.script)
		if err != nil {
			return fmt.Errorf("client: %w", err)
		}
		defer f.Close()
		in = f
	}
	return callScripted(ctx, o, in, os.Stdout)
}

// parseClientArgs reads "[flags] [HOST [PORT]]"; flags may also follow
// HOST or PORT, as client.py allows.
func parseClientArgs(args []string, stderr io.Writer) (clientOptions, error) {
	o := clientOptions{host: defaultClientHost, port: defaultClientPort}
	fs := flag.NewFlagSet("m2bbs client", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: m2bbs client [flags] [HOST [PORT]]   (default %s %d)\n", defaultClientHost, defaultClientPort)
		fs.PrintDefaults()
	}
	fs.StringVar(&o.route, "route", defaultClientRoute, "the BBS's JSON-socket route")
	fs.BoolVar(&o.raw, "raw", false, "the BBS sends bare JSON frames, not base64")
	fs.StringVar(&o.script, "script", "", "read the caller's lines from `FILE` (- for stdin) instead of the terminal")
	fs.DurationVar(&o.timeout, "timeout", defaultScriptTimeout, "when not interactive, the longest wait for each message from the BBS (0: none)")
	fs.BoolVar(&o.dial, "dial", false, "look up the board's lines (GET /lines) and dial them at random until one is not busy")
	fs.BoolVar(&o.noColour, "no-color", os.Getenv("NO_COLOR") != "", "ask the BBS for no colour codes (default when $NO_COLOR is set)")

	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return o, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" { // all that follows -- is an argument
			positional = append(positional, rest...)
			break
		}
		positional, args = append(positional, rest[0]), rest[1:]
	}
	switch len(positional) {
	case 2:
		port, err := strconv.Atoi(positional[1])
		if err != nil || port < 1 || port > 65535 {
			return o, fmt.Errorf("client: bad port %q", positional[1])
		}
		o.port = port
		fallthrough
	case 1:
		o.host = positional[0]
	case 0:
	default:
		return o, fmt.Errorf("client: too many arguments: %q (want [HOST [PORT]])", positional)
	}
	return o, nil
}

// callScripted plays the caller with the lines of in, printing to out
// what a person would see: the transcript client.py prints when its input
// is not a terminal, each answer echoed after its prompt.
func callScripted(ctx context.Context, o clientOptions, in io.Reader, out io.Writer) error {
	lines := &scriptLines{r: bufio.NewReaderSize(in, maxScriptLineBytes)}
	return callBBS(ctx, o, out, o.timeout, func(pchar string) (string, error) {
		if _, err := io.WriteString(out, pchar); err != nil {
			return "", err
		}
		line, err := readCtx(ctx, lines.next)
		if errors.Is(err, io.EOF) {
			return "", classic.ErrOutOfLines
		}
		if err != nil {
			return "", err
		}
		_, err = io.WriteString(out, line+"\n")
		return line, err
	})
}

// callInteractive plays the caller on the terminal tty: each prompt is
// read with line editing and history, the terminal in raw mode only while
// a line is typed. Ctrl-C or Ctrl-D at a prompt ends the call with "Bye.";
// so does Ctrl-C (SIGINT, which cancels ctx) while waiting for the BBS.
// The terminal's state is restored on every way out, a panic included.
func callInteractive(ctx context.Context, o clientOptions, tty *os.File, out io.Writer) error {
	fd := int(tty.Fd())
	o.tty = tty
	saved, err := term.GetState(fd)
	if err != nil {
		return fmt.Errorf("client: terminal: %w", err)
	}
	defer term.Restore(fd, saved)
	p := &termPrompter{fd: fd, t: term.NewTerminal(struct {
		io.Reader
		io.Writer
	}{tty, out}, "")}
	return callBBS(ctx, o, out, 0, func(pchar string) (string, error) {
		return p.ask(ctx, pchar)
	})
}

// callBBS connects, says "connect" and converses, answering each prompt with
// answer, until the BBS sends exit (nil), answer runs out of lines or ctx
// is cancelled (both print "\nBye.", and return nil), or the call fails.
func callBBS(ctx context.Context, o clientOptions, out io.Writer, timeout time.Duration, answer func(pchar string) (string, error)) error {
	if _, err := fmt.Fprintf(out, "Connecting to %s:%d\n", o.host, o.port); err != nil {
		return fmt.Errorf("client: %w", err)
	}
	// Whatever board it dials, nothing it sends may set the caller's
	// window title, write their clipboard or talk to their terminal behind
	// their back: each message and prompt is written through StripStrings.
	out = guardedWriter{out}
	ask := answer
	answer = func(pchar string) (string, error) { return ask(termtext.StripStrings(pchar)) }
	var (
		c     *classic.Client
		first *message.Message
		err   error
	)
	if o.dial {
		var m message.Message
		c, m, err = dialLines(ctx, o, out)
		first = &m
	} else {
		c, err = classic.Dial(ctx, net.JoinHostPort(o.host, strconv.Itoa(o.port)), o.route, o.raw)
		if err == nil {
			c.Terminal = o.terminal()
			connect := c.Connect
			if o.noColour {
				connect = c.ConnectPlain
			}
			if err = connect(); err != nil {
				c.Close()
			}
		}
	}
	if err == nil {
		defer c.Close()
		stop := context.AfterFunc(ctx, func() { c.Close() }) // interrupts a read
		defer stop()
		done := false
		if first != nil {
			done, err = converseFirst(c, *first, out, answer)
		}
		if err == nil && !done {
			err = c.Converse(out, answer, timeout)
		}
	}
	switch {
	case errors.Is(err, errAllBusy):
		return fmt.Errorf("client: %w", err)
	case err == nil:
		return nil
	case ctx.Err() != nil || errors.Is(err, classic.ErrOutOfLines):
		_, err := io.WriteString(out, "\nBye.\n")
		return err
	case errors.Is(err, io.EOF):
		return fmt.Errorf("client: %w", errServerHungUp)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return fmt.Errorf("client: %w: %w", errServerHungUp, err)
	case errors.Is(err, os.ErrDeadlineExceeded):
		return fmt.Errorf("client: no message from the BBS for %v: %w", timeout, err)
	}
	return fmt.Errorf("client: %w", err)
}

// converseFirst handles a message already read as Converse would; done
// says it was an exit.
func converseFirst(c *classic.Client, m message.Message, out io.Writer, answer func(pchar string) (string, error)) (done bool, err error) {
	if m.Msg != "" {
		if _, err := io.WriteString(out, m.Msg+"\n"); err != nil {
			return false, err
		}
	}
	switch m.Type {
	case message.TypePrompt:
		line, err := answer(m.PChar)
		if err != nil {
			return false, err
		}
		return false, c.Send(line)
	case message.TypeExit:
		return true, nil
	}
	return false, nil
}

// termPrompter reads the caller's answers on a terminal.
type termPrompter struct {
	fd int
	t  *term.Terminal // keeps the history across prompts
}

// ask shows pchar and reads one line, the terminal in raw mode meanwhile.
// Ctrl-C or Ctrl-D gives classic.ErrOutOfLines.
func (p *termPrompter) ask(ctx context.Context, pchar string) (string, error) {
	saved, err := term.MakeRaw(p.fd)
	if err != nil {
		return "", fmt.Errorf("terminal: %w", err)
	}
	defer term.Restore(p.fd, saved)
	if width, height, err := term.GetSize(p.fd); err == nil {
		_ = p.t.SetSize(width, height) // only fails writing a redraw
	}
	p.t.SetPrompt(pchar)
	line, err := readCtx(ctx, p.t.ReadLine)
	switch {
	case errors.Is(err, io.EOF):
		return "", classic.ErrOutOfLines
	case errors.Is(err, term.ErrPasteIndicator): // a pasted line: still a line
		return line, nil
	case err != nil:
		return "", fmt.Errorf("terminal: %w", err)
	}
	return line, nil
}

// readCtx calls read in a goroutine of its own and returns its result, or
// ctx's error as soon as ctx is done: a read from a terminal or a pipe
// cannot be interrupted otherwise. Once ctx is done, read may go on in the
// background, so the caller must not read again. A panic in read comes
// back as an error, leaving the caller free to restore the terminal.
func readCtx(ctx context.Context, read func() (string, error)) (string, error) {
	type result struct {
		line string
		err  error
	}
	done := make(chan result, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- result{err: fmt.Errorf("panic reading a line: %v", p)}
			}
		}()
		line, err := read()
		done <- result{line, err}
	}()
	select {
	case r := <-done:
		return r.line, r.err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// scriptLines splits a script into the caller's lines as Python's input()
// does on Unix: a line ends at "\n" (a "\r" stays in it), and a last line
// without "\n" still counts.
type scriptLines struct {
	r *bufio.Reader // of size maxScriptLineBytes
	n int           // lines read
}

// next returns the next line, or io.EOF at the end of the script.
func (s *scriptLines) next() (string, error) {
	s.n++
	line, err := s.r.ReadSlice('\n')
	switch {
	case err == nil:
		return string(line[:len(line)-1]), nil
	case errors.Is(err, bufio.ErrBufferFull):
		return "", fmt.Errorf("script line %d: %w", s.n, errLineTooLong)
	case errors.Is(err, io.EOF) && len(line) > 0:
		return string(line), nil
	case errors.Is(err, io.EOF):
		return "", io.EOF
	}
	return "", fmt.Errorf("script line %d: %w", s.n, err)
}

// guardedWriter writes each message the board sent (one Write each)
// without control strings or C1 controls; colour passes.
type guardedWriter struct{ w io.Writer }

func (g guardedWriter) Write(p []byte) (int, error) {
	if _, err := io.WriteString(g.w, termtext.StripStrings(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}
