package pkt

import (
	"errors"
	"fmt"
)

// Sentinel errors; every *FormatError wraps one of them.
var (
	// ErrMalformed means the bytes are not a packet as FTS-0001 and
	// FSC-0048 describe it.
	ErrMalformed = errors.New("pkt: malformed packet")
	// ErrTooLarge means a packet, a message or a field is over its limit.
	ErrTooLarge = errors.New("pkt: over limit")
)

// FormatError is a packet that could not be parsed: what was wrong and at
// which byte offset.
type FormatError struct {
	Offset int    // byte offset in the packet
	Msg    string // what was wrong
	Kind   error  // ErrMalformed or ErrTooLarge
}

// Error implements error.
func (e *FormatError) Error() string {
	return fmt.Sprintf("%v at byte %d: %s", e.Kind, e.Offset, e.Msg)
}

// Unwrap returns ErrMalformed or ErrTooLarge.
func (e *FormatError) Unwrap() error { return e.Kind }

// malformed returns a *FormatError wrapping ErrMalformed.
func malformed(off int, format string, args ...any) error {
	return &FormatError{Offset: off, Msg: fmt.Sprintf(format, args...), Kind: ErrMalformed}
}

// tooLarge returns a *FormatError wrapping ErrTooLarge.
func tooLarge(off int, format string, args ...any) error {
	return &FormatError{Offset: off, Msg: fmt.Sprintf(format, args...), Kind: ErrTooLarge}
}
