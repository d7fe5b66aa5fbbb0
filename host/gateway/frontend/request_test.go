package frontend

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/m2bbs/m2bbs/host/wire/m2proto"
)

// Messages Mongrel2 1.12.2 pushed to a handler with send_ident "exp",
// captured during the measurements, and the caller bytes that caused them.
var requestGoldens = []struct {
	name     string
	protocol string
	in       string
	body     string // HTTP body
	pattern  string
	want     string
}{
	{"json message", ProtocolJSON, msgConnect, "", "@bbs",
		`exp 2 @bbs 124:{"PATH":"@bbs","x-forwarded-for":"127.0.0.1","METHOD":"JSON","PATTERN":"@bbs","URL_SCHEME":"http","REMOTE_ADDR":"127.0.0.1"},30:{"type":"msg","msg":"connect"},`},
	{"json prefix route", ProtocolJSON, `@bbs.1 {"a":1}` + "\x00", "", "@bbs",
		`exp 2 @bbs.1 126:{"PATH":"@bbs.1","x-forwarded-for":"127.0.0.1","METHOD":"JSON","PATTERN":"@bbs","URL_SCHEME":"http","REMOTE_ADDR":"127.0.0.1"},7:{"a":1},`},
	{"xml message", ProtocolJSON, "<msg>hi</msg>\x00", "", "<msg",
		`exp 2 <msg 123:{"PATH":"<msg","x-forwarded-for":"127.0.0.1","METHOD":"XML","PATTERN":"<msg","URL_SCHEME":"http","REMOTE_ADDR":"127.0.0.1"},13:<msg>hi</msg>,`},
	{"http get", ProtocolJSON, "GET /status HTTP/1.1\r\nHost: localhost\r\nUser-Agent: t\r\nAccept: */*\r\n\r\n", "", "/status",
		`exp 2 /status 217:{"PATH":"/status","x-forwarded-for":"127.0.0.1","accept":"*/*","user-agent":"t","host":"localhost","METHOD":"GET","VERSION":"HTTP/1.1","URI":"/status","PATTERN":"/status","URL_SCHEME":"http","REMOTE_ADDR":"127.0.0.1"},0:,`},
	{"http query and fragment", ProtocolJSON, "GET /status/a/b?q=1#frag HTTP/1.1\r\n\r\n", "", "/status",
		`exp 2 /status/a/b 210:{"PATH":"/status/a/b","x-forwarded-for":"127.0.0.1","METHOD":"GET","VERSION":"HTTP/1.1","URI":"/status/a/b?q=1","QUERY":"q=1","FRAGMENT":"frag","PATTERN":"/status","URL_SCHEME":"http","REMOTE_ADDR":"127.0.0.1"},0:,`},
	{"http repeated header, escapes", ProtocolJSON, "GET /status HTTP/1.1\r\nHost: localhost\r\nX-A: 1\r\nX-A: 2\r\nx-a: 3\r\nCookie: a=\"b\\c\"\r\n\r\n", "", "/status",
		`exp 2 /status 227:{"PATH":"/status","x-forwarded-for":"127.0.0.1","x-a":["1","2","3"],"host":"localhost","cookie":"a=\"b\\c\"","METHOD":"GET","VERSION":"HTTP/1.1","URI":"/status","PATTERN":"/status","URL_SCHEME":"http","REMOTE_ADDR":"127.0.0.1"},0:,`},
	{"http post", ProtocolJSON, "POST /status HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\n", "hello", "/status",
		`exp 2 /status 235:{"PATH":"/status","x-forwarded-for":"127.0.0.1","content-type":"text/plain","content-length":"5","host":"localhost","METHOD":"POST","VERSION":"HTTP/1.1","URI":"/status","PATTERN":"/status","URL_SCHEME":"http","REMOTE_ADDR":"127.0.0.1"},5:hello,`},
	{"http many headers", ProtocolJSON, "GET /status HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\nF: 6\r\nG: 7\r\nH: 8\r\nI: 9\r\nJ: 10\r\nK: 11\r\nConnection: keep-alive\r\nAccept-Encoding: gzip\r\nAccept-Language: en\r\nReferer: x\r\n\r\n", "", "/status",
		`exp 2 /status 344:{"PATH":"/status","i":"9","g":"7","x-forwarded-for":"127.0.0.1","c":"3","accept-language":"en","h":"8","accept-encoding":"gzip","connection":"keep-alive","f":"6","e":"5","b":"2","referer":"x","k":"11","a":"1","d":"4","j":"10","METHOD":"GET","VERSION":"HTTP/1.1","URI":"/status","PATTERN":"/status","URL_SCHEME":"http","REMOTE_ADDR":"127.0.0.1"},0:,`},
	{"tnetstring json message", ProtocolTNetstring, `@bbs {"type":"msg"}` + "\x00", "", "@bbs",
		`exp 2 @bbs 126:11:REMOTE_ADDR,9:127.0.0.1,6:METHOD,4:JSON,10:URL_SCHEME,4:http,7:PATTERN,4:@bbs,4:PATH,4:@bbs,15:x-forwarded-for,9:127.0.0.1,}14:{"type":"msg"},`},
	{"tnetstring http repeated header", ProtocolTNetstring, "GET /status HTTP/1.1\r\nHost: localhost\r\nX-A: 1\r\nX-A: 2\r\nx-a: 3\r\nCookie: a=\"b\\c\"\r\n\r\n", "", "/status",
		`exp 2 /status 228:11:REMOTE_ADDR,9:127.0.0.1,6:METHOD,3:GET,10:URL_SCHEME,4:http,7:PATTERN,7:/status,3:URI,7:/status,7:VERSION,8:HTTP/1.1,4:PATH,7:/status,6:cookie,7:a="b\c",4:host,9:localhost,3:x-a,12:1:1,1:2,1:3,]15:x-forwarded-for,9:127.0.0.1,}0:,`},
	{"tnetstring http post", ProtocolTNetstring, "POST /status HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\n", "hello", "/status",
		`exp 2 /status 240:11:REMOTE_ADDR,9:127.0.0.1,6:METHOD,4:POST,10:URL_SCHEME,4:http,7:PATTERN,7:/status,3:URI,7:/status,7:VERSION,8:HTTP/1.1,4:PATH,7:/status,4:host,9:localhost,14:content-length,1:5,12:content-type,10:text/plain,15:x-forwarded-for,9:127.0.0.1,}5:hello,`},
}

func TestRequestMessages(t *testing.T) {
	for _, tc := range requestGoldens {
		t.Run(tc.name, func(t *testing.T) {
			f, n, err := ParseFrame([]byte(tc.in), DefaultMaxFrameBytes)
			if err != nil || n == 0 {
				t.Fatalf("ParseFrame: %d, %v", n, err)
			}
			var body []byte
			if tc.body != "" {
				body = []byte(tc.body)
			}
			h := &Handler{SendIdent: "exp", Protocol: tc.protocol}
			got, _ := requestMessage(h, &f, body, "2", tc.pattern, "127.0.0.1", initialChains)
			if string(got) != tc.want {
				t.Errorf("message\n got %s\nwant %s", got, tc.want)
			}
			if !strings.Contains(tc.want, `:["`) && !strings.Contains(tc.want, "]") {
				if _, err := m2proto.ParseRequest(got); err != nil {
					t.Errorf("m2proto cannot parse it: %v", err)
				}
			}
		})
	}
}

func TestDisconnectNotice(t *testing.T) {
	for protocol, want := range map[string]string{
		ProtocolJSON:       `exp 7 @* 17:{"METHOD":"JSON"},21:{"type":"disconnect"},`,
		ProtocolTNetstring: `exp 7 @* 16:6:METHOD,4:JSON,}21:{"type":"disconnect"},`,
	} {
		got := appendDisconnect(nil, &Handler{SendIdent: "exp", Protocol: protocol}, "7")
		if string(got) != want {
			t.Errorf("%s: %s, want %s", protocol, got, want)
		}
		req, err := m2proto.ParseRequest(got)
		if err != nil || !req.IsDisconnect() {
			t.Errorf("%s: m2proto reads %+v, %v: want a disconnect", protocol, req, err)
		}
	}
}

func TestHeaderTableOrder(t *testing.T) {
	// Orders captured from Mongrel2 1.12.2: names in arrival order, then
	// x-forwarded-for, as Mongrel2 adds it.
	for _, tc := range []struct{ in, want []string }{
		{[]string{"host", "user-agent", "accept"}, []string{"x-forwarded-for", "accept", "user-agent", "host"}},
		{[]string{"x-empty", "x-sp", "x-trail", "x-tab"}, []string{"x-forwarded-for", "x-trail", "x-tab", "x-sp", "x-empty"}},
		{[]string{"upgrade", "connection", "sec-websocket-key", "sec-websocket-version", "host"},
			[]string{"x-forwarded-for", "connection", "sec-websocket-version", "sec-websocket-key", "host", "upgrade"}},
	} {
		table := newHeaderTable(initialChains)
		for _, name := range tc.in {
			table.add(name, "v")
		}
		table.set("x-forwarded-for", "127.0.0.1")
		var got []string
		for _, n := range table.scan() {
			got = append(got, n.key)
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("order of %q: %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestHeaderTableLimits(t *testing.T) {
	table := newHeaderTable(initialChains)
	for i := range 7 {
		table.add("x-a", string(rune('1'+i)))
	}
	if n := table.lookup("x-a"); !reflect.DeepEqual(n.values, []string{"1", "2", "3", "4", "5"}) {
		t.Errorf("repeated header keeps %q, want the first five", n.values)
	}
	table.set("x-a", "only")
	if n := table.lookup("x-a"); !reflect.DeepEqual(n.values, []string{"only"}) {
		t.Errorf("set leaves %q", n.values)
	}

	table = newHeaderTable(initialChains)
	for i := range maxHeaderNames + 10 {
		table.add(fmt.Sprintf("h%d", i), "v")
	}
	if table.count != maxHeaderNames {
		t.Errorf("table holds %d names, want the limit %d", table.count, maxHeaderNames)
	}
	if len(table.chains) != 1024 {
		t.Errorf("table has %d chains after %d names, want 1024", len(table.chains), maxHeaderNames)
	}
	for _, n := range table.scan() {
		if table.lookup(n.key) != n {
			t.Fatalf("%q not found in its chain after growing", n.key)
		}
	}
}
