package dispatch

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/m2bbs/m2bbs/host/handler/session"
	"github.com/m2bbs/m2bbs/host/message"
	"github.com/m2bbs/m2bbs/host/shared/termtext"
	"github.com/m2bbs/m2bbs/host/wire/m2proto"
)

// Watching a caller: the sysop sees what the host sends a caller, as they
// get it, and what they type at each prompt (a password as Secret, never
// its text), and may break in to chat with them. The copies are taken at
// the outbound edge (sendMessage, send) and where the caller's lines come
// in (route), so every message reaches the watcher: the script's screens
// and prompts, pages, broadcasts, the host's own words. With nobody
// watched, each costs one atomic load (watchHub.on).
//
// A watcher is the sysop's stream on the status page (POST
// /status/watch, watch_http.go) or the sysop's own session on the board
// (the watch Lua module, watch_lua.go). Its events wait in a buffer of
// WatchBuffer; a watcher that reads slower than the caller is shown loses
// events, told how many, and never holds up the caller or the host.
//
// Watches live in the host's memory: a restart ends them (the watcher's
// stream closes; the sysop's session replays without its watch).

// Limits of watching.
const (
	// MaxWatchersPerCaller bounds the watchers of one caller.
	MaxWatchersPerCaller = 2
	// MaxWatchers bounds the watchers of the whole host.
	MaxWatchers = 8
	// WatchBuffer is how many events wait for a watcher; past it new
	// events are dropped and the watcher told how many.
	WatchBuffer = 256
	// MaxWatchTime ends a watch this long after it began.
	MaxWatchTime = time.Hour
	// MaxChatBytes bounds one chat line, the sysop's or the caller's
	// (longer ones are cut).
	MaxChatBytes = 1024
	// MaxChatLinesPerSecond bounds the chat lines a caller sends; past
	// it, their lines are dropped unanswered until the next second.
	MaxChatLinesPerSecond = 10
	// chatTouchEvery is how often a caller's chat lines count as input
	// to their session, whose idle time then starts over.
	chatTouchEvery = time.Minute
	// watchHeartbeat is how often a quiet stream gets a blank line, so
	// that the front end does not close it as idle.
	watchHeartbeat = 30 * time.Second
)

// Kinds of WatchEvent.
const (
	// WatchSent is a message the caller was sent: Type, Msg, PChar, Secret
	// as they got it.
	WatchSent = "sent"
	// WatchRaw is text a script sent the caller as it is (conn:reply).
	WatchRaw = "raw"
	// WatchTyped is a line the caller typed at a prompt; at a secret
	// prompt (a password) Secret is set and Msg is empty.
	WatchTyped = "typed"
	// WatchChat is a line the caller typed to the sysop during a chat.
	WatchChat = "chat"
	// WatchNotice is the host's word to the watcher: who is watched,
	// events dropped.
	WatchNotice = "notice"
	// WatchEnd is the last event: Msg says why the watch ended.
	WatchEnd = "end"
)

// WatchEvent is one thing a watcher is shown, a JSON line on the stream.
type WatchEvent struct {
	Kind   string `json:"kind"`
	Type   string `json:"type,omitempty"`
	Msg    string `json:"msg"`
	PChar  string `json:"pchar,omitempty"`
	Secret bool   `json:"secret,omitempty"`
}

// What the watched caller is told.
const (
	WatchStartText = "The sysop is watching your session."
	WatchStopText  = "The sysop stopped watching."
	ChatStartText  = "The sysop breaks in to chat: what you type now goes to the sysop, until the sysop ends the chat."
	ChatEndText    = "The sysop ended the chat."
	// ChatPChar is the prompt a caller in a chat answers.
	ChatPChar = "chat> "
	// SysopChatPrefix starts each of the sysop's chat lines.
	SysopChatPrefix = "Sysop: "
)

// Why a watch could not start or act, for errors.Is.
var (
	ErrNotOnline       = errors.New("no caller online on this host with that conn_id")
	ErrWatchSelf       = errors.New("you cannot watch yourself")
	ErrAlreadyWatching = errors.New("already watching a caller")
	ErrTooManyWatchers = errors.New("too many watchers")
	ErrNotWatching     = errors.New("not watching anyone")
	ErrChatTaken       = errors.New("another sysop is chatting with this caller")
	ErrNoChat          = errors.New("not chatting with the caller")
	ErrNotReady        = errors.New("the watch is still starting")
)

// watchHub holds who watches whom. Its lock is a leaf: nothing is sent,
// and no other lock taken, while it is held. The zero value is ready.
type watchHub struct {
	// on says someone is watched: the only thing the outbound edge and
	// route look at otherwise.
	on atomic.Bool

	mu       sync.Mutex
	callers  map[string]*watchedCaller // by the caller's conn id
	watchers map[string]*watcher       // by the watcher's own conn id
	closed   bool
}

// watchedCaller is one caller being watched.
type watchedCaller struct {
	connID, sender, user string
	watchers             []*watcher
	// prompt is the last prompt the caller was sent (hasPrompt), seen at
	// the edge or, before the edge saw one, told by their worker;
	// promptSeen says the edge saw one since the watch began. secret says
	// the prompt they answer next asks for a password.
	prompt                        message.Message
	hasPrompt, promptSeen, secret bool
	// chat is the watcher chatting with the caller, if any; chatTyped
	// says the caller has typed in the chat, so they now sit at its
	// prompt, not at the script's.
	chat      *watcher
	chatTyped bool
	// chatSecond is the second the caller's chat lines are counted in
	// (chatLines of them); touched is when one last counted as input.
	chatSecond time.Time
	chatLines  int
	touched    time.Time
}

// watcher is one sysop watching one caller.
type watcher struct {
	id     string // the conn id of the stream or of the sysop's session
	caller *watchedCaller
	out    chan WatchEvent
	// dropped counts events lost since the last that got through.
	dropped int
	// sawPrompt says a prompt was copied to w since it began.
	sawPrompt bool
	// done is closed when the watch ends; why says why.
	done chan struct{}
	why  string
}

// outgoing is a message the hub sends a caller once its lock is released.
type outgoing struct {
	sender, connID string
	m              message.Message
}

// push queues e for w without waiting; hub.mu is held. Events that do not
// fit are counted, and the watcher is told how many were lost when there
// is room again.
func (w *watcher) push(e WatchEvent) {
	if w.dropped > 0 {
		if len(w.out) >= cap(w.out)-1 {
			w.dropped++
			return
		}
		w.out <- WatchEvent{Kind: WatchNotice, Msg: droppedText(w.dropped)}
		w.dropped = 0
	}
	select {
	case w.out <- e:
	default:
		w.dropped++
	}
}

// droppedText tells a watcher that n events were lost.
func droppedText(n int) string {
	if n == 1 {
		return "(1 event dropped: the watcher reads too slowly)"
	}
	return "(" + strconv.Itoa(n) + " events dropped: the watcher reads too slowly)"
}

// pushAll queues e for every watcher of c; hub.mu is held.
func (c *watchedCaller) pushAll(e WatchEvent) {
	for _, w := range c.watchers {
		w.push(e)
	}
}

// add registers a watcher watcherID of callerID; chat says it breaks in
// at once. It returns the watcher and what to tell the caller.
func (hub *watchHub) add(watcherID, callerID string, chat bool) (*watcher, []outgoing, error) {
	if watcherID == callerID {
		return nil, nil, ErrWatchSelf
	}
	hub.mu.Lock()
	defer hub.mu.Unlock()
	switch {
	case hub.closed:
		return nil, nil, ErrNotOnline
	case hub.watchers[watcherID] != nil:
		return nil, nil, ErrAlreadyWatching
	case len(hub.watchers) >= MaxWatchers:
		return nil, nil, ErrTooManyWatchers
	}
	c := hub.callers[callerID]
	if c == nil {
		c = &watchedCaller{connID: callerID}
	}
	switch {
	case len(c.watchers) >= MaxWatchersPerCaller:
		return nil, nil, ErrTooManyWatchers
	case chat && c.chat != nil:
		return nil, nil, ErrChatTaken
	}
	if hub.callers == nil {
		hub.callers, hub.watchers = map[string]*watchedCaller{}, map[string]*watcher{}
	}
	w := &watcher{id: watcherID, caller: c, out: make(chan WatchEvent, WatchBuffer), done: make(chan struct{})}
	hub.callers[callerID] = c
	hub.watchers[watcherID] = w
	c.watchers = append(c.watchers, w)
	hub.on.Store(true)
	var tell []outgoing
	if c.sender != "" {
		tell = append(tell, outgoing{c.sender, c.connID, message.Screen(WatchStartText)})
	}
	if chat {
		c.chat, c.chatTyped = w, false
		if c.sender != "" {
			tell = append(tell, outgoing{c.sender, c.connID, message.Screen(ChatStartText)})
		}
	}
	return w, tell, nil
}

// begin completes a watch once the caller's worker told where they stand:
// the watcher is shown the caller's current prompt, and the caller, if
// the watch began before their sender was known, is told.
func (hub *watchHub) begin(w *watcher, s session.Showing) []outgoing {
	hub.mu.Lock()
	defer hub.mu.Unlock()
	c := w.caller
	if hub.watchers[w.id] != w {
		return nil // ended meanwhile
	}
	who := "conn " + c.connID
	if s.User != "" {
		c.user = s.User
		who += " (" + termtext.CleanLine(s.User) + ")"
	}
	w.push(WatchEvent{Kind: WatchNotice, Msg: "watching " + who})
	if s.HasPrompt && !c.promptSeen {
		c.prompt, c.hasPrompt, c.secret = s.Prompt, true, s.Prompt.Secret
	}
	if c.hasPrompt && !w.sawPrompt {
		w.push(sentEvent(c.prompt)) // where the caller stands
	}
	var tell []outgoing
	if c.sender == "" && s.Sender != "" {
		c.sender = s.Sender
		for _, other := range c.watchers {
			tell = append(tell, outgoing{c.sender, c.connID, message.Screen(WatchStartText)})
			if c.chat == other {
				tell = append(tell, outgoing{c.sender, c.connID, message.Screen(ChatStartText)})
			}
		}
	}
	return tell
}

// remove ends watcherID's watch, for why; tell says the caller is still
// there to be told. It returns what to tell the caller.
func (hub *watchHub) remove(watcherID, why string, tell bool) []outgoing {
	hub.mu.Lock()
	defer hub.mu.Unlock()
	w := hub.watchers[watcherID]
	if w == nil {
		return nil
	}
	c := w.caller
	var out []outgoing
	if c.chat == w {
		out = c.endChat()
	}
	if c.sender != "" {
		out = append(out, outgoing{c.sender, c.connID, message.Screen(WatchStopText)})
	}
	hub.drop(w, why)
	if !tell {
		return nil
	}
	return out
}

// drop forgets w, ended for why; hub.mu is held.
func (hub *watchHub) drop(w *watcher, why string) {
	c := w.caller
	delete(hub.watchers, w.id)
	for i, o := range c.watchers {
		if o == w {
			c.watchers = append(c.watchers[:i], c.watchers[i+1:]...)
			break
		}
	}
	if c.chat == w {
		c.chat = nil
	}
	if len(c.watchers) == 0 {
		delete(hub.callers, c.connID)
	}
	w.why = why
	close(w.done)
	hub.on.Store(len(hub.callers) > 0)
}

// callerGone ends every watch of connID: the caller's call ended.
func (hub *watchHub) callerGone(connID, why string) {
	hub.mu.Lock()
	defer hub.mu.Unlock()
	if c := hub.callers[connID]; c != nil {
		for len(c.watchers) > 0 {
			hub.drop(c.watchers[0], why)
		}
	}
}

// closeAll ends every watch: the host is stopping.
func (hub *watchHub) closeAll() {
	hub.mu.Lock()
	defer hub.mu.Unlock()
	hub.closed = true
	for _, w := range hub.watchers {
		hub.drop(w, "the host is stopping")
	}
}

// sent copies m, sent to connIDs, to their watchers; track says it came
// from the script or the host (not the hub), so a prompt in it is the one
// the caller answers next.
func (hub *watchHub) sent(sender string, connIDs []string, m message.Message, track bool) {
	hub.mu.Lock()
	defer hub.mu.Unlock()
	for _, id := range connIDs {
		c := hub.callers[id]
		if c == nil {
			continue
		}
		if c.sender == "" {
			c.sender = sender
		}
		if track && m.Type == message.TypePrompt {
			c.prompt, c.hasPrompt, c.promptSeen, c.secret = m, true, true, m.Secret
			c.chatTyped = false
		}
		c.pushAll(sentEvent(m))
		if m.Type == message.TypePrompt {
			for _, w := range c.watchers {
				w.sawPrompt = true
			}
		}
	}
}

// sentEvent is the event of a message the caller was sent.
func sentEvent(m message.Message) WatchEvent {
	return WatchEvent{Kind: WatchSent, Type: m.Type, Msg: m.Msg, PChar: m.PChar, Secret: m.Secret}
}

// raw copies bytes sent to connIDs as they are; an empty body is the
// hang-up, which ends their watches, and the watch of a sysop's session
// among them (returning what to tell the caller it watched).
func (hub *watchHub) raw(connIDs []string, body []byte) (tell []outgoing) {
	if len(body) == 0 {
		for _, id := range connIDs {
			hub.callerGone(id, "the caller's call ended")
			tell = append(tell, hub.remove(id, "the sysop's call ended", true)...)
		}
		return tell
	}
	hub.mu.Lock()
	defer hub.mu.Unlock()
	for _, id := range connIDs {
		if c := hub.callers[id]; c != nil {
			c.pushAll(WatchEvent{Kind: WatchRaw, Msg: strings.ToValidUTF8(string(body), "\uFFFD")})
		}
	}
	return nil
}

// line copies a line a watched caller typed to their watchers, and
// reports whether it was a chat line, which the caller's script never
// gets (it answers the chat's prompt, sent in the returned outgoing;
// touch says the caller's session should count it as input). A
// disconnect notice ends the watches of a caller, or of a watcher's
// stream, and is never taken.
func (hub *watchHub) line(req *m2proto.Request, now time.Time) (chat, touch bool, reply []outgoing) {
	if req.IsDisconnect() {
		hub.callerGone(req.ConnID, "the caller hung up")
		return false, false, hub.remove(req.ConnID, "the watcher hung up", true)
	}
	hub.mu.Lock()
	defer hub.mu.Unlock()
	c := hub.callers[req.ConnID]
	if c == nil {
		return false, false, nil
	}
	var typed struct{ Type, Msg string }
	if json.Unmarshal(req.Body, &typed) != nil || typed.Type != "msg" {
		return false, false, nil
	}
	if c.chat != nil && !c.countChatLine(now) {
		return true, false, nil // a flood: dropped unanswered
	}
	if c.sender == "" {
		c.sender = req.Sender
	}
	e := WatchEvent{Kind: WatchTyped, Msg: termtext.CleanLine(cutText(typed.Msg))}
	if c.secret {
		e.Msg, e.Secret = "", true
	}
	c.secret = false
	if c.chat == nil {
		c.pushAll(e)
		return false, false, nil
	}
	e.Kind = WatchChat
	c.pushAll(e)
	c.chatTyped = true
	if touch = now.Sub(c.touched) >= chatTouchEvery; touch {
		c.touched = now
	}
	return true, touch, []outgoing{{c.sender, c.connID, message.Prompt("", ChatPChar)}}
}

// countChatLine counts a chat line of c's at now and reports whether it
// is within MaxChatLinesPerSecond; hub.mu is held.
func (c *watchedCaller) countChatLine(now time.Time) bool {
	if now.Sub(c.chatSecond) >= time.Second {
		c.chatSecond, c.chatLines = now, 0
	}
	c.chatLines++
	return c.chatLines <= MaxChatLinesPerSecond
}

// cutText cuts s to MaxChatBytes, never inside a character.
func cutText(s string) string {
	if len(s) <= MaxChatBytes {
		return s
	}
	return strings.ToValidUTF8(s[:MaxChatBytes], "")
}

// chat begins (on) or ends watcherID's chat with the caller it watches,
// returning what to tell the caller.
func (hub *watchHub) chat(watcherID string, on bool) ([]outgoing, error) {
	hub.mu.Lock()
	defer hub.mu.Unlock()
	w := hub.watchers[watcherID]
	if w == nil {
		return nil, ErrNotWatching
	}
	c := w.caller
	if c.sender == "" {
		return nil, ErrNotReady
	}
	if !on {
		if c.chat != w {
			return nil, ErrNoChat
		}
		return c.endChat(), nil
	}
	switch c.chat {
	case w:
		return nil, nil
	case nil:
		c.chat, c.chatTyped = w, false
		return []outgoing{{c.sender, c.connID, message.Screen(ChatStartText)}}, nil
	}
	return nil, ErrChatTaken
}

// endChat ends c's chat and returns what brings the caller back where
// they were: the word that the chat ended, then their prompt again (as a
// prompt if they sit at the chat's, else as a screen: they still sit at
// it). hub.mu is held.
func (c *watchedCaller) endChat() []outgoing {
	c.chat = nil
	out := []outgoing{{c.sender, c.connID, message.Screen(ChatEndText)}}
	switch {
	case !c.hasPrompt:
	case c.chatTyped:
		out = append(out, outgoing{c.sender, c.connID, c.prompt})
		c.secret = c.prompt.Secret
	default:
		out = append(out, outgoing{c.sender, c.connID, message.Screen(c.prompt.Msg)})
	}
	c.chatTyped = false
	return out
}

// say is the sysop's chat line to the caller watcherID chats with.
func (hub *watchHub) say(watcherID, text string) ([]outgoing, error) {
	hub.mu.Lock()
	defer hub.mu.Unlock()
	w := hub.watchers[watcherID]
	if w == nil {
		return nil, ErrNotWatching
	}
	c := w.caller
	switch {
	case c.chat != w:
		return nil, ErrNoChat
	case c.sender == "":
		return nil, ErrNotReady
	}
	line := message.Screen(termtext.CleanLine(SysopChatPrefix + cutText(text)))
	return []outgoing{{c.sender, c.connID, line}}, nil
}

// startWatch makes watcherID a watcher of callerID (a caller of this
// host; chat: breaking in at once). It returns at once, without waiting
// for any worker, so a script may call it: the caller's worker is asked
// where they stand meanwhile (watchHub.begin).
func (h *Host) startWatch(watcherID, callerID string, chat bool) (*watcher, error) {
	h.mu.Lock()
	o := h.owners[callerID]
	h.mu.Unlock()
	if o == nil {
		return nil, ErrNotOnline
	}
	w, tell, err := h.watch.add(watcherID, callerID, chat)
	if err != nil {
		return nil, err
	}
	h.tellCallers(tell)
	go func() {
		s, _, err := onWorkerPair(context.Background(), o.w, func(t *session.Table) (session.Showing, bool) { return t.Showing(callerID) })
		if err != nil {
			h.log.Warn("watch: the caller's worker did not answer", "conn_id", callerID, "err", err)
		}
		h.tellCallers(h.watch.begin(w, s))
	}()
	h.log.Info("sysop watch began", "conn_id", callerID, "watcher", watcherID, "chat", chat)
	return w, nil
}

// stopWatch ends watcherID's watch, telling the caller.
func (h *Host) stopWatch(watcherID, why string) {
	h.tellCallers(h.watch.remove(watcherID, why, true))
}

// watchedSend is send's look at bytes or a hang-up sent while someone is
// watched (watchHub.raw).
func (h *Host) watchedSend(connIDs []string, body []byte) {
	h.tellCallers(h.watch.raw(connIDs, body))
}

// tellCallers sends the hub's messages to callers: copied to their
// watchers, but not taken as the script's prompts.
func (h *Host) tellCallers(out []outgoing) {
	for _, o := range out {
		ids := []string{o.connID}
		h.watch.sent(o.sender, ids, o.m, false)
		if err := h.deliverMessage(o.sender, ids, o.m); err != nil {
			h.log.Warn("watch: message to the caller not sent", "conn_id", o.connID, "err", err)
		}
	}
}

// watchedLine is route's look at a caller's line while someone is
// watched; it reports whether the line was a chat line, now answered.
func (h *Host) watchedLine(req *m2proto.Request) bool {
	chat, touch, reply := h.watch.line(req, time.Now())
	h.tellCallers(reply)
	if touch {
		h.touchSession(req.ConnID)
	}
	return chat
}

// touchSession counts now as connID's last input, on their worker,
// without waiting for it.
func (h *Host) touchSession(connID string) {
	h.mu.Lock()
	o := h.owners[connID]
	h.mu.Unlock()
	if o == nil {
		return
	}
	go func() {
		_, err := onWorker(context.Background(), o.w, statusTimeout, func(t *session.Table) bool { t.Touch(connID); return true })
		if err != nil {
			h.log.Warn("watch: the caller's worker did not answer", "conn_id", connID, "err", err)
		}
	}()
}
