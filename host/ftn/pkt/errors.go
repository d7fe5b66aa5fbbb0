package pkt

import (
	"errors"

	"github.com/m2bbs/m2bbs/host/shared/formaterr"
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
type FormatError = formaterr.Error

// malformed returns a *FormatError wrapping ErrMalformed.
func malformed(off int, format string, args ...any) error {
	return formaterr.At(ErrMalformed, off, format, args...)
}

// tooLarge returns a *FormatError wrapping ErrTooLarge.
func tooLarge(off int, format string, args ...any) error {
	return formaterr.At(ErrTooLarge, off, format, args...)
}
