package store

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/crypto/bcrypt"
)

// Passwords splits AuthUser and RegisterUser into their database part and
// their bcrypt part, so that a caller can run the hash (tens of
// milliseconds at the default cost, pure CPU, no database) on a goroutine
// of its choosing: the Lua host runs it off the worker that serves many
// callers. *SQLite implements it; AuthUser and RegisterUser are these
// steps in a row.
type Passwords interface {
	// PasswordHash returns the stored hash of user name's password, or
	// nil and a nil error when no user of that name exists, or when no
	// user could have that name or that password (the check then fails
	// without hashing, as AuthUser does).
	PasswordHash(ctx context.Context, name, password string) ([]byte, error)
	// CheckRegistration checks name and password as RegisterUser does,
	// and that the name is not plainly taken: the errors are
	// RegisterUser's.
	CheckRegistration(ctx context.Context, name, password string) error
	// ComparePassword reports whether password matches hash (from
	// PasswordHash): CheckPasswordHash. HashPassword hashes password with
	// bcrypt at the store's cost. Neither touches the database; both are
	// safe on any goroutine.
	ComparePassword(name string, hash []byte, password string) (bool, error)
	HashPassword(password string) ([]byte, error)
	// RegisterHashed adds user name with a hash from HashPassword; the
	// UNIQUE constraint settles a race for the name (ErrUserExists).
	RegisterHashed(ctx context.Context, name string, hash []byte) error
}

// CheckPasswordHash reports whether password matches hash (from
// PasswordHash; nil matches nothing). It is pure CPU and safe on any
// goroutine; name only labels the error of a damaged hash.
func CheckPasswordHash(name string, hash []byte, password string) (bool, error) {
	if hash == nil {
		return false, nil
	}
	err := bcrypt.CompareHashAndPassword(hash, []byte(password))
	if errors.Is(err, bcrypt.ErrMismatchedHashAndPassword) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("store: auth user %q: %w", CleanName(name), err)
	}
	return true, nil
}

var _ Passwords = (*SQLite)(nil)

// ComparePassword implements Passwords.
func (s *SQLite) ComparePassword(name string, hash []byte, password string) (bool, error) {
	return CheckPasswordHash(name, hash, password)
}
