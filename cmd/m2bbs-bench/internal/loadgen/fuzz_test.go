package loadgen

import (
	"strings"
	"testing"

	"github.com/m2bbs/m2bbs/host/message"
)

// FuzzParseProc feeds arbitrary /proc files to the parsers: they must
// return an error or a value, never panic.
func FuzzParseProc(f *testing.F) {
	f.Add([]byte("1234 (m2bbs) S 1 1234 1234 0 -1 4194560 1000 0 0 0 150 25 0 0 20 0 8 0 100 1000000 2000"))
	f.Add([]byte("99 (a (b) c) R 1 99 99 0 -1 0 0 0 0 0 7 3 0 0 20 0 1 0 5 100 10"))
	f.Add([]byte("Name:\tm2bbs\nVmRSS:\t    2048 kB\n"))
	f.Add([]byte(")"))
	f.Fuzz(func(t *testing.T, b []byte) {
		parseStatCPU(b)
		parseStatusRSS(b)
	})
}

// FuzzBoardScript plays a board that sends arbitrary messages: the script
// must answer, park, leave or fail, never panic. Each input is a list of
// "type|pchar|msg" lines.
func FuzzBoardScript(f *testing.F) {
	f.Add("prompt|> |<welcome>\nprompt|> |<password>\nprompt|> |<motd>\nprompt|> |---(((MAIN MENU)))---\nprompt| 1: |\nprompt| 2: |\nprompt| 3: |\nprompt| 4: |\nscreen||<posted>")
	f.Add("prompt|> |<welcome>\nexit||<bad_pass>")
	f.Add("prompt|[Enter/Q] |--- 1 of 99999999999999999999 ---")
	f.Fuzz(func(t *testing.T, transcript string) {
		texts := fakeScreens{}
		for _, name := range boardScreens {
			texts[name] = "<" + name + ">"
		}
		texts["menu"] = "---(((MAIN MENU)))---\n1. Leave a message."
		b, err := NewBoard(texts)
		if err != nil {
			t.Fatal(err)
		}
		v := b.Visit("ann", "pw", true, nil, "bob")
		for line := range strings.SplitSeq(transcript, "\n") {
			kind, rest, _ := strings.Cut(line, "|")
			pchar, msg, _ := strings.Cut(rest, "|")
			act, _, err := v.Handle(message.Message{Type: kind, PChar: pchar, Msg: msg})
			if err != nil || act == Leave || act == Park {
				return
			}
		}
	})
}
