package formaterr

import (
	"errors"
	"testing"
)

func TestErrorNamesKindOffsetAndWhat(t *testing.T) {
	errBad := errors.New("codec: malformed")
	err := At(errBad, 42, "field %q too long", "subject")
	if got, want := err.Error(), `codec: malformed at byte 42: field "subject" too long`; got != want {
		t.Errorf("Error() = %q; want %q", got, want)
	}
	if !errors.Is(err, errBad) {
		t.Error("the error does not wrap its kind")
	}
	var fe *Error
	if !errors.As(err, &fe) || fe.Offset != 42 {
		t.Errorf("errors.As: %+v", fe)
	}
}
