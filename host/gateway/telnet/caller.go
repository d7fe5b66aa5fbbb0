package telnet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime/debug"
	"sync"
	"time"

	"github.com/m2bbs/m2bbs/host/gateway/classic"
	"github.com/m2bbs/m2bbs/host/message"
	"github.com/m2bbs/m2bbs/host/shared/binstream"
	"github.com/m2bbs/m2bbs/host/shared/chunkwrite"
	"github.com/m2bbs/m2bbs/host/shared/termprofile"
	"github.com/m2bbs/m2bbs/host/shared/termtext"
)

// Why a call ended, for the log.
var (
	errCallerHungUp = errors.New("caller hung up")
	errCallerQuit   = errors.New("caller pressed Ctrl-C or Ctrl-D")
	errBBSHungUp    = errors.New("bbs hung up")
	errExit         = errors.New("bbs said goodbye")
	errIdle         = errors.New("caller idle")
	errStopped      = errors.New("server stopping")
)

// maxKeptOutput is the largest output buffer a caller keeps between
// writes.
const maxKeptOutput = 64 << 10

// bbsUnreachable is what a caller sees when Dial fails.
const bbsUnreachable = "The BBS is not answering. Please call again later.\r\n"

// caller is one telnet call: the telnet connection, the connection to the
// BBS, and the goroutine translating between them (run), helped by one
// reader goroutine per connection.
type caller struct {
	s   *Server
	nc  net.Conn // the telnet caller
	bbs net.Conn
	log *slog.Logger

	route     string               // the route the call went through
	fr        *classic.FrameReader // reads bbs
	connected bool                 // "connect" was sent while hunting for a line
	first     *message.Message     // the line's first message, read while hunting

	dec       Decoder
	opts      options
	ed        *Editor
	tokens    []Token
	out       []byte           // output for the caller, written by flush
	req       []byte           // request for the BBS
	typeAhead []byte           // keys not yet given to the editor
	prompt    *message.Message // the prompt waiting for a line, if any
	overflow  bool             // typeAhead is full: keys are being dropped
	keysDone  chan struct{}    // closed when readKeys returns; nil before it runs
	heard     bool             // the caller sent something before the BBS was dialled

	// stream is set for a caller whose bytes are not telnet (stream.go).
	stream *streamCall
	// km is keystroke mode (keymode.go).
	km keyMode
	// bin is binary stream mode (binmode.go).
	bin binMode

	mu    sync.Mutex // guards the fields below, read by Server.Callers
	since time.Time
	prof  termprofile.Profile // the caller's terminal
	sized bool                // a window size came (NAWS), if only 0x0: not known
}

func newCaller(s *Server, nc net.Conn) *caller {
	return &caller{
		s:     s,
		nc:    nc,
		log:   s.log.With("remote", nc.RemoteAddr().String()),
		ed:    NewEditor(s.cfg.MaxLine),
		dec:   Decoder{FollowBinary: true},
		bin:   binMode{pacer: binstream.NewPacer()},
		since: time.Now(),
	}
}

// info describes the caller for Server.Callers.
func (c *caller) info() CallerInfo {
	c.mu.Lock()
	defer c.mu.Unlock()
	return CallerInfo{Remote: c.nc.RemoteAddr().String(), Since: c.since, TerminalType: c.prof.Type, Width: c.prof.Width, Height: c.prof.Height,
		Encoding: c.prof.Encoding}
}

// frame is what the BBS reader goroutine passes on.
type frame struct {
	m   message.Message
	err error
}

// run serves the call and closes both connections. A panic ends this
// call only.
func (c *caller) run(ctx context.Context) {
	c.log.Info(c.kind() + " caller connected")
	var reason error
	defer func() {
		if p := recover(); p != nil {
			reason = fmt.Errorf("panic: %v", p)
			c.log.Error("telnet: caller panicked", "panic", p, "stack", string(debug.Stack()))
			c.nc.Close()
		}
		if reason == nil {
			reason = errors.New("unknown")
		}
		c.mu.Lock()
		c.log.Info(c.kind()+" caller gone", "reason", reason.Error(), "terminal", c.prof.Type, "width", c.prof.Width, "height", c.prof.Height, "encoding", c.prof.Encoding,
			"duration", time.Since(c.since).Round(time.Millisecond))
		c.mu.Unlock()
	}()

	// Negotiate first: the client answers while the BBS is dialled.
	c.negotiate()
	if err := c.flush(); err != nil {
		c.nc.Close()
		reason = err
		return
	}
	if err := c.settle(); err != nil {
		c.nc.Close()
		reason = err
		return
	}

	defer func() {
		if c.bbs != nil {
			c.bbs.Close()
		}
	}()
	if err := c.dial(ctx); err != nil {
		c.log.Warn("telnet: dial the bbs", "err", err)
		c.out = append(c.out, bbsUnreachable...)
		_ = c.flush()
		c.hangUp(true)
		reason = fmt.Errorf("dial the bbs: %w", err)
		return
	}

	reason = c.converse(ctx)
	c.hangUp(!errors.Is(reason, errCallerHungUp))
}

// negotiate offers the telnet options the gateway wants; a stream caller
// has none.
func (c *caller) negotiate() {
	if c.stream != nil {
		return
	}
	c.out = c.opts.offer(c.out, WILL, OptEcho)
	c.out = c.opts.offer(c.out, WILL, OptSuppressGoAhead)
	c.out = c.opts.offer(c.out, DO, OptSuppressGoAhead)
	c.out = c.opts.offer(c.out, DO, OptNAWS)
	c.out = c.opts.offer(c.out, DO, OptTerminalType)
}

// dial connects to the BBS. With several routes (Config.Routes, phone
// lines) it tries them in random order: a line whose first message is an
// exit (the busy signal) is hung up on, and the next one tried; the last
// one is kept whatever it says, so a caller who finds every line busy
// hears why.
func (c *caller) dial(ctx context.Context) error {
	routes := c.s.huntOrder()
	for i, route := range routes {
		dialCtx, cancel := context.WithTimeout(ctx, DialTimeout)
		bbs, err := c.s.cfg.Dial(dialCtx, c.nc.RemoteAddr())
		cancel()
		if err != nil {
			return fmt.Errorf("dial %s: %w", route, err)
		}
		c.bbs, c.route = bbs, route
		c.fr = classic.NewFrameReader(bbs, c.s.cfg.RawFrames)
		if i == len(routes)-1 {
			return nil // converse says "connect"
		}
		c.req = c.connect(route)
		if err := c.send(); err != nil {
			bbs.Close()
			continue
		}
		_ = bbs.SetReadDeadline(time.Now().Add(DialTimeout))
		m, err := c.fr.Next()
		_ = bbs.SetReadDeadline(time.Time{})
		if err == nil && m.Type != message.TypeExit {
			c.connected, c.first = true, &m
			return nil
		}
		bbs.Close()
		c.log.Info("telnet: line busy, trying another", "route", route)
		c.out = c.text(c.out, "BUSY\n")
		if err := c.flush(); err != nil {
			return err
		}
	}
	return errors.New("no route to dial")
}

// connect is the first message of a call on route: with Config.PeerKey
// it tells the BBS the caller's address. It says the caller's terminal
// (withTerminal), and that it shows ANSI (classic.WithANSI) unless it is
// dumb, so the board sends its ANSI art.
func (c *caller) connect(route string) []byte {
	if c.s.cfg.PeerKey == "" {
		return c.vouched(c.withTerminal(classic.AppendConnect(c.req[:0], route, true)))
	}
	return c.vouched(c.withTerminal(classic.AppendGatewayConnect(c.req[:0], route, c.peer(), c.s.cfg.PeerKey)))
}

// request is the caller's line for the BBS: with Config.PeerKey each line
// carries the caller's address too, so that a host that restarted
// mid-call knows the line comes from the address the call began from.
// It says the caller shows ANSI, as connect does: a session rebuilt from
// a journal that starts after the connect still knows.
func (c *caller) request(line string) []byte {
	if c.s.cfg.PeerKey == "" {
		return c.withTerminal(classic.AppendRequest(c.req[:0], c.route, line))
	}
	return c.withTerminal(classic.AppendGatewayRequest(c.req[:0], c.route, line, c.peer(), c.s.cfg.PeerKey))
}

// peer is the caller's IP address.
func (c *caller) peer() string {
	peer := c.nc.RemoteAddr().String()
	if host, _, err := net.SplitHostPort(peer); err == nil {
		peer = host
	}
	return peer
}

// recoverReader ends a call whose reader goroutine panicked, logging the
// stack: one caller's bug must not stop the server.
func (c *caller) recoverReader(which string) {
	if p := recover(); p != nil {
		c.log.Error("telnet: reader panicked", "reader", which, "panic", p, "stack", string(debug.Stack()))
		c.nc.Close()
		if c.bbs != nil {
			c.bbs.Close()
		}
	}
}

// converse relays between the caller and the BBS until the call ends,
// and says why it ended.
func (c *caller) converse(ctx context.Context) error {
	done := make(chan struct{})

	keys := make(chan []byte)
	keysErr := make(chan error, 1)
	c.keysDone = make(chan struct{})
	go func() {
		defer close(c.keysDone)
		defer c.recoverReader("keys")
		c.readKeys(keys, keysErr, done)
	}()
	frames := make(chan frame)
	framesDone := make(chan struct{})
	go func() {
		defer close(framesDone)
		defer c.recoverReader("frames")
		c.readFrames(frames, done)
	}()
	defer func() {
		close(done)
		c.bbs.Close() // ends readFrames
		<-framesDone
	}()

	if !c.connected {
		c.req = c.connect(c.route)
		if err := c.send(); err != nil {
			return err
		}
	}

	firstTimer, first := c.firstInput()
	if firstTimer != nil {
		defer firstTimer.Stop()
	}
	var idle <-chan time.Time
	var timer *time.Timer
	if c.s.cfg.IdleTimeout > 0 {
		timer = time.NewTimer(c.s.cfg.IdleTimeout)
		defer timer.Stop()
		idle = timer.C
	}
	for {
		var err error
		in := keys
		if c.holdingBinary() {
			in = nil // TCP holds the caller's flood until bytes have gone
		}
		select {
		case <-ctx.Done():
			c.out = c.text(c.out, "\nThe BBS is shutting down. Goodbye.\n")
			err = errStopped
		case <-idle:
			c.out = c.text(c.out, "\nIdle too long. Goodbye.\n")
			err = errIdle
		case <-first:
			c.out = c.text(c.out, nothingReceived)
			err = errNoInput
		case p := <-in:
			first = nil
			if timer != nil {
				timer.Reset(c.s.cfg.IdleTimeout)
			}
			err = c.keys(p)
		case err = <-keysErr:
		case <-c.km.tick:
			err = c.sendKeys()
		case <-c.bin.tick:
			err = c.sendBinary()
		case <-c.bin.holdEnd:
			c.releaseBinary(true)
		case f := <-frames:
			err = f.err
			if err == nil {
				err = c.show(f.m)
			}
		}
		if ferr := c.flush(); err == nil {
			err = ferr
		}
		if err != nil {
			return err
		}
	}
}

// readKeys reads the telnet connection and hands each chunk to keys,
// until a read fails. Once done is closed it reads on and drops what it
// reads, until the connection is closed or the read deadline passes:
// closing a socket with unread input would reset it and could destroy the
// goodbye on its way to the caller.
func (c *caller) readKeys(keys chan<- []byte, keysErr chan<- error, done <-chan struct{}) {
	buf := make([]byte, ReadBufferBytes)
	for {
		n, err := c.nc.Read(buf)
		if n > 0 {
			select {
			case keys <- append([]byte(nil), buf[:n]...):
			case <-done:
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = errCallerHungUp
			} else {
				err = fmt.Errorf("%w: %w", errCallerHungUp, err)
			}
			keysErr <- err // buffered: never blocks
			return
		}
	}
}

// readFrames reads the BBS's messages and hands them to frames, until the
// stream ends. A frame that cannot be decoded is logged and skipped.
func (c *caller) readFrames(frames chan<- frame, done <-chan struct{}) {
	if c.first != nil {
		select {
		case frames <- frame{*c.first, nil}:
		case <-done:
			return
		}
	}
	fr := c.fr
	for {
		m, err := fr.Next()
		if errors.Is(err, classic.ErrBadBase64) || errors.Is(err, classic.ErrBadJSON) {
			c.log.Warn("telnet: bad frame from the bbs", "err", err)
			continue
		}
		if err != nil {
			err = fmt.Errorf("%w: %w", errBBSHungUp, err)
		}
		select {
		case frames <- frame{m, err}:
		case <-done:
			return
		}
		if err != nil {
			return
		}
	}
}

// keys handles input from the caller: negotiation, and keys for the
// editor.
func (c *caller) keys(p []byte) error {
	if c.stream != nil && c.dropAfterBinary(time.Now()) {
		return nil // a transfer's tail (binmode.go)
	}
	if c.stream != nil && c.bin.on {
		c.binaryIn(p)
		return c.sendBinary()
	}
	if c.stream != nil && c.km.on {
		c.keystrokes(c.typed(p))
		return c.sendKeys()
	}
	if c.stream != nil {
		c.queue(c.typed(p))
		return c.edit()
	}
	c.tokens = c.dec.Decode(c.tokens[:0], p)
	for _, t := range c.tokens {
		switch t.Kind {
		case KindData:
			if c.dropAfterBinary(time.Now()) {
				continue // a transfer's tail (binmode.go)
			}
			if c.bin.on {
				c.binaryIn(t.Data)
			} else if c.km.on {
				c.keystrokes(c.typed(t.Data))
			} else {
				c.queue(c.typed(t.Data))
			}
		case KindNegotiation:
			var changed bool
			c.out, changed = c.opts.receive(c.out, t.Command, t.Option)
			if changed && t.Command == WILL && t.Option == OptTerminalType {
				c.out = AppendTerminalTypeSend(c.out)
			}
		case KindSubnegotiation:
			c.subnegotiation(t.Option, t.Data)
		case KindCommand:
			if c.bin.on {
				continue // no keys nor answers over a transfer
			}
			switch t.Command {
			case IP, BRK:
				c.commandKey(keyCtrlC)
			case EC:
				c.commandKey(keyBackspace)
			case EL:
				c.commandKey(keyCtrlU)
			case AYT:
				if !c.km.on { // not over a full-screen editor or door
					c.out = c.text(c.out, "\n[yes]\n")
				}
			}
		}
	}
	if c.bin.on {
		c.releaseBinary(false)
		return c.sendBinary()
	}
	if c.km.on {
		return c.sendKeys()
	}
	return c.edit()
}

// subnegotiation records the window size or terminal type.
func (c *caller) subnegotiation(option byte, payload []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch option {
	case OptNAWS:
		if w, h, ok := ParseNAWS(payload); ok {
			c.prof.Width, c.prof.Height, c.sized = w, h, true
			c.log.Debug("telnet: window size", "width", w, "height", h)
		}
	case OptTerminalType:
		if name, ok := ParseTerminalType(payload); ok && c.prof.Type == "" {
			c.prof = c.prof.WithType(name)
			c.log.Debug("telnet: terminal type", "terminal", name)
		}
	}
}

// queue keeps keys for the editor, up to MaxTypeAhead bytes; the bell
// rings once when keys start being dropped.
func (c *caller) queue(p []byte) {
	room := c.s.cfg.MaxTypeAhead - len(c.typeAhead)
	if len(p) > room {
		p = p[:max(room, 0)]
		if !c.overflow {
			c.overflow = true
			c.out = append(c.out, keyBell)
			c.log.Debug("telnet: type-ahead full, keys dropped", "max_type_ahead", c.s.cfg.MaxTypeAhead)
		}
	}
	c.typeAhead = append(c.typeAhead, p...)
}

// edit gives the keys typed so far to the editor, if a prompt waits, and
// sends the line once one is entered.
func (c *caller) edit() error {
	if c.prompt == nil {
		return nil
	}
	serverEcho := c.opts.ours(OptEcho) || c.stream != nil && c.stream.echo
	c.ed.Echo = serverEcho && !c.prompt.Secret
	mark := len(c.out)
	defer func() { c.encodeEcho(mark) }()
	for i, b := range c.typeAhead {
		var ev Event
		var line string
		c.out, ev, line = c.ed.Key(c.out, b)
		switch ev {
		case HangUp:
			c.encodeEcho(mark)
			mark = len(c.out)
			c.out = c.text(c.out, "\nGoodbye.\n")
			return errCallerQuit
		case Entered:
			c.typeAhead = c.typeAhead[:copy(c.typeAhead, c.typeAhead[i+1:])]
			c.overflow = false
			c.prompt = nil
			if serverEcho {
				c.out = append(c.out, '\r', '\n')
			}
			c.encodeEcho(mark)
			mark = len(c.out)
			if err := c.flush(); err != nil {
				return err
			}
			c.req = c.request(line)
			return c.send()
		}
	}
	c.typeAhead = c.typeAhead[:0]
	c.overflow = false
	return nil
}

// show renders one message from the BBS. Colour and cursor sequences
// pass; control strings (a window title, a clipboard write: OSC, DCS,
// APC, …) and C1 controls never reach the caller's terminal
// (termtext.StripStrings).
func (c *caller) show(m message.Message) error {
	switch {
	case m.Type == message.TypeBinary:
		return c.showBinary(m)
	case m.Type == message.TypeBinaryEnd:
		c.endBinaryMode()
		return c.showHeld()
	case c.bin.on && m.Type != message.TypeExit:
		c.holdMessage(m) // written into the transfer, it would break it
		return nil
	}
	c.endBinaryMode()
	switch m.Type {
	case message.TypeKeys:
		return c.showKeys(m)
	case message.TypePrompt, message.TypeExit:
		c.endKeyMode()
	}
	c.adoptEncoding(m.Encoding)
	m.Msg, m.PChar = c.charset(termtext.StripStrings(m.Msg)), c.charset(termtext.StripStrings(m.PChar))
	interrupted := c.interrupt() // a prompt waits: the message goes above it (interrupt.go)
	if m.Msg != "" {
		c.out = c.text(c.out, m.Msg)
		c.out = append(c.out, '\r', '\n')
	}
	switch m.Type {
	case message.TypePrompt:
		c.out = c.text(c.out, m.PChar)
		if answer, ok := c.autoAnswer(m); ok {
			return c.answer(answer)
		}
		if c.prompt != nil && c.prompt.Secret && !m.Secret {
			// Half a secret must neither be shown nor start an answer
			// that is not one.
			c.ed.Discard()
		}
		c.prompt = &m
		c.retype()
		return c.edit()
	case message.TypeExit:
		return errExit
	}
	if interrupted {
		c.out = c.text(c.out, c.prompt.PChar)
		c.retype()
	}
	return nil
}

// flush writes the pending output to the caller.
func (c *caller) flush() error {
	if len(c.out) == 0 {
		return nil
	}
	// In chunks, each within WriteTimeout: a big screen reaches a slow
	// caller who keeps reading (chunkwrite).
	_, err := chunkwrite.Write(c.nc, c.out, c.s.cfg.WriteTimeout)
	c.out = c.out[:0]
	if cap(c.out) > maxKeptOutput { // after a big screen: let it go
		c.out = nil
	}
	if err != nil {
		return fmt.Errorf("%w: write: %w", errCallerHungUp, err)
	}
	return nil
}

// send writes the pending request to the BBS.
func (c *caller) send() error {
	_ = c.bbs.SetWriteDeadline(time.Now().Add(c.s.cfg.WriteTimeout))
	if _, err := c.bbs.Write(c.req); err != nil {
		return fmt.Errorf("%w: write: %w", errBBSHungUp, err)
	}
	return nil
}

// hangUp closes the telnet connection and waits for readKeys to end.
// Gracefully, it first closes the sending side and gives the caller
// lingerTimeout to hang up, reading and dropping what comes meanwhile, so
// the last output is not lost to a reset.
func (c *caller) hangUp(graceful bool) {
	if graceful {
		if cw, ok := c.nc.(interface{ CloseWrite() error }); ok && cw.CloseWrite() == nil {
			_ = c.nc.SetReadDeadline(time.Now().Add(lingerTimeout))
			if c.keysDone == nil {
				_, _ = io.Copy(io.Discard, c.nc)
			} else {
				<-c.keysDone
			}
		}
	}
	c.nc.Close()
	if c.keysDone != nil {
		<-c.keysDone
	}
}
