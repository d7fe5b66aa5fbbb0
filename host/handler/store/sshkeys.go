package store

import (
	"context"
	"errors"
	"time"
)

// SSHKeys keeps the public keys callers registered for SSH logins.
// *SQLite implements it. The keys are checked before they get here (see
// host/shared/authkey); the store bounds their number and size.
type SSHKeys interface {
	// AddSSHKey registers key for name: ErrNoSuchUser, ErrSSHKeyExists if
	// name has that fingerprint already, ErrTooManySSHKeys past
	// MaxSSHKeys, ErrBadSSHKey for empty fields or a line over
	// MaxSSHKeyLine. AddedAt is set by the store when zero.
	AddSSHKey(ctx context.Context, name string, key SSHKey) error
	// ListSSHKeys lists name's keys, oldest first (none for an unknown
	// name).
	ListSSHKeys(ctx context.Context, name string) ([]SSHKey, error)
	// FindSSHKey returns name's key with that fingerprint, and the name
	// as registered: ErrNotFound if name has no such key or no account.
	FindSSHKey(ctx context.Context, name, fingerprint string) (string, SSHKey, error)
	// RemoveSSHKey forgets name's key with that fingerprint: ErrNotFound
	// if there is none.
	RemoveSSHKey(ctx context.Context, name, fingerprint string) error
}

// SSHKey is one registered public key.
type SSHKey struct {
	// Type is the key type ("ssh-ed25519", ...).
	Type string
	// Fingerprint is the SHA-256 fingerprint ("SHA256:...").
	Fingerprint string
	// Line is the authorized_keys line as normalised.
	Line string
	// AddedAt is when it was registered.
	AddedAt time.Time
}

// Limits of SSHKeys.
const (
	// MaxSSHKeys bounds the keys of one user.
	MaxSSHKeys = 8
	// MaxSSHKeyLine bounds a key's line, in bytes.
	MaxSSHKeyLine = 8 << 10
)

// Sentinel errors of SSHKeys, returned wrapped.
var (
	// ErrSSHKeyExists means the user registered that key already.
	ErrSSHKeyExists = errors.New("store: key already registered")
	// ErrTooManySSHKeys means the user has MaxSSHKeys keys already.
	ErrTooManySSHKeys = errors.New("store: too many keys")
	// ErrBadSSHKey means a key with an empty field or too long a line.
	ErrBadSSHKey = errors.New("store: invalid key")
)
