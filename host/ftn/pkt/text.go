package pkt

import (
	"bytes"
	"strings"
)

// Limits on what ParseText keeps.
const (
	// MaxKludges is the most kludge lines kept per message; more are
	// dropped.
	MaxKludges = 200
	// MaxNetNodes is the most SEEN-BY or PATH entries read per message.
	MaxNetNodes = 4000
)

// Kludge is a control line, written "^ANAME: value" (or "^ANAME value"
// for INTL, FMPT, TOPT and other old ones).
type Kludge struct {
	Name  string // e.g. "MSGID"
	Value string
	// Colon reports the "NAME: value" form.
	Colon bool
}

// String returns the kludge's line without its ^A.
func (k Kludge) String() string {
	if k.Colon {
		return k.Name + ": " + k.Value
	}
	if k.Value == "" {
		return k.Name
	}
	return k.Name + " " + k.Value
}

// Text is a message text split into its parts. Strings are the packet's
// bytes.
type Text struct {
	// Area is the echo's tag from the first line "AREA:TAG"; "" for
	// netmail.
	Area string
	// Kludges are the ^A lines before and within the body, in order,
	// PATH and Via excepted.
	Kludges []Kludge
	// Lines are the body's lines, tear and origin lines excluded.
	Lines []string
	// Tear is the tear line's text after "---" (trimmed); HasTear
	// reports whether there was one.
	Tear    string
	HasTear bool
	// Origin is the origin line's text after " * Origin: "; "" if none.
	Origin string
	// SeenBy and Path are the SEEN-BY and ^APATH lists.
	SeenBy, Path []NetNode
	// Via are the trailing kludges (netmail's ^AVia lines), in order.
	Via []Kludge
}

// Kludge returns the value of the first kludge of that name (case
// sensitive, as the standards write them) and whether there was one.
func (t *Text) Kludge(name string) (string, bool) {
	for _, k := range t.Kludges {
		if k.Name == name {
			return k.Value, true
		}
	}
	return "", false
}

// SetKludge replaces the first kludge of that name, or adds it.
func (t *Text) SetKludge(name, value string) {
	for i, k := range t.Kludges {
		if k.Name == name {
			t.Kludges[i].Value = value
			return
		}
	}
	t.Kludges = append(t.Kludges, Kludge{Name: name, Value: value, Colon: colonKludge(name)})
}

// colonKludge reports whether a kludge is written "NAME: value".
func colonKludge(name string) bool {
	switch name {
	case "INTL", "FMPT", "TOPT", "Via":
		return false
	}
	return true
}

// ParseText splits a message text into its parts. It never fails: lines
// it does not recognise are body lines.
func ParseText(b []byte) Text {
	var t Text
	raw := strings.Split(string(bytes.ReplaceAll(b, []byte("\n"), nil)), "\r")
	if n := len(raw); n > 0 && raw[n-1] == "" {
		raw = raw[:n-1]
	}
	if len(raw) > 0 && strings.HasPrefix(raw[0], "AREA:") {
		t.Area = strings.TrimSpace(raw[0][len("AREA:"):])
		raw = raw[1:]
	}
	var seenBy, path []string
	seenTail := false // past the origin line: SEEN-BY, PATH, Via
	for _, line := range raw {
		switch {
		case strings.HasPrefix(line, "\x01"):
			k := parseKludge(line[1:])
			switch {
			case k.Name == "":
				// a bare ^A: nothing to keep
			case k.Name == "PATH":
				path = append(path, k.Value)
			case k.Name == "Via" || seenTail:
				t.Via = appendKludge(t.Via, k)
			default:
				t.Kludges = appendKludge(t.Kludges, k)
			}
		case strings.HasPrefix(line, "SEEN-BY:"):
			seenBy = append(seenBy, line[len("SEEN-BY:"):])
			seenTail = true
		case seenTail:
			// Text after SEEN-BY is not body; keep it as a body line
			// anyway rather than lose it.
			t.Lines = append(t.Lines, line)
		case strings.HasPrefix(line, " * Origin: "):
			t.Origin = line[len(" * Origin: "):]
			seenTail = true
		case line == "---" || strings.HasPrefix(line, "--- "):
			if t.HasTear {
				t.Lines = append(t.Lines, "---"+prefixedTear(t.Tear))
			}
			t.Tear, t.HasTear = strings.TrimSpace(line[3:]), true
		default:
			if t.HasTear { // a tear line that was not the last one
				t.Lines = append(t.Lines, "---"+prefixedTear(t.Tear))
				t.Tear, t.HasTear = "", false
			}
			t.Lines = append(t.Lines, line)
		}
	}
	t.SeenBy = ParseNetNodes(seenBy, MaxNetNodes)
	t.Path = ParseNetNodes(path, MaxNetNodes)
	return t
}

// prefixedTear is a tear text as it followed "---".
func prefixedTear(s string) string {
	if s == "" {
		return ""
	}
	return " " + s
}

// appendKludge appends k unless list holds MaxKludges already.
func appendKludge(list []Kludge, k Kludge) []Kludge {
	if len(list) >= MaxKludges {
		return list
	}
	return append(list, k)
}

// parseKludge reads a kludge line without its ^A.
func parseKludge(s string) Kludge {
	i := strings.IndexAny(s, ": ")
	if i < 0 {
		return Kludge{Name: s}
	}
	if s[i] == ':' {
		return Kludge{Name: s[:i], Value: strings.TrimLeft(s[i+1:], " "), Colon: true}
	}
	return Kludge{Name: s[:i], Value: strings.TrimLeft(s[i+1:], " ")}
}

// Bytes writes t as a message text: lines ended by CR, in the order
// AREA, kludges, body, tear, origin, SEEN-BY, PATH, Via. SEEN-BY and
// PATH lines are cut to 79 bytes; a body line that would read back as an
// origin, SEEN-BY or AREA line gets a leading space.
func (t *Text) Bytes() []byte {
	var b bytes.Buffer
	line := func(s string) {
		b.WriteString(s)
		b.WriteByte('\r')
	}
	if t.Area != "" {
		line("AREA:" + t.Area)
	}
	for _, k := range t.Kludges {
		line("\x01" + k.String())
	}
	for i, l := range t.Lines {
		l = strings.ReplaceAll(l, "\r", "")
		// A body line that would read back as an origin, SEEN-BY or AREA
		// line is indented, so that the text parses to the same parts.
		if strings.HasPrefix(l, " * Origin: ") || strings.HasPrefix(l, "SEEN-BY:") || (i == 0 && t.Area == "" && strings.HasPrefix(l, "AREA:")) {
			l = " " + l
		}
		line(l)
	}
	if t.HasTear {
		line("---" + prefixedTear(t.Tear))
	}
	if t.Origin != "" {
		line(" * Origin: " + t.Origin)
	}
	for _, l := range FormatNetNodes("SEEN-BY: ", t.SeenBy, 79) {
		line(l)
	}
	for _, l := range FormatNetNodes("\x01PATH: ", t.Path, 79) {
		line(l)
	}
	for _, k := range t.Via {
		line("\x01" + k.String())
	}
	return b.Bytes()
}

// OriginAddr returns the address at the end of an origin line, in its
// last parentheses, and whether there was a valid one.
func OriginAddr(origin string) (Addr, bool) {
	i := strings.LastIndexByte(origin, '(')
	j := strings.LastIndexByte(origin, ')')
	if i < 0 || j < i {
		return Addr{}, false
	}
	a, err := ParseAddr(origin[i+1 : j])
	return a, err == nil
}

// MsgIDAddr returns the address a MSGID or REPLY value starts with
// ("2:5020/1.2 1a2b3c4d"), and whether it is one.
func MsgIDAddr(id string) (Addr, bool) {
	f, _, _ := strings.Cut(strings.TrimSpace(id), " ")
	a, err := ParseAddr(f)
	return a, err == nil
}
