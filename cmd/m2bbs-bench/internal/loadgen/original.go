package loadgen

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/m2bbs/m2bbs/host/message"
)

// OriginalTexts are the texts of the 2010 board's screens, by name, as its
// ui.lua holds them in a local SCREENS table. The project carries no copy
// of the original: the bench reads them from the file at run time.
type OriginalTexts map[string]string

// originalScreens are the screens an OriginalScript checks messages
// against.
var originalScreens = []string{"welcome", "name", "password", "new_user", "welcome_newbie", "motd", "menu", "leave_msg", "posted", "read_msg", "bye"}

// ParseOriginalTexts evaluates the SCREENS table of the original ui.lua
// source and returns its texts. It fails if a screen the visits need is
// missing.
func ParseOriginalTexts(uiLua string) (OriginalTexts, error) {
	start := strings.Index(uiLua, "local SCREENS")
	if start < 0 {
		return nil, fmt.Errorf("loadgen: ui.lua: no local SCREENS table")
	}
	end := strings.Index(uiLua[start:], "\n}")
	if end < 0 {
		return nil, fmt.Errorf("loadgen: ui.lua: the SCREENS table does not end")
	}
	chunk := uiLua[start:start+end+2] + "\nreturn SCREENS\n"
	L := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer L.Close()
	fn, err := L.LoadString(chunk)
	if err != nil {
		return nil, fmt.Errorf("loadgen: ui.lua's SCREENS: %w", err)
	}
	L.Push(fn)
	if err := L.PCall(0, 1, nil); err != nil {
		return nil, fmt.Errorf("loadgen: ui.lua's SCREENS: %w", err)
	}
	tbl, ok := L.Get(-1).(*lua.LTable)
	if !ok {
		return nil, fmt.Errorf("loadgen: ui.lua's SCREENS is not a table")
	}
	texts := OriginalTexts{}
	tbl.ForEach(func(k, v lua.LValue) {
		if ks, ok := k.(lua.LString); ok {
			if vs, ok := v.(lua.LString); ok {
				texts[string(ks)] = string(vs)
			}
		}
	})
	for _, name := range originalScreens {
		if _, ok := texts[name]; !ok {
			return nil, fmt.Errorf("loadgen: ui.lua has no %q screen", name)
		}
	}
	return texts, nil
}

// The original's message reader shows each message under a header
// naming its index ("#N"), counting down to 0.
var originalHeader = regexp.MustCompile(`#([0-9]+)`)

// originalState is where an OriginalScript is in its visit.
type originalState int

const (
	oStart     originalState = iota // "connect" sent: the welcome screen and the name prompt come
	oName                           // name typed
	oPass                           // password typed
	oRepeat                         // password typed again (new user)
	oMenu                           // the menu comes next
	oWriting                        // writing a message's lines
	oWritten                        // "." sent: "posted" comes next
	oReadStart                      // menu 2 chosen: the reader's title comes
	oReading                        // a message header came: its text comes
	oReadText                       // its text came: the reader's prompt comes
	oReadDone                       // Q typed in the reader: a screen, then the menu
	oQuit                           // Q typed at the menu
	oParked                         // plan done, sitting at the menu
)

// OriginalScript is one visit to the original 2010 board (Mongrel2's
// examples/bbs, bbs.lua and ui.lua) as m2bbs runs it: log in or register,
// then the menu choices of Plan: "1" writes a message of Lines, "2" reads
// up to Reads messages (Enter on each but the last, Q on that one), "Q"
// quits. Every message is checked: the screens against the original's
// texts, the reader's messages against the lines the load generator
// posts, so a wrong screen is an error, not a round trip.
type OriginalScript struct {
	texts          OriginalTexts
	Name, Password string
	New            bool
	Plan           []string
	Lines          []string
	// Reads is how many messages a "2" reads (at least 1).
	Reads int

	// Posts counts the messages the board confirmed, MessagesRead those
	// read; BoardCount is the number of messages on the board the reader
	// showed first (-1 if the visit did not read).
	Posts, MessagesRead, BoardCount int

	state originalState
	step  string
	next  int // index into Plan
	line  int // index into Lines while writing
	read  int // messages read in this "2"
	index int // the current message's index
	// titled says the reader's title came.
	titled bool
}

// NewUserVisit is the original's new-user visit of 13 prompt round
// trips: register, write a three-line message, read one message, quit.
func NewUserVisit(texts OriginalTexts, name string) *OriginalScript {
	return &OriginalScript{texts: texts, Name: name, Password: "pw-" + name, New: true,
		Plan: []string{"1", "2", "Q"}, Lines: DefaultLines, Reads: 1, BoardCount: -1}
}

// ReturningVisit is the original's returning-user visit: log in once,
// read reads messages, quit (reads + 6 round trips).
func ReturningVisit(texts OriginalTexts, name string, reads int) *OriginalScript {
	return &OriginalScript{texts: texts, Name: name, Password: "pw-" + name,
		Plan: []string{"2", "Q"}, Lines: DefaultLines, Reads: reads, BoardCount: -1}
}

// SeedVisit registers name and leaves posts messages, for returning users
// to log in as and read.
func SeedVisit(texts OriginalTexts, name string, posts int) *OriginalScript {
	plan := make([]string, 0, posts+1)
	for range posts {
		plan = append(plan, "1")
	}
	return &OriginalScript{texts: texts, Name: name, Password: "pw-" + name, New: true,
		Plan: append(plan, "Q"), Lines: DefaultLines, Reads: 1, BoardCount: -1}
}

// PostPending says the visit sent a message's last line and had no
// confirmation yet: cut off there, the post may or may not be on the
// board.
func (v *OriginalScript) PostPending() bool { return v.state == oWritten }

// Step implements Stepper: "name", "password", "password again", "MOTD",
// "menu 1", "message line", "end of message", "reader Enter", "reader
// Q"...
func (v *OriginalScript) Step() string {
	if v.step == "" {
		return "connect"
	}
	return v.step
}

// Handle implements Script.
func (v *OriginalScript) Handle(m message.Message) (Action, string, error) {
	switch m.Type {
	case message.TypeScreen:
		return Read, "", v.screen(m)
	case message.TypeExit:
		if v.state == oQuit && m.Msg == v.texts["bye"] {
			return Leave, "", nil
		}
	case message.TypePrompt:
		return v.prompt(m)
	}
	return Read, "", v.unexpected(m)
}

// screen checks a screen against the state.
func (v *OriginalScript) screen(m message.Message) error {
	t := v.texts
	switch {
	case v.state == oStart && m.Msg == t["welcome"],
		v.state == oRepeat && m.Msg == t["welcome_newbie"],
		v.state == oWriting && v.line == 0 && m.Msg == t["leave_msg"],
		v.state == oReadDone:
		return nil
	case v.state == oReadStart && m.Msg == t["read_msg"] && !v.titled:
		v.titled = true
		return nil
	case v.state == oWritten && m.Msg == t["posted"]:
		v.Posts++
		v.state = oMenu
		return nil
	case v.state == oReadStart && v.titled || v.state == oReadText:
		sub := originalHeader.FindStringSubmatch(m.Msg)
		if sub == nil && v.state == oReadStart && v.BoardCount < 0 {
			// An empty board says so instead; the menu comes next.
			v.BoardCount, v.state = 0, oReadDone
			return nil
		}
		if sub == nil {
			break
		}
		i, _ := strconv.Atoi(sub[1])
		if v.state == oReadText && i != v.index-1 {
			break
		}
		if v.BoardCount < 0 {
			v.BoardCount = i + 1
		}
		v.index, v.state = i, oReading
		return nil
	case v.state == oReading && strings.HasSuffix(m.Msg, "\n"+strings.Join(v.Lines, "\n")+"\n"):
		v.state = oReadText
		v.MessagesRead++
		return nil
	}
	return v.unexpected(m)
}

// prompt answers a prompt the state expects.
func (v *OriginalScript) prompt(m message.Message) (Action, string, error) {
	t := v.texts
	switch {
	case v.state == oStart && m.Msg == t["name"]:
		v.state, v.step = oName, "name"
		return Answer, v.Name, nil
	case v.state == oName && m.Msg == t["password"]:
		v.state, v.step = oPass, "password"
		return Answer, v.Password, nil
	case v.state == oPass && v.New && m.Msg == t["new_user"]:
		v.state, v.step = oRepeat, "password again"
		return Answer, v.Password, nil
	case (v.state == oRepeat || v.state == oPass && !v.New) && m.Msg == t["motd"]:
		v.state, v.step = oMenu, "MOTD"
		return Answer, "", nil
	case (v.state == oMenu || v.state == oReadDone) && m.Msg == t["menu"]:
		return v.menu()
	case v.state == oWriting && m.PChar == "" && (v.line > 0 || strings.Contains(m.Msg, v.Name)):
		if v.line < len(v.Lines) {
			v.line++
			v.step = "message line"
			return Answer, v.Lines[v.line-1], nil
		}
		v.state, v.step = oWritten, "end of message"
		return Answer, ".", nil
	case v.state == oReadText:
		v.read++
		switch {
		case v.index == 0:
			// The last message: Enter goes back to the menu.
			v.state, v.step = oMenu, "reader Enter"
			return Answer, "", nil
		case v.read >= max(v.Reads, 1):
			v.state, v.step = oReadDone, "reader Q"
			return Answer, "Q", nil
		}
		v.step = "reader Enter"
		return Answer, "", nil
	}
	return Read, "", v.unexpected(m)
}

// menu makes the plan's next choice.
func (v *OriginalScript) menu() (Action, string, error) {
	if v.next >= len(v.Plan) {
		v.state = oParked
		return Park, "", nil
	}
	choice := v.Plan[v.next]
	v.next++
	v.step = "menu " + choice
	switch choice {
	case "1":
		v.state, v.line = oWriting, 0
	case "2":
		v.state, v.read, v.titled = oReadStart, 0, false
	case "Q":
		v.state = oQuit
	default:
		return Read, "", fmt.Errorf("loadgen: plan choice %q is not one the original visit plays", choice)
	}
	return Answer, choice, nil
}

var originalStateNames = [...]string{
	oStart: "starting", oName: "after the name", oPass: "after the password", oRepeat: "after the password again",
	oMenu: "at the menu", oWriting: "writing a message", oWritten: "after sending a message",
	oReadStart: "opening the reader", oReading: "after a message's header", oReadText: "after a message",
	oReadDone: "leaving the reader", oQuit: "quitting", oParked: "parked at the menu",
}

// unexpected describes a message that does not fit the visit.
func (v *OriginalScript) unexpected(m message.Message) error {
	text := m.Msg
	if i := strings.IndexByte(text, '\n'); i >= 0 {
		text = text[:i] + "..."
	}
	if len(text) > 60 {
		text = text[:60] + "..."
	}
	return fmt.Errorf("loadgen: %w: %s %q (pchar %q) %s, user %s (original board)", ErrUnexpected, m.Type, text, m.PChar, originalStateNames[v.state], v.Name)
}
