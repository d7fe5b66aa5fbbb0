package journal

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Kind says what an entry records.
type Kind byte

// Entry kinds.
const (
	// KindStart is the request that started the session (Request), run
	// through the script's entry function.
	KindStart Kind = 'S'
	// KindCheckpoint restarts a replay at the script's resume function,
	// for User, with Request as the request; it replaces everything
	// before it (a compacted journal starts with one).
	KindCheckpoint Kind = 'K'
	// KindRequest is a request the session was resumed with (Request).
	KindRequest Kind = 'R'
	// KindCall is one host call: its Name, a digest of its arguments
	// (Args), and what it returned (Results) or raised (Error).
	KindCall Kind = 'C'
	// KindLogin records that the caller logged in as User.
	KindLogin Kind = 'L'
	// KindPrompt records that the session waited for the caller at the
	// prompt Label.
	KindPrompt Kind = 'P'
)

// Entries of the kinds that carry a request begin with the kind's own
// byte when the request is in Mongrel2's wire format (Request.Wire), as
// the journals written before the compact form hold it, and with these
// tags when it is in the journal's compact form.
const (
	tagCompactStart      = 's'
	tagCompactCheckpoint = 'k'
	tagCompactRequest    = 'r'
)

// tagOf is the byte that begins an entry of kind k whose request is in the
// wire format or not.
func tagOf(k Kind, wire bool) byte {
	switch {
	case wire:
	case k == KindStart:
		return tagCompactStart
	case k == KindCheckpoint:
		return tagCompactCheckpoint
	case k == KindRequest:
		return tagCompactRequest
	}
	return byte(k)
}

// kindOfTag is the kind of an entry beginning with tag, and whether its
// request (if it has one) is in the wire format.
func kindOfTag(tag byte) (k Kind, wire bool) {
	switch tag {
	case tagCompactStart:
		return KindStart, false
	case tagCompactCheckpoint:
		return KindCheckpoint, false
	case tagCompactRequest:
		return KindRequest, false
	}
	return Kind(tag), true
}

// Entry is one journal entry. Which fields matter depends on Kind.
type Entry struct {
	Kind    Kind
	Request Request // KindStart, KindCheckpoint, KindRequest: the request
	Label   string  // KindPrompt: the prompt shown (KindRequest: unused, kept empty)
	Name    string  // KindCall: the function, e.g. "db.post_message"
	Args    uint64  // KindCall: digest of the arguments (DigestArgs)
	Results []byte  // KindCall: AppendValues of the results
	Error   []byte  // KindCall: AppendValues of the raised value; empty if none
	User    string  // KindLogin, KindCheckpoint
}

// ErrBadEntry is wrapped by Parse's errors.
var ErrBadEntry = errors.New("journal: bad entry")

// Append appends e's encoding to dst.
func (e *Entry) Append(dst []byte) []byte {
	dst = append(dst, tagOf(e.Kind, e.Request.Wire))
	switch e.Kind {
	case KindStart:
		dst = appendField(dst, e.Request.Data)
	case KindCheckpoint:
		dst = appendField(dst, e.Request.Data)
		dst = appendField(dst, []byte(e.User))
	case KindRequest:
		dst = appendField(dst, e.Request.Data)
		dst = appendField(dst, []byte(e.Label))
	case KindCall:
		dst = appendField(dst, []byte(e.Name))
		dst = binary.AppendUvarint(dst, e.Args)
		dst = appendField(dst, e.Results)
		dst = appendField(dst, e.Error)
	case KindLogin:
		dst = appendField(dst, []byte(e.User))
	case KindPrompt:
		dst = appendField(dst, []byte(e.Label))
	}
	return dst
}

// Parse decodes one entry. The byte fields of the result alias b.
func Parse(b []byte) (Entry, error) {
	if len(b) == 0 {
		return Entry{}, fmt.Errorf("%w: empty", ErrBadEntry)
	}
	kind, wire := kindOfTag(b[0])
	e := Entry{Kind: kind}
	r := reader{b: b[1:]}
	switch e.Kind {
	case KindStart:
		e.Request = Request{Data: r.field(), Wire: wire}
	case KindCheckpoint:
		e.Request = Request{Data: r.field(), Wire: wire}
		e.User = string(r.field())
	case KindRequest:
		e.Request = Request{Data: r.field(), Wire: wire}
		e.Label = string(r.field())
	case KindCall:
		e.Name = string(r.field())
		e.Args = r.uvarint()
		e.Results = r.field()
		e.Error = r.field()
	case KindLogin:
		e.User = string(r.field())
	case KindPrompt:
		e.Label = string(r.field())
	default:
		return Entry{}, fmt.Errorf("%w: unknown kind %q", ErrBadEntry, b[0])
	}
	if r.err != nil {
		return Entry{}, fmt.Errorf("%w: kind %q: %v", ErrBadEntry, b[0], r.err)
	}
	if len(r.b) != 0 {
		return Entry{}, fmt.Errorf("%w: kind %q: %d bytes left over", ErrBadEntry, b[0], len(r.b))
	}
	return e, nil
}

func appendField(dst, field []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(field)))
	return append(dst, field...)
}

// reader reads fields; its first error sticks.
type reader struct {
	b   []byte
	err error
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errors.New("bad length")
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) field() []byte {
	n := r.uvarint()
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)) {
		r.err = fmt.Errorf("field of %d bytes, %d left", n, len(r.b))
		return nil
	}
	f := r.b[:n:n]
	r.b = r.b[n:]
	return f
}
