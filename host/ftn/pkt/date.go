package pkt

import (
	"strings"
	"time"
)

// dateLayout is FTS-0001's date: "DD MMM YY  HH:MM:SS" (two spaces).
const dateLayout = "02 Jan 06  15:04:05"

// FormatDate writes t as a packed message's date field.
func FormatDate(t time.Time) string { return t.Format(dateLayout) }

// ParseDate reads a packed message's date field as written by FTS-0001
// software, or the SEAdog form "Www DD Mmm YY HH:MM". A two-digit year
// of 80 or above is 19YY. ok is false when neither form matches.
func ParseDate(s string) (t time.Time, ok bool) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{dateLayout, "2 Jan 06  15:04:05", "02 Jan 06 15:04:05", "Mon 2 Jan 06 15:04", "Mon _2 Jan 06 15:04"} {
		if t, err := time.Parse(layout, s); err == nil {
			if t.Year() >= 2080 {
				t = t.AddDate(-100, 0, 0)
			}
			return t, true
		}
	}
	return time.Time{}, false
}
