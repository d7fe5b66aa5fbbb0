package session

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/m2bbs/m2bbs/host/handler/journal"
	"github.com/m2bbs/m2bbs/host/handler/store"
	"github.com/m2bbs/m2bbs/host/message"
	"github.com/m2bbs/m2bbs/host/wire/m2proto"
)

// Dry runs: a DryRun replays stored journals against the scripts, for the
// sysop's tools (m2bbs replay, m2bbs upgrade -dry-run), with no caller
// behind them. Its replay is the one a host runs for a caller it has no
// coroutine for (replay in journal.go), and it diverges exactly where that
// one would; but where a host would restart the caller on the new scripts
// (restart), a dry run stops and says why. Nothing leaves it: what the
// scripts send goes to the outcome's transcript, the journal is written
// nowhere, and its store should be a read-only view of the board's
// (store.OpenReadOnly), which a replay reaches only past its journal's end
// (a journal left in the middle of a line by a host that died there).

// DryResult says how a journal replays.
type DryResult string

// Results of a dry run.
const (
	// DryClean: the scripts bring the caller to the prompt they are at.
	DryClean DryResult = "clean"
	// DryDiverged: the scripts ask for something else than the journal
	// holds; a host would restart the caller at the main menu.
	DryDiverged DryResult = "diverged"
	// DryFailed: the script raised an error, or ran over its resume
	// budget, during the replay; a host would restart the caller too.
	DryFailed DryResult = "failed"
	// DryUnreadable: the journal cannot be read (damaged, too large).
	DryUnreadable DryResult = "unreadable"
)

// Limits on a dry run's transcript: past them its lines are dropped and
// the outcome says so (a script that loops sending text until its resume
// budget stops it must not fill the sysop's memory).
const (
	MaxTranscriptLines = 10_000
	MaxTranscriptBytes = 4 << 20
)

// DryOutcome is how one journal replays.
type DryOutcome struct {
	ConnID string    `json:"conn_id"`
	User   string    `json:"user,omitempty"` // who the caller logged in as
	Result DryResult `json:"result"`
	// Prompt numbers the prompts of the journal from 1: a clean replay's
	// is the prompt the caller is at; otherwise the one the replay was
	// going to when it stopped.
	Prompt int `json:"prompt"`
	// Saw is the label of that prompt as the journal holds it (a screen's
	// name in brackets, or the last line of the prompt's text); Shows is
	// the label of the prompt the scripts showed instead, if they reached
	// one.
	Saw   string `json:"saw,omitempty"`
	Shows string `json:"shows,omitempty"`
	// Why says why the replay stopped (a script error with its position).
	Why string `json:"why,omitempty"`
	// FromCheckpoint says the journal starts at a main menu checkpoint:
	// the replay starts at the resume function, and Prompt counts from
	// there.
	FromCheckpoint bool `json:"from_checkpoint,omitempty"`
	Entries        int  `json:"entries"`
	// Transcript is what the scripts showed and what the caller typed, in
	// order; a secret line is Hidden, and its Text empty.
	Transcript []TranscriptLine `json:"transcript,omitempty"`
	Truncated  bool             `json:"transcript_truncated,omitempty"`
}

// TranscriptLine is one message the scripts sent, or one line the caller
// typed (Caller).
type TranscriptLine struct {
	Prompt int    `json:"prompt"` // the prompt it leads to, or answers
	Caller bool   `json:"caller,omitempty"`
	Type   string `json:"type"` // screen, prompt, exit, hangup; line (the caller's)
	Text   string `json:"text,omitempty"`
	PChar  string `json:"pchar,omitempty"`
	Hidden bool   `json:"hidden,omitempty"` // a password: never shown
}

// DryRun replays journals without a caller or a store to write to.
// Like a Table, it is used from one goroutine at a time.
type DryRun struct {
	t *Table
}

// NewDryRun loads the scripts of cfg, as New does, for dry runs. deps.Store
// should be read-only (see the package's dry runs); deps.Replier and the
// hooks into a host (Online, OnLogin, HungUp, Background) are not used.
func NewDryRun(cfg Config, deps Deps) (*DryRun, error) {
	cfg.Journal = true
	d := &DryRun{}
	deps.Replier = dryReplier{d}
	deps.Online, deps.OnLogin, deps.HungUp, deps.Background = nil, nil, nil, nil
	t, err := New(cfg, deps)
	if err != nil {
		return nil, err
	}
	t.journals = discardJournals{}
	t.dry = &dryRun{}
	d.t = t
	return d, nil
}

// Close releases the scripts' Lua state.
func (d *DryRun) Close() { d.t.Close() }

// Replay replays the journal raw (its entries as the store holds them) of
// connID's caller and says how it went.
func (d *DryRun) Replay(connID string, raw [][]byte) DryOutcome {
	out := DryOutcome{ConnID: connID, Entries: len(raw)}
	entries, err := parseEntries(raw)
	if err == nil && len(entries) == 0 {
		err = errors.New("the journal is empty")
	}
	if err == nil {
		if _, err = entries[0].Request.Decode(); err != nil {
			err = fmt.Errorf("first request: %w", err)
		}
	}
	if err != nil {
		out.Result, out.Why = DryUnreadable, err.Error()
		return out
	}
	out.User = userOf(entries)
	out.FromCheckpoint = entries[0].Kind == journal.KindCheckpoint
	t := d.t
	*t.dry = dryRun{connID: connID}
	dr := t.dry
	errored := t.counts.errored.Load()
	s, res := t.replay(connID, loadedJournal{entries: entries, count: len(raw)}, nil, nil)
	if s == nil {
		s = dr.s
	}
	out.Prompt = dr.answers + 1
	switch {
	case dr.stopped:
		out.Result, out.Saw, out.Shows, out.Why = DryDiverged, dr.saw, dr.shows, dr.why
		if why, ok := strings.CutPrefix(dr.why, replayFailed); ok {
			out.Result, out.Why = DryFailed, why
			if dr.overrun != "" {
				out.Why = dr.overrun
			}
		}
	case res == replayGone && t.counts.errored.Load() != errored:
		out.Result, out.Why = DryFailed, "the script failed past the end of the journal (see the log)"
	case res == replayGone:
		out.Result, out.Why = DryClean, "the call ends past the end of the journal"
	default:
		out.Result, out.Saw = DryClean, s.conn.PromptLabel()
	}
	out.Transcript, out.Truncated = dr.lines, dr.truncated
	if s != nil {
		redactTranscript(s, out.Transcript)
		for _, text := range []*string{&out.Saw, &out.Shows, &out.Why} {
			*text = s.secrets.redact(*text) // a script error quoting a password
		}
	}
	if live := t.sessions[connID]; live != nil {
		t.remove(live)
	}
	t.outbox, t.dirty = nil, t.dirty[:0]
	*dr = dryRun{}
	return out
}

// userOf is who the journal says the caller logged in as.
func userOf(entries []journal.Entry) string {
	user := ""
	for _, e := range entries {
		if e.Kind == journal.KindLogin || e.Kind == journal.KindCheckpoint {
			user = e.User
		}
	}
	return user
}

// redactTranscript hides the secrets s learnt during the replay (the
// passwords it passed to db.auth_user and db.register_user, as the journal
// holds them) in the transcript.
func redactTranscript(s *Session, lines []TranscriptLine) {
	for i := range lines {
		l := &lines[i]
		switch {
		case l.Caller && (l.Hidden || s.secrets.has(l.Text)):
			l.Hidden, l.Text = true, ""
		case !l.Caller:
			l.Text = s.secrets.redact(l.Text)
		}
	}
}

// dryRun is the state of the replay a DryRun is running.
type dryRun struct {
	connID string
	s      *Session
	// answers counts the caller's lines fed to the script; promptSent
	// says the script sent a prompt since the last.
	answers    int
	promptSent bool
	lines      []TranscriptLine
	bytes      int
	truncated  bool
	// stopped says the replay diverged or failed (restart), why, the
	// journal's label of the prompt the caller saw next and the scripts'
	// own; overrun is why the script was stopped, if it overran.
	stopped         bool
	why, saw, shows string
	overrun         string
}

// replied records r, a reply the replay of s suppressed.
func (d *dryRun) replied(s *Session, r heldReply) {
	d.s = s
	d.record(r)
}

// record adds r to the transcript if it is for the caller replayed.
func (d *dryRun) record(r heldReply) {
	if !slices.Contains(r.ids, d.connID) {
		return
	}
	m := r.msg
	if !r.isMsg {
		if len(r.body) == 0 {
			d.add(TranscriptLine{Prompt: d.answers + 1, Type: "hangup"})
			return
		}
		var err error
		if m, err = message.Decode(r.body); err != nil {
			d.add(TranscriptLine{Prompt: d.answers + 1, Type: "raw", Text: fmt.Sprintf("(%d bytes that are not a message)", len(r.body))})
			return
		}
	}
	if m.Type == message.TypePrompt {
		d.promptSent = true
	}
	d.add(TranscriptLine{Prompt: d.answers + 1, Type: m.Type, Text: m.Msg, PChar: m.PChar})
}

// answered records the caller's line req, about to be fed to s's script.
func (d *dryRun) answered(s *Session, req *m2proto.Request) {
	d.s = s
	d.answers++
	d.promptSent = false
	var body struct {
		Msg string `json:"msg"`
	}
	_ = json.Unmarshal(req.Body, &body) // the replay decoded it already
	hidden := s.conn.PromptSecret() || isPlaceholder(body.Msg)
	d.add(TranscriptLine{Prompt: d.answers, Caller: true, Type: "line", Text: body.Msg, Hidden: hidden})
}

// add appends l to the transcript, within its limits.
func (d *dryRun) add(l TranscriptLine) {
	if len(d.lines) >= MaxTranscriptLines || d.bytes+len(l.Text) > MaxTranscriptBytes {
		d.truncated = true
		return
	}
	d.bytes += len(l.Text)
	d.lines = append(d.lines, l)
}

// stop is restart for a dry run: the replay of s stops for why, and
// the session goes.
func (d *dryRun) stop(t *Table, s *Session, why string) (*Session, replayResult) {
	d.s, d.stopped, d.why = s, true, why
	if reason := s.overrun.Load(); reason != nil {
		d.overrun = *reason
	}
	if d.promptSent {
		d.shows = s.conn.PromptLabel()
	}
	for _, e := range s.journal.replay {
		if e.Kind == journal.KindPrompt {
			d.saw = e.Label
			break
		}
	}
	t.remove(s)
	return nil, replayRestarted
}

// dryReplier takes what a dry run's scripts send past the end of a journal
// (the replay went on live): into the transcript, never to a caller.
type dryReplier struct{ d *DryRun }

// Reply implements luaapi.Replier.
func (r dryReplier) Reply(sender string, connIDs []string, body []byte) error {
	r.d.t.dry.record(heldReply{sender: sender, ids: connIDs, body: body})
	return nil
}

// SendMessage implements luaapi.Replier.
func (r dryReplier) SendMessage(sender string, connIDs []string, m message.Message) error {
	r.d.t.dry.record(heldReply{sender: sender, ids: connIDs, msg: m, isMsg: true})
	return nil
}

// discardJournals is a dry run's journal store: it writes nothing and
// holds nothing (a dry run is given its journals).
type discardJournals struct{}

var _ store.Journals = discardJournals{}

// AppendJournal implements store.Journals: nothing is written.
func (discardJournals) AppendJournal(context.Context, string, int, [][]byte) error { return nil }

// LoadJournal implements store.Journals: there is none.
func (discardJournals) LoadJournal(context.Context, string) ([][]byte, int, error) {
	return nil, 0, nil
}

// ResetJournal implements store.Journals: nothing is written.
func (discardJournals) ResetJournal(context.Context, string, int, [][]byte) error { return nil }

// WriteJournals implements store.Journals: nothing is written.
func (discardJournals) WriteJournals(_ context.Context, writes []store.JournalWrite) ([]error, error) {
	return make([]error, len(writes)), nil
}

// DropJournals implements store.Journals: nothing is dropped.
func (discardJournals) DropJournals(context.Context, []string) error { return nil }

// DropJournal implements store.Journals: nothing is dropped.
func (discardJournals) DropJournal(context.Context, string) error { return nil }

// PruneJournals implements store.Journals: nothing is pruned.
func (discardJournals) PruneJournals(context.Context, time.Time) (int, error) { return 0, nil }

// Abort stops the script of the replay running now, if any, for reason;
// it may be called from any goroutine (a memory watchdog).
func (d *DryRun) Abort(reason string) bool { return d.t.Abort(reason) }
