// Package keystroke holds keystroke mode's limits and the edge's half of
// it (see docs/clients.md): a gateway in keystroke mode sends each burst
// of a caller's keys to the host at once, as a request of type "keys"
// (message.TypeKeys), instead of editing lines itself.
//
// A gateway keeps one Batcher per caller, filled with what the caller
// types (already in UTF-8) and emptied one request at a time, and one
// Pacer that says when the next request may go: keys typed faster than
// RequestsPerSecond are merged into the next request, never queued
// without bound. The host drops keys requests past its own limits
// (HostKeysPerSecond, MaxRequestBytes), for a caller who bypasses a
// gateway.
package keystroke

import (
	"time"
	"unicode/utf8"
)

// Limits of keystroke mode, shared by the gateways and the host.
const (
	// MaxRequestBytes bounds the keys of one keys request: their UTF-8
	// bytes, and also their length written as a JSON string (a control
	// character takes 6 bytes there), so that a request always fits the
	// front end's frame limit. A gateway cuts a longer burst (a paste)
	// into several requests (Cut); the host drops a longer request.
	MaxRequestBytes = 1024
	// MaxPendingBytes bounds the keys a gateway holds for a caller while
	// it waits to send them; keys past it are dropped and counted.
	MaxPendingBytes = 4096
	// RequestsPerSecond bounds the keys requests a gateway sends a second
	// for one caller; keys typed faster are merged.
	RequestsPerSecond = 30
	// HostKeysPerSecond and HostKeysBurst bound the keys requests the
	// host takes from one caller (more than a gateway sends); past them
	// a request is dropped and counted.
	HostKeysPerSecond = 60
	HostKeysBurst     = 120
)

// Batcher holds a caller's keys until they are sent. Enter reaches the
// host as one CR: a CR LF or CR NUL that a telnet client sends for Enter
// loses its second byte, and a lone LF is kept. The zero Batcher is
// ready to use.
type Batcher struct {
	pending []byte
	afterCR bool
	// Dropped counts the keys (bytes) dropped because MaxPendingBytes
	// were held already.
	Dropped int
}

// Add keeps the keys p (UTF-8), up to MaxPendingBytes held; it returns
// how many bytes it dropped.
func (b *Batcher) Add(p []byte) (dropped int) {
	for _, c := range p {
		afterCR := b.afterCR
		b.afterCR = c == '\r'
		if afterCR && (c == '\n' || c == 0) {
			continue
		}
		if len(b.pending) >= MaxPendingBytes {
			dropped++
			continue
		}
		b.pending = append(b.pending, c)
	}
	b.Dropped += dropped
	return dropped
}

// AfterCR reports whether the last key kept or dropped was a CR, so
// that an LF or NUL coming next belongs to it; SetAfterCR says so for
// keys that come after a CR read by a line editor before keystroke mode
// began (a gateway hands its state over both ways, so a CR LF split
// across the switch is one Enter).
func (b *Batcher) AfterCR() bool { return b.afterCR }

// SetAfterCR sets what AfterCR reports.
func (b *Batcher) SetAfterCR(afterCR bool) { b.afterCR = afterCR }

// Pending reports how many bytes of keys are ready to send: all that
// wait but an incomplete UTF-8 character at the end, which waits for the
// rest of its bytes (a read may end inside one; a request can only carry
// whole characters).
func (b *Batcher) Pending() int { return len(b.pending) - incompleteTail(b.pending) }

// incompleteTail is the length of the incomplete UTF-8 character p ends
// with, or 0.
func incompleteTail(p []byte) int {
	for i := len(p) - 1; i >= 0 && i >= len(p)-utf8.UTFMax; i-- {
		if utf8.RuneStart(p[i]) {
			if p[i] < utf8.RuneSelf || utf8.FullRune(p[i:]) {
				return 0
			}
			return len(p) - i
		}
	}
	return 0
}

// Next takes the next request's keys: all that are ready, or at most
// MaxRequestBytes cut before a UTF-8 character or an escape sequence
// (ESC [ … final, ESC O x) that would not fit whole. It returns "" when
// nothing waits.
func (b *Batcher) Next() string {
	n := Cut(b.pending[:b.Pending()], MaxRequestBytes)
	keys := string(b.pending[:n])
	b.pending = b.pending[:copy(b.pending, b.pending[n:])]
	return keys
}

// Reset drops the keys that wait (keystroke mode ended).
func (b *Batcher) Reset() {
	b.pending = b.pending[:0]
	b.afterCR = false
}

// Cut returns how many bytes of p go in a request of at most max bytes
// written as a JSON string (JSONLen): all of p if it fits, else the
// longest prefix that ends neither inside a UTF-8 character nor inside
// an escape sequence (unless a single sequence is longer than max: then
// it is cut at max, at a character).
func Cut(p []byte, max int) int {
	n, cost := 0, 0
	for n < len(p) && cost+jsonCost(p[n]) <= max {
		cost += jsonCost(p[n])
		n++
	}
	if n == len(p) {
		return n
	}
	for n > 0 && !utf8.RuneStart(p[n]) {
		n--
	}
	if start := openSequence(p[:n]); start > 0 {
		n = start
	}
	if n == 0 { // one character longer than max: impossible for UTF-8 with max >= 6
		n = min(max, len(p))
	}
	return n
}

// JSONLen is the length of keys written as a JSON string, without its
// quotes: a control character as \u00XX, a quote, backslash, CR, LF or
// tab as two bytes.
func JSONLen(keys string) int {
	n := 0
	for i := 0; i < len(keys); i++ {
		n += jsonCost(keys[i])
	}
	return n
}

// jsonCost is what byte c takes in a JSON string.
func jsonCost(c byte) int {
	switch {
	case c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t':
		return 2
	case c < 0x20 || c == 0x7f:
		return 6
	}
	return 1
}

// openSequence returns where an escape sequence that p ends inside of
// begins, or -1 if p does not end inside one. Only the last 64 bytes are
// looked at: a longer "sequence" is not a key.
func openSequence(p []byte) int {
	from := max(len(p)-64, 0)
	for i := len(p) - 1; i >= from; i-- {
		if p[i] != 0x1b {
			continue
		}
		if seqEnd(p[i:]) < 0 {
			return i
		}
		return -1
	}
	return -1
}

// seqEnd returns the length of the escape sequence p starts with (p[0]
// is ESC), or -1 if p ends before it does. A lone ESC, or ESC and a
// byte other than [ or O, is a whole key of one or two bytes.
func seqEnd(p []byte) int {
	if len(p) < 2 {
		return -1
	}
	switch p[1] {
	case '[':
		for i := 2; i < len(p); i++ {
			if p[i] >= 0x40 && p[i] <= 0x7e {
				return i + 1
			}
			if p[i] < 0x20 || p[i] > 0x3f {
				return i // not a CSI after all: ends before this byte
			}
		}
		return -1
	case 'O':
		if len(p) < 3 {
			return -1
		}
		return 3
	}
	return 2
}

// Pacer says when a caller's next keys request may go: at most
// RequestsPerSecond, the first at once. The zero Pacer is ready to use.
type Pacer struct {
	last time.Time
	// Every, if set, is the least time between two requests instead
	// (binary stream mode's pace: host/shared/binstream).
	Every time.Duration
}

// interval is the least time between two requests.
const interval = time.Second / RequestsPerSecond

// Wait returns how long to wait from now before the next request may go
// (0: now).
func (p *Pacer) Wait(now time.Time) time.Duration {
	if p.last.IsZero() {
		return 0
	}
	every := interval
	if p.Every > 0 {
		every = p.Every
	}
	return max(p.last.Add(every).Sub(now), 0)
}

// Sent records a request sent at now.
func (p *Pacer) Sent(now time.Time) { p.last = now }
