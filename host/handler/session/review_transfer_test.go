package session

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/m2bbs/m2bbs/host/handler/store"
	"github.com/m2bbs/m2bbs/host/handler/transfer"
	"github.com/m2bbs/m2bbs/host/wire/m2proto"
)

const probeTransferScript = `require 'ui'
local transfer = require 'transfer'
function m2bbs(conn, req)
    while true do
        req = ui.ask(conn, req, 'menu')
        if req.data.msg == 'u' then
            local files, info
            req, files, info = transfer.receive(conn, req)
            ui.display(conn, req, 'got ' .. tostring(files and #files) .. ' ' .. tostring(info))
        end
    end
end`

type probeXferBoard struct {
	tbl    *Table
	rec    *recorder
	posted chan func()
	root   string
}

func newProbeXferBoard(t *testing.T) *probeXferBoard {
	t.Helper()
	now := time.Unix(1e9, 0)
	return newXferBoard(t, xferBoardOptions{script: probeTransferScript, journal: true, now: func() time.Time { return now }})
}

// xferBoardOptions say what newXferBoard's table runs: script as its
// main script, journals or not, time limits, the idle timeout (0: a
// minute), and its clock.
type xferBoardOptions struct {
	script  string
	journal bool
	limits  []TimeLimit
	idle    time.Duration
	now     func() time.Time
}

// newXferBoard is a table with a transfer runner (it needs lrzsz) whose
// posted work waits in posted.
func newXferBoard(t *testing.T, o xferBoardOptions) *probeXferBoard {
	t.Helper()
	for _, p := range []string{"sz", "rz"} {
		if _, err := exec.LookPath(p); err != nil {
			t.Skip("no lrzsz")
		}
	}
	db, err := store.Open(filepath.Join(t.TempDir(), "bbs.db"), store.Options{BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.lua"), []byte(o.script), 0o644); err != nil {
		t.Fatal(err)
	}
	b := &probeXferBoard{rec: &recorder{}, posted: make(chan func(), 64), root: filepath.Join(t.TempDir(), "transfers")}
	runner, err := transfer.New(transfer.Config{Root: b.root})
	if err != nil {
		t.Fatal(err)
	}
	posted := b.posted
	tbl, err := New(Config{
		ScriptsDir: dir, MainScript: filepath.Join(dir, "main.lua"), TimeLimits: o.limits, TimeZone: time.UTC,
		RatePerSecond: 1e6, RateBurst: 1 << 20, Journal: o.journal, IdleTimeout: cmp.Or(o.idle, time.Minute),
	}, Deps{
		Replier: b.rec, Screens: screenMap{"timeout": "Time is up. Bye!"}, Store: db, Log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		Nodes: &fakeNodes{held: map[string]int{}}, Transfers: runner, Now: o.now,
		Post: func(ctx context.Context, _ string, fn func()) bool {
			select {
			case posted <- fn:
				return true
			case <-ctx.Done():
				return false
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	b.tbl = tbl
	t.Cleanup(tbl.Close)
	return b
}

func (b *probeXferBoard) send(connID, kind, text string) {
	body, _ := json.Marshal(map[string]any{"type": kind, "msg": text,
		"terminal": map[string]any{"type": "ansi", "width": 80, "height": 24, "encoding": "utf-8", "ansi": true, "keys": true, "bin": true}})
	handle(b.tbl, &m2proto.Request{
		Sender: "sender-1", ConnID: connID, Path: "@bbs",
		Headers: []m2proto.Header{{Name: "METHOD", Value: "JSON"}, {Name: "PATH", Value: "@bbs"}},
		Body:    body,
	})
}

// TestReviewHangUpAsUploadEndsLeavesNothing (found by the review): the caller's
// upload ends well and they hang up at once; the hang-up reaches the
// worker before the posted streamDone. remove() discards s.received
// (still empty), then streamDone returns early (the session is gone)
// without running onTable or abandoned: the received folder stays on
// disk until the host restarts. Repeated, it fills the disk past every
// per-run bound.
func TestReviewHangUpAsUploadEndsLeavesNothing(t *testing.T) {
	b := newProbeXferBoard(t)
	callerDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(callerDir, "up.bin"), []byte(strings.Repeat("x", 10000)), 0o600); err != nil {
		t.Fatal(err)
	}
	b.send("1", "msg", "connect")
	b.send("1", "msg", "u")
	cmd := exec.Command("sz", "-b", "up.bin")
	cmd.Dir = callerDir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	in, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); _ = cmd.Wait() })
	fromSZ := make(chan []byte, 64)
	go func() {
		buf := make([]byte, 2048)
		for {
			n, err := out.Read(buf)
			if n > 0 {
				fromSZ <- append([]byte(nil), buf[:n]...)
			}
			if err != nil {
				close(fromSZ)
				return
			}
		}
	}()
	s := b.tbl.sessions["1"]
	if s == nil || s.stream == nil {
		t.Fatalf("no transfer started: %v", b.rec.take())
	}
	j := s.stream
	deliver := func() {
		for _, r := range b.rec.take() {
			if os.Getenv("PROBE_DEBUG") != "" {
				t.Logf("reply %.80q", r)
			}
			if p, ok := strings.CutPrefix(r, "1 bin:"); ok {
				raw, _ := base64.StdEncoding.DecodeString(p)
				_, _ = in.Write(raw)
			}
		}
	}
	// hangUpFirst hangs the caller up and then runs streamDone (the first
	// post once the bridge is done), as when the hang-up reaches the
	// worker first.
	hangUpFirst := func(streamDone func()) {
		handle(b.tbl, &m2proto.Request{Sender: "sender-1", ConnID: "1", Path: "@bbs", Body: []byte(`{"type":"disconnect"}`),
			Headers: []m2proto.Header{{Name: "METHOD", Value: "JSON"}}})
		streamDone()
		entries, _ := os.ReadDir(b.root)
		if len(entries) != 0 {
			t.Fatalf("the hung-up caller's upload is left on disk: %v", entries)
		}
	}
	deadline := time.After(15 * time.Second)
	for {
		deliver()
		select {
		case <-j.bridge.Done():
			// The bridge's output posts have all run: the next post is
			// streamDone. The caller hangs up first.
			select {
			case fn := <-b.posted:
				hangUpFirst(fn)
			case <-time.After(10 * time.Second):
				t.Fatal("streamDone never posted")
			}
			return
		case fn := <-b.posted:
			select {
			case <-j.bridge.Done():
				// The bridge was done before this post was taken (both
				// were ready): it is streamDone.
				hangUpFirst(fn)
				return
			default:
			}
			fn()
			b.tbl.Commit()
		case p, ok := <-fromSZ:
			if !ok {
				fromSZ = nil
				continue
			}
			b.send("1", "bin", base64.StdEncoding.EncodeToString(p))
		case <-deadline:
			t.Fatal("the upload never ended")
		}
	}
}

// TestReviewBinFloodOutsideATransferIsCut (found by the review): a "bin" request
// from a caller who is not in a transfer is dropped (binary.go:33) before
// the rate check, so it is never charged to any limit: a hostile client
// on the front end can send them forever, each a 4 KiB JSON decoded into
// a Lua table on the worker its neighbours share. The same flood of
// "keys" requests ends the call (keys.go admitKeys, keysFloodCutOff).
func TestReviewBinFloodOutsideATransferIsCut(t *testing.T) {
	b := newProbeXferBoard(t)
	b.send("1", "msg", "connect")
	piece := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("z", 2048)))
	for i := 0; i < 20000 && b.tbl.Has("1"); i++ {
		b.send("1", "bin", piece)
		b.rec.take()
	}
	if b.tbl.Has("1") {
		t.Fatal("20000 bin requests at once from a caller in no transfer: never charged, the call goes on")
	}
}
