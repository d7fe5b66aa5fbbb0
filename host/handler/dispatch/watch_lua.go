package dispatch

import (
	"context"
	"strings"

	"github.com/m2bbs/m2bbs/host/message"
)

// luaWatch is the host's side of the watch Lua module (luaapi.Watch): the
// sysop's own session on the board watches a caller, whose events reach
// the sysop's client as screens, one per batch, written as WatchTranscript
// writes them (one transcript per screen). Its functions never wait for a worker: they run on the
// sysop's.
type luaWatch struct{ h *Host }

// Watch starts sysopID's watch of callerID.
func (l luaWatch) Watch(sender, sysopID, callerID string) error {
	w, err := l.h.startWatch(sysopID, callerID, false)
	if err != nil {
		return err
	}
	to := []string{sysopID}
	go l.h.pump(context.Background(), w, func(batch []WatchEvent) error {
		// A transcript per screen: a line the caller typed at the start of
		// one is shown with its "> ", though the prompt ended the last.
		var tr WatchTranscript
		var b strings.Builder
		for _, e := range batch {
			tr.Write(&b, e)
		}
		text := strings.TrimRight(b.String(), "\n")
		if text == "" {
			return nil
		}
		return l.h.deliverMessage(sender, to, message.Screen(text))
	}, nil)
	return nil
}

// Unwatch ends sysopID's watch.
func (l luaWatch) Unwatch(sysopID string) error {
	if !l.h.watch.watching(sysopID) {
		return ErrNotWatching
	}
	l.h.stopWatch(sysopID, "the sysop stopped watching")
	return nil
}

// Chat begins or ends sysopID's chat.
func (l luaWatch) Chat(sysopID string, on bool) error {
	out, err := l.h.watch.chat(sysopID, on)
	l.h.tellCallers(out)
	return err
}

// Say is sysopID's chat line.
func (l luaWatch) Say(sysopID, text string) error {
	out, err := l.h.watch.say(sysopID, text)
	l.h.tellCallers(out)
	return err
}

// watching reports whether watcherID watches someone.
func (hub *watchHub) watching(watcherID string) bool {
	hub.mu.Lock()
	defer hub.mu.Unlock()
	return hub.watchers[watcherID] != nil
}

// WatchTranscript writes watch events as the classic client's transcript
// shows the caller's visit: each message's text on its own lines, a
// prompt's pchar followed by what the caller typed (a password as
// ********), chat lines and the host's notices in brackets. Output in
// keystroke mode (the full-screen editor, a door: cursor moves and screen
// clears that would scramble the watcher's own screen) is summed up in a
// bracketed line, once for a run of it. Its zero value is ready; it
// remembers whether the last thing written was a pchar or keystroke-mode
// output.
type WatchTranscript struct{ atPrompt, inKeys bool }

// WatchKeysText sums up a run of keystroke-mode output in a transcript.
const WatchKeysText = "[the caller is in a full-screen program (keystroke mode): its screens are not shown]\n"

// Write writes e to b.
func (tr *WatchTranscript) Write(b *strings.Builder, e WatchEvent) {
	if e.Kind != WatchTyped && e.Kind != WatchChat && tr.atPrompt {
		b.WriteByte('\n')
		tr.atPrompt = false
	}
	if (e.Type == message.TypeKeys || e.Type == message.TypeBinary) && (e.Kind == WatchSent || e.Kind == WatchRaw) {
		if !tr.inKeys {
			b.WriteString(WatchKeysText)
			tr.inKeys = true
		}
		return
	}
	if e.Kind != WatchTyped {
		tr.inKeys = false
	}
	switch e.Kind {
	case WatchSent, WatchRaw:
		if e.Msg != "" {
			b.WriteString(e.Msg)
			if !strings.HasSuffix(e.Msg, "\n") {
				b.WriteByte('\n')
			}
		}
		if e.Type == message.TypePrompt {
			b.WriteString(e.PChar)
			tr.atPrompt = true
		}
	case WatchTyped, WatchChat:
		if !tr.atPrompt {
			b.WriteString("> ")
		}
		tr.atPrompt = false
		switch {
		case e.Secret:
			b.WriteString("********")
		case e.Kind == WatchChat:
			b.WriteString("[to the sysop] " + e.Msg)
		default:
			b.WriteString(e.Msg)
		}
		b.WriteByte('\n')
	case WatchNotice:
		b.WriteString("[" + e.Msg + "]\n")
	case WatchEnd:
		b.WriteString("[the watch ended: " + e.Msg + "]\n")
	}
}
