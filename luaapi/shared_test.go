package luaapi

import (
	"path/filepath"
	"strings"
	"sync"
	"testing"

	lua "github.com/yuin/gopher-lua"
	"golang.org/x/crypto/bcrypt"

	"github.com/m2bbs/m2bbs/host/handler/live"
	"github.com/m2bbs/m2bbs/host/handler/store"
)

// fakeChannels records what the shared module asks of its channels.
type fakeChannels struct {
	mu        sync.Mutex
	listening map[string]bool // conn id + " " + channel
	published []string
	refuse    error
}

func (f *fakeChannels) Subscribe(connID, channel string, force bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.refuse != nil && !force {
		return f.refuse
	}
	f.listening[connID+" "+channel] = true
	return nil
}

func (f *fakeChannels) Unsubscribe(connID, channel string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.listening, connID+" "+channel)
}

func (f *fakeChannels) Publish(connID, from, channel, text string) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.refuse != nil {
		return 0, f.refuse
	}
	f.published = append(f.published, from+"@"+channel+": "+text)
	return 1, nil
}

// sharedEnv is a Lua state with the shared module over a real store.
func sharedEnv(t *testing.T, db store.Store, ch Channels) (*lua.LState, *Conn) {
	t.Helper()
	L := lua.NewState()
	t.Cleanup(L.Close)
	err := New(Deps{
		Screens: screenMap{}, Store: db, Channels: ch,
		User: func(*lua.LState) string { return "kim" },
	}).Open(L)
	if err != nil {
		t.Fatal(err)
	}
	conn := NewConn("7", "sender-1", &recordingReplier{})
	L.SetGlobal("conn", NewConnValue(L, conn))
	return L, conn
}

func openSharedStore(t testing.TB) store.Store {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "bbs.db"), store.Options{BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestSharedTables(t *testing.T) {
	L, _ := sharedEnv(t, openSharedStore(t), nil)
	err := L.DoString(`
		local shared = require 'shared'
		assert(shared.get('room', 'topic') == nil)
		assert(shared.set('room', 'topic', 'Welcome') == true)
		assert(shared.get('room', 'topic') == 'Welcome')
		assert(shared.set('room', 'open', true))
		assert(shared.get('room', 'open') == true)
		-- compare and set: succeeds once, then reports what is there
		assert(shared.update('room', 'owner', nil, 'kim') == true)
		local ok, cur = shared.update('room', 'owner', nil, 'lee')
		assert(ok == false and cur == 'kim', tostring(cur))
		assert(shared.update('room', 'owner', 'kim', nil) == true)
		assert(shared.get('room', 'owner') == nil)
		-- counters
		assert(shared.incr('room', 'visits') == 1)
		assert(shared.incr('room', 'visits', 41) == 42)
		local n, err = shared.incr('room', 'topic')
		assert(n == nil and err == 'the value is not a number', tostring(err))
		local keys = shared.keys('room')
		assert(#keys == 3 and keys[1] == 'open' and keys[2] == 'topic' and keys[3] == 'visits')
		assert(shared.set('room', 'topic', nil))
		assert(shared.get('room', 'topic') == nil)
	`)
	if err != nil {
		t.Fatal(err)
	}
}

// TestPublishingTooMuchTextIsRefused: a text longer than a value may be
// is refused with nil and a message, as callers' lines often are, not
// raised as a script error.
func TestPublishingTooMuchTextIsRefused(t *testing.T) {
	ch := &fakeChannels{listening: map[string]bool{}}
	L, _ := sharedEnv(t, openSharedStore(t), ch)
	if err := L.DoString(`local shared = require 'shared'
		local n, err = shared.publish(conn, 'chat', string.rep('x', 1025))
		assert(n == nil and err == 'text longer than 1024 bytes', tostring(err))
		assert(shared.publish(conn, 'chat', string.rep('x', 1024)))`); err != nil {
		t.Error(err)
	}
}

func TestSharedMisuseAndLimits(t *testing.T) {
	L, _ := sharedEnv(t, openSharedStore(t), nil)
	for src, want := range map[string]string{
		`shared.set('t', 'k', {})`:                    "string, number or boolean expected",
		`shared.set('t', 'k', 0/0)`:                   "finite number expected",
		`shared.set('t', 'k', string.rep('x', 1025))`: "string longer than 1024 bytes",
		`shared.get('', 'k')`:                         "empty table",
		`shared.get('t', string.rep('k', 65))`:        "key longer than 64 bytes",
		`assert(shared.publish(conn, 'chat', 'hi'))`:  "shared state is not available",
	} {
		err := L.DoString("local shared = require 'shared'\n" + src)
		switch {
		case err == nil:
			t.Errorf("%s: no error; want %q", src, want)
		case !strings.Contains(err.Error(), want):
			t.Errorf("%s: %v; want %q", src, err, want)
		}
	}
	// Without channels (no host): nil and a message.
	if err := L.DoString(`local ok, err = require('shared').subscribe(conn, 'chat')
		assert(ok == nil and err:find('not available'), tostring(err))`); err != nil {
		t.Error(err)
	}
	// A table full of keys refuses a new one with nil, message.
	err := L.DoString(`
		local shared = require 'shared'
		for i = 1, 1000 do assert(shared.set('full', 'k' .. i, i)) end
		local ok, err = shared.set('full', 'one more', 1)
		assert(ok == nil and err:find('shared table full'), tostring(err))
		assert(shared.set('full', 'k1', 'still writable'))
	`)
	if err != nil {
		t.Fatal(err)
	}
}

func TestSharedChannelsCalls(t *testing.T) {
	ch := &fakeChannels{listening: map[string]bool{}}
	L, _ := sharedEnv(t, openSharedStore(t), ch)
	err := L.DoString(`
		local shared = require 'shared'
		assert(shared.subscribe(conn, 'chat') == true)
		assert(shared.publish(conn, 'chat', 'hello') == 1)
		assert(shared.unsubscribe(conn, 'chat') == true)
	`)
	if err != nil {
		t.Fatal(err)
	}
	if len(ch.listening) != 0 || len(ch.published) != 1 || ch.published[0] != "kim@chat: hello" {
		t.Errorf("listening %v, published %q", ch.listening, ch.published)
	}
	ch.refuse = errTest("the channel is full")
	err = L.DoString(`
		local shared = require 'shared'
		local ok, err = shared.subscribe(conn, 'chat')
		assert(ok == nil and err == 'the channel is full', tostring(err))
		ok, err = shared.publish(conn, 'chat', 'x')
		assert(ok == nil and err == 'the channel is full', tostring(err))
	`)
	if err != nil {
		t.Fatal(err)
	}
}

type errTest string

func (e errTest) Error() string { return string(e) }

// TestSharedAskReturnsLineOrEvent: shared.ask gives back the caller's
// request, or nil and the event when the host resumes it with one.
func TestSharedAskReturnsLineOrEvent(t *testing.T) {
	L, _ := sharedEnv(t, openSharedStore(t), nil)
	fn, err := L.LoadString(`
		local shared = require 'shared'
		local r, ev = shared.ask(conn, nil, 'Say:', 'Chat> ')
		got_line = r and r.data.msg
		r, ev = shared.ask(conn, nil, 'Say:', 'Chat> ')
		got_event = r == nil and #ev == 1 and ev[1].channel .. '|' .. ev[1].from .. '|' .. ev[1].text
	`)
	if err != nil {
		t.Fatal(err)
	}
	th, _ := L.NewThread()
	if st, err, _ := L.Resume(th, fn); st != lua.ResumeYield || err != nil {
		t.Fatalf("first resume: %v %v", st, err)
	}
	line := L.NewTable()
	data := L.NewTable()
	data.RawSetString("type", lua.LString("msg"))
	data.RawSetString("msg", lua.LString("hi all"))
	line.RawSetString("data", data)
	if st, err, _ := L.Resume(th, fn, line); st != lua.ResumeYield || err != nil {
		t.Fatalf("second resume: %v %v", st, err)
	}
	one := L.NewTable()
	for k, v := range map[string]string{"channel": "chat", "from": "lee", "text": "yo"} {
		one.RawSetString(k, lua.LString(v))
	}
	evData := L.NewTable()
	evData.RawSetString("type", lua.LString("event"))
	evData.RawSetString("events", L.NewTable())
	evData.RawGetString("events").(*lua.LTable).Append(one)
	ev := L.NewTable()
	ev.RawSetString("data", evData)
	if st, err, _ := L.Resume(th, fn, ev); st != lua.ResumeOK || err != nil {
		t.Fatalf("third resume: %v %v", st, err)
	}
	if got := L.GetGlobal("got_line").String(); got != "hi all" {
		t.Errorf("line = %q", got)
	}
	if got := L.GetGlobal("got_event").String(); got != "chat|lee|yo" {
		t.Errorf("event = %q", got)
	}
}

// TestSharedIncrementsFromManyStates: workers (one Lua state each, on
// goroutines of their own) incrementing one counter lose no update.
func TestSharedIncrementsFromManyStates(t *testing.T) {
	db := openSharedStore(t)
	const states = 4 // each adds 25
	var wg sync.WaitGroup
	errs := make(chan error, states)
	for range states {
		L, _ := sharedEnv(t, db, nil)
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- L.DoString(`local shared = require 'shared'
				for i = 1, 25 do assert(shared.incr('game', 'moves')) end`)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	L, _ := sharedEnv(t, db, nil)
	if err := L.DoString(`assert(require('shared').get('game', 'moves') == 100)`); err != nil {
		t.Fatal(err)
	}
}

// TestSharedPublishFloodIsBounded: a script publishing in a loop reaches
// the listeners with its burst only; the rest is refused with a message.
func TestSharedPublishFloodIsBounded(t *testing.T) {
	delivered := 0
	hub := live.New(func(string, live.Event) { delivered++ }, nil, nil)
	if err := hub.Subscribe("8", "chat", false); err != nil {
		t.Fatal(err)
	}
	L, _ := sharedEnv(t, openSharedStore(t), hub)
	err := L.DoString(`
		local shared = require 'shared'
		local sent, refused, why = 0, 0, nil
		for i = 1, 1000 do
			local n, err = shared.publish(conn, 'chat', 'spam ' .. i)
			if n then sent = sent + 1 else refused, why = refused + 1, err end
		end
		assert(sent <= 11 and refused >= 989, sent .. ' sent')
		assert(why == 'publishing too fast: wait a moment', tostring(why))
	`)
	if err != nil {
		t.Fatal(err)
	}
	if delivered > live.PublishBurst+1 {
		t.Errorf("the listener got %d events; the burst is %d", delivered, live.PublishBurst)
	}
}

// TestSharedFarewellAndHoldAtHangUp: a caller who hangs up while in the
// room (subscribed with a farewell, holding their seat) is announced to
// the others as gone and loses the seat; the host does it, not the
// script, which is not run again.
func TestSharedFarewellAndHoldAtHangUp(t *testing.T) {
	var mu sync.Mutex
	var got []live.Event
	hub := live.New(func(id string, ev live.Event) {
		mu.Lock()
		defer mu.Unlock()
		if id == "8" {
			got = append(got, ev)
		}
	}, nil, nil)
	db := openSharedStore(t)
	hub.SetTables(db)
	if err := hub.Subscribe("8", "room", false); err != nil {
		t.Fatal(err)
	}
	L, conn := sharedEnv(t, db, hub)
	err := L.DoString(`
		local shared = require 'shared'
		assert(shared.subscribe(conn, 'room', '* kim hangs up.'))
		assert(shared.hold(conn, 'who', 'kim', 'room') == true)
		assert(shared.get('who', 'kim') == 'room')
		local ok, err = pcall(shared.hold, conn, 'who', 'kim', {})
		assert(not ok and tostring(err):find('string, number or boolean expected'), tostring(err))
		-- given up before the end: deleted if still held, and not held
		assert(shared.hold(conn, 'who', 'kim2', 'cellar'))
		assert(shared.set('who', 'kim2', 'someone else') and shared.hold(conn, 'who', 'kim2', nil))
		assert(shared.get('who', 'kim2') == 'someone else')
		assert(shared.hold(conn, 'who', 'kim3', 'x') and shared.hold(conn, 'who', 'kim3', nil))
		assert(shared.get('who', 'kim3') == nil)
		assert(shared.set('who', 'kim3', 'x')) -- not held any more: kept at the hang-up
	`)
	if err != nil {
		t.Fatal(err)
	}
	hub.Forget(conn.ID)
	hub.WaitDepartures()
	if len(got) != 1 || got[0].Channel != "room" || got[0].From != "kim" || got[0].Text != "* kim hangs up." {
		t.Errorf("the other listener got %v; want kim's farewell", got)
	}
	if err := L.DoString(`assert(require('shared').get('who', 'kim') == nil, 'the seat outlived the call')
		assert(require('shared').get('who', 'kim3') == 'x', 'a key given up was released at the hang-up')`); err != nil {
		t.Error(err)
	}
	// Without a hub that releases values: nil and a message.
	L2, _ := sharedEnv(t, db, &fakeChannels{listening: map[string]bool{}})
	if err := L2.DoString(`local ok, err = require('shared').hold(conn, 'who', 'lee', 'x')
		assert(ok == nil and err:find('not available'), tostring(err))`); err != nil {
		t.Error(err)
	}
}
