package m2proto

import (
	"errors"
	"fmt"
)

// ErrMalformed is the kind of a [ProtocolError] for input that breaks the
// wire format.
var ErrMalformed = errors.New("m2proto: malformed message")

// ErrTooLarge is the kind of a [ProtocolError] for input that is well formed
// but exceeds one of the package's documented limits.
var ErrTooLarge = errors.New("m2proto: limit exceeded")

// ProtocolError reports bad input: what was wrong and where.
type ProtocolError struct {
	// Op names the parser: "request", "reply" or "tnetstring".
	Op string
	// Offset is the byte offset in the input at which the problem was found.
	Offset int
	// Reason says what was wrong, in a few lower-case words.
	Reason string
	// Kind is ErrMalformed or ErrTooLarge.
	Kind error
}

// Error returns "m2proto: OP: REASON at offset N".
func (e *ProtocolError) Error() string {
	return fmt.Sprintf("m2proto: %s: %s at offset %d", e.Op, e.Reason, e.Offset)
}

// Unwrap returns the error's kind, so errors.Is(err, ErrMalformed) and
// errors.Is(err, ErrTooLarge) work.
func (e *ProtocolError) Unwrap() error { return e.Kind }

func malformed(op string, off int, format string, args ...any) *ProtocolError {
	return &ProtocolError{Op: op, Offset: off, Reason: fmt.Sprintf(format, args...), Kind: ErrMalformed}
}

func tooLarge(op string, off int, format string, args ...any) *ProtocolError {
	return &ProtocolError{Op: op, Offset: off, Reason: fmt.Sprintf(format, args...), Kind: ErrTooLarge}
}
