package qwk

import (
	"errors"

	"github.com/m2bbs/m2bbs/host/shared/formaterr"
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
type FormatError = formaterr.Error

// malformed returns a *FormatError wrapping ErrMalformed.
func malformed(off int, format string, args ...any) error {
	return formaterr.At(ErrMalformed, off, format, args...)
}

// tooLarge returns a *FormatError wrapping ErrTooLarge.
func tooLarge(off int, format string, args ...any) error {
	return formaterr.At(ErrTooLarge, off, format, args...)
}
