package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/pebbe/zmq4"

	"github.com/m2bbs/m2bbs/host/handler/dispatch"
	"github.com/m2bbs/m2bbs/host/handler/lines"
	"github.com/m2bbs/m2bbs/host/wire/zmqtransport"
)

// A host whose specs come from the lines' layout (-line N with default
// specs; lines.go) may adopt a line whose host went down: it takes that
// line's handler lock, so that two hosts never serve one line at once,
// and connects to the line's handler. The line's own host, restarted
// meanwhile, waits for the lock (lockLineHandler) until the adopting host
// lets the line go.

// lockWaitPoll is how often a line's host looks whether the host that
// adopted its line has let it go (flock offers no wait with a deadline).
const lockWaitPoll = time.Second

// lineAdopter is serve's dispatch.LineAdopter for s's layout, or nil when
// the host cannot adopt (no layout, no journals).
func lineAdopter(s *settings, zctx *zmq4.Context, log *slog.Logger) dispatch.LineAdopter {
	if s.layout == nil || s.line <= 0 || s.NoJournal {
		return nil
	}
	layout := *s.layout
	return func(line int) (dispatch.Transport, func(), error) {
		if line < 1 || line > maxLines || line == s.line {
			return nil, nil, fmt.Errorf("adopt line %d: not another line", line)
		}
		send, recv := layout.specs(line)
		// On the line's goroutine, between two heartbeats: bounded.
		ctx, cancel := context.WithTimeout(context.Background(), lines.Timeout)
		defer cancel()
		release, err := takeHandlerLock(ctx, s, send)
		if err != nil {
			return nil, nil, fmt.Errorf("adopt line %d: %w", line, err)
		}
		t, err := zmqtransport.DialHandler(zmqtransport.HandlerConfig{
			SendSpec: send, RecvSpec: recv, Identity: lineSenderID(line), Context: zctx, Log: log,
		})
		if err != nil {
			release()
			return nil, nil, fmt.Errorf("adopt line %d: %w", line, err)
		}
		return t, release, nil
	}
}

// lockLineHandler takes the handler lock of s's send spec; a line host
// of the layout whose line another host adopted waits for it, telling the
// log once, until ctx ends.
func lockLineHandler(ctx context.Context, s *settings, log *slog.Logger) (func(), error) {
	release, err := takeHandlerLock(ctx, s, s.SendSpec)
	if err == nil || s.layout == nil || !errors.Is(err, ErrHandlerTaken) {
		return release, err
	}
	log.Warn("line held by another host (one that adopted it while this line was down, or a second host started for it): waiting for it",
		"line", s.line, "err", err)
	tick := time.NewTicker(lockWaitPoll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil, err
		case <-tick.C:
		}
		if release, err = takeHandlerLock(ctx, s, s.SendSpec); err == nil || !errors.Is(err, ErrHandlerTaken) {
			if err == nil {
				log.Info("line let go by the other host: serving it", "line", s.line)
			}
			return release, err
		}
	}
}

// remoteSpec reports whether a ZeroMQ endpoint is on another machine: a
// tcp:// address that is not a loopback one (ipc:// and inproc:// are
// local).
func remoteSpec(spec string) bool {
	rest, ok := strings.CutPrefix(spec, "tcp://")
	if !ok {
		return false
	}
	host, _, err := net.SplitHostPort(rest)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return false
	}
	ip := net.ParseIP(host)
	return ip == nil || !ip.IsLoopback()
}
