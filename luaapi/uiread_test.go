package luaapi

import (
	"fmt"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// readLines starts a coroutine that calls ui.read_lines(conn, req, args)
// and shows what it returned as one screen: the lines joined with '|',
// then the message of the last request.
func readLines(t *testing.T, e *testEnv, args string) func(args ...lua.LValue) (lua.ResumeState, error) {
	t.Helper()
	resume := e.coroutine(t, fmt.Sprintf(`
		local conn, req = ...
		local lines
		req, lines = ui.read_lines(conn, req%s)
		ui.display(conn, req, table.concat(lines, '|') .. ' / ' .. req.data.msg)
	`, args))
	e.run(t, `require 'ui'`)
	return resume
}

// answer resumes with the lines typed, expecting a prompt after each one
// but the last, which ends the coroutine.
func answer(t *testing.T, e *testEnv, resume func(args ...lua.LValue) (lua.ResumeState, error), typed ...string) {
	t.Helper()
	if st, err := resume(e.L.GetGlobal("conn"), e.L.GetGlobal("req")); st != lua.ResumeYield || err != nil {
		t.Fatalf("first resume: %v %v, want the first prompt", st, err)
	}
	for i, line := range typed {
		want := lua.ResumeYield
		if i == len(typed)-1 {
			want = lua.ResumeOK
		}
		if st, err := resume(e.request("7", line)); st != want || err != nil {
			t.Fatalf("after line %d: %v %v, want %v", i+1, st, err, want)
		}
	}
}

func TestUIReadLinesUntilALoneDot(t *testing.T) {
	e := newTestEnv(t)
	answer(t, e, readLines(t, e, ""), "Hello all,", " . ", "", ".")
	got := e.replier.messages(t)
	if len(got) != 5 {
		t.Fatalf("got %v, want four prompts and the result", got)
	}
	for i, m := range got[:4] {
		if m["type"] != "prompt" || m["msg"] != "" || m["pchar"] != fmt.Sprintf("%2d: ", i+1) {
			t.Errorf("prompt %d = %v", i+1, m)
		}
	}
	if got[4]["msg"] != "Hello all,| . | / ." {
		t.Errorf("result = %v, want the three lines before the lone dot", got[4])
	}
}

func TestUIReadLinesStopsAtTheLineLimit(t *testing.T) {
	e := newTestEnv(t)
	answer(t, e, readLines(t, e, ", 2"), "one", "two")
	got := e.replier.messages(t)
	if len(got) != 3 || got[2]["msg"] != "one|two / two" {
		t.Errorf("got %v, want two prompts and both lines", got)
	}
}

func TestUIReadLinesDefaultsToTheOriginalBoardsLimit(t *testing.T) {
	e := newTestEnv(t)
	typed := make([]string, DefaultMessageLines)
	for i := range typed {
		typed[i] = fmt.Sprint(i + 1)
	}
	answer(t, e, readLines(t, e, ""), typed...)
	got := e.replier.messages(t)
	if len(got) != DefaultMessageLines+1 || !strings.HasPrefix(got[DefaultMessageLines]["msg"].(string), "1|2|3|") {
		t.Errorf("got %d messages, want %d prompts and the result", len(got), DefaultMessageLines)
	}
}

func TestUIReadLinesStopsAtTheByteLimit(t *testing.T) {
	e := newTestEnv(t)
	resume := e.coroutine(t, `
		local conn, req = ...
		local lines
		req, lines = ui.read_lines(conn, req, 10)
		ui.display(conn, req, #lines .. ' lines')
	`)
	e.run(t, `require 'ui'`)
	big := strings.Repeat("x", MaxMessageBytes/2)
	answer(t, e, resume, big, big)
	got := e.replier.messages(t)
	if len(got) != 3 || got[2]["msg"] != "2 lines" {
		t.Errorf("got %d messages, want two prompts and '2 lines' (the limit reached)", len(got))
	}
}

func TestUIReadLinesWaitsInsidePcall(t *testing.T) {
	e := newTestEnv(t)
	resume := e.coroutine(t, `
		local conn, req = ...
		local ok, r, lines = pcall(ui.read_lines, conn, req, 3)
		ui.display(conn, r, tostring(ok) .. ' ' .. table.concat(lines, '|'))
	`)
	e.run(t, `require 'ui'`)
	answer(t, e, resume, "a", ".")
	got := e.replier.messages(t)
	if len(got) != 3 || got[2]["msg"] != "true a" {
		t.Errorf("got %v, want two prompts and 'true a'", got)
	}
}

func TestUIReadLinesRefusesABadLimit(t *testing.T) {
	e := newTestEnv(t)
	e.run(t, `require 'ui'`)
	for _, limit := range []string{"0", "1.5", "'ten'", fmt.Sprint(MaxMessageLines + 1)} {
		err := e.runErr(`ui.read_lines(conn, req, ` + limit + `)`)
		if err == nil || !strings.Contains(err.Error(), "the line limit must be a whole number from 1 to 1000") {
			t.Errorf("limit %s: err = %v, want the limit named", limit, err)
		}
	}
	if len(e.replier.replies) != 0 {
		t.Error("a bad limit still asked the caller")
	}
}

func TestUIReadLinesIgnoresLaterChangesToGlobals(t *testing.T) {
	e := newTestEnv(t)
	resume := readLines(t, e, ", 2")
	e.run(t, `math = nil`)
	answer(t, e, resume, "a", ".")
	if got := e.replier.messages(t); len(got) != 3 || got[1]["pchar"] != " 2: " {
		t.Errorf("got %v, want the second line numbered", got)
	}
}
