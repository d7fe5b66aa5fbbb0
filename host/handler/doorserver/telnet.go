package doorserver

import (
	"net"
	"sync"

	"github.com/m2bbs/m2bbs/host/gateway/telnet"
)

// telnetStream is a call to a telnet door server seen as plain bytes:
// Read gives the server's data with the telnet commands taken out (and
// answered), Write sends the caller's keys escaped. The options it takes:
// the server's ECHO, SUPPRESS-GO-AHEAD and BINARY; its own TERMINAL-TYPE
// (answered with the caller's), SUPPRESS-GO-AHEAD and BINARY. Every
// other option is refused, each request answered at most once.
type telnetStream struct {
	nc   net.Conn
	term string

	dec      telnet.Decoder
	tokens   []telnet.Token
	pending  []byte // data decoded but not yet read
	buf      []byte
	answered map[[2]byte]bool // (verb, option) answered already

	wmu    sync.Mutex // one writer at a time: Write and the answers
	binary bool       // we send in BINARY: a CR needs no NUL after it
	out    []byte
}

func newTelnetStream(nc net.Conn, term string) *telnetStream {
	return &telnetStream{nc: nc, term: term, buf: make([]byte, 4096), answered: make(map[[2]byte]bool)}
}

// Read returns the server's data, answering its negotiation on the way.
func (t *telnetStream) Read(p []byte) (int, error) {
	for len(t.pending) == 0 {
		n, err := t.nc.Read(t.buf)
		if n > 0 {
			t.tokens = t.dec.Decode(t.tokens[:0], t.buf[:n])
			for _, tok := range t.tokens {
				switch tok.Kind {
				case telnet.KindData:
					t.pending = append(t.pending, tok.Data...)
				case telnet.KindNegotiation:
					t.negotiate(tok.Command, tok.Option)
				case telnet.KindSubnegotiation:
					t.subnegotiate(tok.Option, tok.Data)
				}
			}
		}
		if err != nil && len(t.pending) == 0 {
			return 0, err
		}
	}
	n := copy(p, t.pending)
	t.pending = t.pending[n:]
	if len(t.pending) == 0 {
		t.pending = nil
	}
	return n, nil
}

// negotiate answers the server's WILL, WONT, DO or DONT.
func (t *telnetStream) negotiate(verb, option byte) {
	key := [2]byte{verb, option}
	if t.answered[key] {
		return
	}
	t.answered[key] = true
	var answer byte
	switch verb {
	case telnet.WILL:
		answer = telnet.DONT
		if option == telnet.OptEcho || option == telnet.OptSuppressGoAhead || option == telnet.OptBinary {
			answer = telnet.DO
		}
	case telnet.DO:
		answer = telnet.WONT
		if option == telnet.OptTerminalType || option == telnet.OptSuppressGoAhead || option == telnet.OptBinary {
			answer = telnet.WILL
		}
	default: // WONT, DONT: nothing to agree to
		return
	}
	t.wmu.Lock()
	defer t.wmu.Unlock()
	if answer == telnet.WILL && option == telnet.OptBinary {
		t.binary = true
	}
	_, _ = t.nc.Write(telnet.AppendNegotiation(nil, answer, option))
}

// subnegotiate answers the server's TERMINAL-TYPE SEND.
func (t *telnetStream) subnegotiate(option byte, payload []byte) {
	if option != telnet.OptTerminalType || len(payload) != 1 || payload[0] != telnet.TerminalTypeSend {
		return
	}
	t.wmu.Lock()
	defer t.wmu.Unlock()
	_, _ = t.nc.Write(telnet.AppendSubnegotiation(nil, telnet.OptTerminalType, append([]byte{telnet.TerminalTypeIs}, t.term...)))
}

// Write sends the caller's keys: IAC doubled, and a CR followed by NUL
// unless we send in BINARY.
func (t *telnetStream) Write(p []byte) (int, error) {
	t.wmu.Lock()
	defer t.wmu.Unlock()
	t.out = t.out[:0]
	for _, b := range p {
		t.out = append(t.out, b)
		switch {
		case b == telnet.IAC:
			t.out = append(t.out, telnet.IAC)
		case b == '\r' && !t.binary:
			t.out = append(t.out, 0)
		}
	}
	if _, err := t.nc.Write(t.out); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Close hangs up.
func (t *telnetStream) Close() error { return t.nc.Close() }
