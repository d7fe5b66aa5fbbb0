package pkt

import (
	"bytes"
	"encoding/binary"
	"time"
)

// Limits on what Parse accepts.
const (
	// MaxPacketBytes is the largest packet Parse reads.
	MaxPacketBytes = 16 << 20
	// MaxMessages is the most messages one packet may hold.
	MaxMessages = 20000
	// MaxTextBytes is the longest message text (FTS-0001 sets no bound;
	// this one is far above what networks carry).
	MaxTextBytes = 256 << 10
	// MaxNameBytes is the longest to/from name, without its NUL (FTS-0001).
	MaxNameBytes = 35
	// MaxSubjectBytes is the longest subject, without its NUL (FTS-0001).
	MaxSubjectBytes = 71
	// MaxDateBytes is the longest date field, without its NUL (FTS-0001).
	MaxDateBytes = 19
	// PasswordBytes is the size of a packet password field.
	PasswordBytes = 8
)

// HeaderSize is the size of a packet header.
const HeaderSize = 58

// capability is the type 2+ capability word: "I can read type 2+".
const capability = 0x0001

// Header is a packet's header.
type Header struct {
	Orig, Dest Addr
	// Created is when the packet was written (the header's fields,
	// local time of the writer, read as UTC).
	Created time.Time
	// Password is the packet password (up to 8 bytes; "" for none).
	Password string
	// ProductCode and Revision name the program that wrote the packet
	// (FTSC product codes; 0xFE is "not registered").
	ProductCode uint16
	RevMajor    uint8
	RevMinor    uint8
	// Plus reports a type 2+ header (capability word valid) on Parse.
	Plus bool
}

// Attribute bits of a packed message (FTS-0001).
const (
	AttrPrivate   = 0x0001
	AttrCrash     = 0x0002
	AttrReceived  = 0x0004
	AttrSent      = 0x0008
	AttrFile      = 0x0010
	AttrInTransit = 0x0020
	AttrOrphan    = 0x0040
	AttrKill      = 0x0080
	AttrLocal     = 0x0100
)

// Message is one packed message. Its names, subject and text are the
// packet's bytes (see Decode).
type Message struct {
	// OrigNet/OrigNode and DestNet/DestNode are the packed message's
	// 2D addresses; a message's full addresses are in its INTL, FMPT
	// and TOPT kludges (netmail) or its origin line and MSGID (echomail).
	OrigNet, OrigNode, DestNet, DestNode uint16
	Attr                                 uint16
	Cost                                 uint16
	// Date is the date field as written ("DD MMM YY  HH:MM:SS"); see
	// ParseDate.
	Date              string
	To, From, Subject string
	Text              []byte
}

// Packet is a header and its messages.
type Packet struct {
	Header   Header
	Messages []Message
}

// Parse decodes a packet. Bytes after the terminating zero word are
// ignored, as many tossers do; a packet missing its terminator at the
// very end is accepted (some writers omit it), a message cut short is not.
func Parse(b []byte) (*Packet, error) {
	if len(b) > MaxPacketBytes {
		return nil, tooLarge(0, "packet of %d bytes (limit %d)", len(b), MaxPacketBytes)
	}
	h, err := parseHeader(b)
	if err != nil {
		return nil, err
	}
	p := &Packet{Header: h}
	off := HeaderSize
	for {
		if off == len(b) || off+1 == len(b) {
			return p, nil // terminator missing or a stray byte: tolerated
		}
		kind := binary.LittleEndian.Uint16(b[off:])
		if kind == 0 {
			return p, nil
		}
		if kind != 2 {
			return nil, malformed(off, "message type %d (want 2)", kind)
		}
		if len(p.Messages) == MaxMessages {
			return nil, tooLarge(off, "more than %d messages", MaxMessages)
		}
		m, next, err := parseMessage(b, off)
		if err != nil {
			return nil, err
		}
		p.Messages = append(p.Messages, m)
		off = next
	}
}

// parseHeader reads the 58-byte header.
func parseHeader(b []byte) (Header, error) {
	if len(b) < HeaderSize {
		return Header{}, malformed(len(b), "header cut short (%d of %d bytes)", len(b), HeaderSize)
	}
	w := func(off int) uint16 { return binary.LittleEndian.Uint16(b[off:]) }
	if t := w(18); t != 2 {
		return Header{}, malformed(18, "packet type %d (want 2)", t)
	}
	var h Header
	h.Orig = Addr{Net: w(20), Node: w(0)}
	h.Dest = Addr{Net: w(22), Node: w(2)}
	year, month, day := int(w(4)), int(w(6)), int(w(8))
	hour, min, sec := int(w(10)), int(w(12)), int(w(14))
	if month <= 11 && day >= 1 && day <= 31 && hour < 24 && min < 60 && sec < 60 {
		h.Created = time.Date(year, time.Month(month+1), day, hour, min, sec, 0, time.UTC)
	}
	h.ProductCode = uint16(b[24])
	h.RevMajor = b[25]
	h.Password = string(bytes.TrimRight(b[26:34], "\x00"))
	if i := bytes.IndexByte([]byte(h.Password), 0); i >= 0 {
		h.Password = h.Password[:i]
	}
	h.Orig.Zone, h.Dest.Zone = w(34), w(36)
	cw, cwCopy := w(44), w(40)
	if cw == cwCopy>>8|cwCopy<<8 && cw&capability != 0 {
		h.Plus = true
		h.ProductCode |= uint16(b[42]) << 8
		h.RevMinor = b[43]
		if z := w(46); z != 0 {
			h.Orig.Zone = z
		}
		if z := w(48); z != 0 {
			h.Dest.Zone = z
		}
		h.Orig.Point, h.Dest.Point = w(50), w(52)
		if h.Orig.Point != 0 && h.Orig.Net == 0xFFFF {
			h.Orig.Net = w(38) // FSC-0048: a point's net is in AuxNet
		}
	}
	return h, nil
}

// parseMessage reads the packed message at off (its type word checked),
// returning it and the offset after it.
func parseMessage(b []byte, off int) (Message, int, error) {
	const fixed = 14
	if off+fixed > len(b) {
		return Message{}, 0, malformed(off, "message header cut short")
	}
	w := func(o int) uint16 { return binary.LittleEndian.Uint16(b[off+o:]) }
	m := Message{
		OrigNode: w(2), DestNode: w(4), OrigNet: w(6), DestNet: w(8),
		Attr: w(10), Cost: w(12),
	}
	pos := off + fixed
	var err error
	fields := []struct {
		dst  *string
		max  int
		name string
	}{
		{&m.Date, MaxDateBytes, "date"},
		{&m.To, MaxNameBytes, "to name"},
		{&m.From, MaxNameBytes, "from name"},
		{&m.Subject, MaxSubjectBytes, "subject"},
	}
	for _, f := range fields {
		var s []byte
		if s, pos, err = cString(b, pos, f.max, f.name); err != nil {
			return Message{}, 0, err
		}
		*f.dst = string(s)
	}
	text, next, err := cString(b, pos, MaxTextBytes, "text")
	if err != nil {
		return Message{}, 0, err
	}
	m.Text = bytes.Clone(text)
	return m, next, nil
}

// cString reads a NUL-terminated field of at most max bytes (NUL not
// counted) at off, returning it and the offset after its NUL.
func cString(b []byte, off, max int, name string) ([]byte, int, error) {
	end := len(b)
	if end > off+max+1 {
		end = off + max + 1
	}
	i := bytes.IndexByte(b[off:end], 0)
	if i < 0 {
		if end == len(b) {
			return nil, 0, malformed(off, "%s not terminated", name)
		}
		return nil, 0, tooLarge(off, "%s longer than %d bytes", name, max)
	}
	return b[off : off+i], off + i + 1, nil
}

// Append writes p as a type 2+ packet after b. Fields longer than the
// standard allows are cut; a NUL inside a field ends it.
func (p *Packet) Append(b []byte) []byte {
	b = appendHeader(b, p.Header)
	for i := range p.Messages {
		b = p.Messages[i].append(b)
	}
	return append(b, 0, 0)
}

// Bytes returns p as a type 2+ packet.
func (p *Packet) Bytes() []byte { return p.Append(nil) }

// appendHeader writes a type 2+ header (FSC-0048).
func appendHeader(b []byte, h Header) []byte {
	var hdr [HeaderSize]byte
	put := func(off int, v uint16) { binary.LittleEndian.PutUint16(hdr[off:], v) }
	origNet := h.Orig.Net
	if h.Orig.Point != 0 {
		origNet = 0xFFFF
		put(38, h.Orig.Net) // AuxNet
	}
	put(0, h.Orig.Node)
	put(2, h.Dest.Node)
	t := h.Created
	put(4, uint16(t.Year()))
	put(6, uint16(t.Month()-1))
	put(8, uint16(t.Day()))
	put(10, uint16(t.Hour()))
	put(12, uint16(t.Minute()))
	put(14, uint16(t.Second()))
	put(18, 2)
	put(20, origNet)
	put(22, h.Dest.Net)
	hdr[24] = byte(h.ProductCode)
	hdr[25] = h.RevMajor
	copy(hdr[26:34], fieldBytes(h.Password, PasswordBytes))
	put(34, h.Orig.Zone)
	put(36, h.Dest.Zone)
	put(40, capability<<8) // the capability word byte-swapped
	hdr[42] = byte(h.ProductCode >> 8)
	hdr[43] = h.RevMinor
	put(44, capability)
	put(46, h.Orig.Zone)
	put(48, h.Dest.Zone)
	put(50, h.Orig.Point)
	put(52, h.Dest.Point)
	return append(b, hdr[:]...)
}

// append writes m as a packed message.
func (m *Message) append(b []byte) []byte {
	var fixed [14]byte
	put := func(off int, v uint16) { binary.LittleEndian.PutUint16(fixed[off:], v) }
	put(0, 2)
	put(2, m.OrigNode)
	put(4, m.DestNode)
	put(6, m.OrigNet)
	put(8, m.DestNet)
	put(10, m.Attr)
	put(12, m.Cost)
	b = append(b, fixed[:]...)
	for _, f := range []struct {
		s   string
		max int
	}{{m.Date, MaxDateBytes}, {m.To, MaxNameBytes}, {m.From, MaxNameBytes}, {m.Subject, MaxSubjectBytes}} {
		b = append(b, fieldBytes(f.s, f.max)...)
		b = append(b, 0)
	}
	text := m.Text
	if i := bytes.IndexByte(text, 0); i >= 0 {
		text = text[:i]
	}
	if len(text) > MaxTextBytes {
		text = text[:MaxTextBytes]
	}
	b = append(b, text...)
	return append(b, 0)
}

// fieldBytes cuts s at its first NUL and at max bytes.
func fieldBytes(s string, max int) []byte {
	if i := bytes.IndexByte([]byte(s), 0); i >= 0 {
		s = s[:i]
	}
	if len(s) > max {
		s = s[:max]
	}
	return []byte(s)
}
