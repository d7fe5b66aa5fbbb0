package session

import (
	"fmt"
	"log/slog"
	"path/filepath"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/m2bbs/m2bbs/host/handler/store"
	"github.com/m2bbs/m2bbs/host/wire/m2proto"
)

// inboundWire is a caller's line as the transport hands it to the host:
// a JSON-socket message with the headers Mongrel2 (or the built-in front
// end) sends.
func inboundWire(connID, line string) []byte {
	body := fmt.Appendf(nil, `{"type":"msg","msg":%q}`, line)
	return m2proto.AppendRequest(nil, &m2proto.Request{
		Sender: "9f2c0a3e-bench", ConnID: connID, Path: "@bbs",
		Headers: []m2proto.Header{
			{Name: "PATH", Value: "@bbs"}, {Name: "x-forwarded-for", Value: "192.0.2.7"},
			{Name: "METHOD", Value: "JSON"}, {Name: "PATTERN", Value: "@bbs"},
			{Name: "URL_SCHEME", Value: "http"}, {Name: "REMOTE_ADDR", Value: "192.0.2.7"},
		},
		Body: body,
	}, m2proto.JSONHeaders)
}

// BenchmarkInboundLine is one caller's line on its way in: from the bytes
// the host receives from the transport, through the host's parse and
// routing checks (host.handle, host.route), the session table's decoding
// into a request table, the journal entry of it (journal=true: appended
// and committed to SQLite, as the host's worker does with group commit),
// to the resume of the caller's coroutine, which answers with its next
// prompt (to a Replier that drops it). The caller sits at the menu of
// testdata/bench_checkpoint_menu.lua, which asks again after each line
// and, like the shipped board's main menu, checkpoints each time it
// shows, so that the journal stays short (the store appends to one blob
// per caller: a journal that only grows makes each write dearer).
//
// To count the encodes and decodes one line costs, run it with coverage
// counts and read the counters of the codec functions (ParseRequest,
// parseJSONHeaders, luaapi.DecodeJSON, m2proto.AppendRequest,
// journal.Entry.Append, luaapi.AppendJSON...), for two iteration counts
// whose difference cancels the set-up:
//
//	go test -tags libsqlite3 -run '^$' -bench 'InboundLine/journal=true' -benchtime 1000x \
//	  -covermode count -coverpkg ./host/...,./luaapi -coverprofile /tmp/c1000.out ./host/handler/session/
func BenchmarkInboundLine(b *testing.B) {
	for _, journaled := range []bool{false, true} {
		b.Run(fmt.Sprintf("journal=%v", journaled), func(b *testing.B) {
			db, err := store.Open(filepath.Join(b.TempDir(), "bbs.db"), store.Options{BcryptCost: bcrypt.MinCost})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { db.Close() })
			tbl, err := New(Config{
				ScriptsDir: "testdata", MainScript: "testdata/bench_checkpoint_menu.lua",
				RatePerSecond: 1e9, RateBurst: 1 << 30, Journal: journaled,
			}, Deps{Replier: discard{}, Screens: screenMap{}, Store: db, Log: slog.New(slog.DiscardHandler)})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(tbl.Close)
			for _, line := range []string{"connect", "ann", "pw", "y"} {
				tbl.Handle(mustParse(b, inboundWire("7", line)))
				tbl.Commit()
			}
			wire := inboundWire("7", "1")
			before := tbl.JournalStats().BytesWritten
			b.ReportAllocs()
			for b.Loop() {
				req, err := m2proto.ParseRequest(wire) // host.handle
				if err != nil {
					b.Fatal(err)
				}
				if !req.IsJSON() || req.IsDisconnect() { // host.handle, host.route
					b.Fatal("not a caller's line")
				}
				tbl.Handle(req) // the host's worker
				tbl.Commit()
			}
			b.StopTimer()
			if !tbl.Has("7") {
				b.Fatal("the session ended")
			}
			if journaled {
				b.ReportMetric(float64(tbl.JournalStats().BytesWritten-before)/float64(b.N), "journal-bytes/line")
			}
		})
	}
}

func mustParse(b *testing.B, wire []byte) *m2proto.Request {
	b.Helper()
	req, err := m2proto.ParseRequest(wire)
	if err != nil {
		b.Fatal(err)
	}
	return req
}
