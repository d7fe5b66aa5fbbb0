package session

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/m2bbs/m2bbs/host/handler/screens"
	"github.com/m2bbs/m2bbs/host/wire/m2proto"
)

// TestGatewayPeer: a connect from a loopback address carrying the
// gateway key gives the session the caller's address; a wrong key, a
// remote sender or a table without a key leave REMOTE_ADDR. The key never
// reaches the journal or the script.
func TestGatewayPeer(t *testing.T) {
	const key = "gateway-secret-key"
	for _, tc := range []struct {
		name, tableKey, remote, sentKey, want string
	}{
		{"the gateway", key, "127.0.0.1", key, "203.0.113.9"},
		{"a wrong key", key, "127.0.0.1", "guess", "127.0.0.1"},
		{"a remote caller with the key", key, "192.0.2.1", key, "192.0.2.1"},
		{"no key configured", "", "127.0.0.1", key, "127.0.0.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newJournaledBoard(t)
			tbl, err := New(Config{
				ScriptsDir: b.scripts, MainScript: filepath.Join(b.scripts, "bbs.lua"),
				RatePerSecond: 1e6, RateBurst: 1 << 20, Journal: true, GatewayKey: tc.tableKey,
			}, Deps{Replier: &recorder{}, Screens: screens.NewDir("../../../screens"), Store: b.db, Log: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(tbl.Close)
			req := jsonReq("1", `{"type":"msg","msg":"connect","peer":"203.0.113.9","peer_key":"`+tc.sentKey+`"}`)
			req.Headers = append(req.Headers, m2proto.Header{Name: "REMOTE_ADDR", Value: tc.remote})
			handle(tbl, req)
			s := tbl.sessions["1"]
			if s == nil {
				t.Fatal("no session")
			}
			if s.peer != tc.want {
				t.Errorf("peer = %q, want %q", s.peer, tc.want)
			}
			entries, _, err := b.db.LoadJournal(context.Background(), "1")
			if err != nil || len(entries) == 0 {
				t.Fatalf("journal: %v, %d entries", err, len(entries))
			}
			for _, e := range entries {
				if bytes.Contains(e, []byte(tc.sentKey)) || bytes.Contains(e, []byte("peer_key")) {
					t.Errorf("the key is in the journal: %q", e)
				}
			}
		})
	}
}
