package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Store is the BBS's storage: every narrow interface a part of the host
// needs, composed, so the host wires one value and each part takes only
// the interface it uses. *SQLite implements it. Implementations are safe
// for concurrent use.
type Store interface {
	Basic
	Accounts
	Boards
	Mailbox
	DoorStore
	Throttles
	Journals
	Lines
	Access
	SharedState
	SSHKeys
	// Close releases the database. Later calls return ErrClosed.
	Close() error
}

// Basic is the storage of the original BBS's calls (the Lua db module):
// users, the public board and private mail.
type Basic interface {
	// UserExists reports whether a user of that name (any case) is
	// registered. An invalid name is reported as not registered.
	UserExists(ctx context.Context, name string) (bool, error)
	// AuthUser reports whether password is the password of user name. It
	// returns false and a nil error for an unknown user or a wrong password.
	AuthUser(ctx context.Context, name, password string) (bool, error)
	// RegisterUser adds a user. It returns ErrUserExists if the name is
	// taken in any case, ErrBadName or ErrBadPassword for invalid input.
	RegisterUser(ctx context.Context, name, password string) error
	// PostMessage adds a message by author to the public board (the
	// DefaultArea of Boards, with no subject). It returns
	// ErrNoSuchUser if author is not registered and ErrTooLarge past the
	// size limits.
	PostMessage(ctx context.Context, author string, lines []string) (Message, error)
	// MessageCount returns the number of messages on the board (in
	// DefaultArea).
	MessageCount(ctx context.Context) (int, error)
	// MessageAt returns the message at 0-based position i of DefaultArea,
	// 0 being the oldest. It returns ErrNotFound when i is out of range.
	MessageAt(ctx context.Context, i int) (Message, error)
	// SendMail sends a private mail. It returns ErrNoSuchUser if to or from
	// is not registered and ErrTooLarge past the size limits.
	SendMail(ctx context.Context, to, from string, lines []string) (Mail, error)
	// UnreadMailCount returns the number of unread mails to user (0 for an
	// unknown user).
	UnreadMailCount(ctx context.Context, user string) (int, error)
	// ReadNextMail returns the oldest unread mail to user and marks it read
	// in the same transaction, so concurrent callers never get the same
	// mail. The mail is kept (see Mailbox). It returns ErrNotFound if there
	// is none.
	ReadNextMail(ctx context.Context, user string) (Mail, error)
	// Reconnect closes and reopens the database (the original BBS's
	// db.reconnect).
	Reconnect(ctx context.Context) error
}

// Message is a post on the public board.
type Message struct {
	ID     int64     // unique, increasing with time
	Author string    // as registered
	Lines  []string  // exactly as posted (never nil)
	Posted time.Time // UTC, millisecond precision
}

// Mail is a private message from one user to another.
type Mail struct {
	ID    int64
	To    string    // recipient, as registered
	From  string    // sender, as registered
	Lines []string  // exactly as sent (never nil)
	Sent  time.Time // UTC, millisecond precision
	Read  bool      // whether the recipient has read it
}

// Sentinel errors, returned wrapped; test for them with errors.Is.
var (
	// ErrNotFound means the message or mail asked for does not exist.
	ErrNotFound = errors.New("store: not found")
	// ErrUserExists means the name is already registered (in some case).
	ErrUserExists = errors.New("store: user already exists")
	// ErrNoSuchUser means a user named in the call is not registered.
	ErrNoSuchUser = errors.New("store: no such user")
	// ErrBadName means a user name breaks the naming rules.
	ErrBadName = errors.New("store: invalid user name")
	// ErrBadPassword means a password is empty or too long.
	ErrBadPassword = errors.New("store: invalid password")
	// ErrTooLarge means a message or mail exceeds MaxLines or MaxBodyBytes.
	ErrTooLarge = errors.New("store: message too large")
	// ErrClosed means the store has been closed.
	ErrClosed = errors.New("store: closed")
	// ErrSchemaTooNew means the database was written by a newer program
	// whose schema this one does not know.
	ErrSchemaTooNew = errors.New("store: database schema is newer than this program")
	// ErrUnstorableText means a text holds a NUL byte or is not valid
	// UTF-8, which a PostgreSQL database cannot store (SQLite can).
	ErrUnstorableText = errors.New("store: text with a NUL byte or invalid UTF-8 cannot be stored in PostgreSQL")
)

// Limits on input.
const (
	// MaxNameLen is the longest user name, in bytes (names are ASCII).
	MaxNameLen = 32
	// MaxPasswordBytes is the longest password: bcrypt ignores what
	// follows, so longer ones are refused rather than silently truncated.
	MaxPasswordBytes = 72
	// MaxLines is the most lines a message or mail may have.
	MaxLines = 1000
	// MaxBodyBytes is the most bytes a message or mail may have, counting
	// one newline between lines.
	MaxBodyBytes = 64 << 10
)

// canonicalName cleans name (CleanName) and checks it against the naming
// rules, returning the clean name or an error wrapping ErrBadName.
func canonicalName(name string) (string, error) {
	name = CleanName(name)
	if name == "" {
		return "", fmt.Errorf("%w: empty", ErrBadName)
	}
	if len(name) > MaxNameLen {
		return "", fmt.Errorf("%w: longer than %d characters", ErrBadName, MaxNameLen)
	}
	for i := 0; i < len(name); i++ {
		if !nameByte(name[i]) {
			return "", fmt.Errorf("%w: only letters, digits, '_', '-' and '.' are allowed", ErrBadName)
		}
	}
	return name, nil
}

// nameByte reports whether c may appear in a user name.
func nameByte(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return c == '_' || c == '-' || c == '.'
}

// checkPassword returns an error wrapping ErrBadPassword if password cannot
// be registered.
func checkPassword(password string) error {
	if password == "" {
		return fmt.Errorf("%w: empty", ErrBadPassword)
	}
	if len(password) > MaxPasswordBytes {
		return fmt.Errorf("%w: longer than %d bytes", ErrBadPassword, MaxPasswordBytes)
	}
	return nil
}

// encodeLines joins lines into the stored body and returns it with the
// number of lines (lines containing "\n" count as several). It returns an
// error wrapping ErrTooLarge past the limits.
func encodeLines(lines []string) (body string, count int, err error) {
	size := 0
	for _, l := range lines {
		size += len(l) + 1
		count += 1 + strings.Count(l, "\n")
		if size-1 > MaxBodyBytes {
			return "", 0, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, MaxBodyBytes)
		}
		if count > MaxLines {
			return "", 0, fmt.Errorf("%w: more than %d lines", ErrTooLarge, MaxLines)
		}
	}
	return strings.Join(lines, "\n"), count, nil
}

// decodeLines is the inverse of encodeLines.
func decodeLines(body string, count int) []string {
	if count == 0 {
		return []string{}
	}
	return strings.Split(body, "\n")
}
