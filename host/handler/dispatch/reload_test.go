package dispatch

import (
	"strings"
	"testing"
	"time"
)

func TestHotReloadKeepsOnlineCallersOnTheirVersion(t *testing.T) {
	b := startBoard(t, versioned("v1"), Config{Workers: 2})
	b.say("1", "connect")
	b.ft.waitFor(t, "1", func(r reply) bool { return r.text == "v1 connect" })

	b.write(t, "scripts/main.lua", versioned("v2 (edited)"))
	if err := <-b.reloads; err != nil {
		t.Fatal(err)
	}
	b.say("2", "connect")
	b.ft.waitFor(t, "2", func(r reply) bool { return r.text == "v2 (edited) connect" })
	b.say("1", "still here")
	b.ft.waitFor(t, "1", func(r reply) bool { return r.text == "v1 still here" })

	st := b.host.Status()
	if len(st.Versions) != 2 || st.Versions[0].Version != 2 || st.Versions[1].Callers != 1 || st.Reloads != 1 {
		t.Fatalf("versions = %+v", st.Versions)
	}
	// When the last caller of version 1 leaves, version 1 is retired.
	b.say("1", "bye")
	b.ft.waitFor(t, "1", kind("hangup"))
	deadline := time.Now().Add(5 * time.Second)
	for len(b.host.Status().Versions) != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("version 1 never retired: %+v", b.host.Status().Versions)
		}
		time.Sleep(time.Millisecond) // retirement has no event to wait on; poll the state
	}
}

func TestBrokenEditKeepsThePreviousVersion(t *testing.T) {
	b := startBoard(t, versioned("v1"), Config{})
	b.write(t, "scripts/main.lua", "function m2bbs(conn, req)\n  if then\nend\n")
	err := <-b.reloads
	if err == nil || !strings.Contains(err.Error(), "main.lua:2: syntax error near 'then'") {
		t.Fatalf("reload error = %v, want the file and line", err)
	}
	b.say("1", "connect")
	b.ft.waitFor(t, "1", func(r reply) bool { return r.text == "v1 connect" })
	if st := b.host.Status(); !strings.Contains(st.LoadError, "main.lua") || len(st.Versions) != 1 {
		t.Errorf("status = %+v", st)
	}
	// An error while the main script runs is refused the same way.
	b.write(t, "scripts/main.lua", "local x = nil\nprint(x.y)\n")
	if err := <-b.reloads; err == nil || !strings.Contains(err.Error(), "main.lua:2") {
		t.Fatalf("reload error = %v, want the file and line of the failure", err)
	}
	// A missing entry function is refused the same way; a fix loads.
	b.write(t, "scripts/main.lua", "local x = 1\n")
	if err := <-b.reloads; err == nil || !strings.Contains(err.Error(), "no entry function") {
		t.Fatalf("reload error = %v", err)
	}
	b.write(t, "scripts/main.lua", versioned("v3"))
	if err := <-b.reloads; err != nil {
		t.Fatal(err)
	}
	if st := b.host.Status(); st.LoadError != "" || st.Versions[0].Version != 2 {
		t.Errorf("after the fix: %+v", st)
	}
}

func TestEditedScreensReachNewCallers(t *testing.T) {
	b := startBoard(t, `require 'ui'
function m2bbs(conn, req) ui.exit(conn, req, 'busy') end`, Config{})
	b.say("1", "connect")
	b.ft.waitFor(t, "1", func(r reply) bool { return r.text == "Busy, call later." })
	b.write(t, "screens/busy.txt", "Edited busy screen.")
	if err := <-b.reloads; err != nil {
		t.Fatal(err)
	}
	b.say("2", "connect")
	b.ft.waitFor(t, "2", func(r reply) bool { return r.text == "Edited busy screen." })
}
