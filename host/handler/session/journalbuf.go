package session

import (
	lua "github.com/yuin/gopher-lua"

	"github.com/m2bbs/m2bbs/host/handler/journal"
)

// Encoding journal entries without an allocation per entry: a table (one
// worker goroutine) encodes every entry into scratch buffers it keeps, and
// copies the encoded bytes into a shared chunk of entryChunk bytes, out of
// which the sessions' pending entries are cut. A chunk is garbage once no
// pending entry points into it (they are let go as soon as they are
// stored), so a parked session keeps no part of it. Scratch buffers that
// grew past keepScratch (a call that returned a long text) are let go
// after use.

// entryChunk is the size of the chunks pending entries are cut from;
// larger entries get an allocation of their own.
const entryChunk = 16 << 10

// keepScratch bounds the scratch buffers a table keeps between entries.
const keepScratch = 64 << 10

// journalScratch is a table's buffers for encoding journal entries. It is
// used only between the calls into Lua of one goroutine: nothing in it
// survives a host call's own function (which may journal calls of its own).
type journalScratch struct {
	values []lua.LValue // a call's arguments or results
	digest []byte       // journal.AppendDigestArgs's bytes
	enc    []byte       // a call's encoded results
	entry  []byte       // an encoded entry
	chunk  []byte       // where kept entries are cut from
}

// stack returns the n values of L's stack from index first (1-based) in
// b.values; release them with drop.
func (b *journalScratch) stack(L *lua.LState, first, n int) []lua.LValue {
	vals := b.values[:0]
	for i := range n {
		vals = append(vals, L.Get(first+i))
	}
	b.values = vals
	return vals
}

// drop lets go of the Lua values stack returned.
func (b *journalScratch) drop() {
	clear(b.values)
	b.values = b.values[:0]
	if cap(b.values) > keepScratch/16 {
		b.values = nil
	}
}

// digestArgs is journal.DigestArgs of args on b's scratch.
func (b *journalScratch) digestArgs(args []lua.LValue) uint64 {
	d, scratch := journal.AppendDigestArgs(b.digest, args)
	b.digest = trimScratch(scratch)
	return d
}

// encodeValues is journal.AppendValues of vals into b's scratch: the
// result is valid until the next call.
func (b *journalScratch) encodeValues(vals []lua.LValue) ([]byte, error) {
	enc, err := journal.AppendValues(b.enc[:0], vals)
	if err != nil {
		return nil, err
	}
	b.enc = enc
	return enc, nil
}

// encode returns e's encoding, kept: the bytes stay as they are until the
// entry is let go.
func (b *journalScratch) encode(e *journal.Entry) []byte {
	b.entry = e.Append(b.entry[:0])
	kept := b.keep(b.entry)
	b.entry = trimScratch(b.entry)
	b.enc = trimScratch(b.enc)
	return kept
}

// keep copies enc out of the scratch buffers.
func (b *journalScratch) keep(enc []byte) []byte {
	n := len(enc)
	if n > entryChunk/4 {
		return append([]byte(nil), enc...)
	}
	if cap(b.chunk)-len(b.chunk) < n {
		b.chunk = make([]byte, 0, entryChunk)
	}
	start := len(b.chunk)
	b.chunk = append(b.chunk, enc...)
	return b.chunk[start : start+n : start+n] // no append can reach the next entry
}

// trimScratch lets go of a scratch buffer that grew past keepScratch.
func trimScratch(buf []byte) []byte {
	if cap(buf) > keepScratch {
		return nil
	}
	return buf[:0]
}
