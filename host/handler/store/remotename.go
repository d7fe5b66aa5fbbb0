package store

import (
	"fmt"
	"strings"
)

// RemoteSeparator joins a remote board's name and its caller's name into
// the name a remote caller (a caller of another board, reaching this one
// as a door server) is known by here: "board:user". A local account's
// name can never hold it (nameByte), so a remote caller's door data can
// never be a local caller's.
const RemoteSeparator = ":"

// RemoteName returns the name of the caller user of the remote board
// board, "board:user", or an error wrapping ErrBadName. Both parts follow
// the naming rules of an account's name; together they fit MaxNameLen,
// the longest name door data is kept under.
func RemoteName(board, user string) (string, error) {
	b, err := canonicalName(board)
	if err != nil {
		return "", fmt.Errorf("board name: %w", err)
	}
	u, err := canonicalName(user)
	if err != nil {
		return "", err
	}
	name := b + RemoteSeparator + u
	if len(name) > MaxNameLen {
		return "", fmt.Errorf("%w: %q is longer than %d characters", ErrBadName, name, MaxNameLen)
	}
	return name, nil
}

// SplitRemoteName splits a name made by RemoteName into its board and
// user; ok is false for any other name (a local account's).
func SplitRemoteName(name string) (board, user string, ok bool) {
	board, user, ok = strings.Cut(name, RemoteSeparator)
	if !ok {
		return "", "", false
	}
	if _, err := RemoteName(board, user); err != nil {
		return "", "", false
	}
	return board, user, true
}

// doorUserName is checkDoorUser's rule for a non-empty name: an
// account's name, or a remote caller's (RemoteName).
func doorUserName(user string) (string, error) {
	if board, u, ok := strings.Cut(CleanName(user), RemoteSeparator); ok {
		return RemoteName(board, u)
	}
	return canonicalName(user)
}
