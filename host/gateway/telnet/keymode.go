package telnet

import (
	"time"

	"github.com/m2bbs/m2bbs/host/gateway/classic"
	"github.com/m2bbs/m2bbs/host/message"
	"github.com/m2bbs/m2bbs/host/shared/keystroke"
	"github.com/m2bbs/m2bbs/host/shared/termtext"
)

// keyMode is a caller's keystroke mode (message.TypeKeys): while on, the
// board gets the caller's keys as they are typed, in requests of type
// "keys", paced and bounded by package keystroke, and what it sends is
// written as it is: no line editing, no echo.
type keyMode struct {
	on    bool
	batch keystroke.Batcher
	pacer keystroke.Pacer
	// tick fires when paced keys may go; nil when none wait.
	tick <-chan time.Time
}

// canKeys reports whether the caller's terminal can be put in keystroke
// mode: one that sends each key as it is typed and shows only what the
// gateway echoes (telnet with the gateway's echo agreed; a stream whose
// gateway echoes, as under an SSH pty).
func (c *caller) canKeys() bool {
	if c.stream != nil {
		return c.stream.echo
	}
	return c.opts.ours(OptEcho)
}

// showKeys writes a keys message's output and puts the caller in
// keystroke mode. Keys typed ahead since the last line go to the board
// as the first keystrokes; a half-typed line is dropped.
func (c *caller) showKeys(m message.Message) error {
	c.adoptEncoding(m.Encoding)
	if !c.km.on {
		c.km.on = true
		c.prompt = nil
		c.km.batch.SetAfterCR(c.ed.afterCR) // a CR LF split across the switch is one Enter
		c.ed = NewEditor(c.s.cfg.MaxLine)
		c.keystrokes(c.typeAhead)
		c.typeAhead = c.typeAhead[:0]
		c.overflow = false
	}
	c.out = c.text(c.out, c.charset(termtext.StripStrings(m.Msg)))
	return c.sendKeys()
}

// endKeyMode leaves keystroke mode (a prompt or an exit came; a screen
// is shown and the mode goes on): keys not sent yet are dropped.
func (c *caller) endKeyMode() {
	if !c.km.on {
		return
	}
	c.km.on = false
	c.ed.afterCR = c.km.batch.AfterCR() // an LF after the last key's CR is no empty line
	c.km.batch.Reset()
	c.km.tick = nil
}

// commandKey is the key a telnet command stands for (IP is Ctrl-C, EC
// Backspace, EL Ctrl-U): a keystroke in keystroke mode, else a key for
// the line editor.
func (c *caller) commandKey(key byte) {
	if c.km.on {
		c.keystrokes([]byte{key})
	} else {
		c.queue([]byte{key})
	}
}

// keystrokes keeps keys p (UTF-8) for the board.
func (c *caller) keystrokes(p []byte) {
	if dropped := c.km.batch.Add(p); dropped > 0 {
		c.log.Debug("telnet: keystrokes dropped", "dropped", dropped, "max_pending", keystroke.MaxPendingBytes)
	}
}

// sendKeys sends the keys that wait as one keys request, if the pacer
// lets it, and arms the pacer's tick for the rest.
func (c *caller) sendKeys() error {
	return c.sendPaced(c.km.on, &c.km.pacer, &c.km.tick, c.km.batch.Pending, func() {
		keys := c.km.batch.Next()
		if c.s.cfg.PeerKey == "" {
			c.req = c.withTerminal(classic.AppendKeys(c.req[:0], c.route, keys))
		} else {
			c.req = c.withTerminal(classic.AppendGatewayKeys(c.req[:0], c.route, keys, c.peer(), c.s.cfg.PeerKey))
		}
	})
}

// sendPaced sends one request of what waits (build writes it in c.req
// from the batch), if the mode is on, something waits (pending) and the
// pacer lets it, and arms tick for the rest.
func (c *caller) sendPaced(on bool, pacer *keystroke.Pacer, tick *<-chan time.Time, pending func() int, build func()) error {
	*tick = nil
	if !on || pending() == 0 {
		return nil
	}
	now := time.Now()
	if wait := pacer.Wait(now); wait > 0 {
		*tick = time.After(wait)
		return nil
	}
	build()
	pacer.Sent(now)
	if err := c.send(); err != nil {
		return err
	}
	if pending() > 0 {
		*tick = time.After(pacer.Wait(time.Now()))
	}
	return nil
}
