package loadgen

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/m2bbs/m2bbs/host/message"
)

// fakeScreens are the texts the tests' board shows.
type fakeScreens map[string]string

func (s fakeScreens) Screen(name string) (string, error) {
	if text, ok := s[name]; ok {
		return text, nil
	}
	return "", fmt.Errorf("no screen %q", name)
}

func testBoard(t *testing.T) *Board {
	t.Helper()
	texts := fakeScreens{}
	for _, name := range boardScreens {
		texts[name] = "<" + name + ">"
	}
	texts["menu"] = "---(((MAIN MENU)))---\n1. Leave a message.\nQ. Quit."
	b, err := NewBoard(texts)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func prompt(msg, pchar string) message.Message {
	return message.Message{Type: message.TypePrompt, Msg: msg, PChar: pchar}
}

func screen(msg string) message.Message { return message.Message{Type: message.TypeScreen, Msg: msg} }

// exchange is one message from the board and what the caller should do.
type exchange struct {
	msg  message.Message
	act  Action
	line string
}

// menuPrompt is the menu as the board renders it: more items than the
// screen's, the same title line.
var menuPrompt = prompt("---(((MAIN MENU)))---\n1. Leave a message.\n5. Who's online.\nQ. Quit.", "> ")

// writing is a message written line by line and confirmed.
func writing(confirm string) []exchange {
	return []exchange{
		{screen("<leave_msg>"), Read, ""},
		{prompt("", " 1: "), Answer, DefaultLines[0]},
		{prompt("", " 2: "), Answer, DefaultLines[1]},
		{prompt("", " 3: "), Answer, DefaultLines[2]},
		{prompt("", " 4: "), Answer, "."},
		{screen(confirm), Read, ""},
	}
}

func wholeVisit(isNew bool) []exchange {
	x := []exchange{
		{prompt("<welcome>", "> "), Answer, "ann"},
		{prompt("<password>", "> "), Answer, "pw"},
	}
	if isNew {
		x = append(x, exchange{prompt("<new_user>", "> "), Answer, "pw"}, exchange{screen("Welcome aboard"), Read, ""})
	}
	x = append(x, exchange{prompt("<motd>", "> "), Answer, "y"}, exchange{menuPrompt, Answer, "1"})
	x = append(x, writing("<posted>")...)
	x = append(x,
		exchange{menuPrompt, Answer, "2"},
		exchange{screen("Messages, newest first."), Read, ""},
		exchange{prompt("--- 1 of 7 ---\nFrom: bob\nhi", readerPChar), Answer, "Q"},
		exchange{menuPrompt, Answer, "3"},
		exchange{prompt("<send_to>", "> "), Answer, "bob"},
	)
	x = append(x, writing("<sent>")...)
	return append(x,
		exchange{menuPrompt, Answer, "4"},
		exchange{prompt("From: bob\nhello", inboxPChar), Answer, ""},
		exchange{prompt("From: cy\nhey", inboxPChar), Answer, ""},
		exchange{menuPrompt, Answer, "Q"},
		exchange{message.Message{Type: message.TypeExit, Msg: "<bye>"}, Leave, ""},
	)
}

func TestBoardScriptPlaysAWholeVisit(t *testing.T) {
	for _, isNew := range []bool{true, false} {
		t.Run(fmt.Sprintf("new=%v", isNew), func(t *testing.T) {
			b := testBoard(t)
			v := b.Visit("ann", "pw", isNew, nil, "bob")
			if v.Step() != "connect" {
				t.Errorf("first step %q, want connect", v.Step())
			}
			var steps []string
			for i, x := range wholeVisit(isNew) {
				act, line, err := v.Handle(x.msg)
				if err != nil || act != x.act || line != x.line {
					t.Fatalf("message %d %+v: got %v %q %v, want %v %q", i, x.msg, act, line, err, x.act, x.line)
				}
				if act == Answer {
					steps = append(steps, v.Step())
				}
			}
			want := []string{"name", "password", "password again", "MOTD", "menu 1", "message line", "message line", "message line", "end of message",
				"menu 2", "reader Q", "menu 3", "recipient", "message line", "message line", "message line", "end of message",
				"menu 4", "inbox Enter", "inbox Enter", "menu Q"}
			if !isNew {
				want = slices.Delete(want, 2, 3)
			}
			if !slices.Equal(steps, want) {
				t.Errorf("steps %q\nwant %q", steps, want)
			}
			if v.Posts != 1 || v.Mails != 1 || v.MailsRead != 2 || v.BoardCount != 7 {
				t.Errorf("posts %d mails %d read %d board %d, want 1 1 2 7", v.Posts, v.Mails, v.MailsRead, v.BoardCount)
			}
			wantUsers := 0
			if isNew {
				wantUsers = 1
			}
			if got := b.Users.Len(); got != wantUsers {
				t.Errorf("%d users recorded, want %d", got, wantUsers)
			}
		})
	}
}

func TestBoardScriptRefusesTheUnexpected(t *testing.T) {
	login := []message.Message{prompt("<welcome>", "> "), prompt("<password>", "> "), prompt("<motd>", "> ")}
	tests := []struct {
		name   string
		before []message.Message
		bad    message.Message
	}{
		{"wrong password", login[:2], message.Message{Type: message.TypeExit, Msg: "<bad_pass>"}},
		{"menu before the login", login[:1], menuPrompt},
		{"new-user prompt for a returning user", login[:2], prompt("<new_user>", "> ")},
		{"menu error", append(login, menuPrompt), screen("<menu_error>")},
		{"confirmation before the end of the message", append(login, menuPrompt, prompt("", " 1: ")), screen("<posted>")},
		{"mail confirmed for a post", append(login, menuPrompt, prompt("", " 1: "), prompt("", " 2: "), prompt("", " 3: "), prompt("", " 4: ")), screen("<sent>")},
		{"goodbye before quitting", login, message.Message{Type: message.TypeExit, Msg: "<bye>"}},
		{"unknown prompt", login, prompt("What is your quest?", "> ")},
		{"unknown message type", nil, message.Message{Type: "beep"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := testBoard(t).Visit("ann", "pw", false, nil, "bob")
			for i, m := range tt.before {
				if _, _, err := v.Handle(m); err != nil {
					t.Fatalf("message %d: %v", i, err)
				}
			}
			if _, _, err := v.Handle(tt.bad); !errors.Is(err, ErrUnexpected) {
				t.Fatalf("err = %v, want ErrUnexpected", err)
			}
		})
	}
}

func TestBoardScriptParksWhenThePlanEnds(t *testing.T) {
	v := testBoard(t).Visit("ann", "pw", false, []string{}, "")
	for _, m := range []message.Message{prompt("<welcome>", "> "), prompt("<password>", "> "), prompt("<motd>", "> ")} {
		if _, _, err := v.Handle(m); err != nil {
			t.Fatal(err)
		}
	}
	if act, _, err := v.Handle(menuPrompt); act != Park || err != nil {
		t.Fatalf("at the menu: %v %v, want park", act, err)
	}
}

func TestVisitsComeBackAsReturningUsers(t *testing.T) {
	b := testBoard(t)
	b.Users.Add("seed")
	visits := b.Visits("caller")
	first := visits(3, 0).(*BoardScript)
	later := visits(3, 1).(*BoardScript)
	if first.Name != "caller3" || !first.New || later.Name != "caller3" || later.New || first.Password != later.Password {
		t.Fatalf("first %+v, later %+v", first, later)
	}
	if first.MailTo != "seed" {
		t.Errorf("mail goes to %q, want the only other user", first.MailTo)
	}
}

func TestDirectoryPicksSomeoneElse(t *testing.T) {
	var d Directory
	if got := d.Pick("ann", 0); got != "" {
		t.Errorf("empty directory picked %q", got)
	}
	d.Add("ann")
	if got := d.Pick("ann", 5); got != "" {
		t.Errorf("picked %q, want nobody but ann's self", got)
	}
	d.Add("bob")
	d.Add("cy")
	var got []string
	for k := range 4 {
		got = append(got, d.Pick("bob", k))
	}
	if want := []string{"ann", "cy", "cy", "ann"}; !slices.Equal(got, want) {
		t.Errorf("picks %q, want %q", got, want)
	}
}

func TestEchoScriptChecksEveryEcho(t *testing.T) {
	e := NewEchoScript(3)
	act, line, err := e.Handle(prompt("connect", "> "))
	if act != Answer || err != nil {
		t.Fatalf("first echo: %v %v", act, err)
	}
	if act, _, err = e.Handle(prompt(line, "> ")); act != Answer || err != nil {
		t.Fatalf("second echo: %v %v", act, err)
	}
	if _, _, err := e.Handle(prompt("something else", "> ")); err == nil {
		t.Fatal("a wrong echo was accepted")
	}
	e = NewEchoScript(1)
	if act, _, err := e.Handle(prompt("connect", "> ")); act != HangUp || err != nil {
		t.Fatalf("one-round-trip visit: %v %v, want hang up", act, err)
	}
}
