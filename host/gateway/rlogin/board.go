package rlogin

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/m2bbs/m2bbs/host/handler/store"
)

// MaxBoardName is the longest name of a remote board, so that
// "board:user" leaves a user name of at least 19 characters within
// store.MaxNameLen.
const MaxBoardName = 12

// Board is a remote board this one serves doors to: its callers arrive
// over RLogin as "NAME:user".
type Board struct {
	// Name is how the board names itself in the RLogin server user
	// ("NAME:user"): 1 to MaxBoardName letters, digits, '_', '-' or '.',
	// matched regardless of case.
	Name string
	// Secret, if set, must be the RLogin client user name of each call.
	Secret string
	// Allow, if set, are the addresses the board may call from.
	Allow []netip.Prefix
	// Entry is the door (or "doors", the Doors menu) its callers go
	// straight into; the host reads it, the gateway only carries Name.
	Entry string
}

// Errors Check returns, for errors.Is.
var (
	ErrBadBoard = errors.New("rlogin: bad board")
)

// Check says whether b is usable: a valid name, and a secret or an
// allow-list (or both), so that no board is open to everyone.
func (b Board) Check() error {
	if len(b.Name) == 0 || len(b.Name) > MaxBoardName || strings.Contains(b.Name, store.RemoteSeparator) {
		return fmt.Errorf("%w: name %q must be 1 to %d letters, digits, '_', '-' or '.'", ErrBadBoard, b.Name, MaxBoardName)
	}
	if _, err := store.RemoteName(b.Name, "x"); err != nil {
		return fmt.Errorf("%w: name %q must be 1 to %d letters, digits, '_', '-' or '.'", ErrBadBoard, b.Name, MaxBoardName)
	}
	if b.Secret == "" && len(b.Allow) == 0 {
		return fmt.Errorf("%w: %s has neither a secret nor an allow-list", ErrBadBoard, b.Name)
	}
	if b.Secret != "" && len(b.Secret) > MaxClientUser {
		return fmt.Errorf("%w: %s's secret is longer than %d bytes", ErrBadBoard, b.Name, MaxClientUser)
	}
	return nil
}

// ParseAllow reads an allow-list: addresses or prefixes ("192.0.2.7",
// "2001:db8::/32"), separated by commas or spaces.
func ParseAllow(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.FieldsFunc(list, func(r rune) bool { return r == ',' || r == ' ' }) {
		if p, err := netip.ParsePrefix(f); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("%w: %q is not an address or prefix", ErrBadBoard, f)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}

// admits reports whether a call from addr with secret is the board's.
// Both rules the board has must pass. The secrets are compared in
// constant time, over their hashes so that their lengths do not show.
func (b Board) admits(addr netip.Addr, secret string) bool {
	ok := true
	if len(b.Allow) > 0 {
		allowed := false
		for _, p := range b.Allow {
			allowed = allowed || p.Contains(addr.Unmap())
		}
		ok = allowed
	}
	if b.Secret != "" {
		want, got := sha256.Sum256([]byte(b.Secret)), sha256.Sum256([]byte(secret))
		ok = subtle.ConstantTimeCompare(want[:], got[:]) == 1 && ok
	}
	return ok
}
