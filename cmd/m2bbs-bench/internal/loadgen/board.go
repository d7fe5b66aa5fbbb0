package loadgen

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/m2bbs/m2bbs/host/message"
)

// Screens looks up the text of a screen by name, as the board shows it
// (screens.Snapshot and screens.Dir implement it).
type Screens interface {
	Screen(name string) (string, error)
}

// ErrUnexpected is wrapped by the errors of a BoardScript that met a
// message its visit did not expect.
var ErrUnexpected = errors.New("unexpected message")

// DefaultPlan is the menu choices of a whole visit: leave a message, read
// messages, send a private message, read the inbox, quit.
var DefaultPlan = []string{"1", "2", "3", "4", "Q"}

// DefaultLines are the lines of every message a BoardScript writes.
var DefaultLines = []string{"Hello from the load generator.", "This is the second line,", "and this the third."}

// boardScreens are the screens whose texts identify the board's prompts
// and replies.
var boardScreens = []string{"welcome", "password", "new_user", "motd", "menu", "send_to", "posted", "sent", "bye", "no_such_user", "menu_error"}

// Prompt characters of the board's message reader and inbox, and the
// shape of the line prompts of its message editor ("%2d: ").
const (
	readerPChar = "[Enter/Q] "
	inboxPChar  = "[Enter] "
)

var (
	linePChar   = regexp.MustCompile(`^ ?[0-9]+: $`)
	readerTitle = regexp.MustCompile(`^--- [0-9]+ of ([0-9]+) ---`)
)

// Board knows the shipped board (scripts/bbs.lua) well enough to play it:
// the texts its prompts show, and the users registered so far, to send
// private messages to.
type Board struct {
	texts map[string]string
	// Users are the names callers may send private messages to.
	Users *Directory
}

// NewBoard reads the texts of the board's screens.
func NewBoard(screens Screens) (*Board, error) {
	b := &Board{texts: make(map[string]string), Users: &Directory{}}
	for _, name := range boardScreens {
		text, err := screens.Screen(name)
		if err != nil {
			return nil, fmt.Errorf("loadgen: board screen: %w", err)
		}
		b.texts[name] = text
	}
	return b, nil
}

// Visit returns the script of one visit by user name: registering first if
// isNew (and then recording them in Users), then the menu choices of plan
// (DefaultPlan if nil; a plan not ending in "Q" parks the caller at the
// menu). Private messages go to mailTo.
func (b *Board) Visit(name, password string, isNew bool, plan []string, mailTo string) *BoardScript {
	if plan == nil {
		plan = DefaultPlan
	}
	v := &BoardScript{
		board: b, Name: name, Password: password, New: isNew, Plan: plan,
		Lines: DefaultLines, MailTo: mailTo, BoardCount: -1,
	}
	if isNew {
		v.OnLogin = b.Users.Add
	}
	return v
}

// Visits is the ScriptFactory of the load test: caller i is user
// prefix+i, registering on their first visit and coming back as a
// returning user on every later one; each visit follows DefaultPlan and
// sends its private message to another registered user (Users must hold
// at least one user before the first visit starts: see Seed).
func (b *Board) Visits(prefix string) ScriptFactory {
	return func(caller, visit int) Script {
		name := prefix + strconv.Itoa(caller)
		return b.Visit(name, "pw-"+name, visit == 0, nil, b.Users.Pick(name, caller+visit))
	}
}

// Directory is the list of registered users; safe for concurrent use.
type Directory struct {
	mu    sync.Mutex
	names []string
}

// Add records a registered user.
func (d *Directory) Add(name string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.names = append(d.names, name)
}

// Len is the number of users recorded.
func (d *Directory) Len() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.names)
}

// Pick returns the k-th user (modulo their number) that is not self, or
// "" if there is none.
func (d *Directory) Pick(self string, k int) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := len(d.names)
	for i := range n {
		if name := d.names[(k+i)%n]; name != self {
			return name
		}
	}
	return ""
}

// visitState is where a BoardScript is in its visit.
type visitState int

const (
	atStart    visitState = iota // "connect" sent
	sentName                     // name typed
	sentPass                     // password typed
	sentRepeat                   // password typed again (new user)
	atMenu                       // a menu choice or the MOTD answer sent: the menu comes next
	composing                    // typing a message's lines
	composed                     // "." sent: the confirmation comes next
	reading                      // in the message reader
	addressing                   // asked whom to send to
	inInbox                      // reading private messages
	quitting                     // "Q" sent
	parked                       // plan done, sitting at the menu
)

// BoardScript is one visit to the shipped board. It checks every message
// against the visit it expects and fails on anything else, so a run
// counts wrong screens as errors, not as round trips. Its counters say
// what the visit achieved.
type BoardScript struct {
	board          *Board
	Name, Password string
	// New says the caller registers (types the password twice).
	New bool
	// Plan is the menu choices, in order.
	Plan []string
	// Lines are the lines of each message written.
	Lines []string
	// MailTo receives the private message of menu choice 3.
	MailTo string
	// OnLogin, if set, is called once the board has accepted the caller
	// (its MOTD shows).
	OnLogin func(name string)

	// Posts and Mails count the messages and private messages the board
	// confirmed; MailsRead the private messages read.
	Posts, Mails, MailsRead int
	// BoardCount is the number of messages on the board the message
	// reader showed (-1 if the visit did not read messages).
	BoardCount int

	state    visitState
	step     string
	next     int  // index into Plan
	line     int  // index into Lines while composing
	mail     bool // composing a private message (else a post)
	readSeen bool
}

// PostPending says the visit sent a post's last line and had no
// confirmation yet: cut off there, the post may or may not be on the
// board.
func (v *BoardScript) PostPending() bool { return v.state == composed && !v.mail }

// Step names what the caller last typed ("connect" before anything):
// "name", "password", "password again", "MOTD", "menu 1", "message line",
// "end of message", "reader Q", "recipient", "inbox Enter"... Run sorts
// round trips by it.
func (v *BoardScript) Step() string {
	if v.step == "" {
		return "connect"
	}
	return v.step
}

// Handle implements Script.
func (v *BoardScript) Handle(m message.Message) (Action, string, error) {
	switch m.Type {
	case message.TypeScreen:
		return v.screen(m)
	case message.TypeExit:
		if v.state == quitting && m.Msg == v.board.texts["bye"] {
			return Leave, "", nil
		}
		return Read, "", v.unexpected(m)
	case message.TypePrompt:
		return v.prompt(m)
	}
	return Read, "", v.unexpected(m)
}

func (v *BoardScript) screen(m message.Message) (Action, string, error) {
	t := v.board.texts
	switch m.Msg {
	case t["posted"], t["sent"]:
		if v.state != composed || (m.Msg == t["sent"]) != v.mail {
			return Read, "", v.unexpected(m)
		}
		if v.mail {
			v.Mails++
		} else {
			v.Posts++
		}
		v.state = atMenu
	case t["no_such_user"], t["menu_error"]:
		return Read, "", v.unexpected(m)
	}
	return Read, "", nil
}

func (v *BoardScript) prompt(m message.Message) (Action, string, error) {
	t := v.board.texts
	switch {
	case m.Msg == t["welcome"] && v.state == atStart:
		v.state, v.step = sentName, "name"
		return Answer, v.Name, nil
	case m.Msg == t["password"] && v.state == sentName:
		v.state, v.step = sentPass, "password"
		return Answer, v.Password, nil
	case m.Msg == t["new_user"] && v.state == sentPass && v.New:
		v.state, v.step = sentRepeat, "password again"
		return Answer, v.Password, nil
	case m.Msg == t["motd"] && (v.state == sentRepeat || v.state == sentPass && !v.New):
		if v.OnLogin != nil {
			v.OnLogin(v.Name)
		}
		v.state, v.step = atMenu, "MOTD"
		return Answer, "y", nil
	case firstLine(m.Msg) == firstLine(t["menu"]) && (v.state == atMenu || v.state == reading || v.state == inInbox):
		return v.menu()
	case m.Msg == "" && linePChar.MatchString(m.PChar) && v.state == composing:
		if v.line < len(v.Lines) {
			v.line++
			v.step = "message line"
			return Answer, v.Lines[v.line-1], nil
		}
		v.state, v.step = composed, "end of message"
		return Answer, ".", nil
	case m.PChar == readerPChar && v.state == reading:
		if !v.readSeen {
			v.readSeen = true
			if sub := readerTitle.FindStringSubmatch(m.Msg); sub != nil {
				v.BoardCount, _ = strconv.Atoi(sub[1])
			}
		}
		v.step = "reader Q"
		return Answer, "Q", nil
	case m.Msg == t["send_to"] && v.state == addressing:
		v.state, v.line, v.mail, v.step = composing, 0, true, "recipient"
		return Answer, v.MailTo, nil
	case m.PChar == inboxPChar && v.state == inInbox:
		v.MailsRead++
		v.step = "inbox Enter"
		return Answer, "", nil
	}
	return Read, "", v.unexpected(m)
}

// firstLine is text up to its first newline. The main menu is known by
// its title line, the menu screen's first: the board may list more items
// than the screen.
func firstLine(text string) string {
	line, _, _ := strings.Cut(text, "\n")
	return line
}

// menu makes the plan's next choice.
func (v *BoardScript) menu() (Action, string, error) {
	if v.next >= len(v.Plan) {
		v.state = parked
		return Park, "", nil
	}
	choice := v.Plan[v.next]
	v.next++
	v.step = "menu " + choice
	switch strings.ToUpper(choice) {
	case "1":
		v.state, v.line, v.mail = composing, 0, false
	case "2":
		v.state = reading
	case "3":
		v.state = addressing
	case "4":
		v.state = inInbox
	case "Q":
		v.state = quitting
	default:
		return Read, "", fmt.Errorf("loadgen: plan choice %q is not on the menu", choice)
	}
	return Answer, choice, nil
}

var stateNames = [...]string{
	atStart: "starting", sentName: "after the name", sentPass: "after the password",
	sentRepeat: "after the password again", atMenu: "at the menu", composing: "writing a message",
	composed: "after sending a message", reading: "reading messages", addressing: "addressing a message",
	inInbox: "reading the inbox", quitting: "quitting", parked: "parked at the menu",
}

// unexpected describes a message that does not fit the visit.
func (v *BoardScript) unexpected(m message.Message) error {
	text := m.Msg
	if i := strings.IndexByte(text, '\n'); i >= 0 {
		text = text[:i] + "..."
	}
	if len(text) > 60 {
		text = text[:60] + "..."
	}
	return fmt.Errorf("loadgen: %w: %s %q (pchar %q) %s, user %s", ErrUnexpected, m.Type, text, m.PChar, stateNames[v.state], v.Name)
}
