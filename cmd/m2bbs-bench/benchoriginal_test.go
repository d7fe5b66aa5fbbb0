package main

import (
	"errors"
	"strings"
	"testing"
)

// fakeOriginalMain is shaped like the original bbs.lua: a require of the
// mongrel2 module, an entry function, and a closing block that connects
// to Mongrel2 and runs the engine. Its text is the test's own.
const fakeOriginalMain = `local strict = require 'strict'
local m2 = require 'mongrel2'
local ui = require 'ui'

local function m2bbs(conn)
    local req = coroutine.yield()
end


do
  -- start-up
  local config = {}
  setfenv(assert(loadfile('config.lua')), config)()
  local ctx = mongrel2.new(config.io_threads)
  local conn = ctx:new_connection(config.sender_id, config.sub_addr, config.pub_addr)
  engine.run(conn, m2bbs)
end
`

func TestEditOriginalMain(t *testing.T) {
	got, err := editOriginalMain([]byte(fakeOriginalMain))
	if err != nil {
		t.Fatal(err)
	}
	src := string(got)
	for _, gone := range []string{"mongrel2", "loadfile", "engine.run"} {
		if strings.Contains(src, gone) {
			t.Errorf("the edited script still holds %q:\n%s", gone, src)
		}
	}
	if !strings.HasSuffix(src, "end\n\n\nreturn m2bbs\n") || !strings.Contains(src, "local ui = require 'ui'\n") {
		t.Errorf("edited script:\n%s", src)
	}
	if _, err := editOriginalMain([]byte("local m2 = require 'mongrel2'\nreturn 1\n")); err == nil {
		t.Error("a script without the start-up block was accepted")
	}
}

func TestPrepareOriginalSkipsMissingFiles(t *testing.T) {
	o := &benchOptions{tmp: t.TempDir(), original: t.TempDir()}
	if _, _, err := o.prepareOriginal(); !errors.Is(err, errNoOriginal) {
		t.Errorf("error %v, want errNoOriginal", err)
	}
}

func TestPostTallyAllowsPostsPendingAtTheCutOff(t *testing.T) {
	var p postTally
	p.add(5, false)
	p.add(2, true) // cut off after sending a post's last line
	for _, c := range []struct{ onBoard, lost int }{
		{8, 0},   // seed + 7 confirmed
		{9, 0},   // and the pending one
		{7, 1},   // one confirmed post missing
		{10, -1}, // one post nobody sent
	} {
		if got := p.lost(1, c.onBoard); got != c.lost {
			t.Errorf("%d on the board: lost %d, want %d", c.onBoard, got, c.lost)
		}
	}
}
