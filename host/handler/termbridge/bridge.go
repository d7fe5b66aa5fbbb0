// Package termbridge joins a caller's terminal to a byte stream: a native
// door's pseudo-terminal, a door server's connection. What the stream
// writes goes to the caller as text, a piece at a time; what the caller
// types goes to the stream, without ever holding up the goroutine that
// hands it over (a Lua worker serving other callers).
//
// It knows nothing of pseudo-terminals, sockets or sessions: the stream
// is an io.ReadWriteCloser, the caller a function. Two goroutines of its
// own do the I/O: the reader hands each piece to Output, which may block
// (the bridge then reads no more: the stream is held up, nothing piles
// up); the writer gives the stream the keys Keys queued.
//
// Limits: pieces of output of at most MaxPiece bytes; at most MaxQueued
// pieces of keys waiting for the stream, each at most MaxKeys bytes
// (past them keys are dropped and counted, never queued without bound).
package termbridge

import (
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/m2bbs/m2bbs/host/shared/termprofile"
)

// Limits.
const (
	// MaxPiece bounds one piece of output handed to Output.
	MaxPiece = 4 << 10
	// MaxKeys bounds one piece of keys handed to the stream.
	MaxKeys = 1 << 10
	// MaxQueued bounds the pieces of keys waiting for the stream.
	MaxQueued = 64
)

// Config says how the stream's bytes are read and written.
type Config struct {
	// Charset is the stream's: termprofile.CP437 (a DOS door: every byte
	// is a character), termprofile.UTF8, or ASCII. Output is decoded from
	// it to UTF-8 text; keys, UTF-8 text, are encoded to it.
	Charset termprofile.Encoding
	// Output hands the caller a piece of output, as UTF-8 text (escape
	// sequences kept). It is called from the bridge's reader goroutine,
	// one piece at a time; while it blocks, the stream is not read. An
	// error ends the bridge.
	Output func(text string) error
	// Raw makes the bridge 8-bit clean (a file transfer in binary stream
	// mode): output is handed over as the bytes read (in a string), keys
	// are the bytes to write, and Charset is not used.
	Raw bool
	// MaxKeys, if set, replaces MaxKeys as the bound of one piece of keys
	// (a binary piece is bigger than a burst of typing).
	MaxKeys int
}

// Bridge is one caller's terminal joined to a stream.
type Bridge struct {
	stream  io.ReadWriteCloser
	cfg     Config
	keys    chan []byte
	done    chan struct{} // closed when the output ended
	closing sync.Once
	err     error // why the output ended; read after done

	dropped, in, out atomic.Int64
}

// Start joins the caller to stream and returns at once.
func Start(stream io.ReadWriteCloser, cfg Config) *Bridge {
	b := &Bridge{stream: stream, cfg: cfg, keys: make(chan []byte, MaxQueued), done: make(chan struct{})}
	go b.read()
	go b.write()
	return b
}

// read hands the stream's output to the caller until it ends.
func (b *Bridge) read() {
	defer close(b.done)
	buf := make([]byte, MaxPiece)
	var dec Decoder
	dec.Charset = b.cfg.Charset
	for {
		n, err := b.stream.Read(buf)
		if n > 0 && b.cfg.Raw {
			b.out.Add(int64(n))
			if oerr := b.cfg.Output(string(buf[:n])); oerr != nil {
				b.err = oerr
				return
			}
		} else if n > 0 {
			b.out.Add(int64(n))
			if text := dec.Decode(buf[:n]); text != "" {
				if oerr := b.cfg.Output(text); oerr != nil {
					b.err = oerr
					return
				}
			}
		}
		if err != nil {
			if text := dec.Flush(); text != "" {
				_ = b.cfg.Output(text)
			}
			if !errors.Is(err, io.EOF) {
				b.err = err
			}
			return
		}
	}
}

// write gives the stream the keys queued, until the bridge ends.
func (b *Bridge) write() {
	for {
		select {
		case p := <-b.keys:
			if _, err := b.stream.Write(p); err != nil {
				return // the stream is going: its output ends too
			}
		case <-b.done:
			return
		}
	}
}

// Keys queues what the caller typed (UTF-8 text; with Config.Raw, the
// bytes) for the stream and returns at once. It reports false when the
// keys were dropped: more than MaxKeys (Config.MaxKeys) bytes at once, or MaxQueued pieces already waiting, or the
// bridge has ended.
func (b *Bridge) Keys(text string) bool {
	select {
	case <-b.done:
		return false
	default:
	}
	limit := MaxKeys
	if b.cfg.MaxKeys > 0 {
		limit = b.cfg.MaxKeys
	}
	if len(text) > limit {
		b.dropped.Add(1)
		return false
	}
	p := []byte(text)
	if !b.cfg.Raw {
		p = termprofile.Encode(nil, text, b.cfg.Charset)
	}
	select {
	case b.keys <- p:
		b.in.Add(int64(len(p)))
		return true
	default:
		b.dropped.Add(1)
		return false
	}
}

// Done is closed once the stream's output has ended (the door exited, the
// server hung up) or Output failed.
func (b *Bridge) Done() <-chan struct{} { return b.done }

// Err is why the output ended: nil for the stream's end, else the read
// or Output error. Call it after Done.
func (b *Bridge) Err() error {
	<-b.done
	return b.err
}

// Close closes the stream (a door's Close kills it); the output then
// ends.
func (b *Bridge) Close() error {
	var err error
	b.closing.Do(func() { err = b.stream.Close() })
	return err
}

// Stats are a bridge's counts.
type Stats struct {
	// KeysIn and BytesOut count the bytes given to and read from the
	// stream; Dropped the pieces of keys dropped.
	KeysIn, BytesOut, Dropped int64
}

// Stats returns the bridge's counts; safe from any goroutine.
func (b *Bridge) Stats() Stats {
	return Stats{KeysIn: b.in.Load(), BytesOut: b.out.Load(), Dropped: b.dropped.Load()}
}

// Decoder turns a stream's bytes, read in pieces, into UTF-8 text. In
// UTF-8 a character split between two pieces is kept until the next (at
// most utf8.UTFMax-1 bytes); invalid bytes become U+FFFD. In CP437 every
// byte is a character; in ASCII bytes past 0x7f become '?'.
type Decoder struct {
	Charset termprofile.Encoding
	tail    []byte
}

// Decode returns the text of p, with what was kept of the piece before.
func (d *Decoder) Decode(p []byte) string {
	switch d.Charset {
	case termprofile.CP437:
		return string(termprofile.Decode(nil, p, termprofile.CP437))
	case termprofile.ASCII:
		out := make([]byte, len(p))
		for i, c := range p {
			if c >= utf8.RuneSelf {
				c = '?'
			}
			out[i] = c
		}
		return string(out)
	}
	if len(d.tail) > 0 {
		p = append(d.tail, p...)
		d.tail = nil
	}
	// Keep an incomplete character at the end for the next piece.
	cut := len(p)
	for i := len(p) - 1; i >= 0 && i >= len(p)-utf8.UTFMax+1; i-- {
		if utf8.RuneStart(p[i]) {
			if !utf8.FullRune(p[i:]) {
				cut = i
			}
			break
		}
	}
	d.tail = append(d.tail, p[cut:]...)
	return toValid(p[:cut])
}

// Flush returns what Decode kept, as text: the stream ended.
func (d *Decoder) Flush() string {
	t := toValid(d.tail)
	d.tail = nil
	return t
}

// toValid is p as valid UTF-8, each invalid byte U+FFFD.
func toValid(p []byte) string {
	if utf8.Valid(p) {
		return string(p)
	}
	out := make([]rune, 0, len(p))
	for len(p) > 0 {
		r, size := utf8.DecodeRune(p)
		out = append(out, r)
		p = p[size:]
	}
	return string(out)
}
