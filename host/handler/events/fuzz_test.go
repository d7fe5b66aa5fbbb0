package events

import (
	"errors"
	"testing"
	"time"
)

// FuzzParse: Parse never panics, refuses with ErrSchedule, and a schedule
// it accepts reads back the same from its String, with a Next after its
// argument.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{"daily 03:00", "weekly sun 18:30", "every 10m", "every 90 s", "daily 2:30", "weekly x", "every 99999h", ""} {
		f.Add(seed)
	}
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		f.Fatal(err)
	}
	at := time.Date(2026, 3, 29, 0, 45, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, text string) {
		s, err := Parse(text)
		if err != nil {
			if !errors.Is(err, ErrSchedule) {
				t.Fatalf("Parse(%q): error %v does not wrap ErrSchedule", text, err)
			}
			return
		}
		again, err := Parse(s.String())
		if err != nil || again != s {
			t.Fatalf("Parse(%q).String() = %q, which parses as %v, %v", text, s.String(), again, err)
		}
		if next := s.Next(at, berlin); !next.After(at) {
			t.Fatalf("%q: Next(%s) = %s", text, at, next)
		}
	})
}
