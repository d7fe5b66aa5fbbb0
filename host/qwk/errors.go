package qwk

import (
	"errors"
	"fmt"
)

// Sentinel errors; every *FormatError wraps one of them.
var (
	// ErrMalformed means the bytes are not a packet as the QWK format
	// describes it.
	ErrMalformed = errors.New("qwk: malformed packet")
	// ErrTooLarge means a packet, a message or a field is over its limit.
	ErrTooLarge = errors.New("qwk: over limit")
)

// FormatError is a reply packet that could not be read: what was wrong
// and at which byte offset of BBSID.MSG (0 for the archive itself).
type FormatError struct {
	Offset int    // byte offset in BBSID.MSG
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
