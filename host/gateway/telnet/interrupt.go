package telnet

import (
	"unicode/utf8"

	"golang.org/x/text/width"
)

// A message from the BBS that arrives while the caller is typing an
// answer (a line someone said in a chat room, a page, a broadcast) must
// not be written into the middle of what they typed, nor make it vanish
// from the screen while the editor still holds it. So the line being
// edited is taken off the screen first (interrupt: the cursor back to
// the start of the line and the line cleared, or, on a terminal without
// ANSI, when the prompt and the answer fill the terminal's width, or
// when the client echoes by itself, a new line under them), the message
// is written, and then the prompt and what the caller had typed so far
// are written again (retype, when the gateway echoes), so that they
// carry on typing where they were. The answer is kept by the
// editor throughout; only the screen is redrawn.

// interrupt clears the line on which the caller answers a prompt, if one
// waits, before a message from the BBS is written; it reports whether a
// prompt waited.
func (c *caller) interrupt() bool {
	if c.prompt == nil {
		return false
	}
	c.mu.Lock()
	p := c.prof
	c.mu.Unlock()
	cols := columns([]byte(c.prompt.PChar))
	if c.echoesAnswer() {
		cols += columns(c.ed.line)
	}
	w := p.Width
	if w <= 0 {
		w = assumedWidth
	}
	// A client that echoes by itself shows what was typed where the
	// gateway cannot write it again: it is left on its line.
	if p.NoANSI || !c.serverEchoes() || cols >= w {
		if cols > 0 || !c.serverEchoes() {
			c.out = append(c.out, '\r', '\n')
		}
		return true
	}
	c.out = append(c.out, "\r\x1b[K"...)
	return true
}

// assumedWidth is the terminal's width in columns when the client did not
// say: a line as wide or wider may have wrapped, and is not cleared.
const assumedWidth = 80

// columns is how many columns text takes on the caller's terminal: two
// for an East Asian wide or fullwidth character, one for any other.
func columns(text []byte) int {
	n := 0
	for len(text) > 0 {
		r, size := utf8.DecodeRune(text)
		text = text[size:]
		switch width.LookupRune(r).Kind() {
		case width.EastAsianWide, width.EastAsianFullwidth:
			n += 2
		default:
			n++
		}
	}
	return n
}

// retype writes again, after the prompt just written, what the caller
// had typed of their answer, if the gateway echoes it.
func (c *caller) retype() {
	if !c.echoesAnswer() || len(c.ed.line) == 0 {
		return
	}
	mark := len(c.out)
	c.out = append(c.out, c.ed.line...)
	c.encodeEcho(mark)
}

// echoesAnswer reports whether the gateway shows the caller what they
// type at the prompt that waits (not a secret, and the gateway echoes).
func (c *caller) echoesAnswer() bool {
	return c.prompt != nil && !c.prompt.Secret && c.serverEchoes()
}

// serverEchoes reports whether the gateway echoes what the caller types
// (the client agreed to it; an SSH session always), as edit does.
func (c *caller) serverEchoes() bool {
	return c.opts.ours(OptEcho) || c.stream != nil && c.stream.echo
}
