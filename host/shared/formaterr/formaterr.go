// Package formaterr is the error type of the board's byte codecs
// (host/ftn/pkt, host/qwk): input that could not be read, what was wrong
// with it and where. Each codec keeps its own sentinels (its
// ErrMalformed, its ErrTooLarge) so callers test with errors.Is against
// the codec they called.
package formaterr

import "fmt"

// Error is input that could not be read: what was wrong, at which byte
// offset, and which of its codec's sentinels it is.
type Error struct {
	Offset int    // byte offset in the input the codec read
	Msg    string // what was wrong
	Kind   error  // the codec's sentinel (malformed, over a limit)
}

// Error implements error.
func (e *Error) Error() string {
	return fmt.Sprintf("%v at byte %d: %s", e.Kind, e.Offset, e.Msg)
}

// Unwrap returns the codec's sentinel.
func (e *Error) Unwrap() error { return e.Kind }

// At returns an *Error of kind at byte offset off, its message formatted
// from format and args.
func At(kind error, off int, format string, args ...any) error {
	return &Error{Offset: off, Msg: fmt.Sprintf(format, args...), Kind: kind}
}
