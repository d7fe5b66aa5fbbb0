package dispatch

import (
	"strings"
	"testing"

	"github.com/m2bbs/m2bbs/host/message"
)

// TestWatchTranscriptSumsUpKeystrokeMode: a watched caller in the
// full-screen editor is sent screen clears and cursor moves; the sysop's
// transcript says so in one line instead of writing them onto the
// sysop's own screen, and goes on as usual at the next prompt.
func TestWatchTranscriptSumsUpKeystrokeMode(t *testing.T) {
	events := []WatchEvent{
		{Kind: WatchSent, Type: message.TypePrompt, Msg: "Subject?", PChar: ": "},
		{Kind: WatchTyped, Msg: "hello"},
		{Kind: WatchSent, Type: message.TypeKeys, Msg: "\x1b[0m\x1b[H\x1b[2J\x1b[7m Write\x1b[0m\x1b[2;1H"},
		{Kind: WatchSent, Type: message.TypeKeys, Msg: "\x1b[2;1Hhi\x1b[K\x1b[2;3H"},
		{Kind: WatchSent, Type: message.TypeKeys, Msg: "\x1b[0m\x1b[2J\x1b[H"},
		{Kind: WatchSent, Type: message.TypePrompt, Msg: "Posted.", PChar: "> "},
	}
	var tr WatchTranscript
	var b strings.Builder
	for _, e := range events {
		tr.Write(&b, e)
	}
	got := b.String()
	if strings.Contains(got, "\x1b") {
		t.Errorf("the editor's control sequences reach the sysop: %q", got)
	}
	want := "Subject?\n: hello\n" + WatchKeysText + "Posted.\n> "
	if got != want {
		t.Errorf("transcript %q\nwant %q", got, want)
	}
}
