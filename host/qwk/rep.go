package qwk

import (
	"archive/zip"
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Limits bound what ParseREP reads.
type Limits struct {
	// MaxPacketBytes bounds the REP archive.
	MaxPacketBytes int
	// MaxMessagesBytes bounds BBSID.MSG once unpacked.
	MaxMessagesBytes int
	// MaxMessages bounds the messages in it.
	MaxMessages int
	// MaxBlocks bounds one message's blocks, its header included.
	MaxBlocks int
}

// DefaultLimits are the limits of a caller's reply packet: 512 KiB
// archive, 1 MiB of messages, 100 messages of at most 256 blocks (about
// 32 KiB of text) each. A reader's replies are rarely more than a few
// KiB; the bounds keep what one REP writes in one transaction small.
var DefaultLimits = Limits{MaxPacketBytes: 512 << 10, MaxMessagesBytes: 1 << 20, MaxMessages: 100, MaxBlocks: 256}

// Fixed limits of a REP archive.
const (
	// MaxZipEntries bounds the files in a REP archive.
	MaxZipEntries = 16
	// MaxHeadersBytes bounds a REP's HEADERS.DAT.
	MaxHeadersBytes = 256 << 10
)

// ParseREP reads the reply packet zipped in data for the board bbsid:
// the messages of its BBSID.MSG, with the To and Subject of its
// HEADERS.DAT where it has them. Files other than those two are
// ignored. Every error is a *FormatError; no message is returned with
// one.
func ParseREP(data []byte, bbsid string, lim Limits) ([]Message, error) {
	if len(data) > lim.MaxPacketBytes {
		return nil, tooLarge(0, "reply packet of %d bytes (at most %d)", len(data), lim.MaxPacketBytes)
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, malformed(0, "not a zip archive: %v", err)
	}
	if len(zr.File) > MaxZipEntries {
		return nil, tooLarge(0, "%d files in the archive (at most %d)", len(zr.File), MaxZipEntries)
	}
	var msgFile, hdrFile *zip.File
	for _, f := range zr.File {
		switch {
		case strings.EqualFold(f.Name, bbsid+".MSG"):
			msgFile = f
		case strings.EqualFold(f.Name, "HEADERS.DAT"):
			hdrFile = f
		}
	}
	if msgFile == nil {
		return nil, malformed(0, "no %s.MSG in the archive", strings.ToUpper(bbsid))
	}
	msg, err := readEntry(msgFile, lim.MaxMessagesBytes)
	if err != nil {
		return nil, err
	}
	messages, offsets, err := ParseMessages(msg, bbsid, lim)
	if err != nil {
		return nil, err
	}
	if hdrFile != nil {
		hdrs, err := readEntry(hdrFile, MaxHeadersBytes)
		if err != nil {
			return nil, err
		}
		applyLongFields(messages, offsets, parseHeaders(hdrs))
	}
	return messages, nil
}

// readEntry unpacks a file of the archive, refusing more than limit
// bytes whatever the archive claims.
func readEntry(f *zip.File, limit int) ([]byte, error) {
	if f.UncompressedSize64 > uint64(limit) {
		return nil, tooLarge(0, "%s of %d bytes (at most %d)", f.Name, f.UncompressedSize64, limit)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, malformed(0, "%s: %v", f.Name, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, int64(limit)+1))
	if err != nil {
		return nil, malformed(0, "%s: %v", f.Name, err)
	}
	if len(b) > limit {
		return nil, tooLarge(0, "%s over %d bytes", f.Name, limit)
	}
	return b, nil
}

// ParseMessages reads BBSID.MSG for the board bbsid: its messages, and
// the byte offset of each one's header (what HEADERS.DAT's sections are
// named by). Every error is a *FormatError.
func ParseMessages(b []byte, bbsid string, lim Limits) ([]Message, []int, error) {
	if len(b) > lim.MaxMessagesBytes {
		return nil, nil, tooLarge(0, "%d bytes of messages (at most %d)", len(b), lim.MaxMessagesBytes)
	}
	if len(b) < BlockSize || len(b)%BlockSize != 0 {
		return nil, nil, malformed(len(b)/BlockSize*BlockSize, "%d bytes is not a whole number of %d-byte blocks", len(b), BlockSize)
	}
	if got := strings.TrimRight(string(b[:MaxBBSIDLen]), " \x00"); !strings.EqualFold(got, bbsid) {
		return nil, nil, malformed(0, "packet for board %q, not %q", clip(got), bbsid)
	}
	var messages []Message
	var offsets []int
	for off := BlockSize; off < len(b); {
		if len(messages) == lim.MaxMessages {
			return nil, nil, tooLarge(off, "more than %d messages", lim.MaxMessages)
		}
		m, blocks := decodeHeader(b[off : off+BlockSize])
		switch {
		case blocks < 1:
			return nil, nil, malformed(off+offBlocks, "block count %q is not a number of blocks", clip(string(b[off+offBlocks:off+offAlive])))
		case blocks > lim.MaxBlocks:
			return nil, nil, tooLarge(off+offBlocks, "message of %d blocks (at most %d)", blocks, lim.MaxBlocks)
		case off+blocks*BlockSize > len(b):
			return nil, nil, malformed(off+offBlocks, "message of %d blocks runs past the end", blocks)
		}
		if b[off+offAlive] != aliveDeleted { // a message the reader killed is skipped
			m.Lines = decodeText(b[off+BlockSize : off+blocks*BlockSize])
			messages = append(messages, m)
			offsets = append(offsets, off)
		}
		off += blocks * BlockSize
	}
	return messages, offsets, nil
}

// clip shortens text quoted in an error.
func clip(s string) string {
	const max = 32
	if len(s) > max {
		s = s[:max]
	}
	return strconv.Quote(s)[1 : len(strconv.Quote(s))-1]
}

// longFields are the fields of one HEADERS.DAT section.
type longFields map[string]string

// parseHeaders reads HEADERS.DAT: sections named by a hexadecimal
// offset, "Key: value" lines (keys without regard to case). Lines that
// are neither are skipped.
func parseHeaders(b []byte) map[int]longFields {
	out := map[int]longFields{}
	var cur longFields
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), MaxHeadersBytes)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
			cur = nil
			if off, err := strconv.ParseInt(line[1:len(line)-1], 16, 32); err == nil && off >= 0 {
				cur = longFields{}
				out[int(off)] = cur
			}
			continue
		}
		key, value, ok := strings.Cut(line, ":")
		if cur == nil || !ok {
			continue
		}
		cur[strings.ToLower(strings.TrimSpace(key))] = fromCP437([]byte(strings.TrimSpace(value)))
	}
	return out
}

// applyLongFields replaces the To and Subject of messages whose header
// offset has a section, where the section's value is longer and starts
// with the header's (a reader's HEADERS.DAT can only lengthen a field).
func applyLongFields(messages []Message, offsets []int, sections map[int]longFields) {
	for i, off := range offsets {
		sec := sections[off]
		if sec == nil {
			continue
		}
		m := &messages[i]
		if v := sec["to"]; len(v) > len(m.To) && strings.HasPrefix(v, m.To) {
			m.To = v
		}
		if v := sec["subject"]; len(v) > len(m.Subject) && strings.HasPrefix(v, m.Subject) {
			m.Subject = v
		}
	}
}

// BuildREP writes a reply packet for the board bbsid holding messages
// (each posted to its Conference), zipped as a reader uploads it, with a
// HEADERS.DAT for fields longer than NameWidth.
func BuildREP(bbsid string, messages []Message) ([]byte, error) {
	if !ValidBBSID(bbsid) {
		return nil, fmt.Errorf("qwk: BBSID %q: 1 to %d letters and digits, starting with a letter", bbsid, MaxBBSIDLen)
	}
	dat := make([]byte, BlockSize)
	putField(dat, []byte(strings.ToUpper(bbsid)))
	var hdrs bytes.Buffer
	for i := range messages {
		m := &messages[i]
		if m.Conference < 0 || m.Conference > MaxConference || m.ReplyTo < 0 || m.ReplyTo > MaxNumber {
			return nil, fmt.Errorf("qwk: conference %d or reference %d out of range", m.Conference, m.ReplyTo)
		}
		writeLongFields(&hdrs, len(dat), m)
		dat = m.encode(dat, int64(m.Conference), 0)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	files := [][2]string{{strings.ToUpper(bbsid) + ".MSG", string(dat)}}
	if hdrs.Len() > 0 {
		files = append(files, [2]string{"HEADERS.DAT", hdrs.String()})
	}
	for _, f := range files {
		w, err := zw.Create(f[0])
		if err != nil {
			return nil, fmt.Errorf("qwk: zip %s: %w", f[0], err)
		}
		if _, err := io.WriteString(w, f[1]); err != nil {
			return nil, fmt.Errorf("qwk: zip %s: %w", f[0], err)
		}
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("qwk: zip: %w", err)
	}
	return buf.Bytes(), nil
}
