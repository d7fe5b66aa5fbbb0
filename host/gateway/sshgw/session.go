package sshgw

import (
	"context"
	"encoding/binary"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/m2bbs/m2bbs/host/gateway/telnet"
)

// maxPendingRequests bounds the channel requests a session answers
// before its shell starts (env variables, a pty, signals).
const maxPendingRequests = 32

// copyBufferBytes is the buffer of each direction of a call's relay:
// io.Copy's 32 KiB twice would double an idle caller's memory.
const copyBufferBytes = 4096

// lingerTimeout bounds how long the last output of a call may take to
// leave, once the call has ended.
const lingerTimeout = 2 * time.Second

// session is one SSH session channel: its requests, and the call that
// serves its bytes once the client asks for a shell.
type session struct {
	s     *Server
	conn  *ssh.ServerConn
	ch    ssh.Channel
	reqs  <-chan *ssh.Request
	log   *slog.Logger
	shell chan struct{} // closed when the shell request came
	ended chan struct{} // closed when the channel's requests end

	mu   sync.Mutex // guards the fields below, set by handleRequests
	term telnet.Terminal
	pty  bool
	call *telnet.Call
}

func newSession(s *Server, conn *ssh.ServerConn, ch ssh.Channel, reqs <-chan *ssh.Request, log *slog.Logger) *session {
	sess := &session{s: s, conn: conn, ch: ch, reqs: reqs, log: log, shell: make(chan struct{}), ended: make(chan struct{})}
	go sess.handleRequests()
	return sess
}

// waitShell waits until the client asks for a shell, or deadline, or the
// channel closes.
func (sess *session) waitShell(deadline time.Time) bool {
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case <-sess.shell:
		return true
	case <-sess.ended:
		return false
	case <-t.C:
		return false
	}
}

// handleRequests answers the session's requests until the channel
// closes: a terminal (pty-req, env TERM, window-change) and one shell;
// exec, subsystems, X11 and agent forwarding are refused.
func (sess *session) handleRequests() {
	defer close(sess.ended)
	pending := 0
	shell := false
	for req := range sess.reqs {
		ok := false
		switch req.Type {
		case "pty-req":
			if pty, err := parsePtyRequest(req.Payload); err == nil && !shell {
				sess.mu.Lock()
				sess.pty = true
				sess.term = telnet.Terminal{Type: pty.Term, Width: pty.Width, Height: pty.Height}
				sess.mu.Unlock()
				ok = true
			}
		case "env":
			if name, value, err := parseEnv(req.Payload); err == nil && name == "TERM" && validTerm(value) && !shell {
				sess.mu.Lock()
				if sess.term.Type == "" {
					sess.term.Type = value
				}
				sess.mu.Unlock()
				ok = true
			}
		case "window-change":
			if w, h, err := parseWindowChange(req.Payload); err == nil {
				sess.resize(w, h)
			}
		case "shell":
			if !shell {
				shell, ok = true, true
				close(sess.shell)
			}
		}
		if !shell {
			pending++
			if pending > maxPendingRequests {
				sess.log.Info("ssh: too many requests before the shell")
				sess.conn.Close()
			}
		}
		if req.WantReply {
			_ = req.Reply(ok, nil)
		}
	}
}

// resize records a new window size.
func (sess *session) resize(w, h int) {
	sess.mu.Lock()
	defer sess.mu.Unlock()
	sess.term.Width, sess.term.Height = w, h
	if sess.call != nil {
		sess.call.SetTerminal(sess.term)
	}
}

// serve runs the call: the channel's bytes go through a pipe to the
// telnet gateway's renderer, whose deadlines then bound every write to a
// client that stops reading.
func (sess *session) serve(ctx context.Context) {
	near, far := net.Pipe()
	st := telnet.Stream{Binary: true} // channel bytes pass as they are: file transfers work
	sess.mu.Lock()
	st.Terminal, st.Echo = sess.term, sess.pty
	if name := sess.conn.Permissions.Extensions[extLogin]; name != "" {
		st.Login = &telnet.Login{Name: name, Password: sess.conn.Permissions.Extensions[extPassword]}
	}
	keyLogin := sess.conn.Permissions.Extensions[extKeyLogin]
	if keyLogin != "" {
		st.Vouch = sess.s.vouchFor(keyLogin)
	}
	call := sess.s.cfg.Calls.NewCall(remoteConn{Conn: near, remote: sess.conn.RemoteAddr()}, st)
	sess.call = call
	sess.mu.Unlock()
	delete(sess.conn.Permissions.Extensions, extPassword)

	login := "no"
	if st.Login != nil {
		login = st.Login.Name
	}
	if keyLogin != "" {
		login = keyLogin + " (key)"
	}
	sess.log.Info("ssh caller logged in", "user", clip(sess.conn.User()), "login", login, "terminal", st.Terminal.Type,
		"width", st.Terminal.Width, "height", st.Terminal.Height, "pty", st.Echo)

	keysDone := make(chan struct{})
	go func() { // the caller's keys
		defer close(keysDone)
		_, _ = io.CopyBuffer(far, sess.ch, make([]byte, copyBufferBytes))
		far.Close()
	}()
	outDone := make(chan struct{})
	go func() { // the board's output, until the call closes near
		defer close(outDone)
		_, _ = io.CopyBuffer(sess.ch, far, make([]byte, copyBufferBytes))
	}()
	call.Serve(ctx) // closes near
	// The last output (the goodbye) may still be on its way into the
	// channel: give a reading client lingerTimeout to take it.
	t := time.NewTimer(lingerTimeout)
	select {
	case <-outDone:
		_, _ = sess.ch.SendRequest("exit-status", false, binary.BigEndian.AppendUint32(nil, 0))
		_ = sess.ch.CloseWrite()
	case <-t.C:
	}
	t.Stop()
	far.Close()
	sess.ch.Close()
	sess.conn.Close()
	<-outDone
	<-keysDone
}

// remoteConn is a connection whose RemoteAddr is the SSH caller's.
type remoteConn struct {
	net.Conn
	remote net.Addr
}

// RemoteAddr is the SSH caller's address.
func (c remoteConn) RemoteAddr() net.Addr { return c.remote }
