package qwk

import (
	"encoding/binary"
	"strconv"
	"strings"
	"time"
)

// BlockSize is the size of every block of MESSAGES.DAT and BBSID.MSG.
const BlockSize = 128

// Widths of the header's text fields, in bytes.
const (
	// NameWidth is the width of the To, From and Subject fields; longer
	// values go to HEADERS.DAT.
	NameWidth = 25
	// MaxNumber is the largest message number the 7-byte number field
	// holds (and the 8-byte reference field takes).
	MaxNumber = 9_999_999
	// MaxConference is the largest conference number.
	MaxConference = 65535
)

// Offsets of a header block's fields.
const (
	offStatus   = 0
	offNumber   = 1
	offDate     = 8
	offTime     = 16
	offTo       = 21
	offFrom     = 46
	offSubject  = 71
	offPassword = 96
	offRef      = 108
	offBlocks   = 116
	offAlive    = 122
	offConf     = 123
	offLogical  = 125
	offNetTag   = 127
)

// Values of the alive flag.
const (
	aliveActive  = 0xE1
	aliveDeleted = 0xE2
)

// Message is one message of a packet or a reply packet, its text in
// UTF-8.
type Message struct {
	// Conference is the conference (message area) it is in; in a REP,
	// the one it is posted to.
	Conference int
	// Number is the board's number for it in a packet (at most
	// MaxNumber); unused in a REP.
	Number int64
	// Private marks private mail (status '+' or '*').
	Private bool
	// To, From and Subject are the whole fields: Zip writes what does
	// not fit NameWidth to HEADERS.DAT.
	To, From, Subject string
	// Written is when it was written, as the board's clock shows it
	// (QWK has no time zone); minutes only.
	Written time.Time
	// ReplyTo is the number of the message it answers (0: none).
	ReplyTo int64
	// Lines are its text's lines.
	Lines []string
}

// encode appends m's header and text blocks to dst: numberField is the
// header's number field (the message's number in a packet, the
// conference in a REP), logical its logical number.
func (m *Message) encode(dst []byte, numberField int64, logical int) []byte {
	text := encodeText(m.Lines)
	textBlocks := max(1, (len(text)+BlockSize-1)/BlockSize)
	var h [BlockSize]byte
	h[offStatus] = ' '
	if m.Private {
		h[offStatus] = '+'
	}
	putField(h[offNumber:offDate], []byte(strconv.FormatInt(numberField, 10)))
	putField(h[offDate:offTime], []byte(m.Written.Format("01-02-06")))
	putField(h[offTime:offTo], []byte(m.Written.Format("15:04")))
	putField(h[offTo:offFrom], toCP437(m.To))
	putField(h[offFrom:offSubject], toCP437(m.From))
	putField(h[offSubject:offPassword], toCP437(m.Subject))
	putField(h[offPassword:offRef], nil)
	ref := ""
	if m.ReplyTo > 0 {
		ref = strconv.FormatInt(m.ReplyTo, 10)
	}
	putField(h[offRef:offBlocks], []byte(ref))
	putField(h[offBlocks:offAlive], []byte(strconv.Itoa(1+textBlocks)))
	h[offAlive] = aliveActive
	binary.LittleEndian.PutUint16(h[offConf:], uint16(m.Conference))
	binary.LittleEndian.PutUint16(h[offLogical:], uint16(min(logical, MaxConference)))
	h[offNetTag] = ' '
	dst = append(dst, h[:]...)
	dst = append(dst, text...)
	for pad := textBlocks*BlockSize - len(text); pad > 0; pad-- {
		dst = append(dst, ' ')
	}
	return dst
}

// decodeHeader reads the header block h of a reply: the message (without
// its text) and the number of blocks it claims, header included (0 if the
// field is not a number).
func decodeHeader(h []byte) (Message, int) {
	m := Message{
		Private: h[offStatus] == '+' || h[offStatus] == '*',
		To:      field(h[offTo:offFrom]),
		From:    field(h[offFrom:offSubject]),
		Subject: field(h[offSubject:offPassword]),
	}
	// A REP's number field holds the conference; some readers leave it
	// blank and set only the binary field.
	if n, ok := number(h[offNumber:offDate]); ok && n <= MaxConference {
		m.Conference = int(n)
	} else {
		m.Conference = int(binary.LittleEndian.Uint16(h[offConf:]))
	}
	if n, ok := number(h[offRef:offBlocks]); ok {
		m.ReplyTo = n
	}
	if t, err := time.Parse("01-02-06 15:04", string(h[offDate:offTime])+" "+string(h[offTime:offTo])); err == nil {
		m.Written = t
	}
	blocks, _ := number(h[offBlocks:offAlive])
	return m, int(blocks)
}

// number reads a space-padded decimal field; ok is false for anything
// but digits (at least one) between spaces.
func number(b []byte) (int64, bool) {
	s := strings.Trim(string(b), " \x00")
	if s == "" || len(s) > 10 {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}
