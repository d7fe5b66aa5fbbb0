package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"

	"github.com/m2bbs/m2bbs/host/gateway/rlogin"
	"github.com/m2bbs/m2bbs/host/gateway/telnet"
	"github.com/m2bbs/m2bbs/host/handler/doorserver"
	"github.com/m2bbs/m2bbs/host/handler/store"
	"github.com/m2bbs/m2bbs/host/shared/keylogin"
)

// defaultRLoginPerAddr bounds the RLogin calls one address has open at
// once: a remote board brings all its door players from one address.
const defaultRLoginPerAddr = 32

// doorsMenuEntry is the entry of a remote board that sends its callers to
// the Doors menu rather than one door.
const doorsMenuEntry = "doors"

// rloginOptions say whether and how "m2bbs run" serves doors to other
// boards over RLogin.
type rloginOptions struct {
	port    int // -1: off; 0: any free port
	perAddr int // calls one address may have open at once
	boards  []rlogin.Board
	// key signs the remote callers for this process's hosts
	// (keylogin.RemoteCallerWire).
	key keylogin.Key
}

// rloginBoards turns the settings' rlogin_boards into the gateway's
// boards, reading "env:VAR" secrets from the environment, and the
// entries the host sends each board's callers to.
func rloginBoards(s *settings) ([]rlogin.Board, map[string]string, error) {
	if s.RLoginBoards == nil {
		return nil, nil, nil
	}
	var boards []rlogin.Board
	entries := make(map[string]string)
	for _, rb := range *s.RLoginBoards {
		secret, err := settingSecret(rb.Secret)
		if err != nil {
			return nil, nil, fmt.Errorf("rlogin_boards: %s: %w", rb.Name, err)
		}
		b := rlogin.Board{Name: rb.Name, Secret: secret, Entry: rb.Door}
		allow, err := rlogin.ParseAllow(rb.Allow)
		if err != nil {
			return nil, nil, fmt.Errorf("rlogin_boards: %s: %w", rb.Name, err)
		}
		b.Allow = allow
		if b.Entry == "" {
			b.Entry = doorsMenuEntry
		}
		if b.Entry != doorsMenuEntry {
			if err := store.CheckDoorName(b.Entry); err != nil {
				return nil, nil, fmt.Errorf("rlogin_boards: %s: door %q: %w", rb.Name, b.Entry, err)
			}
		}
		if err := b.Check(); err != nil {
			return nil, nil, fmt.Errorf("rlogin_boards: %w", err)
		}
		boards = append(boards, b)
		entries[strings.ToLower(b.Name)] = b.Entry
	}
	return boards, entries, nil
}

// settingSecret is a secret of the settings: "env:VAR" is read from the
// environment variable VAR (so that it need not sit in the file), any
// other value is the secret itself.
func settingSecret(value string) (string, error) {
	name, ok := strings.CutPrefix(value, "env:")
	if !ok {
		return value, nil
	}
	secret := os.Getenv(name)
	if secret == "" {
		return "", fmt.Errorf("the environment variable %s is empty", name)
	}
	return secret, nil
}

// doorServers turns the settings' door_servers into the servers scripts
// may send callers to (door.server), their secrets read.
func doorServers(s *settings) ([]doorserver.Server, error) {
	if s.DoorServers == nil {
		return nil, nil
	}
	var out []doorserver.Server
	for _, ds := range *s.DoorServers {
		secret, err := settingSecret(ds.Secret)
		if err != nil {
			return nil, fmt.Errorf("door_servers: %s: %w", ds.Name, err)
		}
		srv := doorserver.Server{Name: ds.Name, Title: ds.Title, Protocol: ds.Protocol, Address: ds.Address,
			ClientUser: ds.ClientUser, ServerUser: ds.ServerUser, Terminal: ds.Terminal, Secret: secret, Charset: ds.Charset}
		if err := srv.Check(); err != nil {
			return nil, fmt.Errorf("door_servers: %w", err)
		}
		out = append(out, srv)
	}
	return out, nil
}

// startRLogin serves RLogin on bind:port, each call rendered by a telnet
// gateway configured as tcfg, until ctx is done; it returns the address
// it listens on, or "" (logged) when it cannot start.
func startRLogin(ctx context.Context, gw *gateways, bind string, opt rloginOptions, tcfg telnet.Config, log *slog.Logger) string {
	log = log.With("gateway", "rlogin")
	tcfg.Log = log
	calls, err := telnet.New(tcfg)
	if err != nil {
		log.Error("rlogin", "err", err)
		return ""
	}
	cfg := rlogin.Config{Calls: calls, Key: opt.key, Boards: opt.boards, Log: log, PerAddr: tcfg.PerAddr}
	cfg.PerAddr.MaxPerAddr = opt.perAddr
	srv, err := rlogin.New(cfg)
	if err != nil {
		log.Error("rlogin", "err", err)
		return ""
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(bind, strconv.Itoa(opt.port)))
	if err != nil {
		log.Warn("rlogin: cannot listen; rlogin is off", "err", err)
		return ""
	}
	gw.wg.Go(func() {
		if err := srv.Serve(ctx, ln); err != nil {
			log.Error("rlogin", "err", err)
		}
	})
	names := make([]string, len(opt.boards))
	for i, b := range opt.boards {
		names[i] = b.Name
	}
	if len(names) == 0 {
		log.Warn("rlogin: no rlogin_boards in the settings: every call is refused")
	}
	log.Info("rlogin listening", "addr", ln.Addr().String(), "boards", strings.Join(names, ","))
	return ln.Addr().String()
}
