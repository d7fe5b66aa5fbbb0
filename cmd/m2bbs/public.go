package main

import (
	"fmt"

	"github.com/m2bbs/m2bbs/host/access"
)

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
		return fmt.Errorf("%s: -listen-all: %w; set one of at least %d characters with $M2BBS_SYSOP_TOKEN or sysop_token in config.lua "+
			"(e.g. export M2BBS_SYSOP_TOKEN=$(head -c 24 /dev/urandom | base64)), and give the same to m2bbs status",
			cmd, err, access.MinTokenBytes)
	}
	return nil
}
