// Package sshgw is m2bbs's SSH front end: a gateway that lets an SSH
// client (OpenSSH, SyncTERM, NetRunner, PuTTY) call the BBS.
//
// It speaks SSH with golang.org/x/crypto/ssh and hands each session's
// bytes to the telnet gateway's renderer ([telnet.Server.NewCall]): the
// same server-side line editor, the same rendering of screens and
// prompts, the same dial to the board as a classic JSON-socket caller. To
// the host an SSH caller is an ordinary conn_id.
//
// # Logging in
//
// The SSH user name and password are checked by the [Authenticator] (in
// m2bbs, the board's accounts with the board's login throttle, keyed by
// the caller's address). The hash runs on the connection's own handshake
// goroutine, never the accept loop, and at most [Config.MaxHashes] at once.
// A member who gave the right password is logged in the way any caller
// is: the call types the name and password into the board's own login
// prompts ([telnet.Login]), so the host checks the password itself,
// through db.auth_user and its throttle, and nothing new is trusted: no
// assertion travels to the host that a caller of the classic port could
// forge. The cost is a second bcrypt hash per SSH login.
//
// A member may instead prove a public key they registered
// ([Config.Keys], through the same login throttle). There is then no
// password to type, so the call's "connect" carries an assertion signed
// with [Config.KeyLoginKey], a key the process that runs both the gateway
// and the host keeps in memory (host/shared/keylogin); the host verifies
// and strips it, refuses one from anywhere else, and the board's script
// learns of the login from db.preauthenticated.
//
// The user names in [GuestNames] ("new", "bbs"), and any name that is not
// an account, get in with any password or none (keyboard-interactive
// with no question, or the "none" method) and meet the board's own name
// prompt, where they register.
//
// # Terminal
//
// A pty-req gives the terminal type and window size, window-change a new
// size, and an env request TERM: all go to [telnet.Call.SetTerminal], the
// same state telnet's TTYPE and NAWS fill. With a pty the gateway echoes;
// without one (ssh -T) the client's terminal does.
//
// # Limits
//
// Each connection must finish its handshake and log in within
// [Config.HandshakeTimeout]; it has [Config.MaxAuthTries] tries; one
// address may hold and open only as many connections as
// [Config.PerAddr] allows, and at most [Config.MaxHandshakes] connections
// may be unauthenticated at once, [Config.MaxHandshakesPerAddr] of them
// from one address (pending.go); a connection gets one session channel
// and nothing else (no exec, no forwarding, no subsystems); an idle
// caller is hung up on by the call's IdleTimeout.
package sshgw
