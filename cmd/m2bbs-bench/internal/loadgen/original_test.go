package loadgen

import (
	"errors"
	"strings"
	"testing"

	"github.com/m2bbs/m2bbs/host/message"
)

// fakeUILua is shaped like the original ui.lua (a module with a local
// SCREENS table of long and quoted strings); its texts are the tests' own.
const fakeUILua = `local coroutine = coroutine

module 'ui'

local SCREENS = {
    ['welcome'] = [[
<welcome>
]],
    ['name'] = "<name>",
    ['password'] = "<password>",
    ['new_user'] = "<new_user>",
    ['welcome_newbie'] = '<welcome_newbie>\n',
    ['motd'] = [[<motd>]],
    ['menu'] = [[
<menu>
]],
    ['leave_msg'] = "<leave_msg>\n",
    ['posted'] = "<posted>",
    ['read_msg'] = "<read_msg>\n",
    ['bye'] = "<bye>",
}

function display(conn, request, data)
end
`

func originalTexts(t *testing.T) OriginalTexts {
	t.Helper()
	texts, err := ParseOriginalTexts(fakeUILua)
	if err != nil {
		t.Fatal(err)
	}
	return texts
}

func TestParseOriginalTexts(t *testing.T) {
	texts := originalTexts(t)
	for name, want := range map[string]string{
		"welcome": "<welcome>\n", "name": "<name>", "welcome_newbie": "<welcome_newbie>\n", "menu": "<menu>\n",
	} {
		if texts[name] != want {
			t.Errorf("%s: %q, want %q", name, texts[name], want)
		}
	}
	if _, err := ParseOriginalTexts(strings.Replace(fakeUILua, "['bye']", "['ciao']", 1)); err == nil {
		t.Error("a ui.lua without the bye screen was accepted")
	}
	if _, err := ParseOriginalTexts("module 'ui'\n"); err == nil {
		t.Error("a ui.lua without SCREENS was accepted")
	}
}

// originalMessage is the text of a message the load generator posted,
// as the original's reader shows it.
var originalMessage = "From: someone\n" + strings.Join(DefaultLines, "\n") + "\n"

// play hands each exchange to v and checks what it does; it returns the
// number of round trips (actions other than Read).
func play(t *testing.T, v Script, visit []exchange) int {
	t.Helper()
	trips := 0
	for i, x := range visit {
		act, line, err := v.Handle(x.msg)
		if err != nil {
			t.Fatalf("exchange %d (%q): %v", i, x.msg.Msg, err)
		}
		if act != x.act || line != x.line {
			t.Fatalf("exchange %d (%q): %v %q, want %v %q", i, x.msg.Msg, act, line, x.act, x.line)
		}
		if act != Read {
			trips++
		}
	}
	return trips
}

func TestNewUserVisitIsThirteenRoundTrips(t *testing.T) {
	texts := originalTexts(t)
	v := NewUserVisit(texts, "ann")
	menu := prompt(texts["menu"], "> ")
	visit := []exchange{
		{screen(texts["welcome"]), Read, ""},
		{prompt("<name>", "> "), Answer, "ann"},
		{prompt("<password>", "> "), Answer, "pw-ann"},
		{prompt("<new_user>", "> "), Answer, "pw-ann"},
		{screen(texts["welcome_newbie"]), Read, ""},
		{prompt("<motd>", "> "), Answer, ""},
		{menu, Answer, "1"},
		{screen(texts["leave_msg"]), Read, ""},
		{prompt("From: ann\n---", ""), Answer, DefaultLines[0]},
		{prompt("", ""), Answer, DefaultLines[1]},
		{prompt("", ""), Answer, DefaultLines[2]},
		{prompt("", ""), Answer, "."},
		{screen("<posted>"), Read, ""},
		{menu, Answer, "2"},
		{screen(texts["read_msg"]), Read, ""},
		{screen("---- #7 -----"), Read, ""},
		{screen(originalMessage), Read, ""},
		{prompt("Enter, or Q", "> "), Answer, "Q"},
		{screen("Done."), Read, ""},
		{menu, Answer, "Q"},
		{exitMsg("<bye>"), Leave, ""},
	}
	if n := play(t, v, visit); n != 13 {
		t.Errorf("%d round trips, want 13", n)
	}
	if v.Posts != 1 || v.BoardCount != 8 || v.MessagesRead != 1 {
		t.Errorf("posts %d, board count %d, read %d; want 1, 8, 1", v.Posts, v.BoardCount, v.MessagesRead)
	}
}

func TestReturningVisitReadsDownToTheLastMessage(t *testing.T) {
	texts := originalTexts(t)
	v := ReturningVisit(texts, "bob", 50)
	menu := prompt(texts["menu"], "> ")
	visit := []exchange{
		{screen(texts["welcome"]), Read, ""},
		{prompt("<name>", "> "), Answer, "bob"},
		{prompt("<password>", "> "), Answer, "pw-bob"},
		{prompt("<motd>", "> "), Answer, ""},
		{menu, Answer, "2"},
		{screen(texts["read_msg"]), Read, ""},
	}
	// Two messages on the board: Enter on #1, Enter on #0 goes back to
	// the menu.
	for _, i := range []string{"1", "0"} {
		visit = append(visit,
			exchange{screen("---- #" + i + " -----"), Read, ""},
			exchange{screen(originalMessage), Read, ""},
			exchange{prompt("Enter", "> "), Answer, ""},
		)
	}
	visit = append(visit, exchange{menu, Answer, "Q"}, exchange{exitMsg("<bye>"), Leave, ""})
	if n := play(t, v, visit); n != 8 {
		t.Errorf("%d round trips, want 8", n)
	}
	if v.MessagesRead != 2 || v.BoardCount != 2 {
		t.Errorf("read %d, board count %d; want 2, 2", v.MessagesRead, v.BoardCount)
	}
}

func TestOriginalScriptRefusesTheUnexpected(t *testing.T) {
	texts := originalTexts(t)
	for name, visit := range map[string][]exchange{
		"wrong welcome":       {{screen("<other>"), Read, ""}},
		"bad password":        {{prompt("<name>", "> "), Answer, "ann"}, {prompt("<password>", "> "), Answer, "pw-ann"}, {exitMsg("<bad_pass>"), Read, ""}},
		"message out of turn": {{prompt("<name>", "> "), Answer, "ann"}, {prompt("<password>", "> "), Answer, "pw-ann"}, {prompt("<new_user>", "> "), Answer, "pw-ann"}, {prompt("<motd>", "> "), Answer, ""}, {prompt(texts["menu"], "> "), Answer, "1"}, {screen("<leave_msg>\n"), Read, ""}, {prompt("From: ann\n---", ""), Answer, DefaultLines[0]}, {screen("<posted>"), Read, ""}},
	} {
		t.Run(name, func(t *testing.T) {
			v := NewUserVisit(texts, "ann")
			var err error
			for _, x := range visit {
				if _, _, err = v.Handle(x.msg); err != nil {
					break
				}
			}
			if !errors.Is(err, ErrUnexpected) {
				t.Errorf("error %v, want ErrUnexpected", err)
			}
		})
	}
}

func exitMsg(msg string) message.Message { return message.Message{Type: message.TypeExit, Msg: msg} }

func TestOriginalScriptReadsAnEmptyBoard(t *testing.T) {
	texts := originalTexts(t)
	v := ReturningVisit(texts, "checker", 1)
	v.New = true
	visit := []exchange{
		{screen(texts["welcome"]), Read, ""},
		{prompt("<name>", "> "), Answer, "checker"},
		{prompt("<password>", "> "), Answer, "pw-checker"},
		{prompt("<new_user>", "> "), Answer, "pw-checker"},
		{screen(texts["welcome_newbie"]), Read, ""},
		{prompt("<motd>", "> "), Answer, ""},
		{prompt(texts["menu"], "> "), Answer, "2"},
		{screen(texts["read_msg"]), Read, ""},
		{screen("Nothing here."), Read, ""},
		{prompt(texts["menu"], "> "), Answer, "Q"},
		{exitMsg("<bye>"), Leave, ""},
	}
	play(t, v, visit)
	if v.BoardCount != 0 {
		t.Errorf("board count %d, want 0", v.BoardCount)
	}
}
