package screens

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/text/encoding/charmap"
)

// SAUCE (Standard Architecture for Universal Comment Extensions) is the
// metadata trailer of ANSI art files: an optional comment block and a
// 128-byte record at the very end of the file, after a Ctrl-Z (0x1A, the
// DOS end-of-file mark) that hides both from DOS-era viewers:
//
//	art ... 0x1A ["COMNT" + 64 bytes per comment line] "SAUCE00" + 121 bytes
//
// The record's fields, in order (numbers little-endian, text in CP437
// padded with spaces or NULs): ID "SAUCE" (5), version "00" (2), title
// (35), author (20), group (20), date CCYYMMDD (8), file size (4), data
// type (1), file type (1), TInfo1..4 (2 each), comment lines (1), TFlags
// (1), TInfoS (22, a NUL-terminated font name).

// Sizes of the parts of a SAUCE trailer.
const (
	sauceRecordBytes  = 128
	sauceCommentBytes = 64
	sauceCommentID    = "COMNT"
	sauceID           = "SAUCE"
)

// SAUCE data types and the file types of character data that the host
// shows as screens.
const (
	SauceDataNone      = 0
	SauceDataCharacter = 1

	SauceFileASCII      = 0
	SauceFileANSI       = 1
	SauceFileANSIMation = 2
)

// ErrBadSauce is returned for a file whose SAUCE record is damaged: a
// version other than "00", or a comment count with no comment block.
var ErrBadSauce = errors.New("bad SAUCE record")

// Sauce is a parsed SAUCE record. Text fields are decoded from CP437 to
// UTF-8 with their padding removed.
type Sauce struct {
	Title, Author, Group string
	// Date is CCYYMMDD as written (not checked: many tools leave it blank).
	Date string
	// FileSize is the size of the art the record describes, as written
	// (not checked: editors often get it wrong).
	FileSize           uint32
	DataType, FileType byte
	// TInfo1 to TInfo4 depend on the type; for character art TInfo1 is the
	// width in columns and TInfo2 the height in lines (see Width, Height).
	TInfo1, TInfo2, TInfo3, TInfo4 uint16
	// Flags is TFlags: for ANSI art, bit 0 is iCE colour (non-blink),
	// bits 1-2 the letter spacing and bits 3-4 the aspect ratio.
	Flags byte
	// Font is TInfoS: for ANSI art, the font the art was drawn in ("IBM VGA").
	Font string
	// Comments are the lines of the COMNT block, if any.
	Comments []string
}

// Width is the art's width in columns (TInfo1), or 0 if the record does
// not describe character art or leaves it unset.
func (s *Sauce) Width() int {
	if !s.isCharacter() {
		return 0
	}
	return int(s.TInfo1)
}

// Height is the art's height in lines (TInfo2), or 0 if unknown.
func (s *Sauce) Height() int {
	if !s.isCharacter() {
		return 0
	}
	return int(s.TInfo2)
}

// ICE reports iCE colour: the blink attribute means a bright background.
func (s *Sauce) ICE() bool { return s.isCharacter() && s.Flags&1 != 0 }

// LetterSpacing is the font width the art expects: 8 or 9 pixels, or 0 if
// the record does not say.
func (s *Sauce) LetterSpacing() int {
	switch (s.Flags >> 1) & 3 {
	case 1:
		return 8
	case 2:
		return 9
	}
	return 0
}

// AspectRatio is what the art expects of pixel shape: "stretch" (legacy
// displays' tall pixels), "square", or "" if the record does not say.
func (s *Sauce) AspectRatio() string {
	switch (s.Flags >> 3) & 3 {
	case 1:
		return "stretch"
	case 2:
		return "square"
	}
	return ""
}

func (s *Sauce) isCharacter() bool {
	return s.DataType == SauceDataCharacter || s.DataType == SauceDataNone
}

// SplitSauce separates a file's content from its SAUCE trailer. content
// ends before the first Ctrl-Z (everything after it is metadata or
// padding, as DOS viewers read it); rec is nil when the file has no
// SAUCE record. A record that is present but damaged is ErrBadSauce.
// SplitSauce keeps no reference to data beyond the returned content.
func SplitSauce(data []byte) (content []byte, rec *Sauce, err error) {
	content = data
	if len(data) >= sauceRecordBytes && bytes.HasPrefix(data[len(data)-sauceRecordBytes:], []byte(sauceID)) {
		rec, content, err = parseSauce(data)
		if err != nil {
			return nil, nil, err
		}
	}
	if i := bytes.IndexByte(content, 0x1A); i >= 0 {
		content = content[:i]
	}
	return content, rec, nil
}

// parseSauce reads the record at the end of data (which starts with
// "SAUCE") and the comment block before it, and returns the bytes before
// them.
func parseSauce(data []byte) (*Sauce, []byte, error) {
	start := len(data) - sauceRecordBytes
	r := data[start:]
	if string(r[5:7]) != "00" {
		return nil, nil, fmt.Errorf("%w: version %q, want \"00\"", ErrBadSauce, r[5:7])
	}
	le := binary.LittleEndian
	s := &Sauce{
		Title:    sauceText(r[7:42]),
		Author:   sauceText(r[42:62]),
		Group:    sauceText(r[62:82]),
		Date:     sauceText(r[82:90]),
		FileSize: le.Uint32(r[90:94]),
		DataType: r[94],
		FileType: r[95],
		TInfo1:   le.Uint16(r[96:98]),
		TInfo2:   le.Uint16(r[98:100]),
		TInfo3:   le.Uint16(r[100:102]),
		TInfo4:   le.Uint16(r[102:104]),
		Flags:    r[105],
		Font:     sauceZText(r[106:128]),
	}
	lines := int(r[104])
	if lines == 0 {
		return s, data[:start], nil
	}
	block := len(sauceCommentID) + lines*sauceCommentBytes
	if start < block || string(data[start-block:start-block+len(sauceCommentID)]) != sauceCommentID {
		return nil, nil, fmt.Errorf("%w: %d comment lines but no COMNT block before the record", ErrBadSauce, lines)
	}
	comments := data[start-block+len(sauceCommentID) : start]
	s.Comments = make([]string, lines)
	for i := range s.Comments {
		s.Comments[i] = sauceText(comments[i*sauceCommentBytes : (i+1)*sauceCommentBytes])
	}
	return s, data[:start-block], nil
}

// sauceText decodes a space- or NUL-padded CP437 field.
func sauceText(b []byte) string {
	return decodeCP437String(bytes.TrimRight(b, " \x00"))
}

// sauceZText decodes a NUL-terminated CP437 field (TInfoS).
func sauceZText(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return strings.TrimRight(decodeCP437String(b), " ")
}

// decodeCP437String decodes CP437 text of a metadata field: control bytes
// become spaces, so a field can never carry an escape sequence.
func decodeCP437String(b []byte) string {
	var out strings.Builder
	dec := charmap.CodePage437
	for _, c := range b {
		if c < 0x20 || c == 0x7F {
			out.WriteByte(' ')
			continue
		}
		out.WriteRune(dec.DecodeByte(c))
	}
	return out.String()
}
