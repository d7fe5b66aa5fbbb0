package main

import (
	"strings"
	"testing"
	"time"
)

// TestTimeSettings: the time limits and the zone are read as the sysop
// writes them, and a zone or limits the host cannot use stop it.
func TestTimeSettings(t *testing.T) {
	limits, zone, err := parseTimeSettings("20=60/180, 255=0/0", "Europe/Paris")
	if err != nil || len(limits) != 2 || zone.String() != "Europe/Paris" || limits[0].PerDay != 3*time.Hour {
		t.Fatalf("got %v %v %v", limits, zone, err)
	}
	if _, zone, err := parseTimeSettings("", ""); err != nil || zone != time.Local {
		t.Errorf("defaults: %v %v", zone, err)
	}
	if _, _, err := parseTimeSettings("", "Mars/Olympus"); err == nil || !strings.Contains(err.Error(), "Mars/Olympus") {
		t.Errorf("an unknown zone: %v", err)
	}
	if _, _, err := parseTimeSettings("20=forever/1", ""); err == nil {
		t.Error("bad limits accepted")
	}
}
