package luaapi

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"

	lua "github.com/yuin/gopher-lua"
	"golang.org/x/crypto/bcrypt"

	"github.com/m2bbs/m2bbs/host/handler/store"
)

// benchDB is a Lua state with the db module over a real SQLite store
// (bcrypt at its minimum cost), with users ann and bob and one post.
func benchDB(b *testing.B) (*lua.LState, *store.SQLite) {
	b.Helper()
	s, err := store.Open(filepath.Join(b.TempDir(), "bench.db"), store.Options{BcryptCost: bcrypt.MinCost})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	ctx := context.Background()
	for _, name := range []string{"ann", "bob"} {
		if err := s.RegisterUser(ctx, name, "secret"); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := s.PostMessage(ctx, "ann", []string{"first post"}); err != nil {
		b.Fatal(err)
	}
	L := lua.NewState()
	b.Cleanup(L.Close)
	log := slog.New(slog.DiscardHandler)
	if err := New(Deps{Screens: screenMap{}, Store: s, Log: func(*lua.LState) *slog.Logger { return log }}).Open(L); err != nil {
		b.Fatal(err)
	}
	if err := L.DoString(`require 'db'`); err != nil {
		b.Fatal(err)
	}
	return L, s
}

// BenchmarkDB is each db.* function called from Lua on the real store:
// the Lua call, the Go binding, its context and the SQLite query. auth_user
// and register_user include one bcrypt at cost 4 (about 0.8 ms).
func BenchmarkDB(b *testing.B) {
	cases := []struct {
		name, body string
		// before, if set, prepares each call, off the clock.
		before func(b *testing.B, s *store.SQLite)
	}{
		{name: "user_exists", body: `return db.user_exists('ann')`},
		{name: "auth_user", body: `return db.auth_user('ann', 'secret')`},
		{name: "register_user", body: `return db.register_user('user' .. i, 'secret')`},
		{name: "post_message", body: `return db.post_message('ann', {'one', 'two', 'three'})`},
		{name: "message_count", body: `return db.message_count()`},
		{name: "message_read", body: `return db.message_read(0)`},
		{name: "send_to", body: `return db.send_to('bob', 'ann', {'psst'})`},
		{name: "inbox_count", body: `return db.inbox_count('bob')`},
		{name: "read_inbox", body: `return db.read_inbox('bob')`, before: func(b *testing.B, s *store.SQLite) {
			if _, err := s.SendMail(context.Background(), "bob", "ann", []string{"psst"}); err != nil {
				b.Fatal(err)
			}
		}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			L, s := benchDB(b)
			if err := L.DoString(`bench = function(i) ` + c.body + ` end`); err != nil {
				b.Fatal(err)
			}
			fn := L.GetGlobal("bench")
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				if c.before != nil {
					b.StopTimer()
					c.before(b, s)
					b.StartTimer()
				}
				if err := L.CallByParam(lua.P{Fn: fn, NRet: 2, Protect: true}, lua.LNumber(i)); err != nil {
					b.Fatal(err)
				}
				if v, msg := L.Get(-2), L.Get(-1); v == lua.LNil || v == lua.LFalse {
					b.Fatalf("%s returned %v, %v", c.name, v, msg)
				}
				L.Pop(2)
			}
		})
	}
}
