package sshgw

import (
	"testing"

	"golang.org/x/crypto/ssh"
)

func TestParseRequests(t *testing.T) {
	pty := ssh.Marshal(struct {
		Term     string
		W, H     uint32
		PxW, PxH uint32
		Modes    string
	}{"xterm", 132, 43, 0, 0, "\x00"})
	got, err := parsePtyRequest(pty)
	if err != nil || got != (ptyRequest{Term: "xterm", Width: 132, Height: 43}) {
		t.Errorf("pty-req: %+v, %v", got, err)
	}
	huge := ssh.Marshal(struct {
		Term     string
		W, H     uint32
		PxW, PxH uint32
		Modes    string
	}{"xterm", 1 << 30, 25, 0, 0, ""})
	if got, err := parsePtyRequest(huge); err != nil || got.Width != 0 || got.Height != 25 {
		t.Errorf("a width past MaxWindowSize: %+v, %v", got, err)
	}
	for _, bad := range [][]byte{nil, pty[:len(pty)-1], ssh.Marshal(struct{ T string }{"x\x1b]0;"})} {
		if _, err := parsePtyRequest(bad); err == nil {
			t.Errorf("pty-req %q parsed", bad)
		}
	}
	wc := ssh.Marshal(struct{ W, H, PxW, PxH uint32 }{100, 30, 0, 0})
	if w, h, err := parseWindowChange(wc); err != nil || w != 100 || h != 30 {
		t.Errorf("window-change: %d %d %v", w, h, err)
	}
	if _, _, err := parseWindowChange(wc[:12]); err == nil {
		t.Error("a short window-change parsed")
	}
	env := ssh.Marshal(struct{ N, V string }{"TERM", "ansi-bbs"})
	if n, v, err := parseEnv(env); err != nil || n != "TERM" || v != "ansi-bbs" {
		t.Errorf("env: %q %q %v", n, v, err)
	}
	if _, _, err := parseEnv(append(env, 0)); err == nil {
		t.Error("env with trailing bytes parsed")
	}
}

// FuzzRequests: no payload makes the parsers panic, and what they accept
// stays within the limits.
func FuzzRequests(f *testing.F) {
	f.Add(ssh.Marshal(struct {
		Term     string
		W, H     uint32
		PxW, PxH uint32
		Modes    string
	}{"xterm", 80, 24, 0, 0, ""}))
	f.Add(ssh.Marshal(struct{ W, H, PxW, PxH uint32 }{100, 30, 0, 0}))
	f.Add(ssh.Marshal(struct{ N, V string }{"TERM", "vt100"}))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, p []byte) {
		if pty, err := parsePtyRequest(p); err == nil {
			if !validTerm(pty.Term) || pty.Width > MaxWindowSize || pty.Height > MaxWindowSize || pty.Width < 0 {
				t.Errorf("accepted %+v", pty)
			}
		}
		if w, h, err := parseWindowChange(p); err == nil && (w > MaxWindowSize || h > MaxWindowSize) {
			t.Errorf("accepted %dx%d", w, h)
		}
		_, _, _ = parseEnv(p)
	})
}
