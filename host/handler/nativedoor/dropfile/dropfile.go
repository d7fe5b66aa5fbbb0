// Package dropfile writes the drop files native door programs read to
// learn who called them: DOOR32.SYS, DOOR.SYS, DORINFO1.DEF and CHAIN.TXT,
// each written from its published format description (lines of text ending
// in CR LF, as DOS programs expect). It also reads DOOR32.SYS and DOOR.SYS
// back, for door programs written in Go and for tests.
//
// Everything a caller chose (their name, alias, location) is made safe
// before it is written: only printable ASCII (anything else becomes '?'),
// at most MaxFieldBytes, so that no caller can add a line to a drop file
// or feed a DOS door bytes it does not expect.
package dropfile

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Kind names a drop file format.
type Kind string

// The formats this package writes.
const (
	Door32  Kind = "door32.sys"   // Mystic/EleBBS's DOOR32.SYS: 11 lines, a socket handle
	DoorSys Kind = "door.sys"     // the GAP/PCBoard DOOR.SYS: 52 lines
	DorInfo Kind = "dorinfo1.def" // the RBBS/QuickBBS DORINFO1.DEF: 13 lines
	Chain   Kind = "chain.txt"    // WWIV's CHAIN.TXT: 32 lines
)

// Kinds lists every format, in a fixed order.
func Kinds() []Kind { return []Kind{Door32, DoorSys, DorInfo, Chain} }

// ParseKind returns the Kind named s (case-insensitive), or an error.
func ParseKind(s string) (Kind, error) {
	for _, k := range Kinds() {
		if strings.EqualFold(s, string(k)) {
			return k, nil
		}
	}
	return "", fmt.Errorf("unknown drop file %q (want door32.sys, door.sys, dorinfo1.def or chain.txt)", s)
}

// FileName is the name the file is written under: upper case, as DOS
// doors look for it (Linux file names are case-sensitive).
func (k Kind) FileName() string { return strings.ToUpper(string(k)) }

// MaxFieldBytes bounds every text field written to a drop file.
const MaxFieldBytes = 64

// Comm types of DOOR32.SYS's first line.
const (
	CommLocal  = 0 // no connection: the door uses its standard input and output
	CommSerial = 1
	CommTelnet = 2 // Handle is a socket the door inherited
)

// Caller is what a drop file tells a door about its caller.
type Caller struct {
	// Name is the caller's login name; Alias their handle (Name when
	// empty); RealName their real name (Name when empty).
	Name, Alias, RealName string
	// Location is where they call from ("" is written as "Unknown").
	Location string
	// UserNumber is the caller's record number, from 1 (1 when zero).
	UserNumber int
	// Level is the caller's security level.
	Level int
	// TimeLeft is what is left of the caller's time for this call.
	TimeLeft time.Duration
	// ANSI says the caller's terminal shows ANSI colour and cursor moves.
	ANSI bool
	// Width and Height are the terminal's size (80×24 when zero).
	Width, Height int
	// Node is the caller's node number, from 1.
	Node int
	// CommType and Handle are DOOR32.SYS's comm type and handle: CommTelnet
	// and 3 for a door given the connection as its fd 3, CommLocal and 0
	// for a door on its standard input and output.
	CommType, Handle int
	// BBSName and SysopName name the board and its sysop.
	BBSName, SysopName string
	// Now is when the door starts (for the dates and times some formats
	// carry); the zero time is written as time.Now.
	Now time.Time
}

// baud is the connection speed drop files report: doors use it only to
// pace output, and a socket has none; 38400 is what boards usually write.
const baud = 38400

// Write returns the drop file of kind k for c.
func Write(k Kind, c Caller) ([]byte, error) {
	c = c.clean()
	var lines []string
	switch k {
	case Door32:
		lines = door32Lines(c)
	case DoorSys:
		lines = doorSysLines(c)
	case DorInfo:
		lines = dorInfoLines(c)
	case Chain:
		lines = chainLines(c)
	default:
		return nil, fmt.Errorf("write drop file: unknown kind %q", k)
	}
	return []byte(strings.Join(lines, "\r\n") + "\r\n"), nil
}

// clean fills in the defaults and makes every text field safe.
func (c Caller) clean() Caller {
	c.Name = Safe(c.Name)
	c.Alias = Safe(c.Alias)
	c.RealName = Safe(c.RealName)
	c.Location = Safe(c.Location)
	c.BBSName = Safe(c.BBSName)
	c.SysopName = Safe(c.SysopName)
	if c.Alias == "" {
		c.Alias = c.Name
	}
	if c.RealName == "" {
		c.RealName = c.Name
	}
	if c.Location == "" {
		c.Location = "Unknown"
	}
	if c.BBSName == "" {
		c.BBSName = "m2bbs"
	}
	if c.SysopName == "" {
		c.SysopName = "Sysop"
	}
	if c.UserNumber < 1 {
		c.UserNumber = 1
	}
	if c.Width <= 0 {
		c.Width = 80
	}
	if c.Height <= 0 {
		c.Height = 24
	}
	if c.Node < 1 {
		c.Node = 1
	}
	if c.TimeLeft < 0 {
		c.TimeLeft = 0
	}
	if c.Now.IsZero() {
		c.Now = time.Now()
	}
	return c
}

// Safe returns s as a drop file may hold it: printable ASCII only (any
// other rune becomes '?'), at most MaxFieldBytes, without leading or
// trailing spaces.
func Safe(s string) string {
	var b strings.Builder
	for _, r := range s {
		if b.Len() >= MaxFieldBytes {
			break
		}
		if r < 0x20 || r > 0x7e {
			r = '?'
		}
		b.WriteRune(r)
	}
	return strings.TrimSpace(b.String())
}

// minutes is d in whole minutes, rounded down.
func minutes(d time.Duration) int { return int(d / time.Minute) }

// seconds is d in whole seconds, rounded down.
func seconds(d time.Duration) int { return int(d / time.Second) }

// split returns the first word of s and the rest ("" when s is one word).
func split(s string) (first, rest string) {
	first, rest, _ = strings.Cut(s, " ")
	return first, strings.TrimSpace(rest)
}

// yesNo is "Y" or "N".
func yesNo(b bool) string {
	if b {
		return "Y"
	}
	return "N"
}

// oneZero is "1" or "0".
func oneZero(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// itoa is fmt.Sprint of an int.
func itoa(n int) string { return fmt.Sprint(n) }

// door32Lines are DOOR32.SYS's 11 lines.
func door32Lines(c Caller) []string {
	emulation := 0 // ASCII
	if c.ANSI {
		emulation = 1
	}
	return []string{
		itoa(c.CommType),
		itoa(c.Handle),
		itoa(baud),
		c.BBSName,
		itoa(c.UserNumber),
		c.RealName,
		c.Alias,
		itoa(c.Level),
		itoa(minutes(c.TimeLeft)),
		itoa(emulation),
		itoa(c.Node),
	}
}

// doorSysLines are DOOR.SYS's 52 lines.
func doorSysLines(c Caller) []string {
	date := c.Now.Format("01/02/06")
	graphics := "NG"
	if c.ANSI {
		graphics = "GR"
	}
	return []string{
		"COM0:", // 1: a local port: the door talks to its standard input and output
		itoa(baud),
		"8",
		itoa(c.Node),
		itoa(baud),
		"Y", "N", "Y", "Y", // 6-9: screen on, printer off, page bell, caller alarm
		c.RealName,
		c.Location,
		"000-000-0000", "000-000-0000", // 12-13: phone numbers are not kept
		"", // 14: the password is never written
		itoa(c.Level),
		"1", // 16: times on
		date,
		itoa(seconds(c.TimeLeft)),
		itoa(minutes(c.TimeLeft)),
		graphics,
		itoa(c.Height),
		"N",      // 22: expert mode
		"1", "1", // 23-24: conferences
		"12/31/99", // 25: expiration
		itoa(c.UserNumber),
		"Z",                     // 27: default protocol
		"0", "0", "0", "999999", // 28-31: uploads, downloads, K today, K a day
		"01/01/70", // 32: birth date
		"", "",     // 33-34: paths of the user file and gen folder
		c.SysopName,
		c.Alias,
		"00:00",               // 37: event time
		"Y",                   // 38: error correcting
		yesNo(c.ANSI),         // 39: ANSI in NG mode
		"Y",                   // 40: record locking
		"7",                   // 41: default colour
		"0",                   // 42: time credits
		date,                  // 43: last new-files scan
		c.Now.Format("15:04"), // 44: time of this call
		c.Now.Format("15:04"), // 45: time of last call
		"9999", "0", "0", "0", // 46-49: files a day, today, K up, K down
		"",       // 50: comment
		"0", "0", // 51-52: doors opened, messages left
	}
}

// dorInfoLines are DORINFO1.DEF's 13 lines.
func dorInfoLines(c Caller) []string {
	sysFirst, sysLast := split(c.SysopName)
	first, last := split(c.RealName)
	graphics := "0"
	if c.ANSI {
		graphics = "1"
	}
	return []string{
		c.BBSName,
		sysFirst, sysLast,
		"COM0",
		fmt.Sprintf("%d BAUD,N,8,1", baud),
		"0",
		first, last,
		c.Location,
		graphics,
		itoa(c.Level),
		itoa(minutes(c.TimeLeft)),
		"-1", // a FOSSIL driver: what DOS doors under an emulator want
	}
}

// chainLines are CHAIN.TXT's 32 lines.
func chainLines(c Caller) []string {
	midnight := time.Date(c.Now.Year(), c.Now.Month(), c.Now.Day(), 0, 0, 0, 0, c.Now.Location())
	return []string{
		itoa(c.UserNumber),
		c.Alias,
		c.RealName,
		"",   // 4: callsign
		"21", // 5: age
		"M",  // 6: sex
		"0",  // 7: gold
		c.Now.Format("01/02/06"),
		itoa(c.Width),
		itoa(c.Height),
		itoa(c.Level),
		"0", "0", // 12-13: co-sysop, sysop
		oneZero(c.ANSI),
		"1", // 15: remote
		itoa(seconds(c.TimeLeft)),
		"", "", "", // 17-19: gfiles path, data path, log file
		itoa(baud),
		"0", // 21: com port (local)
		c.BBSName,
		c.SysopName,
		itoa(int(c.Now.Sub(midnight) / time.Second)),
		"0",                // 25: seconds online
		"0", "0", "0", "0", // 26-29: K up, uploads, K down, downloads
		"8N1",
		itoa(baud),
		itoa(c.Node),
	}
}

// MaxFileBytes bounds a drop file Parse reads.
const MaxFileBytes = 16 << 10

// ErrTooLong is Parse's error for a drop file over MaxFileBytes.
var ErrTooLong = errors.New("drop file longer than 16 KiB")

// Info is what a door learns from a DOOR32.SYS or DOOR.SYS.
type Info struct {
	CommType, Handle int    // DOOR32.SYS only
	Name             string // the real name (DOOR32.SYS line 6, DOOR.SYS line 10)
	Alias            string // the handle (DOOR32.SYS line 7, DOOR.SYS line 36)
	Level            int
	TimeLeft         time.Duration
	ANSI             bool
	Node             int
}

// ParseError says which line of a drop file could not be read.
type ParseError struct {
	Kind Kind
	Line int // from 1
	Err  error
}

// Error says which file and line.
func (e *ParseError) Error() string {
	return fmt.Sprintf("%s line %d: %v", e.Kind.FileName(), e.Line, e.Err)
}

// Unwrap returns what was wrong with the line.
func (e *ParseError) Unwrap() error { return e.Err }

// Parse reads a DOOR32.SYS or DOOR.SYS (lines ending in CR LF or LF).
func Parse(k Kind, b []byte) (Info, error) {
	if len(b) > MaxFileBytes {
		return Info{}, ErrTooLong
	}
	lines := strings.Split(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n")
	p := parser{kind: k, lines: lines}
	var in Info
	switch k {
	case Door32:
		in.CommType = p.int(1)
		in.Handle = p.int(2)
		in.Name = p.text(6)
		in.Alias = p.text(7)
		in.Level = p.int(8)
		in.TimeLeft = time.Duration(p.int(9)) * time.Minute
		in.ANSI = p.int(10) > 0
		in.Node = p.int(11)
	case DoorSys:
		in.Node = p.int(4)
		in.Name = p.text(10)
		in.Level = p.int(15)
		in.TimeLeft = time.Duration(p.int(18)) * time.Second
		in.ANSI = p.text(20) == "GR"
		in.Alias = p.text(36)
	default:
		return Info{}, fmt.Errorf("parse drop file: %s is not read, only written", k.FileName())
	}
	return in, p.err
}

// parser reads numbered lines, keeping the first error.
type parser struct {
	kind  Kind
	lines []string
	err   error
}

// text returns line n (from 1), trimmed.
func (p *parser) text(n int) string {
	if n > len(p.lines) {
		p.fail(n, errors.New("missing"))
		return ""
	}
	return strings.TrimSpace(p.lines[n-1])
}

// int returns line n as a number.
func (p *parser) int(n int) int {
	s := p.text(n)
	v, err := strconv.Atoi(s)
	if err != nil {
		p.fail(n, fmt.Errorf("%q is not a number", s))
	}
	return v
}

func (p *parser) fail(n int, err error) {
	if p.err == nil {
		p.err = &ParseError{Kind: p.kind, Line: n, Err: err}
	}
}
