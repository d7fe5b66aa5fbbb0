package session

import (
	"context"
	"errors"
	"fmt"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/m2bbs/m2bbs/host/handler/journal"
	"github.com/m2bbs/m2bbs/host/handler/store"
	"github.com/m2bbs/m2bbs/host/message"
	"github.com/m2bbs/m2bbs/host/wire/m2proto"
	"github.com/m2bbs/m2bbs/luaapi"
)

// Journaling: with Config.Journal set, every session writes what enters
// it from outside to its journal (see host/handler/journal), so that a host that
// never ran it can rebuild it by replay. The rules:
//
//   - Entries of one resume are written in one transaction before the
//     replies of that resume leave the host (Table.Reply holds them until
//     Table.Commit).
//   - A session that ends, fails, is reaped or kicked, or whose caller
//     hangs up loses its journal; a host that stops keeps its sessions'
//     journals.
//   - A message for a conn id with no session but a journal is replayed:
//     the script runs again from the journal's first entry with sends
//     suppressed, its prompts answered with the journaled requests and its
//     host calls with the journaled results, until the journal is used up;
//     then the message is handled as usual.
//   - A replay that finds the script asking for something else than the
//     journal holds (another call, other arguments, another prompt, more
//     or fewer prompts) has diverged: the caller is told the board was
//     upgraded and restarted at the resume function (ResumeEntry) when they
//     had logged in and the script defines one, else at the entry
//     function, with a fresh journal.
//   - session.checkpoint(conn, req, user) in a script says that calling
//     ResumeEntry(conn, req, user) would bring the caller to this very
//     point: the journal is replaced by one checkpoint entry, which keeps
//     it from growing without end.

// DefaultResumeEntry is the global function a replay restarts a logged-in
// caller at after the script was changed under them, and that journals
// compacted by session.checkpoint replay from.
const DefaultResumeEntry = "m2bbs_resume"

// DefaultUpgradedScreen is shown to a caller whose session could not be
// replayed on the scripts as they are now.
const DefaultUpgradedScreen = "upgraded"

const fallbackUpgradedText = "The board was upgraded while you were online: taking you back to the main menu."

// errDiverged is raised in the script when a replay diverges.
var errDiverged = errors.New("the script no longer matches this caller's journal")

// sessionJournal is one session's journal state.
type sessionJournal struct {
	next    int      // the journal's count in the store (see store.Journals)
	pending [][]byte // entries not stored yet
	// replay holds the entries a replay still has to feed the script.
	replay    []journal.Entry
	replaying bool
	// afterWrite says the replay went live where the journal ended, right
	// after a write's entry, and nothing has been journaled since: a write
	// now is the one the journal was stored for (see replayCall).
	afterWrite bool
	diverged   string // why the replay diverged, once it has
	// lastRequest is the last request, as the journal keeps it, for
	// checkpoints.
	lastRequest journal.Request
	broken      bool // journaling was given up for this session
	// lost says another host wrote this journal meanwhile: it has the
	// caller now, and this table lets go of the session without a word.
	lost bool
	// stored says the store holds next entries of this session's journal;
	// reset says the pending entries replace them (resetHeld of them, or
	// whatever is there when resetHeld < 0).
	stored    bool
	reset     bool
	resetHeld int
	// dirty says the session is in Table.dirty, waiting for Commit.
	dirty bool
	// keys counts the keys requests journaled since the journal began
	// (keys.go).
	keys int
	// entries counts the entries the stored journal holds (hibernate.go).
	entries int
	// noted is when (the table's clock) the store last wrote or noted
	// this journal (noteJournals).
	noted time.Time
}

// JournalStats are the journaling counters of a Table.
type JournalStats struct {
	Replayed        int64 `json:"replayed"`
	Diverged        int64 `json:"diverged"`
	EntriesReplayed int64 `json:"entries_replayed"`
	EntriesWritten  int64 `json:"entries_written"`
	BytesWritten    int64 `json:"bytes_written"`
	WriteErrors     int64 `json:"write_errors"`
	Checkpoints     int64 `json:"checkpoints"`
	// What journaling costs the store: Prompts counts the prompts
	// journaled (a session waiting for its caller); Transactions the
	// journal writes sent to the store (each one transaction, a group
	// commit or one session's); Writes the sessions' journals written in
	// them (one row each on SQLite, the store's work); Flushes those of
	// one session stored at once, around a write or before a hash (see
	// luaapi.Recorder), rather than in a group commit; Riders those
	// stored in a write call's own transaction (rider.go), counted in
	// Writes and in no transaction of their own.
	Prompts      int64 `json:"prompts"`
	Transactions int64 `json:"transactions"`
	Writes       int64 `json:"writes"`
	Flushes      int64 `json:"flushes"`
	Riders       int64 `json:"riders"`
}

// countWrites counts a journal transaction of n sessions' writes.
func (t *Table) countWrites(n int) {
	t.jcounts.transactions.Add(1)
	t.jcounts.writes.Add(int64(n))
}

// journaling reports whether s keeps a journal.
func (t *Table) journaling(s *Session) bool {
	return s != nil && s.journal != nil && !s.journal.broken
}

// journalContext is the context of a journal read or write: never
// cancelled, since a cancellable context costs a goroutine per statement
// in go-sqlite3 (see luaapi's storeCall). The store bounds the call: it
// waits for SQLite's write lock at most its busy timeout.
func journalContext() context.Context { return context.Background() }

// record queues entry e of s's journal.
func (t *Table) record(s *Session, e journal.Entry) {
	if !t.journaling(s) || s.journal.replaying {
		return
	}
	s.journal.pending = append(s.journal.pending, t.jbuf.encode(&e))
	s.journal.afterWrite = false
	if e.Kind == journal.KindPrompt {
		t.jcounts.prompts.Add(1)
	}
}

// giveUp stops journaling s, which then lives only in this host. A
// journal another host took over is left alone: that host has the caller.
func (t *Table) giveUp(s *Session, err error) {
	s.journal.broken = true
	s.journal.pending = nil
	if errors.Is(err, store.ErrJournalConflict) {
		s.journal.lost = true
		s.log.Warn("session journal written by another host: letting go of the caller", "err", err)
		return
	}
	s.log.Warn("session journal given up: the session will not survive a restart", "err", err)
	ctx := journalContext()
	if err := t.journals.DropJournal(ctx, s.connID); err != nil {
		s.log.Warn("drop journal", "err", err)
	}
}

// batchLost stops journaling the sessions of a group commit the store
// refused twice: their journals, now behind them, are dropped in one go
// (if the store lets us), so that no replay can bring a caller back to an
// older prompt. The sessions live on in this host.
func (t *Table) batchLost(sessions []*Session, err error) {
	t.jcounts.writeErrors.Add(1)
	t.log.Error("session journals could not be stored: these sessions will not survive a restart", "sessions", len(sessions), "err", err)
	ids := make([]string, 0, len(sessions))
	for _, s := range sessions {
		s.journal.broken = true
		s.journal.pending = nil
		ids = append(ids, s.connID)
	}
	ctx := journalContext()
	if err := t.journals.DropJournals(ctx, ids); err != nil {
		t.log.Warn("drop journals", "err", err)
	}
}

// resetJournal makes e the first entry of a new journal for s, replacing
// the old one when the pending entries are stored.
func (t *Table) resetJournal(s *Session, e journal.Entry) {
	if !t.journaling(s) {
		return
	}
	j := s.journal
	if !j.reset {
		j.resetHeld = -1
		if j.stored {
			j.resetHeld = j.next
		}
	}
	j.reset = true
	j.keys = 0
	clear(j.pending)
	j.pending = append(j.pending[:0], t.jbuf.encode(&e))
}

// flushJournal stores s's pending entries in one transaction.
func (t *Table) flushJournal(s *Session) {
	if !t.journaling(s) || len(s.journal.pending) == 0 {
		return
	}
	j := s.journal
	t.withdrawRider(s)
	ctx := journalContext()
	t.countWrites(1)
	t.jcounts.flushes.Add(1)
	var err error
	if j.reset {
		err = t.journals.ResetJournal(ctx, s.connID, j.resetHeld, j.pending)
	} else {
		err = t.journals.AppendJournal(ctx, s.connID, j.next, j.pending)
	}
	if err != nil {
		t.jcounts.writeErrors.Add(1)
		t.giveUp(s, err)
		return
	}
	t.stored(s)
}

// stored records that s's pending entries are in the store.
func (t *Table) stored(s *Session) { t.storedFirst(s, len(s.journal.pending)) }

// storedFirst records that the first k of s's pending entries are in the
// store (a rider's; entries recorded during its write stay pending).
func (t *Table) storedFirst(s *Session, k int) {
	j := s.journal
	if j.reset {
		j.next = max(j.resetHeld, 0)
		j.entries = 0
	}
	j.entries += k
	n := 0
	for _, e := range j.pending[:k] {
		n += len(e)
	}
	t.jcounts.entriesWritten.Add(int64(k))
	t.jcounts.bytesWritten.Add(int64(n))
	j.next += k
	j.noted = t.now()
	rest := copy(j.pending, j.pending[k:])
	clear(j.pending[rest:]) // let the encoded entries go
	j.pending = j.pending[:rest]
	j.reset, j.stored = false, true
}

// journalNoteEvery is how often the journal of a caller who types while
// nothing is journaled (in a door, a transfer, a chat with the sysop) is
// noted as written, so that the host's pruning of the journals nobody
// wrote for the idle timeout and a minute (dispatch/pruning.go) keeps it.
const journalNoteEvery = time.Minute

// noteJournals notes as written now, in one store write, the journals of
// the callers who typed since the store last wrote theirs,
// journalNoteEvery ago or more, and have no entries pending (the next
// commit writes those). A journal another host wrote meanwhile lets its
// caller go, as a commit would.
func (t *Table) noteJournals(now time.Time) {
	if t.journals == nil {
		return
	}
	var (
		writes []store.JournalWrite
		owners []*Session
	)
	for _, s := range t.sessions {
		j := s.journal
		if !t.journaling(s) || !j.stored || len(j.pending) > 0 || !s.lastInput.After(j.noted) || now.Sub(j.noted) < journalNoteEvery {
			continue
		}
		writes = append(writes, store.JournalWrite{ConnID: s.connID, Count: j.next})
		owners = append(owners, s)
	}
	if len(writes) == 0 {
		return
	}
	errs, err := t.journals.WriteJournals(journalContext(), writes)
	if err != nil {
		t.log.Warn("journals of callers typing outside their scripts not noted as written: the next try is at the next reaping", "sessions", len(writes), "err", err)
		return
	}
	for i, s := range owners {
		if errs[i] != nil {
			t.jcounts.writeErrors.Add(1)
			t.giveUp(s, errs[i])
			t.letGo(s)
			continue
		}
		s.journal.noted = now
	}
}

// dropJournal deletes the journal of a session that ended.
func (t *Table) dropJournal(s *Session) {
	t.endClock(s) // the call is over
	t.releaseNode(s)
	if s.journal == nil || s.journal.broken || !s.journal.stored && !s.journal.reset {
		return
	}
	s.journal.broken = true // nothing more is written for it
	ctx := journalContext()
	if err := t.journals.DropJournal(ctx, s.connID); err != nil {
		s.log.Warn("drop journal", "err", err)
	}
}

// Call implements luaapi.Recorder.
func (t *Table) Call(L *lua.LState, name string, writes bool, fn lua.LGFunction) int {
	return t.call(L, name, writes, false, fn)
}

// CallRiding implements luaapi.RidingRecorder.
func (t *Table) CallRiding(L *lua.LState, name string, fn lua.LGFunction) int {
	return t.call(L, name, true, true, fn)
}

// call is Call; rides says the write may carry the journal up to it in its
// own store transaction (rider.go).
func (t *Table) call(L *lua.LState, name string, writes, rides bool, fn lua.LGFunction) int {
	s := t.sessionOn(L)
	t.checkEnding(L, s)
	if !t.journaling(s) {
		return fn(L)
	}
	args := t.jbuf.stack(L, 1, L.GetTop())
	t.secretArgs(s, name, args)
	digest := t.jbuf.digestArgs(args)
	t.jbuf.drop()
	if s.journal.replaying {
		if n, answered := t.replayCall(L, s, name, writes, digest); answered {
			return n
		}
		// The journal ended in the middle of a resume (the host that wrote
		// it died there): the rest of the resume runs live, and the caller
		// gets what they never saw.
		s.journal.replaying = false
	}
	if s.journal.afterWrite {
		s.journal.afterWrite = false
		if writes {
			t.diverge(L, s, fmt.Sprintf("%s, a write, called where the journal ends after another: it may or may not have happened", name))
		}
	}
	var rider *riding
	if writes {
		// Everything up to this write is stored first, or with it (a
		// rider): a replay never runs a journaled write again, and one
		// that finds the journal ending at a write it cannot know the
		// outcome of diverges instead of writing twice.
		if rides {
			rider = t.offerRider(L, s)
		}
		if rider == nil {
			t.flushJournal(s)
			t.checkLost(L, s)
		}
	}
	e := journal.Entry{Kind: journal.KindCall, Name: name, Args: digest}
	defer func() {
		r := recover()
		if rider != nil {
			t.settleRider(s, rider)
		}
		if r == nil {
			return
		}
		if apiErr, ok := r.(*lua.ApiError); ok && t.journaling(s) {
			if enc, err := journal.AppendValues(nil, []lua.LValue{apiErr.Object}); err == nil {
				e.Error = enc
				t.record(s, e)
			} else {
				t.giveUp(s, fmt.Errorf("%s raised %w", name, err))
			}
		}
		panic(r)
	}()
	n := fn(L)
	if rider != nil {
		t.settleRider(s, rider)
		rider = nil
		t.checkLost(L, s)
	}
	if n < 0 {
		// The call yielded for a hash (offload.go): its entry is recorded
		// when it finishes.
		t.noteOffloadCall(s, e)
		return n
	}
	enc, err := t.jbuf.encodeValues(t.jbuf.stack(L, L.GetTop()-n+1, n))
	t.jbuf.drop()
	if err != nil {
		t.giveUp(s, fmt.Errorf("%s returned %w", name, err))
		return n
	}
	e.Results = enc
	t.record(s, e) // stored with the resume's other entries, or the next write's
	return n
}

// errLost ends a session whose journal another host took over.
var errLost = errors.New("another host took this caller over")

// checkEnding raises again, at every host call, the error that ends a
// session whose replay diverged or whose caller another host took over:
// both are Lua errors, and a script's pcall that caught the first must not
// go on to run host calls live (a write twice, or for a caller this host
// lost).
func (t *Table) checkEnding(L *lua.LState, s *Session) {
	switch {
	case s == nil || s.journal == nil:
	case s.journal.lost:
		L.RaiseError("%v", errLost)
	case s.journal.diverged != "":
		L.RaiseError("%v: %s", errDiverged, s.journal.diverged)
	}
}

// checkLost stops the script on L if its journal was taken over.
func (t *Table) checkLost(L *lua.LState, s *Session) {
	if s.journal != nil && s.journal.lost {
		L.RaiseError("%v", errLost)
	}
}

// replayCall answers a host call from the journal; answered is false when
// the journal ends before it and the call may run live (it only reads).
func (t *Table) replayCall(L *lua.LState, s *Session, name string, writes bool, digest uint64) (n int, answered bool) {
	e, ok := t.nextEntry(s)
	switch {
	case !ok && writes:
		t.diverge(L, s, fmt.Sprintf("%s, a write, called where the journal ends: it may or may not have happened", name))
	case !ok:
		return 0, false
	case e.Kind != journal.KindCall:
		t.diverge(L, s, fmt.Sprintf("%s called where the journal holds a prompt or its answer", name))
	case e.Name != name:
		t.diverge(L, s, fmt.Sprintf("%s called where the journal holds %s", name, e.Name))
	case e.Args != digest:
		t.diverge(L, s, fmt.Sprintf("%s called with other arguments than journaled", name))
	}
	s.journal.replay = s.journal.replay[1:]
	t.jcounts.entriesReplayed.Add(1)
	if len(s.journal.replay) == 0 && writes {
		// The journal ends right after a write: the host that wrote it
		// died before the end of this resume. From here on the resume
		// runs live, and the caller gets what they never saw, unless the
		// next thing the script does is another write: the journal was
		// then stored with that write or just before it (rider.go), whose
		// fate is unknown, and it diverges (call). (A journal that ends
		// anywhere else was stored just before a write too: that write
		// diverges, above.)
		s.journal.replaying = false
		s.journal.afterWrite = true
	}
	if len(e.Error) > 0 {
		vals, err := journal.DecodeValues(L, e.Error)
		if err != nil || len(vals) != 1 {
			t.diverge(L, s, fmt.Sprintf("journaled error of %s unreadable: %v", name, err))
		}
		L.Error(vals[0], 0)
	}
	vals, err := journal.DecodeValues(L, e.Results)
	if err != nil {
		t.diverge(L, s, fmt.Sprintf("journaled results of %s unreadable: %v", name, err))
	}
	for _, v := range vals {
		L.Push(v)
	}
	return len(vals), true
}

// nextEntry returns the next entry to replay, after applying the login
// entries before it.
func (t *Table) nextEntry(s *Session) (journal.Entry, bool) {
	j := s.journal
	for len(j.replay) > 0 && j.replay[0].Kind == journal.KindLogin {
		t.setUser(s, j.replay[0].User)
		j.replay = j.replay[1:]
		t.jcounts.entriesReplayed.Add(1)
	}
	if len(j.replay) == 0 {
		return journal.Entry{}, false
	}
	return j.replay[0], true
}

// diverge stops a replay from inside the script. The rest of the step
// (a script that catches the error) sends nothing and makes no host call
// (checkEnding): the caller is restarted.
func (t *Table) diverge(L *lua.LState, s *Session, why string) {
	if s.journal.diverged == "" {
		s.journal.diverged = why
	}
	s.journal.replaying = true // went live where the journal ended after a write: no more
	L.RaiseError("%v: %s", errDiverged, why)
}

// checkpoint is session.checkpoint: the journal becomes one checkpoint
// entry for user.
func (t *Table) checkpoint(L *lua.LState, user string) {
	s := t.sessionOn(L)
	if !t.journaling(s) || s.journal.replaying || t.resumeEntry() == nil {
		return
	}
	// The pending entries are not stored: the checkpoint replaces them
	// with the journal they would have joined, whose count it checks.
	t.jcounts.checkpoints.Add(1)
	t.resetJournal(s, journal.Entry{Kind: journal.KindCheckpoint, Request: s.journal.lastRequest, User: user})
}

// resumeEntry is the script's resume function, or nil.
func (t *Table) resumeEntry() *lua.LFunction {
	fn, _ := t.L.GetGlobal(t.cfg.ResumeEntry).(*lua.LFunction)
	return fn
}

// loadedJournal is a journal read from the store.
type loadedJournal struct {
	entries []journal.Entry
	count   int // see store.Journals
}

// loadJournal returns connID's journal, parsed: no entries if it has none
// or it is damaged (logged), an error if the store could not be read.
func (t *Table) loadJournal(connID string) (loadedJournal, error) {
	ctx := journalContext()
	raw, count, err := t.journals.LoadJournal(ctx, connID)
	if errors.Is(err, store.ErrDamaged) {
		t.log.Warn("journal damaged: it is not replayed", "conn_id", connID, "err", err)
		return loadedJournal{}, nil
	}
	if err != nil {
		return loadedJournal{}, fmt.Errorf("load journal of conn %s: %w", connID, err)
	}
	entries, err := parseEntries(raw)
	if err != nil {
		t.log.Warn("journal damaged: it is not replayed", "conn_id", connID, "err", err)
		return loadedJournal{}, nil
	}
	return loadedJournal{entries, count}, nil
}

// errNoStart is parseEntries' error for a journal whose first entry is
// neither a start nor a checkpoint.
var errNoStart = errors.New("journal does not begin with a start")

// parseEntries parses a journal's stored entries.
func parseEntries(raw [][]byte) ([]journal.Entry, error) {
	entries := make([]journal.Entry, 0, len(raw))
	for i, b := range raw {
		e, err := journal.Parse(b)
		if err != nil {
			return nil, fmt.Errorf("entry %d: %w", i, err)
		}
		entries = append(entries, e)
	}
	if len(entries) > 0 && entries[0].Kind != journal.KindStart && entries[0].Kind != journal.KindCheckpoint {
		return nil, errNoStart
	}
	return entries, nil
}

// replayFailed begins the reason of a replay stopped by a script error.
const replayFailed = "the script failed during the replay: "

// replayResult says how a replay went.
type replayResult int

const (
	replayDone      replayResult = iota // the session waits where it stood
	replayRestarted                     // diverged; restarted (waiting or gone)
	replayGone                          // the session ended or failed (the caller was told)
)

// replay rebuilds connID's session from entries. live, if not nil, is the
// request that arrived for it (its sender is where replies go now).
// secrets are those the caller gave this host before, if it knows them (a
// caller it hibernated): the rebuilt session knows each of them from where
// the caller's session did (secretsBefore, revealSecret), so that its
// calls digest them as the journal does, and its script gets back the
// secret answers the journal keeps as placeholders.
func (t *Table) replay(connID string, loaded loadedJournal, live *m2proto.Request, secrets []string) (*Session, replayResult) {
	entries := loaded.entries
	first := entries[0]
	firstReq, err := first.Request.Decode()
	if err != nil {
		if live == nil {
			t.log.Warn("journal's first request unreadable", "conn_id", connID, "err", err)
			return nil, replayGone
		}
		s := t.newSession(connID, live.Sender, live)
		s.journal.next, s.journal.stored = loaded.count, true
		s.log.Error("journal's first request unreadable: ending the call", "err", err)
		t.end(s, t.cfg.ErrorScreen, fallbackErrorText)
		return nil, replayGone
	}
	sender := firstReq.Sender
	if live != nil {
		sender = live.Sender
	}
	s := t.newSession(connID, sender, firstReq)
	s.secrets.list = t.secretsBefore(entries[1:], secrets)
	s.inReplay = true // a hash past the journal's end runs in place
	defer func() { s.inReplay = false }()
	s.journal.next, s.journal.stored = loaded.count, true
	s.journal.entries = len(entries)
	s.journal.replay = entries[1:]
	s.journal.replaying = true
	s.journal.lastRequest = first.Request
	t.counts.started.Add(-1) // not a new call
	t.jcounts.replayed.Add(1)
	t.jcounts.entriesReplayed.Add(1)
	began := t.now()
	deadline := time.Now().Add(t.cfg.ReplayBudget) // the worker's time, not the board's clock

	firstTable, err := t.requestTable(firstReq)
	if err != nil {
		return t.restart(s, live, "journal's first request unreadable")
	}
	setColourFrom(s.conn, firstTable) // as start did
	var (
		waiting, gone bool
		why           string
	)
	if first.Kind == journal.KindCheckpoint {
		resume := t.resumeEntry()
		if resume == nil {
			return t.restart(s, live, "the script has no "+t.cfg.ResumeEntry+" function")
		}
		t.setUser(s, first.User)
		waiting, why, gone = t.replayStep(s, resume, s.connValue, firstTable, lua.LString(first.User))
	} else {
		waiting, why, gone = t.replayStep(s, t.entry, t.entryArgs(s, firstTable)...)
	}
	for why == "" && !gone && s.journal.replaying {
		e, ok := t.nextEntry(s)
		if !ok {
			break
		}
		switch {
		case !waiting:
			why = "the script ended where the journal goes on"
		case e.Kind != journal.KindPrompt:
			why = "the script waits for the caller where the journal holds " + e.Name
		case e.Label != s.conn.PromptLabel():
			why = fmt.Sprintf("the script asks %q where the caller was asked %q", s.conn.PromptLabel(), e.Label)
		}
		if why != "" {
			break
		}
		s.journal.replay = s.journal.replay[1:]
		t.jcounts.entriesReplayed.Add(1)
		if e, ok = t.nextEntry(s); !ok {
			break // the caller is looking at this prompt now
		}
		if e.Kind != journal.KindRequest {
			why = "the journal holds " + e.Name + " where the caller answered"
			break
		}
		if time.Now().After(deadline) {
			why = replayTooLong + t.cfg.ReplayBudget.String()
			break
		}
		req, err := e.Request.Decode()
		if err != nil {
			why = "a journaled request is unreadable"
			break
		}
		tbl, err := t.requestTable(req)
		if err != nil {
			why = "a journaled request is unreadable"
			break
		}
		t.revealSecret(s, tbl, secrets)
		s.journal.replay = s.journal.replay[1:]
		s.journal.lastRequest = e.Request
		t.jcounts.entriesReplayed.Add(1)
		if t.dry != nil {
			t.dry.answered(s, req)
		}
		setColourFrom(s.conn, tbl)
		waiting, why, gone = t.replayStep(s, t.entry, tbl)
	}
	switch {
	case gone:
		return nil, replayGone // it ended live, past the journal's end
	case why == "" && !waiting:
		why = "the script ended where the journal goes on"
	}
	if why != "" {
		return t.restart(s, live, why)
	}
	if !s.journal.replaying {
		// It went live past the journal's end and now waits at a prompt
		// the journal has not seen.
		t.record(s, journal.Entry{Kind: journal.KindPrompt, Label: s.conn.PromptLabel()})
	}
	s.journal.replaying, s.journal.afterWrite = false, false
	s.journal.replay = nil
	s.log.Info("session replayed from its journal", "entries", len(entries), "took", t.now().Sub(began).Round(time.Microsecond), "version", t.cfg.Version)
	return s, replayDone
}

// entryArgs are the arguments the entry function starts with (see start).
func (t *Table) entryArgs(s *Session, reqTable *lua.LTable) []lua.LValue {
	if t.entry.Proto.NumParameters == 1 && t.entry.Proto.IsVarArg == 0 {
		return []lua.LValue{s.connValue}
	}
	return []lua.LValue{s.connValue, reqTable}
}

// replayStep resumes s during a replay; it reports whether the script
// waits for the caller, or why the replay cannot go on. If the journal
// ran out during the step and the script went on live, the step ends as a
// live resume does: gone says the session ended or failed (and was dealt
// with).
func (t *Table) replayStep(s *Session, fn *lua.LFunction, args ...lua.LValue) (waiting bool, why string, gone bool) {
	if !s.journal.replaying {
		return t.resumeFn(s, fn, args...), "", t.sessions[s.connID] != s
	}
	state, err := t.safeResumeFn(s, fn, args)
	if !s.journal.replaying && s.journal.diverged == "" {
		// Live from inside the step on: finish it as resume does.
		waiting = t.settleResume(s, state, err)
		return waiting, "", !waiting
	}
	switch {
	case s.journal.diverged != "":
		return false, s.journal.diverged, false
	case err != nil:
		return false, replayFailed + errorText(err), false
	case state == lua.ResumeYield:
		// A one-parameter entry waiting before saying anything wants the
		// first request (see start).
		if fn == t.entry && len(args) == 1 && args[0] == s.connValue && s.conn.Sent() == 0 {
			return t.replayStep(s, fn, t.firstRequestOf(s))
		}
		return true, "", false
	default:
		return false, "", false
	}
}

// firstRequestOf rebuilds the first request table of s.
func (t *Table) firstRequestOf(s *Session) lua.LValue {
	req, err := s.journal.lastRequest.Decode()
	if err != nil {
		return lua.LNil
	}
	tbl, err := t.requestTable(req)
	if err != nil {
		return lua.LNil
	}
	return tbl
}

// replayTooLong starts the reason a replay stopped past
// Config.ReplayBudget: one caller's journal (an editor session of
// thousands of keys requests, say) must not hold the worker, and every
// other caller on it, for long.
const replayTooLong = "the replay ran for more than "

// restarter is implemented by Channels that can drop what a session whose
// replay diverged set up in them (live.Hub).
type restarter interface{ Restarted(connID string) }

// restart handles a replay that diverged: the caller is told the board was
// upgraded and starts again at the resume function (logged in) or at the
// entry function, with a fresh journal.
func (t *Table) restart(s *Session, live *m2proto.Request, why string) (*Session, replayResult) {
	if t.dry != nil {
		return t.dry.stop(t, s, why) // a dry run restarts no one
	}
	t.jcounts.diverged.Add(1)
	s.log.Warn("replay diverged: restarting the caller on the current scripts", "why", why, "version", t.cfg.Version)
	user := s.user
	// A fresh coroutine; the old one is dropped.
	delete(t.byThread, s.thread)
	s.cancel()
	s.thread, s.cancel = t.newThread()
	t.byThread[s.thread] = s
	s.journal.replaying, s.journal.replay, s.journal.diverged = false, nil, ""
	s.conn.Reset()
	// What the replay set up again in the shared module (listening, a
	// farewell, held values) was the old coroutine's: it goes with it.
	if r, ok := t.deps.Channels.(restarter); ok {
		r.Restarted(s.connID)
	}

	text, err := t.deps.Screens.Screen(t.cfg.UpgradedScreen)
	if err != nil {
		text = fallbackUpgradedText
	}
	msg := message.Screen(luaapi.RenderColour(text, s.conn.Colour))
	if err := s.conn.Send(s.conn.Sender, s.connID, msg, "[upgraded]"); err != nil {
		s.log.Warn("send upgraded notice", "err", err)
	}

	base := live
	if base == nil {
		req, err := s.journal.lastRequest.Decode()
		if err != nil {
			s.log.Error("journaled request unreadable: ending the call", "err", err)
			t.end(s, t.cfg.ErrorScreen, fallbackErrorText)
			return nil, replayGone
		}
		base = req
	}
	if resume := t.resumeEntry(); resume != nil && user != "" {
		// The live request's data answered a prompt that is gone (it may
		// be a password): the resume function, and the journal, get the
		// request with an empty line.
		blank := *base
		blank.Body = []byte(`{"type":"msg","msg":""}`)
		s.journal.lastRequest = journal.EncodeRequest(&blank)
		tbl, _ := t.requestTable(&blank)
		t.resetJournal(s, journal.Entry{Kind: journal.KindCheckpoint, Request: s.journal.lastRequest, User: user})
		if t.resumeFn(s, resume, s.connValue, tbl, lua.LString(user)) {
			return s, replayRestarted
		}
		return nil, replayGone
	}
	// From the top, as a new call: the first request says "connect".
	connect := *base
	connect.Body = []byte(`{"type":"msg","msg":"connect"}`)
	s.user = ""
	s.journal.lastRequest = journal.EncodeRequest(&connect)
	t.resetJournal(s, journal.Entry{Kind: journal.KindStart, Request: s.journal.lastRequest})
	tbl, _ := t.requestTable(&connect)
	sent := s.conn.Sent() // the notice above
	if t.resumeFn(s, t.entry, t.entryArgs(s, tbl)...) {
		if t.entry.Proto.NumParameters == 1 && t.entry.Proto.IsVarArg == 0 && s.conn.Sent() == sent {
			if !t.resumeFn(s, t.entry, tbl) {
				return nil, replayGone
			}
		}
		return s, replayRestarted
	}
	return nil, replayGone
}

// requestTable is the Lua request table of a journaled request.
func (t *Table) requestTable(req *m2proto.Request) (*lua.LTable, error) {
	data, err := luaapi.DecodeJSON(t.L, req.Body)
	if err != nil {
		return nil, fmt.Errorf("journaled request: %w", err)
	}
	msg, ok := data.(*lua.LTable)
	if !ok {
		return nil, errors.New("journaled request: body is not a JSON object")
	}
	return t.requests.New(t.L, req, msg), nil
}

// setColourFrom follows the colour flag of a request table's data.
func setColourFrom(conn *luaapi.Conn, req *lua.LTable) {
	if data, ok := req.RawGetString("data").(*lua.LTable); ok {
		setColour(conn, data)
	}
}

// setUser records the caller's name as a replay finds it.
func (t *Table) setUser(s *Session, user string) {
	if s.user == user {
		return
	}
	s.user = user // s.log's records carry it from now on
	t.startClock(s, false)
	if t.deps.OnLogin != nil {
		t.deps.OnLogin(s.connID, user)
	}
}

// Adopt rebuilds connID's session from its journal without a request from
// the caller (how `m2bbs upgrade` moves callers onto new scripts): the
// session then waits at the prompt the caller sees, or, if the scripts
// changed under it, the caller is told and restarted. It reports whether
// the caller has a session here now.
func (t *Table) Adopt(connID, sender string) bool {
	if t.journals == nil || t.sessions[connID] != nil {
		return t.sessions[connID] != nil
	}
	loaded, err := t.loadJournal(connID)
	if err != nil {
		t.log.Warn("adopt", "conn_id", connID, "err", err)
		return false
	}
	if len(loaded.entries) == 0 {
		return false
	}
	t.hold()
	s, res := t.replay(connID, loaded, nil, nil)
	if res != replayGone && s != nil && t.sessions[connID] == s {
		if sender != "" {
			s.conn.Sender = sender
		}
		if res == replayRestarted {
			t.settleJournal(s) // a new journal: its first prompt
		}
	}
	t.Commit()
	return res != replayGone && t.sessions[connID] != nil
}

// Detach forgets connID's session without a word to the caller and keeps
// its journal, so that another table (new scripts) can Adopt it.
// It returns the sender the caller's requests come tagged with.
func (t *Table) Detach(connID string) (sender string, ok bool) {
	s := t.sessions[connID]
	if s == nil || !t.journaling(s) {
		return "", false
	}
	t.finishWaiting(s) // see offload.go
	if t.sessions[connID] != s {
		return "", false // it ended on the hash's answer
	}
	t.flushJournal(s)
	t.remove(s) // its node stays held: an upgrade adopts it at once (nodes.go)
	return s.conn.Sender, true
}

// JournalStats returns the journaling counters; safe from any goroutine.
func (t *Table) JournalStats() JournalStats {
	c := &t.jcounts
	return JournalStats{
		Replayed: c.replayed.Load(), Diverged: c.diverged.Load(), EntriesReplayed: c.entriesReplayed.Load(),
		EntriesWritten: c.entriesWritten.Load(), BytesWritten: c.bytesWritten.Load(),
		WriteErrors: c.writeErrors.Load(), Checkpoints: c.checkpoints.Load(),
		Prompts: c.prompts.Load(), Transactions: c.transactions.Load(), Writes: c.writes.Load(), Flushes: c.flushes.Load(),
		Riders: c.riders.Load(),
	}
}

// Add returns the sum of two JournalStats.
func (a JournalStats) Add(b JournalStats) JournalStats {
	return JournalStats{
		Replayed: a.Replayed + b.Replayed, Diverged: a.Diverged + b.Diverged,
		EntriesReplayed: a.EntriesReplayed + b.EntriesReplayed, EntriesWritten: a.EntriesWritten + b.EntriesWritten,
		BytesWritten: a.BytesWritten + b.BytesWritten, WriteErrors: a.WriteErrors + b.WriteErrors,
		Checkpoints: a.Checkpoints + b.Checkpoints,
		Prompts:     a.Prompts + b.Prompts, Transactions: a.Transactions + b.Transactions,
		Writes: a.Writes + b.Writes, Flushes: a.Flushes + b.Flushes, Riders: a.Riders + b.Riders,
	}
}

// journalLogin is the entry recording a login.
func journalLogin(user string) journal.Entry {
	return journal.Entry{Kind: journal.KindLogin, User: user}
}
