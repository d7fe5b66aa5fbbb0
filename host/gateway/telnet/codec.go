package telnet

import "encoding/binary"

// Telnet commands (RFC 854). Each follows IAC on the wire.
const (
	SE   byte = 240 // end of subnegotiation
	NOP  byte = 241 // no operation
	DM   byte = 242 // data mark
	BRK  byte = 243 // break
	IP   byte = 244 // interrupt process
	AO   byte = 245 // abort output
	AYT  byte = 246 // are you there
	EC   byte = 247 // erase character
	EL   byte = 248 // erase line
	GA   byte = 249 // go ahead
	SB   byte = 250 // start of subnegotiation
	WILL byte = 251 // sender will use an option
	WONT byte = 252 // sender will not use an option
	DO   byte = 253 // sender asks the receiver to use an option
	DONT byte = 254 // sender asks the receiver not to use an option
	IAC  byte = 255 // interpret as command
)

// Telnet options the gateway knows.
const (
	OptBinary          byte = 0  // RFC 856
	OptEcho            byte = 1  // RFC 857
	OptSuppressGoAhead byte = 3  // RFC 858
	OptTerminalType    byte = 24 // RFC 1091
	OptNAWS            byte = 31 // RFC 1073, window size
	OptLinemode        byte = 34 // RFC 1184
)

// Terminal-type subnegotiation codes (RFC 1091).
const (
	TerminalTypeIs   byte = 0
	TerminalTypeSend byte = 1
)

// MaxSubnegotiation is the longest subnegotiation payload (option byte
// excluded, after IAC IAC unescaping) the Decoder keeps. A longer one is
// read to its end and dropped.
const MaxSubnegotiation = 256

// Kind tells what a Token is.
type Kind uint8

// Kinds of Token.
const (
	// KindData is data: Token.Data holds the bytes, IAC IAC unescaped and
	// CR NUL turned into a bare CR. CR LF is kept as it came.
	KindData Kind = iota + 1
	// KindCommand is IAC and a one-byte command (NOP, IP, AYT, GA...) in
	// Token.Command.
	KindCommand
	// KindNegotiation is IAC WILL, WONT, DO or DONT (in Token.Command) and
	// Token.Option.
	KindNegotiation
	// KindSubnegotiation is IAC SB Token.Option ... IAC SE; Token.Data
	// holds the payload between the option and IAC SE, unescaped.
	KindSubnegotiation
)

// Token is one item of a decoded telnet stream.
type Token struct {
	Kind    Kind
	Data    []byte // KindData and KindSubnegotiation
	Command byte   // KindCommand and KindNegotiation
	Option  byte   // KindNegotiation and KindSubnegotiation
}

// decoder states
const (
	stData  = iota // plain data
	stCR           // data, the previous byte a CR
	stIAC          // after IAC
	stVerb         // after IAC WILL/WONT/DO/DONT, awaiting the option
	stSBOpt        // after IAC SB, awaiting the option
	stSB           // inside a subnegotiation
	stSBIAC        // inside a subnegotiation, after IAC
)

// Decoder parses the telnet stream a client sends. It keeps its state
// between calls, so the stream may be cut anywhere. Its zero value is
// ready to use.
type Decoder struct {
	// Binary says the client's BINARY option is on (RFC 856): CR NUL is
	// data as it is, not a bare CR. With FollowBinary the Decoder sets it
	// itself at the client's IAC WILL BINARY and IAC WONT BINARY, exactly
	// where the client's data changes mode (the gateway accepts BINARY).
	Binary       bool
	FollowBinary bool
	state        int
	verb         byte   // stVerb: the verb awaiting its option
	option       byte   // subnegotiation option
	sub          []byte // subnegotiation payload so far
	overflow     bool   // the subnegotiation passed MaxSubnegotiation
	buf          []byte // the bytes tokens of one Decode call point into
	mark         int    // buf[mark:] is data not yet in a token
}

// Decode parses p, appends the tokens it completes to dst and returns
// dst. Consecutive data bytes make one token. The tokens' Data slices are
// valid until the next call to Decode. Decode never fails: a command it
// does not know is passed on as KindCommand, IAC followed by anything but
// IAC or SE inside a subnegotiation drops the subnegotiation and is read
// as a command, and a subnegotiation longer than MaxSubnegotiation is
// dropped.
func (d *Decoder) Decode(dst []Token, p []byte) []Token {
	d.buf = d.buf[:0]
	d.mark = 0
	for _, b := range p {
		dst = d.step(dst, b)
	}
	return d.flush(dst)
}

// step reads one byte.
func (d *Decoder) step(dst []Token, b byte) []Token {
	switch d.state {
	case stData, stCR:
		afterCR := d.state == stCR
		d.state = stData
		switch {
		case b == IAC:
			d.state = stIAC
		case b == 0 && afterCR && !d.Binary: // CR NUL: a bare CR
		case b == '\r':
			d.buf = append(d.buf, b)
			d.state = stCR
		default:
			d.buf = append(d.buf, b)
		}
	case stIAC:
		d.state = stData
		switch b {
		case IAC:
			d.buf = append(d.buf, IAC)
		case WILL, WONT, DO, DONT:
			d.verb = b
			d.state = stVerb
		case SB:
			d.state = stSBOpt
		default:
			dst = d.flush(dst)
			dst = append(dst, Token{Kind: KindCommand, Command: b})
		}
	case stVerb:
		d.state = stData
		if d.FollowBinary && b == OptBinary && (d.verb == WILL || d.verb == WONT) {
			d.Binary = d.verb == WILL
		}
		dst = d.flush(dst)
		dst = append(dst, Token{Kind: KindNegotiation, Command: d.verb, Option: b})
	case stSBOpt:
		d.option = b
		d.sub = d.sub[:0]
		d.overflow = false
		d.state = stSB
	case stSB:
		if b == IAC {
			d.state = stSBIAC
		} else {
			d.subByte(b)
		}
	case stSBIAC:
		switch b {
		case IAC:
			d.subByte(IAC)
			d.state = stSB
		case SE:
			d.state = stData
			dst = d.flush(dst)
			if !d.overflow {
				start := len(d.buf)
				d.buf = append(d.buf, d.sub...)
				dst = append(dst, Token{Kind: KindSubnegotiation, Option: d.option, Data: d.buf[start:len(d.buf):len(d.buf)]})
				d.mark = len(d.buf)
			}
		default: // a broken subnegotiation: drop it, read IAC b afresh
			d.state = stIAC
			dst = d.step(dst, b)
		}
	}
	return dst
}

// subByte adds b to the subnegotiation payload, within the limit.
func (d *Decoder) subByte(b byte) {
	if len(d.sub) >= MaxSubnegotiation {
		d.overflow = true
		return
	}
	d.sub = append(d.sub, b)
}

// flush appends the data collected since the last token as a token.
func (d *Decoder) flush(dst []Token) []Token {
	if len(d.buf) > d.mark {
		dst = append(dst, Token{Kind: KindData, Data: d.buf[d.mark:len(d.buf):len(d.buf)]})
		d.mark = len(d.buf)
	}
	return dst
}

// AppendNegotiation appends IAC verb option to dst. verb is WILL, WONT,
// DO or DONT.
func AppendNegotiation(dst []byte, verb, option byte) []byte {
	return append(dst, IAC, verb, option)
}

// AppendSubnegotiation appends IAC SB option payload IAC SE to dst, with
// IAC bytes in payload doubled.
func AppendSubnegotiation(dst []byte, option byte, payload []byte) []byte {
	dst = append(dst, IAC, SB, option)
	dst = AppendEscaped(dst, payload)
	return append(dst, IAC, SE)
}

// AppendEscaped appends p to dst with every IAC byte doubled, as data
// must be sent.
func AppendEscaped(dst, p []byte) []byte {
	for _, b := range p {
		if b == IAC {
			dst = append(dst, IAC)
		}
		dst = append(dst, b)
	}
	return dst
}

// AppendNVT appends text to dst as network virtual terminal output: a
// newline ("\n" not after "\r") becomes CR LF, a CR not followed by LF
// becomes CR NUL, and IAC bytes are doubled. Other bytes, escape
// sequences and UTF-8 included, pass unchanged.
func AppendNVT(dst []byte, text string) []byte {
	for i := 0; i < len(text); i++ {
		switch c := text[i]; c {
		case '\n':
			dst = append(dst, '\r', '\n')
		case '\r':
			if i+1 < len(text) && text[i+1] == '\n' {
				dst = append(dst, '\r', '\n')
				i++
			} else {
				dst = append(dst, '\r', 0)
			}
		case IAC:
			dst = append(dst, IAC, IAC)
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// ParseNAWS reads a NAWS subnegotiation payload (RFC 1073): the window's
// width and height in characters, two bytes each, big-endian. ok is false
// if the payload is not four bytes. A zero means the client does not know.
func ParseNAWS(payload []byte) (width, height int, ok bool) {
	if len(payload) != 4 {
		return 0, 0, false
	}
	return int(binary.BigEndian.Uint16(payload)), int(binary.BigEndian.Uint16(payload[2:])), true
}

// MaxTerminalType is the longest terminal type name ParseTerminalType
// accepts (RFC 1091 allows 40 characters).
const MaxTerminalType = 40

// ParseTerminalType reads a TERMINAL-TYPE IS subnegotiation payload (RFC
// 1091) and returns the terminal's name. ok is false if the payload is not
// IS followed by 1 to MaxTerminalType printable ASCII characters.
func ParseTerminalType(payload []byte) (name string, ok bool) {
	if len(payload) < 2 || len(payload) > 1+MaxTerminalType || payload[0] != TerminalTypeIs {
		return "", false
	}
	for _, c := range payload[1:] {
		if c < 0x21 || c > 0x7e {
			return "", false
		}
	}
	return string(payload[1:]), true
}

// AppendTerminalTypeSend appends the request for the client's terminal
// type, IAC SB TERMINAL-TYPE SEND IAC SE, to dst.
func AppendTerminalTypeSend(dst []byte) []byte {
	return AppendSubnegotiation(dst, OptTerminalType, []byte{TerminalTypeSend})
}
