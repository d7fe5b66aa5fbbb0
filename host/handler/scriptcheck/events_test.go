package scriptcheck

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// The events script's literal schedules, zones and missed policies are
// checked as the host would read them.
func TestCheckEvents(t *testing.T) {
	dir := t.TempDir()
	scripts := filepath.Join(dir, "scripts")
	files := map[string]string{
		"bbs.lua": "return function(conn, req) end\n",
		"events.lua": `return {
    zone = 'Europe/London',
    { name = 'ok', when = 'daily 03:00', missed = 'skip', run = function() end },
    { name = 'late', when = 'daily 25:00', run = function() end },
    { name = 'far', when = 'weekly sun 18:00', zone = 'Mars/Olympus', run = function() end },
    { name = 'twice', when = 'every 1h', missed = 'twice', run = function() end },
}
`,
	}
	if err := os.MkdirAll(scripts, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(scripts, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r, err := Check(Config{ScriptsDir: scripts, ScreensDir: filepath.Join(dir, "screens"), MainScript: filepath.Join(scripts, "bbs.lua")})
	if err != nil {
		t.Fatal(err)
	}
	events := filepath.Join(scripts, "events.lua")
	want := []string{
		events + `:4: event: bad schedule: "daily 25:00": "25:00" is not a time from 00:00 to 23:59`,
		events + `:5: event: zone "Mars/Olympus": no such time zone (an IANA name such as Europe/London)`,
		events + `:6: event: missed = "twice": say 'once' or 'skip'`,
	}
	if got := problemStrings(r); !slices.Equal(got, want) {
		t.Errorf("problems:\n%q\nwant:\n%q", got, want)
	}
}
