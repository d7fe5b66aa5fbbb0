package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/m2bbs/m2bbs/host/gateway/sshgw"
	"github.com/m2bbs/m2bbs/host/gateway/telnet"
	"github.com/m2bbs/m2bbs/host/handler/store"
	"github.com/m2bbs/m2bbs/host/handler/throttle"
	"github.com/m2bbs/m2bbs/host/shared/keylogin"
)

// defaultSSHPort is the SSH gateway's port.
const defaultSSHPort = 2222

// sshOptions say how "m2bbs run" checks SSH callers' passwords and where
// it keeps the host keys.
type sshOptions struct {
	dataDir    string // the host keys go here
	dbPath     string
	bcryptCost int
	logins     throttle.Policy // the host's login throttle
	// loginKey, if set, signs key logins for this process's host (see
	// host/shared/keylogin); without it keys are refused.
	loginKey keylogin.Key
}

// startSSH serves SSH on bind:port, each call rendered by a telnet
// gateway configured as tcfg, until ctx is done; it returns the address
// it listens on, or "" (logged) when it cannot start.
func startSSH(ctx context.Context, gw *gateways, port int, bind string, opt sshOptions, tcfg telnet.Config, limits *abuseLimits, log *slog.Logger) string {
	log = log.With("gateway", "ssh")
	keys, err := sshgw.LoadHostKeys(opt.dataDir)
	if err != nil {
		log.Error("ssh: host keys; ssh is off", "err", err)
		return ""
	}
	tcfg.Log = log
	calls, err := telnet.New(tcfg)
	if err != nil {
		log.Error("ssh", "err", err)
		return ""
	}
	db, err := store.Open(opt.dbPath, store.Options{BcryptCost: opt.bcryptCost, Log: log})
	if err != nil {
		log.Error("ssh: open the accounts; ssh is off", "err", err)
		return ""
	}
	auth := storeAuth{db: db, logins: throttle.New(db, opt.logins, time.Now)}
	cfg := sshgw.Config{Calls: calls, HostKeys: keys, Auth: auth, Keys: auth, KeyLoginKey: opt.loginKey, Log: log}
	if limits != nil {
		cfg.PerAddr = limits.perAddr
	}
	srv, err := sshgw.New(cfg)
	if err != nil {
		db.Close()
		log.Error("ssh", "err", err)
		return ""
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(bind, strconv.Itoa(port)))
	if err != nil {
		db.Close()
		log.Warn("ssh: cannot listen; ssh is off", "err", err)
		return ""
	}
	gw.wg.Go(func() {
		defer db.Close()
		if err := srv.Serve(ctx, ln); err != nil {
			log.Error("ssh", "err", err)
		}
	})
	log.Info("ssh listening", "addr", ln.Addr().String(), "host_keys", sshgw.Fingerprints(keys))
	return ln.Addr().String()
}

// storeAuth checks SSH logins against the board's accounts, through the
// same login throttle as db.auth_user.
type storeAuth struct {
	db interface {
		store.Passwords
		UserExists(ctx context.Context, name string) (bool, error)
		Account(ctx context.Context, name string) (store.Account, error)
		FindSSHKey(ctx context.Context, name, fingerprint string) (string, store.SSHKey, error)
	}
	logins *throttle.Logins
}

// Exists implements sshgw.Authenticator.
func (a storeAuth) Exists(ctx context.Context, name string) (bool, error) {
	ok, err := a.db.UserExists(ctx, name)
	if errors.Is(err, store.ErrBadName) {
		return false, nil
	}
	return ok, err
}

// CheckPassword implements sshgw.Authenticator.
func (a storeAuth) CheckPassword(ctx context.Context, name, password, peer string) (string, sshgw.Verdict, error) {
	if err := a.logins.BeginLogin(ctx, name, peer); err != nil {
		return "", sshgw.Refused, err
	}
	hash, err := a.db.PasswordHash(ctx, name, password)
	if err != nil {
		return "", sshgw.Refused, err
	}
	if hash == nil {
		return "", sshgw.Refused, nil
	}
	ok, err := a.db.ComparePassword(name, hash, password)
	if err != nil || !ok {
		return "", sshgw.Refused, err
	}
	if err := a.logins.LoginSucceeded(ctx, name, peer); err != nil {
		return "", sshgw.Refused, fmt.Errorf("login throttle: %w", err)
	}
	account, err := a.db.Account(ctx, name)
	if err != nil {
		return "", sshgw.Refused, err
	}
	if account.Banned {
		return "", sshgw.Refused, errors.New("banned")
	}
	return account.Name, sshgw.Member, nil
}

// CheckKey implements sshgw.KeyAuthenticator: a registered key of an
// account that is not banned, through the login throttle.
func (a storeAuth) CheckKey(ctx context.Context, name, fingerprint, peer string) (string, sshgw.Verdict, error) {
	registered, _, err := a.db.FindSSHKey(ctx, name, fingerprint)
	if errors.Is(err, store.ErrNotFound) {
		return "", sshgw.Refused, nil
	}
	if err != nil {
		return "", sshgw.Refused, err
	}
	if err := a.logins.BeginLogin(ctx, registered, peer); err != nil {
		return "", sshgw.Refused, err
	}
	account, err := a.db.Account(ctx, registered)
	if err != nil {
		return "", sshgw.Refused, err
	}
	if account.Banned {
		return "", sshgw.Refused, errors.New("banned")
	}
	return account.Name, sshgw.Member, nil
}

// KeyLoginSucceeded implements sshgw.KeyAuthenticator.
func (a storeAuth) KeyLoginSucceeded(ctx context.Context, name, peer string) error {
	return a.logins.LoginSucceeded(ctx, name, peer)
}
