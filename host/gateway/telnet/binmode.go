package telnet

import (
	"time"

	"github.com/m2bbs/m2bbs/host/gateway/classic"
	"github.com/m2bbs/m2bbs/host/message"
	"github.com/m2bbs/m2bbs/host/shared/binstream"
	"github.com/m2bbs/m2bbs/host/shared/keystroke"
)

// binMode is a caller's binary stream mode (message.TypeBinary): while
// on, the bytes the board sends are written as they are (telnet: IAC
// doubled, and CR sent as CR NUL unless the gateway's BINARY option is
// on), and what the caller sends goes to the board in requests of type
// "bin", paced and bounded by package binstream (telnet: IAC IAC
// undoubled, commands and negotiation taken out, and CR NUL read as CR
// unless the caller's BINARY option is on). While the bytes held for the
// board fill binstream.MaxPendingBytes the gateway reads no more from the
// caller: a flood waits in TCP, never in memory.
type binMode struct {
	on    bool
	batch binstream.Batcher
	// over is what the caller sent past the batch's room: the gateway
	// reads no more until it has gone into the batch (at most one read).
	over  []byte
	pacer keystroke.Pacer // binstream.NewPacer's pace
	// tick fires when paced bytes may go; nil when none wait.
	tick <-chan time.Time
	// held is output kept while the client has not answered our WILL
	// BINARY (at most maxHeldBinary bytes, for at most BinaryWait): sent
	// before, it would be in NVT form and read after as binary.
	held    []byte
	holdEnd <-chan time.Time
	// heldMsgs are the board's messages that came in the mode (shown
	// when it ends), at most maxHeldMessages.
	heldMsgs []message.Message
	// lastIn is when the caller last sent bytes in the mode; ended is
	// when the mode ended, and quietUntil when the caller's input is
	// taken again (see AfterBinaryQuiet).
	lastIn, ended, quietUntil time.Time
}

// After binary stream mode ends, what the caller's transfer program
// still sends (the rest of a cancelled upload, its Ctrl-X and
// backspaces) is dropped until the caller has been quiet for
// AfterBinaryQuiet, at most AfterBinaryMaxDrop after the end: typed into
// the line editor it would be answers to the board's prompts (or a
// Ctrl-C that hangs up). A caller whose program was quiet that long
// when the mode ended (a transfer that went well) loses nothing.
const (
	AfterBinaryQuiet   = 300 * time.Millisecond
	AfterBinaryMaxDrop = 3 * time.Second
)

// dropAfterBinary reports whether input arriving now is the tail of a
// transfer, to drop.
func (c *caller) dropAfterBinary(now time.Time) bool {
	if c.bin.on || !now.Before(c.bin.quietUntil) {
		return false
	}
	c.bin.quietUntil = now.Add(AfterBinaryQuiet)
	if last := c.bin.ended.Add(AfterBinaryMaxDrop); c.bin.quietUntil.After(last) {
		c.bin.quietUntil = last
	}
	return true
}

// maxHeldMessages bounds the messages held while a transfer runs; more
// are dropped (logged).
const maxHeldMessages = 16

// holdMessage keeps m, which came while a transfer runs, for its end.
func (c *caller) holdMessage(m message.Message) {
	if len(c.bin.heldMsgs) >= maxHeldMessages {
		c.log.Warn("telnet: message dropped during a transfer", "type", m.Type)
		return
	}
	c.bin.heldMsgs = append(c.bin.heldMsgs, m)
}

// showHeld shows the messages held during the transfer that just ended.
func (c *caller) showHeld() error {
	held := c.bin.heldMsgs
	c.bin.heldMsgs = nil
	for _, m := range held {
		if err := c.show(m); err != nil {
			return err
		}
	}
	return nil
}

// BinaryWait bounds how long binary output waits for the client's
// answer to the gateway's WILL BINARY; past it the output goes in NVT
// form (CR NUL), which a client that never answers reads right.
const BinaryWait = 2 * time.Second

// maxHeldBinary bounds the output held meanwhile: the host's transfer
// program waits for the caller's answers long before.
const maxHeldBinary = 256 << 10

// canBinary reports whether the caller's connection can carry binary
// stream mode: a terminal program that can do keystroke mode (a transfer
// program such as rz is started from one), over telnet (BINARY is asked
// for, and the NVT rules kept when the client refuses it) or a Stream
// whose gateway says its bytes pass as they are (SSH).
func (c *caller) canBinary() bool {
	return c.canKeys() && (c.stream == nil || c.stream.binary)
}

// holdingBinary reports whether the gateway should read no more from the
// caller until binary bytes held have gone.
func (c *caller) holdingBinary() bool {
	return c.bin.on && (c.bin.batch.Full() || len(c.bin.over) > 0)
}

// showBinary writes a binary message's bytes and puts the caller in
// binary stream mode, asking a telnet client for BINARY both ways the
// first time. A message whose bytes are not base64 is dropped.
func (c *caller) showBinary(m message.Message) error {
	p, err := binstream.Decode(m.Msg, len(m.Msg))
	if err != nil {
		c.log.Warn("telnet: bad binary message from the bbs", "err", err)
		return nil
	}
	if !c.bin.on {
		c.endKeyMode()
		c.bin.on = true
		c.prompt = nil
		c.ed = NewEditor(c.s.cfg.MaxLine)
		c.typeAhead = c.typeAhead[:0]
		c.overflow = false
		if c.stream == nil {
			c.out = c.opts.offer(c.out, WILL, OptBinary)
			c.out = c.opts.offer(c.out, DO, OptBinary)
		}
	}
	if c.stream == nil && c.opts.ourAsked(OptBinary) {
		if len(c.bin.held)+len(p) > maxHeldBinary {
			c.log.Warn("telnet: binary output dropped while BINARY is negotiated", "bytes", len(p))
			return nil
		}
		c.bin.held = append(c.bin.held, p...)
		if c.bin.holdEnd == nil {
			c.bin.holdEnd = time.After(BinaryWait)
		}
		return nil
	}
	c.out = c.appendBinary(c.out, p)
	return nil
}

// releaseBinary writes the output held for BINARY's answer, once it came
// (or BinaryWait passed: force).
func (c *caller) releaseBinary(force bool) {
	if len(c.bin.held) == 0 && c.bin.holdEnd == nil || !force && c.opts.ourAsked(OptBinary) {
		return
	}
	if force {
		c.opts.us[OptBinary].asked = false // no answer: NVT it stays
	}
	c.out = c.appendBinary(c.out, c.bin.held)
	c.bin.held, c.bin.holdEnd = c.bin.held[:0], nil
}

// appendBinary appends bytes p for the caller's connection: as they are
// on a Stream; for telnet with IAC doubled, and CR as CR NUL unless our
// side's BINARY is on (RFC 854: a CR alone is CR NUL in NVT).
func (c *caller) appendBinary(dst, p []byte) []byte {
	if c.stream != nil {
		return append(dst, p...)
	}
	return AppendBinary(dst, p, c.opts.ours(OptBinary))
}

// AppendBinary appends bytes p to dst as telnet data, 8-bit clean: IAC
// doubled, and, unless binary (the sender's BINARY option, RFC 856, is
// on), CR sent as CR NUL as NVT wants, so that a receiver reads back p
// exactly (Decoder with the same Binary).
func AppendBinary(dst, p []byte, binary bool) []byte {
	for _, b := range p {
		switch {
		case b == IAC:
			dst = append(dst, IAC, IAC)
		case b == '\r' && !binary:
			dst = append(dst, '\r', 0)
		default:
			dst = append(dst, b)
		}
	}
	return dst
}

// endBinaryMode leaves binary stream mode (another message came): bytes
// not sent yet are dropped.
func (c *caller) endBinaryMode() {
	if !c.bin.on {
		return
	}
	c.bin.on = false
	c.bin.batch.Reset()
	c.bin.over = c.bin.over[:0]
	c.bin.tick = nil
	c.bin.ended, c.bin.quietUntil = time.Now(), c.bin.lastIn.Add(AfterBinaryQuiet)
	c.releaseBinary(true) // what the board sent before goes before what it sends next
}

// binaryIn keeps bytes p the caller sent for the board.
func (c *caller) binaryIn(p []byte) {
	c.bin.lastIn = time.Now()
	c.bin.over = append(c.bin.over, p...)
	c.fillBinary()
}

// fillBinary moves what the batch has room for from over into it: no
// byte is ever dropped.
func (c *caller) fillBinary() {
	n := min(len(c.bin.over), c.bin.batch.Room())
	c.bin.batch.Add(c.bin.over[:n])
	c.bin.over = c.bin.over[:copy(c.bin.over, c.bin.over[n:])]
}

// sendBinary sends the bytes that wait as one request, if the pacer lets
// it, and arms the pacer's tick for the rest.
func (c *caller) sendBinary() error {
	return c.sendPaced(c.bin.on, &c.bin.pacer, &c.bin.tick, c.bin.batch.Pending, func() {
		b64 := c.bin.batch.Next()
		c.fillBinary()
		if c.s.cfg.PeerKey == "" {
			c.req = c.withTerminal(classic.AppendBinary(c.req[:0], c.route, b64))
		} else {
			c.req = c.withTerminal(classic.AppendGatewayBinary(c.req[:0], c.route, b64, c.peer(), c.s.cfg.PeerKey))
		}
	})
}
