package main

import (
	"fmt"
	"time"

	"github.com/m2bbs/m2bbs/host/handler/session"
)

// parseTimeSettings reads the time_limits and time_zone settings: the
// limits by level, and the zone whose midnight starts a day ("" or
// "Local": the machine's).
func parseTimeSettings(limits, zone string) ([]session.TimeLimit, *time.Location, error) {
	parsed, err := session.ParseTimeLimits(limits)
	if err != nil {
		return nil, nil, err
	}
	loc := time.Local
	if zone != "" && zone != "Local" {
		if loc, err = time.LoadLocation(zone); err != nil {
			return nil, nil, fmt.Errorf("time zone %q: %w", zone, err)
		}
	}
	return parsed, loc, nil
}
