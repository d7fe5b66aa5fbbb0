package qwk

import (
	"archive/zip"
	"bytes"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// MaxBBSIDLen is the longest BBSID: a DOS file name's eight characters.
const MaxBBSIDLen = 8

// bbsidPattern is a BBSID: a letter, then letters or digits.
var bbsidPattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9]{0,7}$`)

// ValidBBSID reports whether id is a BBSID: 1 to MaxBBSIDLen letters and
// digits, starting with a letter.
func ValidBBSID(id string) bool { return bbsidPattern.MatchString(id) }

// Conference is a conference (message area) listed in CONTROL.DAT.
type Conference struct {
	Number int // 0 to MaxConference
	Name   string
}

// Packet is a QWK packet to write.
type Packet struct {
	// BBSID names the board (ValidBBSID); the packet is BBSID.QWK and
	// replies come back as BBSID.REP.
	BBSID string
	// BoardName, Location, Phone and Sysop are CONTROL.DAT's first lines.
	BoardName, Location, Phone, Sysop string
	// User is the caller the packet is for.
	User string
	// Created is when it was made, as the board's clock shows it.
	Created time.Time
	// Conferences are the conferences the caller may read and post in,
	// listed in CONTROL.DAT whether or not the packet holds messages of
	// theirs.
	Conferences []Conference
	// Messages are the messages, in the order they are written.
	Messages []Message
	// Door and Version name the program in DOOR.ID.
	Door, Version string
}

// producerLine fills MESSAGES.DAT's first block.
const producerLine = "Produced by m2bbs. QWK format by Sparkware."

// Zip writes the packet: a zip archive of MESSAGES.DAT, CONTROL.DAT,
// DOOR.ID, one NNN.NDX per conference with messages, and HEADERS.DAT if a
// message's field is longer than NameWidth.
func (p *Packet) Zip() ([]byte, error) {
	if !ValidBBSID(p.BBSID) {
		return nil, fmt.Errorf("qwk: BBSID %q: 1 to %d letters and digits, starting with a letter", p.BBSID, MaxBBSIDLen)
	}
	for _, c := range p.Conferences {
		if c.Number < 0 || c.Number > MaxConference {
			return nil, fmt.Errorf("qwk: conference %d out of range", c.Number)
		}
	}
	messages, index, headers, err := p.messages()
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	files := []struct {
		name string
		data []byte
	}{
		{"MESSAGES.DAT", messages},
		{"CONTROL.DAT", p.control()},
		{"DOOR.ID", p.doorID()},
	}
	if len(headers) > 0 {
		files = append(files, struct {
			name string
			data []byte
		}{"HEADERS.DAT", headers})
	}
	confs := make([]int, 0, len(index))
	for c := range index {
		confs = append(confs, c)
	}
	sort.Ints(confs)
	for _, c := range confs {
		files = append(files, struct {
			name string
			data []byte
		}{fmt.Sprintf("%03d.NDX", c), index[c]})
	}
	for _, f := range files {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: f.name, Method: zip.Deflate, Modified: p.Created})
		if err != nil {
			return nil, fmt.Errorf("qwk: zip %s: %w", f.name, err)
		}
		if _, err := w.Write(f.data); err != nil {
			return nil, fmt.Errorf("qwk: zip %s: %w", f.name, err)
		}
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("qwk: zip: %w", err)
	}
	return buf.Bytes(), nil
}

// messages lays out MESSAGES.DAT, each conference's NDX records and
// HEADERS.DAT.
func (p *Packet) messages() (dat []byte, index map[int][]byte, headers []byte, err error) {
	dat = make([]byte, BlockSize)
	putField(dat, []byte(producerLine))
	index = map[int][]byte{}
	var hdrs bytes.Buffer
	for i := range p.Messages {
		m := &p.Messages[i]
		if m.Number < 0 || m.Number > MaxNumber || m.ReplyTo < 0 || m.ReplyTo > MaxNumber {
			return nil, nil, nil, fmt.Errorf("qwk: message number %d or reference %d out of range", m.Number, m.ReplyTo)
		}
		if m.Conference < 0 || m.Conference > MaxConference {
			return nil, nil, nil, fmt.Errorf("qwk: conference %d out of range", m.Conference)
		}
		offset := len(dat)
		record := MSBIN(uint32(offset/BlockSize + 1))
		index[m.Conference] = append(append(index[m.Conference], record[:]...), byte(m.Conference))
		writeLongFields(&hdrs, offset, m)
		dat = m.encode(dat, m.Number, i+1)
	}
	return dat, index, hdrs.Bytes(), nil
}

// control is CONTROL.DAT, lines ended by CR LF.
func (p *Packet) control() []byte {
	lines := []string{
		p.BoardName, p.Location, p.Phone, p.Sysop,
		"00000," + strings.ToUpper(p.BBSID),
		p.Created.Format("01-02-2006,15:04:05"),
		strings.ToUpper(p.User),
		"", // Qmail menu file: none
		"0",
		strconv.Itoa(len(p.Messages)),
		strconv.Itoa(len(p.Conferences) - 1),
	}
	for _, c := range p.Conferences {
		lines = append(lines, strconv.Itoa(c.Number), c.Name)
	}
	lines = append(lines, "", "", "") // no HELLO, NEWS or GOODBYE files
	var out []byte
	for _, l := range lines {
		out = append(out, toCP437(l)...)
		out = append(out, '\r', '\n')
	}
	return out
}

// doorID is DOOR.ID. The board takes no control messages (ADD, DROP):
// areas are chosen on the board.
func (p *Packet) doorID() []byte {
	door := p.Door
	if door == "" {
		door = "m2bbs"
	}
	return []byte("DOOR = " + door + "\r\nVERSION = " + p.Version + "\r\nSYSTEM = " + door +
		"\r\nMIXEDCASE = YES\r\n")
}

// writeLongFields adds m's section to HEADERS.DAT if a field is longer
// than NameWidth in CP437: the section is named by the header's byte
// offset in MESSAGES.DAT, in hexadecimal.
func writeLongFields(w *bytes.Buffer, offset int, m *Message) {
	long := func(s string) bool { return len(toCP437(s)) > NameWidth }
	if !long(m.To) && !long(m.From) && !long(m.Subject) {
		return
	}
	fmt.Fprintf(w, "[%x]\r\n", offset)
	for _, kv := range [][2]string{{"Sender", m.From}, {"To", m.To}, {"Subject", m.Subject}} {
		w.WriteString(kv[0])
		w.WriteString(": ")
		w.Write(toCP437(kv[1]))
		w.WriteString("\r\n")
	}
	w.WriteString("\r\n")
}
