// Package qwktest reads QWK packets for tests, written from the format's
// description independently of package qwk (it imports nothing of it),
// so that a test of qwk's writer does not read back with the writer's own
// mistakes. It is small and strict: any departure from the layout is an
// error.
package qwktest

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// Msg is one message as read from MESSAGES.DAT (and HEADERS.DAT).
type Msg struct {
	Record     int  // the header's block number, the first block being 1
	Offset     int  // the header's byte offset
	Status     byte // the status byte
	Number     int
	Date, Time string
	To, From   string
	Subject    string
	Ref        int
	Blocks     int
	Conference int
	Text       []string // lines, split at 0xE3, CP437 bytes as they are
	// Long holds HEADERS.DAT's "Key: value" lines of its section.
	Long map[string]string
}

// Packet is a QWK packet as read.
type Packet struct {
	Files   []string          // the archive's file names
	Control []string          // CONTROL.DAT's lines
	DoorID  map[string]string // DOOR.ID's KEY = VALUE lines
	Msgs    []Msg
	// Index maps a conference's NDX file name to the record numbers it
	// lists, decoded from Microsoft Binary Format.
	Index map[string][]int
	// Confs maps conference numbers to names, from CONTROL.DAT.
	Confs map[int]string
}

// Read reads a zipped QWK packet.
func Read(data []byte) (*Packet, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{}
	p := &Packet{DoorID: map[string]string{}, Index: map[string][]int{}, Confs: map[int]string{}}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			return nil, err
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return nil, err
		}
		files[strings.ToUpper(f.Name)] = b
		p.Files = append(p.Files, f.Name)
	}
	if err := p.readControl(files["CONTROL.DAT"]); err != nil {
		return nil, err
	}
	for _, l := range strings.Split(string(files["DOOR.ID"]), "\r\n") {
		if k, v, ok := strings.Cut(l, "="); ok {
			p.DoorID[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	if err := p.readMessages(files["MESSAGES.DAT"]); err != nil {
		return nil, err
	}
	p.readHeaders(files["HEADERS.DAT"])
	for name, b := range files {
		if !strings.HasSuffix(name, ".NDX") {
			continue
		}
		if len(b)%5 != 0 {
			return nil, fmt.Errorf("%s: %d bytes is not whole 5-byte records", name, len(b))
		}
		for i := 0; i < len(b); i += 5 {
			p.Index[name] = append(p.Index[name], mbf(b[i:i+4]))
		}
	}
	return p, nil
}

// mbf decodes a Microsoft Binary Format single: value = 0.1m × 2^(e-128).
func mbf(b []byte) int {
	e := int(b[3])
	if e == 0 {
		return 0
	}
	frac := 0.5 // the hidden leading bit, after the point
	bits := []byte{b[2] & 0x7f, b[1], b[0]}
	weight := 0.25
	for i, by := range bits {
		start := 7
		if i == 0 {
			start = 6
		}
		for bit := start; bit >= 0; bit-- {
			if by&(1<<bit) != 0 {
				frac += weight
			}
			weight /= 2
		}
	}
	return int(math.Round(frac * math.Pow(2, float64(e-128))))
}

func (p *Packet) readControl(b []byte) error {
	if b == nil {
		return errors.New("no CONTROL.DAT")
	}
	lines := strings.Split(string(b), "\r\n")
	if len(lines) < 11 {
		return fmt.Errorf("CONTROL.DAT has %d lines", len(lines))
	}
	p.Control = lines
	n, err := strconv.Atoi(lines[10])
	if err != nil {
		return fmt.Errorf("CONTROL.DAT line 11: %v", err)
	}
	for i := 0; i <= n; i++ {
		if 12+2*i >= len(lines) {
			return errors.New("CONTROL.DAT: conference list cut short")
		}
		num, err := strconv.Atoi(lines[11+2*i])
		if err != nil {
			return fmt.Errorf("CONTROL.DAT conference %d: %v", i, err)
		}
		p.Confs[num] = lines[12+2*i]
	}
	return nil
}

func (p *Packet) readMessages(b []byte) error {
	if len(b) < 128 || len(b)%128 != 0 {
		return fmt.Errorf("MESSAGES.DAT of %d bytes", len(b))
	}
	for off := 128; off < len(b); {
		h := b[off : off+128]
		str := func(from, to int) string { return strings.TrimRight(string(h[from:to]), " ") }
		num := func(from, to int) (int, error) {
			s := strings.TrimSpace(string(h[from:to]))
			if s == "" {
				return 0, nil
			}
			return strconv.Atoi(s)
		}
		m := Msg{Record: off/128 + 1, Offset: off, Status: h[0], Date: str(8, 16), Time: str(16, 21),
			To: str(21, 46), From: str(46, 71), Subject: str(71, 96)}
		var err error
		if m.Number, err = num(1, 8); err != nil {
			return fmt.Errorf("message at %d: number: %v", off, err)
		}
		if m.Ref, err = num(108, 116); err != nil {
			return fmt.Errorf("message at %d: reference: %v", off, err)
		}
		if m.Blocks, err = num(116, 122); err != nil || m.Blocks < 2 {
			return fmt.Errorf("message at %d: blocks %d: %v", off, m.Blocks, err)
		}
		if h[122] != 0xE1 {
			return fmt.Errorf("message at %d: alive flag %#x", off, h[122])
		}
		m.Conference = int(h[123]) | int(h[124])<<8
		end := off + m.Blocks*128
		if end > len(b) {
			return fmt.Errorf("message at %d runs past the end", off)
		}
		text := strings.TrimRight(string(b[off+128:end]), " ")
		m.Text = strings.Split(strings.TrimSuffix(text, "\xe3"), "\xe3")
		p.Msgs = append(p.Msgs, m)
		off = end
	}
	return nil
}

func (p *Packet) readHeaders(b []byte) {
	var cur map[string]string
	for _, l := range strings.Split(string(b), "\r\n") {
		if strings.HasPrefix(l, "[") && strings.HasSuffix(l, "]") {
			off, err := strconv.ParseInt(l[1:len(l)-1], 16, 64)
			cur = nil
			for i := range p.Msgs {
				if err == nil && p.Msgs[i].Offset == int(off) {
					p.Msgs[i].Long = map[string]string{}
					cur = p.Msgs[i].Long
				}
			}
			continue
		}
		if k, v, ok := strings.Cut(l, ": "); ok && cur != nil {
			cur[k] = v
		}
	}
}
