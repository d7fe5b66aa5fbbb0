package luaapi

import (
	"errors"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// fakeWatcher records what the watch module asked of the host.
type fakeWatcher struct{ calls []string }

func (f *fakeWatcher) Watch(sender, sysopID, callerID string) error {
	f.calls = append(f.calls, "watch "+sender+" "+sysopID+" "+callerID)
	return nil
}

func (f *fakeWatcher) Unwatch(sysopID string) error {
	f.calls = append(f.calls, "unwatch "+sysopID)
	return errors.New("not watching anyone")
}

func (f *fakeWatcher) Chat(sysopID string, on bool) error {
	if on {
		f.calls = append(f.calls, "chat "+sysopID)
	} else {
		f.calls = append(f.calls, "end chat "+sysopID)
	}
	return nil
}

func (f *fakeWatcher) Say(sysopID, text string) error {
	f.calls = append(f.calls, "say "+sysopID+" "+text)
	return nil
}

// TestWatchModule: only the sysop may watch; the sysop's calls reach the
// host with their own conn, and expected failures come back as nil and
// the reason.
func TestWatchModule(t *testing.T) {
	for _, sysop := range []bool{false, true} {
		e := newTestEnv(t)
		host := &fakeWatcher{}
		w := &Watch{Host: host, IsSysop: func(*lua.LState) bool { return sysop }}
		e.L.PreloadModule("watch", w.Loader)
		e.run(t, `local watch = require 'watch'
			results = {}
			local function note(ok, err) results[#results + 1] = tostring(ok) .. ' ' .. tostring(err) end
			note(watch.start(conn, '42'))
			note(watch.chat(conn))
			note(watch.say(conn, 'hello'))
			note(watch.end_chat(conn))
			note(watch.stop(conn))`)
		var got []string
		results := e.L.GetGlobal("results").(*lua.LTable)
		for i := 1; i <= results.Len(); i++ {
			got = append(got, results.RawGetInt(i).String())
		}
		if !sysop {
			if len(host.calls) != 0 || got[0] != "nil only the sysop may do that" {
				t.Errorf("a user's watch reached the host: %v, %v", host.calls, got)
			}
			continue
		}
		want := "watch sender-1 7 42|chat 7|say 7 hello|end chat 7|unwatch 7"
		if strings.Join(host.calls, "|") != want {
			t.Errorf("the sysop's calls: %v", host.calls)
		}
		if got[0] != "true nil" || got[4] != "nil not watching anyone" {
			t.Errorf("results: %v", got)
		}
	}
	// A host that cannot watch (a replay, m2bbs upgrade -dry-run) says so.
	e := newTestEnv(t)
	e.L.PreloadModule("watch", (&Watch{IsSysop: func(*lua.LState) bool { return true }}).Loader)
	e.run(t, `ok, err = require('watch').start(conn, '42')`)
	if ok, err := e.L.GetGlobal("ok"), e.L.GetGlobal("err"); ok != lua.LNil || err.String() != "this host cannot watch callers" {
		t.Errorf("watch.start without a host: %v, %v", ok, err)
	}
}
