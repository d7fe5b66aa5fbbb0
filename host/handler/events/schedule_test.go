package events

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func zone(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("LoadLocation(%q): %v", name, err)
	}
	return loc
}

func mustParse(t testing.TB, text string) Schedule {
	t.Helper()
	s, err := Parse(text)
	if err != nil {
		t.Fatalf("Parse(%q): %v", text, err)
	}
	return s
}

func TestParseCanonical(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"daily 03:00", "daily 03:00"},
		{"  DAILY   3:05 ", "daily 03:05"},
		{"weekly sun 18:30", "weekly sun 18:30"},
		{"weekly Monday 09:00", "weekly mon 09:00"},
		{"every 10m", "every 10m"},
		{"every 10 minutes", "every 10m"},
		{"every 90 s", "every 90s"},
		{"every 120m", "every 2h"},
		{"every 24h", "every 24h"},
		{"every 1s", "every 1s"},
	} {
		if got := mustParse(t, tc.in).String(); got != tc.want {
			t.Errorf("Parse(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestParseRefuses(t *testing.T) {
	for _, in := range []string{
		"", "daily", "daily 24:00", "daily 12:60", "daily 12:5", "daily -1:30", "daily 1:30 extra",
		"weekly 09:00", "weekly funday 09:00", "weekly mon", "every", "every 0s", "every 25h",
		"every 10 fortnights", "every m", "every 1234567s", "hourly", "daily +1:30",
		"daily " + strings.Repeat("0", MaxScheduleLen),
	} {
		if _, err := Parse(in); !errors.Is(err, ErrSchedule) {
			t.Errorf("Parse(%q) = %v, want ErrSchedule", in, err)
		}
	}
}

func TestNextDailyAndWeekly(t *testing.T) {
	london := zone(t, "Europe/London")
	at := func(s string) time.Time {
		v, err := time.ParseInLocation(time.DateTime, s, london)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tc := range []struct{ sched, after, want string }{
		{"daily 03:00", "2026-01-10 02:59:59", "2026-01-10 03:00:00"},
		{"daily 03:00", "2026-01-10 03:00:00", "2026-01-11 03:00:00"}, // strictly after
		{"daily 03:00", "2026-12-31 23:00:00", "2027-01-01 03:00:00"}, // across a year
		{"daily 00:00", "2026-02-28 00:00:00", "2026-03-01 00:00:00"},
		{"weekly sun 18:00", "2026-01-10 12:00:00", "2026-01-11 18:00:00"}, // Saturday to Sunday
		{"weekly sun 18:00", "2026-01-11 18:00:00", "2026-01-18 18:00:00"}, // a week on
		{"weekly sat 08:00", "2026-01-10 09:00:00", "2026-01-17 08:00:00"},
		{"daily 12:00", "2026-07-01 12:30:00", "2026-07-02 12:00:00"}, // summer time: 11:00 UTC
	} {
		got := mustParse(t, tc.sched).Next(at(tc.after), london)
		if want := at(tc.want); !got.Equal(want) {
			t.Errorf("%s after %s = %s, want %s", tc.sched, tc.after, got.In(london), want)
		}
	}
	if got := mustParse(t, "daily 12:00").Next(at("2026-07-01 12:30:00"), london); got.UTC().Hour() != 11 {
		t.Errorf("12:00 in London in July is %s UTC, want 11:00", got.UTC())
	}
}

func TestNextEvery(t *testing.T) {
	s := mustParse(t, "every 15m")
	after := time.Date(2026, 3, 1, 10, 7, 30, 0, time.UTC)
	for _, want := range []string{"10:15", "10:30", "10:45", "11:00"} {
		after = s.Next(after, time.UTC)
		if got := after.Format("15:04"); got != want {
			t.Fatalf("next = %s, want %s", got, want)
		}
	}
}

// A daily 02:30 job in Berlin: on 29 March 2026 the clock jumps from
// 02:00 to 03:00 (02:30 never happens); on 25 October 2026 it goes back
// from 03:00 to 02:00 (02:30 happens twice).
func TestNextAcrossClockChanges(t *testing.T) {
	berlin := zone(t, "Europe/Berlin")
	s := mustParse(t, "daily 02:30")
	utc := func(m time.Month, d, h, min int) time.Time { return time.Date(2026, m, d, h, min, 0, 0, time.UTC) }

	// Spring: the 28th at 02:30 CET (01:30 UTC), then the jump, 03:00
	// CEST (01:00 UTC) on the 29th, then 02:30 CEST (00:30 UTC) on the 30th.
	runs := dueTimes(s, berlin, utc(3, 28, 0, 0), 3)
	want := []time.Time{utc(3, 28, 1, 30), utc(3, 29, 1, 0), utc(3, 30, 0, 30)}
	assertTimes(t, "spring", runs, want)
	if got := runs[1].In(berlin).Format("15:04 MST"); got != "03:00 CEST" {
		t.Errorf("on the day of the jump the job runs at %s, want 03:00 CEST", got)
	}

	// Autumn: 02:30 CEST (00:30 UTC) on the 25th, once; not again at
	// 02:30 CET (01:30 UTC); then 02:30 CET on the 26th.
	runs = dueTimes(s, berlin, utc(10, 24, 12, 0), 3)
	want = []time.Time{utc(10, 25, 0, 30), utc(10, 26, 1, 30), utc(10, 27, 1, 30)}
	assertTimes(t, "autumn", runs, want)

	// New York skips 02:00 to 03:00 on 8 March 2026: 03:00 EDT, 07:00 UTC.
	ny := zone(t, "America/New_York")
	runs = dueTimes(s, ny, utc(3, 7, 12, 0), 2)
	assertTimes(t, "new york", runs, []time.Time{utc(3, 8, 7, 0), utc(3, 9, 6, 30)})
}

// dueTimes are the n due times of s after from, one after the other.
func dueTimes(s Schedule, loc *time.Location, from time.Time, n int) []time.Time {
	var out []time.Time
	for range n {
		from = s.Next(from, loc)
		out = append(out, from)
	}
	return out
}

func assertTimes(t *testing.T, what string, got, want []time.Time) {
	t.Helper()
	for i := range want {
		if !got[i].Equal(want[i]) {
			t.Errorf("%s: due time %d = %s, want %s", what, i, got[i].UTC(), want[i].UTC())
		}
	}
}

// Next is always after its argument and within a period and an hour of it.
func TestNextBounds(t *testing.T) {
	zones := []*time.Location{time.UTC, zone(t, "Europe/Berlin"), zone(t, "America/New_York"), zone(t, "Australia/Lord_Howe")}
	scheds := []string{"daily 02:30", "daily 00:00", "weekly sun 02:15", "every 7m", "every 24h"}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, loc := range zones {
		for _, text := range scheds {
			s := mustParse(t, text)
			for at := start; at.Year() == 2026; at = at.Add(37 * time.Hour) {
				next := s.Next(at, loc)
				if !next.After(at) || next.Sub(at) > s.Period()+time.Hour {
					t.Fatalf("%s in %s after %s = %s", text, loc, at, next)
				}
			}
		}
	}
}

func TestZoneName(t *testing.T) {
	if got := ZoneName(zone(t, "Europe/London")); got != "Europe/London" {
		t.Errorf("ZoneName(London) = %q", got)
	}
	t.Setenv("TZ", "America/New_York")
	if got := ZoneName(time.Local); got != "America/New_York" {
		t.Errorf("ZoneName(Local) with TZ set = %q", got)
	}
	t.Setenv("TZ", "")
	if got := ZoneName(time.Local); got != "UTC" {
		t.Errorf("ZoneName(Local) with TZ empty = %q", got)
	}
}
