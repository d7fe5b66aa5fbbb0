package session

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"slices"
	"strings"
	"sync"

	lua "github.com/yuin/gopher-lua"

	"github.com/m2bbs/m2bbs/host/handler/journal"
	"github.com/m2bbs/m2bbs/host/message"
	"github.com/m2bbs/m2bbs/host/wire/m2proto"
	"github.com/m2bbs/m2bbs/luaapi"
)

// Secrets: a password a caller types never reaches the store or the log
// in clear. The host knows which strings are secrets: the answer to a
// prompt sent with ui.secret (or whose text asks for a password, see
// luaapi's asksForPassword), and the password given to db.auth_user and
// db.register_user. For each session it keeps the latest MaxSecrets of
// them, and:
//
//   - the journal records a secret answer with its placeholder in place of
//     the text: "[secret " + the first 16 hex digits of HMAC-SHA256(the
//     table's key, secret) + "]". The key is random and lives in memory
//     only, so a stolen database file gives no way to test guesses. Equal
//     secrets get equal placeholders, so a script comparing a password
//     with its confirmation does the same on replay.
//   - a password passed to db.auth_user or db.register_user that the
//     journal holds in clear in an entry not stored yet (a script that
//     asked with ui.ask in the same resume) is replaced there too, before
//     the call stores the journal.
//   - the calls that consume a secret are journaled with the secret's
//     placeholder in the digest of their arguments, and are, like every
//     journaled call, answered from the journal on replay: a replay never
//     needs the password, so a caller is logged back in after a restart.
//   - the session's log lines (print, script errors) show "***" in place
//     of a known secret.
//
// Not covered: a password typed at a prompt that is not secret and does
// not ask for a password in its question, in an earlier resume than the
// one that passes it to db.auth_user, is already stored in clear (ask for
// passwords with ui.secret), and a print before the db.auth_user call
// that names it a secret shows it. A session replayed on another host,
// or after a restart, holds placeholders, not passwords: a secret typed
// before never equals one typed after (a caller registering across a
// restart is told the passwords don't match, and calls again). A caller
// woken from hibernation is replayed with the secrets this host kept for
// them, and gets their own answers back (revealSecret).

// MaxSecrets is how many secrets a session remembers for redaction.
const MaxSecrets = 8

// secretCalls are the journaled calls whose second argument is a secret.
var secretCalls = map[string]bool{"db.auth_user": true, "db.register_user": true}

// newSecretKey returns a fresh key for placeholders.
func newSecretKey() []byte {
	key := make([]byte, 32)
	rand.Read(key)
	return key
}

const (
	placeholderPrefix = "[secret "
	placeholderLen    = len(placeholderPrefix) + 16 + 1
)

// placeholder is what a journal keeps instead of secret.
func (t *Table) placeholder(secret string) string {
	if isPlaceholder(secret) {
		return secret // a replay passing on a placeholder it was given
	}
	mac := hmac.New(sha256.New, t.secretKey)
	mac.Write([]byte(secret))
	return placeholderPrefix + hex.EncodeToString(mac.Sum(nil))[:16] + "]"
}

// isPlaceholder reports whether s is a placeholder.
func isPlaceholder(s string) bool {
	return len(s) == placeholderLen && strings.HasPrefix(s, placeholderPrefix) && s[len(s)-1] == ']'
}

// addSecret remembers secret as one of s's.
func (t *Table) addSecret(s *Session, secret string) {
	if secret == "" || isPlaceholder(secret) {
		return
	}
	s.secrets.mu.Lock()
	defer s.secrets.mu.Unlock()
	for _, known := range s.secrets.list {
		if known == secret {
			return
		}
	}
	if len(s.secrets.list) == MaxSecrets {
		s.secrets.list = s.secrets.list[1:]
	}
	s.secrets.list = append(s.secrets.list, secret)
}

// journalRequest records the request s is resumed with; the answer to a
// secret prompt is recorded with its placeholder.
func (t *Table) journalRequest(s *Session, req *m2proto.Request, msg *lua.LTable) {
	line, ok := msg.RawGetString("msg").(lua.LString)
	secret := ok && s.conn.PromptSecret() && msg.RawGetString("type") == lua.LString("msg") // keys are never a password
	if secret {
		t.addSecret(s, string(line))
	}
	if !t.journaling(s) {
		return
	}
	journaled := journal.EncodeRequest(req)
	if secret {
		journaled = t.redactedRequest(req, msg, t.placeholder(string(line)))
	}
	s.journal.lastRequest = journaled
	t.record(s, journal.Entry{Kind: journal.KindRequest, Request: journaled})
	t.countJournaledKeys(s, msg)
}

// redactedRequest is req as the journal keeps it, with msg's line
// replaced by placeholder.
func (t *Table) redactedRequest(req *m2proto.Request, msg *lua.LTable, placeholder string) journal.Request {
	line := msg.RawGetString("msg")
	msg.RawSetString("msg", lua.LString(placeholder))
	body, err := luaapi.AppendJSON(nil, msg)
	msg.RawSetString("msg", line)
	if err != nil {
		m := message.Message{Type: "msg", Msg: placeholder}
		body = m.AppendJSON(nil)
	}
	redacted := *req
	redacted.Body = body
	return journal.EncodeRequest(&redacted)
}

// secretArgs handles a call that consumes a secret (see secretCalls): the
// secret is remembered, and replaced by its placeholder in the entries not
// stored yet. Every argument that is a known secret is replaced by its
// placeholder in args, which are only digested.
func (t *Table) secretArgs(s *Session, name string, args []lua.LValue) {
	if secretCalls[name] && len(args) >= 2 {
		if pw, ok := args[1].(lua.LString); ok {
			t.addSecret(s, string(pw))
			t.redactPending(s, string(pw))
		}
	}
	for i, a := range args {
		if str, ok := a.(lua.LString); ok && s.secrets.has(string(str)) {
			args[i] = lua.LString(t.placeholder(string(str)))
		}
	}
}

// secretsBefore returns those of kept (the secrets this host kept for a
// hibernated caller) that their session knew before the journal's entries:
// all but those the caller typed at a prompt the entries hold (a request
// carrying its placeholder), which the replay learns where the caller gave
// them (revealSecret), so that the calls in between digest as they did.
func (t *Table) secretsBefore(entries []journal.Entry, kept []string) []string {
	var known []string
	for _, secret := range kept {
		ph := []byte(t.placeholder(secret))
		answered := slices.ContainsFunc(entries, func(e journal.Entry) bool {
			return e.Kind == journal.KindRequest && bytes.Contains(e.Request.Data, ph)
		})
		if !answered {
			known = append(known, secret)
		}
	}
	return known
}

// revealSecret gives back, in req (a journaled request's table, about to
// be replayed), the secret of kept that its line's placeholder stands for,
// and s knows it from then on, as when the caller typed it: the script
// holds what the caller typed, as it did before, and a password and its
// confirmation typed on either side of a hibernation are equal. A
// placeholder of no secret in kept (the host restarted since) stays as it
// is.
func (t *Table) revealSecret(s *Session, req *lua.LTable, kept []string) {
	data, ok := req.RawGetString("data").(*lua.LTable)
	if !ok {
		return
	}
	line, ok := data.RawGetString("msg").(lua.LString)
	if !ok || !isPlaceholder(string(line)) {
		return
	}
	for _, secret := range kept {
		if t.placeholder(secret) == string(line) {
			data.RawSetString("msg", lua.LString(secret))
			t.addSecret(s, secret)
			return
		}
	}
}

// noteSecret is the db module's OnSecret: the password a caller gave
// db.auth_user or db.register_user, remembered for the log (with or
// without journals).
func (t *Table) noteSecret(L *lua.LState, secret string) {
	if s := t.sessionOn(L); s != nil {
		t.addSecret(s, secret)
	}
}

// redactPending replaces secret by its placeholder in the requests of s's
// journal that are not stored yet.
func (t *Table) redactPending(s *Session, secret string) {
	j := s.journal
	for i, raw := range j.pending {
		e, err := journal.Parse(raw)
		if err != nil || e.Kind != journal.KindRequest && e.Kind != journal.KindCheckpoint {
			continue
		}
		if redacted, ok := t.redactRequest(e.Request, secret); ok {
			e.Request = redacted
			j.pending[i] = e.Append(nil)
		}
	}
	if redacted, ok := t.redactRequest(j.lastRequest, secret); ok {
		j.lastRequest = redacted
	}
}

// redactRequest returns the journaled request with its line replaced by
// secret's placeholder if the line is secret.
func (t *Table) redactRequest(journaled journal.Request, secret string) (journal.Request, bool) {
	req, err := journaled.Decode()
	if err != nil {
		return journal.Request{}, false
	}
	data, err := luaapi.DecodeJSON(t.L, req.Body)
	if err != nil {
		return journal.Request{}, false
	}
	msg, ok := data.(*lua.LTable)
	if !ok || msg.RawGetString("msg") != lua.LString(secret) {
		return journal.Request{}, false
	}
	return t.redactedRequest(req, msg, t.placeholder(secret)), true
}

// secretSet is a session's known secrets. The log handler reads it from
// whatever goroutine logs, hence the lock.
type secretSet struct {
	mu   sync.Mutex
	list []string
}

func (ss *secretSet) has(s string) bool {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	for _, known := range ss.list {
		if known == s {
			return true
		}
	}
	return false
}

// redact replaces the known secrets in text by "***": everywhere for a
// secret of minRedactBytes or more, else only where it is a whole word
// (so that a one-letter password does not blank every such letter).
func (ss *secretSet) redact(text string) string {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	for _, secret := range ss.list {
		if len(secret) >= minRedactBytes {
			text = strings.ReplaceAll(text, secret, "***")
			continue
		}
		words := strings.FieldsFunc(text, func(r rune) bool { return r == ' ' || r == '\t' || r == '\n' })
		for _, w := range words {
			if w == secret {
				text = replaceWord(text, secret)
				break
			}
		}
	}
	return text
}

const minRedactBytes = 4

// replaceWord replaces secret by "***" where it stands as a whole word.
func replaceWord(text, secret string) string {
	var b strings.Builder
	isSep := func(i int) bool {
		return i < 0 || i >= len(text) || text[i] == ' ' || text[i] == '\t' || text[i] == '\n'
	}
	for i := 0; i < len(text); {
		if strings.HasPrefix(text[i:], secret) && isSep(i-1) && isSep(i+len(secret)) {
			b.WriteString("***")
			i += len(secret)
			continue
		}
		b.WriteByte(text[i])
		i++
	}
	return b.String()
}

// redactingHandler is a session's log handler: it hides the session's
// secrets in the message and in every string attribute.
type redactingHandler struct {
	inner   slog.Handler
	secrets *secretSet
}

func (h *redactingHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.inner.Enabled(ctx, level)
}

func (h *redactingHandler) Handle(ctx context.Context, r slog.Record) error {
	if len(h.secrets.snapshot()) == 0 {
		return h.inner.Handle(ctx, r)
	}
	out := slog.NewRecord(r.Time, r.Level, h.secrets.redact(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.redactAttr(a))
		return true
	})
	return h.inner.Handle(ctx, out)
}

// redactAttr hides secrets in a's value (strings, errors, groups).
func (h *redactingHandler) redactAttr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, h.secrets.redact(v.String()))
	case slog.KindGroup:
		attrs := v.Group()
		out := make([]any, 0, len(attrs))
		for _, g := range attrs {
			out = append(out, h.redactAttr(g))
		}
		return slog.Group(a.Key, out...)
	case slog.KindAny:
		if err, ok := v.Any().(error); ok {
			return slog.String(a.Key, h.secrets.redact(err.Error()))
		}
	}
	return a
}

func (h *redactingHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &redactingHandler{inner: h.inner.WithAttrs(attrs), secrets: h.secrets}
}

func (h *redactingHandler) WithGroup(name string) slog.Handler {
	return &redactingHandler{inner: h.inner.WithGroup(name), secrets: h.secrets}
}

// snapshot returns the known secrets.
func (ss *secretSet) snapshot() []string {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.list
}
