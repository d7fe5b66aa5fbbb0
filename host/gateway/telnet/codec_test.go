package telnet

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

// inetutilsReply is what inetutils telnet 2.x sent, captured, to the
// gateway's opening (WILL ECHO, WILL SGA, DO SGA, DO NAWS, DO TTYPE) and
// TERMINAL-TYPE SEND, in a 100x30 window with TERM=vt100, followed by the
// keys "ab", Enter, Delete and Ctrl-U.
const inetutilsReply = "\xff\xfd\x01\xff\xfd\x03\xff\xfb\x03\xff\xfb\x1f\xff\xfa\x1f\x00d\x00\x1e\xff\xf0" +
	"\xff\xfb\x18\xff\xfa\x18\x00VT100\xff\xf0ab\r\x00\x7f\x15"

// gatewayOpening is what the gateway sends first.
const gatewayOpening = "\xff\xfb\x01\xff\xfb\x03\xff\xfd\x03\xff\xfd\x1f\xff\xfd\x18"

// tok builders keep the table short.
func data(s string) Token      { return Token{Kind: KindData, Data: []byte(s)} }
func cmd(c byte) Token         { return Token{Kind: KindCommand, Command: c} }
func neg(verb, opt byte) Token { return Token{Kind: KindNegotiation, Command: verb, Option: opt} }
func subneg(opt byte, payload string) Token {
	return Token{Kind: KindSubnegotiation, Option: opt, Data: []byte(payload)}
}

// decodeChunks decodes input cut into the given chunks and returns deep
// copies of the tokens, adjacent data tokens merged (a cut splits them).
func decodeChunks(chunks [][]byte) []Token {
	var d Decoder
	var out []Token
	for _, c := range chunks {
		for _, t := range d.Decode(nil, c) {
			t.Data = bytes.Clone(t.Data)
			if n := len(out); n > 0 && t.Kind == KindData && out[n-1].Kind == KindData {
				out[n-1].Data = append(out[n-1].Data, t.Data...)
				continue
			}
			out = append(out, t)
		}
	}
	return out
}

// oneByteChunks cuts p into single bytes.
func oneByteChunks(p []byte) [][]byte {
	var chunks [][]byte
	for i := range p {
		chunks = append(chunks, p[i:i+1])
	}
	return chunks
}

func tokensEqual(a, b []Token) bool {
	return slices.EqualFunc(a, b, func(x, y Token) bool {
		return x.Kind == y.Kind && x.Command == y.Command && x.Option == y.Option && bytes.Equal(x.Data, y.Data)
	})
}

func TestDecoder(t *testing.T) {
	long := strings.Repeat("x", MaxSubnegotiation+1)
	for _, tc := range []struct {
		name  string
		input string
		want  []Token
	}{
		{"plain data", "hello", []Token{data("hello")}},
		{"empty", "", nil},
		{"IAC IAC is a data byte", "a\xff\xffb", []Token{data("a\xffb")}},
		{"CR NUL is a bare CR", "a\r\x00b", []Token{data("a\rb")}},
		{"CR LF is kept", "a\r\nb", []Token{data("a\r\nb")}},
		{"NUL not after CR is data", "a\x00b", []Token{data("a\x00b")}},
		{"CR CR NUL", "\r\r\x00", []Token{data("\r\r")}},
		{"captured inetutils reply", inetutilsReply, []Token{
			neg(DO, OptEcho), neg(DO, OptSuppressGoAhead), neg(WILL, OptSuppressGoAhead), neg(WILL, OptNAWS),
			subneg(OptNAWS, "\x00d\x00\x1e"), neg(WILL, OptTerminalType), subneg(OptTerminalType, "\x00VT100"),
			data("ab\r\x7f\x15"),
		}},
		{"commands between data", "ab\xff\xf1cd\xff\xf6\xff\xf4", []Token{data("ab"), cmd(NOP), data("cd"), cmd(AYT), cmd(IP)}},
		{"unknown command passed on", "\xff\x10x", []Token{cmd(0x10), data("x")}},
		{"IAC IAC inside a subnegotiation", "\xff\xfa\x1f\x00\xff\xff\xff\xff\x00\x18\xff\xf0", []Token{subneg(OptNAWS, "\x00\xff\xff\x00\x18")}},
		{"empty subnegotiation", "\xff\xfa\x18\xff\xf0", []Token{subneg(OptTerminalType, "")}},
		{"CR inside a subnegotiation is payload", "\xff\xfa\x18\x00a\r\x00\xff\xf0", []Token{subneg(OptTerminalType, "\x00a\r\x00")}},
		{"longest subnegotiation kept", "\xff\xfa\x18" + long[1:] + "\xff\xf0", []Token{subneg(OptTerminalType, long[1:])}},
		{"too long a subnegotiation dropped", "a\xff\xfa\x18" + long + "\xff\xf0b", []Token{data("a"), data("b")}},
		{"broken subnegotiation dropped", "\xff\xfa\x18\x00xt\xff\xfb\x01z", []Token{neg(WILL, OptEcho), data("z")}},
		{"CR then IAC: the CR stands alone", "\r\xff\xf1\x00", []Token{data("\r"), cmd(NOP), data("\x00")}},
		{"stream ends inside a command", "ab\xff", []Token{data("ab")}},
		{"stream ends inside a subnegotiation", "\xff\xfa\x1f\x00\x50", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := []byte(tc.input)
			if got := decodeChunks([][]byte{in}); !tokensEqual(got, mergeData(tc.want)) {
				t.Errorf("whole: got %q, want %q", got, tc.want)
			}
			if got := decodeChunks(oneByteChunks(in)); !tokensEqual(got, mergeData(tc.want)) {
				t.Errorf("byte by byte: got %q, want %q", got, tc.want)
			}
		})
	}
}

// mergeData merges adjacent data tokens, as decodeChunks does.
func mergeData(ts []Token) []Token {
	var out []Token
	for _, t := range ts {
		if n := len(out); n > 0 && t.Kind == KindData && out[n-1].Kind == KindData {
			out[n-1].Data = append(bytes.Clone(out[n-1].Data), t.Data...)
			continue
		}
		out = append(out, t)
	}
	return out
}

func TestDecoderTokensSurviveLaterTokens(t *testing.T) {
	// Data before and after a subnegotiation in one call must each keep
	// their bytes: they share the decoder's buffer.
	var d Decoder
	got := d.Decode(nil, []byte("one\xff\xfa\x18\x00VT100\xff\xf0two"))
	want := []Token{data("one"), subneg(OptTerminalType, "\x00VT100"), data("two")}
	if !tokensEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestAppendNVT(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"plain", "plain"},
		{"a\nb\n", "a\r\nb\r\n"},
		{"a\r\nb", "a\r\nb"},
		{"a\rb", "a\r\x00b"},
		{"ends in CR\r", "ends in CR\r\x00"},
		{"\n\n", "\r\n\r\n"},
		{"\xff", "\xff\xff"},
		{"\x1b[1;32mgreen\x1b[0m\n", "\x1b[1;32mgreen\x1b[0m\r\n"},
		{"héllo ✓", "héllo ✓"},
	} {
		if got := string(AppendNVT(nil, tc.in)); got != tc.want {
			t.Errorf("AppendNVT(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestBuilders(t *testing.T) {
	for _, tc := range []struct {
		name      string
		got, want string
	}{
		{"negotiation", string(AppendNegotiation([]byte("x"), WILL, OptEcho)), "x\xff\xfb\x01"},
		{"subnegotiation escapes IAC", string(AppendSubnegotiation(nil, OptNAWS, []byte{0, 0xff, 0, 24})), "\xff\xfa\x1f\x00\xff\xff\x00\x18\xff\xf0"},
		{"terminal type send", string(AppendTerminalTypeSend(nil)), "\xff\xfa\x18\x01\xff\xf0"},
		{"escaped data", string(AppendEscaped(nil, []byte("a\xffb\xff\xff"))), "a\xff\xffb\xff\xff\xff\xff"},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, tc.got, tc.want)
		}
	}
}

func TestParseNAWS(t *testing.T) {
	for _, tc := range []struct {
		payload       string
		width, height int
		ok            bool
	}{
		{"\x00d\x00\x1e", 100, 30, true},
		{"\x01\x00\x00\xff", 256, 255, true},
		{"\x00\x00\x00\x00", 0, 0, true},
		{"\x00d\x00", 0, 0, false},
		{"\x00d\x00\x1e\x00", 0, 0, false},
	} {
		w, h, ok := ParseNAWS([]byte(tc.payload))
		if w != tc.width || h != tc.height || ok != tc.ok {
			t.Errorf("ParseNAWS(%q) = %d, %d, %v; want %d, %d, %v", tc.payload, w, h, ok, tc.width, tc.height, tc.ok)
		}
	}
}

func TestParseTerminalType(t *testing.T) {
	for _, tc := range []struct {
		payload, name string
		ok            bool
	}{
		{"\x00VT100", "VT100", true},
		{"\x00XTERM-256COLOR", "XTERM-256COLOR", true},
		{"\x00" + strings.Repeat("A", MaxTerminalType), strings.Repeat("A", MaxTerminalType), true},
		{"\x00" + strings.Repeat("A", MaxTerminalType+1), "", false},
		{"\x00", "", false},
		{"", "", false},
		{"\x01VT100", "", false}, // SEND, not IS
		{"\x00VT 100", "", false},
		{"\x00VT\x1b", "", false},
	} {
		name, ok := ParseTerminalType([]byte(tc.payload))
		if name != tc.name || ok != tc.ok {
			t.Errorf("ParseTerminalType(%q) = %q, %v; want %q, %v", tc.payload, name, ok, tc.name, tc.ok)
		}
	}
}

func TestOptions(t *testing.T) {
	type exchange struct {
		verb, option byte
		reply        string // what the gateway answers
	}
	opening := func(o *options) {
		var out []byte
		out = o.offer(out, WILL, OptEcho)
		out = o.offer(out, WILL, OptSuppressGoAhead)
		out = o.offer(out, DO, OptSuppressGoAhead)
		out = o.offer(out, DO, OptNAWS)
		out = o.offer(out, DO, OptTerminalType)
		if string(out) != gatewayOpening {
			t.Fatalf("opening = %q, want %q", out, gatewayOpening)
		}
		if again := o.offer(nil, WILL, OptEcho); len(again) != 0 {
			t.Errorf("a second offer sent %q", again)
		}
	}
	for _, tc := range []struct {
		name                string
		exchanges           []exchange
		echo, naws, sgaHers bool
	}{
		{"client agrees to all, as inetutils does", []exchange{
			{DO, OptEcho, ""}, {DO, OptSuppressGoAhead, ""}, {WILL, OptSuppressGoAhead, ""},
			{WILL, OptNAWS, ""}, {WILL, OptTerminalType, ""},
		}, true, true, true},
		{"repeated requests are not answered", []exchange{
			{DO, OptEcho, ""}, {DO, OptEcho, ""}, {WILL, OptNAWS, ""}, {WILL, OptNAWS, ""},
		}, true, true, false},
		{"client refuses: no answer to a refusal", []exchange{
			{DONT, OptEcho, ""}, {WONT, OptNAWS, ""}, {WONT, OptTerminalType, ""}, {WONT, OptNAWS, ""},
		}, false, false, false},
		{"unsupported options refused once", []exchange{
			{WILL, OptLinemode, "\xff\xfe\x22"}, {WILL, OptLinemode, ""},
			{DO, 6, "\xff\xfc\x06"}, {DO, 6, ""}, // TIMING-MARK
			{WILL, OptEcho, "\xff\xfe\x01"}, {WILL, OptEcho, ""},
		}, false, false, false},
		{"option turned off after on is acknowledged, and on again", []exchange{
			{DO, OptEcho, ""}, {DONT, OptEcho, "\xff\xfc\x01"}, {DONT, OptEcho, ""}, {DO, OptEcho, "\xff\xfb\x01"},
		}, true, false, false},
		{"client's own offer of a supported option accepted", []exchange{
			{WONT, OptSuppressGoAhead, ""}, {WILL, OptSuppressGoAhead, "\xff\xfd\x03"},
		}, false, false, true},
		{"binary accepted both ways (a file transfer)", []exchange{
			{DO, OptBinary, "\xff\xfb\x00"}, {WILL, OptBinary, "\xff\xfd\x00"}, {DO, OptBinary, ""},
		}, false, false, false},
		{"off for an option never on: silence", []exchange{{WONT, OptLinemode, ""}, {DONT, OptBinary, ""}}, false, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var o options
			opening(&o)
			for _, x := range tc.exchanges {
				if got, _ := o.receive(nil, x.verb, x.option); string(got) != x.reply {
					t.Errorf("after %d %d: replied %q, want %q", x.verb, x.option, got, x.reply)
				}
			}
			if o.ours(OptEcho) != tc.echo || o.his(OptNAWS) != tc.naws || o.his(OptSuppressGoAhead) != tc.sgaHers {
				t.Errorf("echo %v naws %v sga %v; want %v %v %v", o.ours(OptEcho), o.his(OptNAWS), o.his(OptSuppressGoAhead), tc.echo, tc.naws, tc.sgaHers)
			}
		})
	}
}
