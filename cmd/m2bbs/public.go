package main

import (
	"fmt"

	"github.com/m2bbs/m2bbs/host/shared/access"
)

// tokenAdvice says how to set a good sysop token.
var tokenAdvice = fmt.Sprintf("set one of at least %d characters with $M2BBS_SYSOP_TOKEN or sysop_token in config.lua "+
	"(e.g. export M2BBS_SYSOP_TOKEN=$(head -c 24 /dev/urandom | base64)), and give the same to m2bbs status", access.MinTokenBytes)

// checkToken refuses a sysop token short enough to be guessed over HTTP,
// whatever the board listens on: a token counts from anywhere, and
// behind Mongrel2 or a proxy anyone may be asking (-listen-all or not).
// The message says how to set one; the token itself is never printed.
func checkToken(cmd string, token string) error {
	if err := access.CheckToken(token); err != nil {
		return fmt.Errorf("%s: %w: a sysop token is accepted from anywhere (with or without -listen-all); %s, or set none", cmd, err, tokenAdvice)
	}
	return nil
}

// checkListenAll refuses to open the board to the network (-listen-all)
// without a sysop token: without one, the status page's actions are the
// loopback's, and the sysop's tools on the board's own machine are all
// that guards them. The message says how to set one; the token itself is
// never printed.
func checkListenAll(cmd string, listenAll bool, token string) error {
	if !listenAll {
		return nil
	}
	if err := access.CheckPublic(token); err != nil {
		return fmt.Errorf("%s: -listen-all: %w; %s", cmd, err, tokenAdvice)
	}
	return nil
}
