package transfer

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// needLrzsz skips a test when lrzsz is not installed (make deps installs
// it).
func needLrzsz(t *testing.T) {
	t.Helper()
	for _, p := range []string{"sz", "rz"} {
		if _, err := exec.LookPath(p); err != nil {
			t.Skip("lrzsz is not installed (make deps)")
		}
	}
}

func newRunner(t *testing.T, cfg Config) *Runner {
	t.Helper()
	cfg.Root = filepath.Join(t.TempDir(), "transfers")
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// join copies between a and b both ways until both ends have ended.
func join(a, b io.ReadWriter) {
	go func() { _, _ = io.Copy(a, b) }()
	go func() { _, _ = io.Copy(b, a) }()
}

// peer runs lrzsz as the caller's side would, its standard input and
// output the returned pipe ends.
func peer(t *testing.T, dir string, args ...string) (*exec.Cmd, io.ReadWriter) {
	t.Helper()
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); _ = cmd.Wait() })
	return cmd, struct {
		io.Reader
		io.Writer
	}{out, in}
}

func randomFile(t *testing.T, path string, n int) []byte {
	t.Helper()
	data := make([]byte, n)
	_, _ = rand.Read(data)
	data[0], data[1], data[2] = 0xff, 0x18, '\r' // IAC, CAN, CR: the bytes that break careless paths
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return data
}

// TestSendAndReceiveEachProtocol: a file sent by the Runner's sz reaches
// the caller's rz byte for byte, and a file sent by the caller's sz is
// handed back by the Runner's rz, in its own folder, byte for byte.
func TestSendAndReceiveEachProtocol(t *testing.T) {
	needLrzsz(t)
	r := newRunner(t, Config{IdleTimeout: 10 * time.Second})
	for _, p := range []Protocol{ZMODEM, YMODEM, XMODEM} {
		t.Run(string(p), func(t *testing.T) {
			src := t.TempDir()
			data := randomFile(t, filepath.Join(src, "board.bin"), 100_000)

			caller := t.TempDir()
			rzArgs := map[Protocol][]string{ZMODEM: {"rz", "-b"}, YMODEM: {"rz", "-b", "--ymodem"}, XMODEM: {"rz", "-b", "-X", "board.bin"}}[p]
			cmd, pc := peer(t, caller, rzArgs...)
			run, err := r.Send(context.Background(), p, []string{filepath.Join(src, "board.bin")})
			if err != nil {
				t.Fatal(err)
			}
			join(run, pc)
			res := run.Wait()
			if !res.OK || res.Out < int64(len(data)) {
				t.Fatalf("send: %+v", res)
			}
			if err := cmd.Wait(); err != nil {
				t.Fatalf("the caller's rz: %v", err)
			}
			got, err := os.ReadFile(filepath.Join(caller, "board.bin"))
			if err != nil {
				t.Fatal(err)
			}
			if p == XMODEM { // XMODEM pads the last block with ^Z
				got = bytes.TrimRight(got[:min(len(got), len(data)+1024)], "\x1a")
				data = bytes.TrimRight(data, "\x1a")
			}
			if !bytes.Equal(got, data) {
				t.Fatalf("the caller got %d bytes, not the %d sent", len(got), len(data))
			}

			up := randomFile(t, filepath.Join(caller, "up.bin"), 70_000)
			szArgs := map[Protocol][]string{ZMODEM: {"sz", "-b", "up.bin"}, YMODEM: {"sz", "-b", "--ymodem", "up.bin"}, XMODEM: {"sz", "-b", "-X", "up.bin"}}[p]
			cmd, pc = peer(t, caller, szArgs...)
			run, err = r.Receive(context.Background(), p, "up.bin")
			if err != nil {
				t.Fatal(err)
			}
			join(run, pc)
			res = run.Wait()
			_ = cmd.Wait()
			if !res.OK || len(res.Files) != 1 || res.Files[0].Name != "up.bin" {
				t.Fatalf("receive: %+v", res)
			}
			got, _ = os.ReadFile(res.Files[0].Path)
			if p == XMODEM {
				got, up = bytes.TrimRight(got, "\x1a"), bytes.TrimRight(up, "\x1a")
			}
			if !bytes.Equal(got, up) {
				t.Fatalf("received %d bytes, not the %d sent", len(got), len(up))
			}
			if err := res.Discard(); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(res.Dir); !os.IsNotExist(err) {
				t.Fatalf("the run's folder is still there: %v", err)
			}
		})
	}
}

// TestReceiveRefusesAPath: an upload named ../../x is refused by rz -R:
// nothing is written outside the run's folder, and nothing handed back.
func TestReceiveRefusesAPath(t *testing.T) {
	needLrzsz(t)
	r := newRunner(t, Config{IdleTimeout: 3 * time.Second})
	top := t.TempDir()
	deep := filepath.Join(top, "a", "b")
	if err := os.MkdirAll(deep, 0o700); err != nil {
		t.Fatal(err)
	}
	randomFile(t, filepath.Join(top, "x"), 1000)
	_, pc := peer(t, deep, "sz", "-b", "--full-path", "../../x")
	run, err := r.Receive(context.Background(), ZMODEM, "")
	if err != nil {
		t.Fatal(err)
	}
	join(run, pc)
	res := run.Wait() // the caller's sz, refused, is killed at the end
	if res.OK && len(res.Files) > 0 {
		t.Fatalf("an upload named ../../x was taken: %+v", res)
	}
	if _, err := os.Stat(filepath.Join(r.cfg.Root, "..", "x")); err == nil {
		t.Fatal("rz wrote outside its folder")
	}
	if entries, _ := os.ReadDir(r.cfg.Root); len(entries) != 0 && !res.OK {
		t.Fatalf("a refused upload left %d entries behind", len(entries))
	}
	t.Logf("result: %s (%q)", res.Why, res.Stderr)
}

// TestCancelledReceiveLeavesNothing: the caller hanging up mid-upload
// (the context ends) kills rz and removes its folder with the partial
// file.
func TestCancelledReceiveLeavesNothing(t *testing.T) {
	needLrzsz(t)
	r := newRunner(t, Config{})
	caller := t.TempDir()
	randomFile(t, filepath.Join(caller, "big.bin"), 4<<20)
	_, pc := peer(t, caller, "sz", "-b", "big.bin")
	ctx, cancel := context.WithCancel(context.Background())
	run, err := r.Receive(ctx, ZMODEM, "")
	if err != nil {
		t.Fatal(err)
	}
	join(run, pc)
	for deadline := time.Now().Add(10 * time.Second); ; {
		if in, _ := run.Progress(); in > 100_000 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the upload never started")
		}
		time.Sleep(10 * time.Millisecond) // polling a counter: no signal to wait on
	}
	cancel()
	res := run.Wait()
	if res.OK || res.Why != EndCancelled || res.Dir != "" {
		t.Fatalf("cancelled: %+v", res)
	}
	if entries, _ := os.ReadDir(r.cfg.Root); len(entries) != 0 {
		t.Fatalf("a cancelled upload left %v", entries)
	}
}

// TestIdleAndSizeLimits: a receive nobody sends to ends at the idle
// timeout; one past MaxReceiveBytes is killed as too large.
func TestIdleAndSizeLimits(t *testing.T) {
	needLrzsz(t)
	r := newRunner(t, Config{IdleTimeout: 300 * time.Millisecond, MaxReceiveBytes: 200_000})
	run, err := r.Receive(context.Background(), ZMODEM, "")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _, _ = io.Copy(io.Discard, run) }()
	if res := run.Wait(); res.Why != EndIdle {
		t.Fatalf("idle receive: %+v", res)
	}

	caller := t.TempDir()
	randomFile(t, filepath.Join(caller, "big.bin"), 2<<20)
	_, pc := peer(t, caller, "sz", "-b", "big.bin")
	run, err = r.Receive(context.Background(), ZMODEM, "")
	if err != nil {
		t.Fatal(err)
	}
	join(run, pc)
	if res := run.Wait(); res.Why != EndTooLarge || res.OK {
		t.Fatalf("oversized receive: %+v", res)
	}
	if entries, _ := os.ReadDir(r.cfg.Root); len(entries) != 0 {
		t.Fatalf("an oversized upload left %v", entries)
	}
}

func TestPlainName(t *testing.T) {
	for name, want := range map[string]bool{"a.zip": true, "../../x": false, "a/b": false, `a\b`: false, "..": false, "": false, "a\x1bb": false} {
		if PlainName(name) != want {
			t.Errorf("PlainName(%q) = %v", name, !want)
		}
	}
}

// TestReceivedFilesSurviveARestart: the folder of a receive that ended
// well is kept by the next Runner on the same root (a caller resumed
// after a restart goes on with their files, found by the review); an
// unfinished run's folder is removed, and a kept folder past
// KeepReceived too.
func TestReceivedFilesSurviveARestart(t *testing.T) {
	needLrzsz(t)
	root := filepath.Join(t.TempDir(), "transfers")
	r, err := New(Config{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	caller := t.TempDir()
	randomFile(t, filepath.Join(caller, "up.bin"), 5000)
	_, pc := peer(t, caller, "sz", "-b", "up.bin")
	run, err := r.Receive(context.Background(), ZMODEM, "")
	if err != nil {
		t.Fatal(err)
	}
	join(run, pc)
	res := run.Wait()
	if !res.OK || len(res.Files) != 1 {
		t.Fatalf("upload: %+v", res)
	}
	unfinished := filepath.Join(root, "run-9-x")
	stale := filepath.Join(root, "got-8-y")
	for _, d := range []string{unfinished, stale} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	long := time.Now().Add(-KeepReceived - time.Hour)
	if err := os.Chtimes(stale, long, long); err != nil {
		t.Fatal(err)
	}
	if _, err := New(Config{Root: root}); err != nil { // the host restarts
		t.Fatal(err)
	}
	if got, err := os.ReadFile(res.Files[0].Path); err != nil || len(got) != 5000 {
		t.Fatalf("the received file is gone after a restart: %v", err)
	}
	for _, d := range []string{unfinished, stale} {
		if _, err := os.Stat(d); !os.IsNotExist(err) {
			t.Errorf("%s is still there after the restart", filepath.Base(d))
		}
	}
}

// TestSendRefusesLinksAndFolders: sz is never given a symbolic link (to
// the board's database, say) nor a folder.
func TestSendRefusesLinksAndFolders(t *testing.T) {
	r := newRunner(t, Config{})
	dir := t.TempDir()
	secret := filepath.Join(dir, "bbs.db")
	if err := os.WriteFile(secret, []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "free.zip")
	if err := os.Symlink(secret, link); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{link, dir, filepath.Join(dir, "missing")} {
		if _, err := r.Send(context.Background(), ZMODEM, []string{f}); !errors.Is(err, ErrBadName) {
			t.Errorf("Send(%s) = %v, want ErrBadName", filepath.Base(f), err)
		}
	}
}
