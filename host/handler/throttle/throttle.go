// Package throttle slows down password guessing and mass registration
// without ever locking out an account's owner.
//
// Login attempts are counted per (name, address) and per address over all
// names, in the store every host of the board shares (store.Throttles), so
// a second phone line or a restart of the host gives an attacker nothing.
// Names are counted by store.NameKey, so "Dave", "dave\u2009" and fullwidth
// "ｄａｖｅ" share one count. After FreePerName attempts at one name from one
// address, each further attempt from that address must wait BasePause, then
// twice that, and so on up to MaxPause; after FreePerAddr attempts from one
// address at any names, likewise. A refused attempt is answered at once
// ("try again in N seconds"): nothing sleeps. The owner, calling from
// another address, is never held back by someone else's guesses. A
// successful login forgets that name's attempts from that address.
package throttle

import (
	"context"
	"time"

	"github.com/m2bbs/m2bbs/host/handler/store"
	"github.com/m2bbs/m2bbs/host/shared/access"
)

// Defaults of Policy.
const (
	DefaultFreePerName = 3
	DefaultFreePerAddr = 10
	DefaultBasePause   = time.Second
	DefaultMaxPause    = 5 * time.Minute
	DefaultForget      = time.Hour
	// DefaultRegistrationWindow is the period RegistrationsPerAddr counts
	// over.
	DefaultRegistrationWindow = time.Hour
)

// Policy says how logins and registrations are throttled. Zero fields
// take the defaults, except RegistrationsPerAddr and MinPassword, which
// are off when zero (the m2bbs command turns them on: see host/handler/config).
type Policy struct {
	// FreePerName attempts at one name from one address go through
	// without a pause; FreePerAddr attempts from one address at any names.
	FreePerName, FreePerAddr int
	// BasePause is the first pause past the free attempts; each further
	// attempt doubles it, up to MaxPause.
	BasePause, MaxPause time.Duration
	// Forget is how long counts are kept after the last attempt.
	Forget time.Duration
	// RegistrationsPerAddr bounds the accounts one address may register
	// per RegistrationWindow (0: no bound).
	RegistrationsPerAddr int
	RegistrationWindow   time.Duration
	// MinPassword is the fewest characters a new password may have (0: no
	// minimum).
	MinPassword int
}

// WithDefaults returns p with zero fields set to the defaults.
func (p Policy) WithDefaults() Policy {
	if p.FreePerName <= 0 {
		p.FreePerName = DefaultFreePerName
	}
	if p.FreePerAddr <= 0 {
		p.FreePerAddr = DefaultFreePerAddr
	}
	if p.BasePause <= 0 {
		p.BasePause = DefaultBasePause
	}
	if p.MaxPause <= 0 {
		p.MaxPause = DefaultMaxPause
	}
	if p.Forget <= 0 {
		p.Forget = DefaultForget
	}
	if p.RegistrationWindow <= 0 {
		p.RegistrationWindow = DefaultRegistrationWindow
	}
	return p
}

// Pause is how long the attempt after the n-th counted one must wait: 0
// for the free ones, then BasePause, doubling up to MaxPause. perName says
// whether n counts one name from one address (else one address at every
// name).
func (p Policy) Pause(n int, perName bool) time.Duration {
	free := p.FreePerAddr
	if perName {
		free = p.FreePerName
	}
	if n < free {
		return 0
	}
	pause := p.BasePause
	for range n - free {
		pause *= 2
		if pause >= p.MaxPause {
			return p.MaxPause
		}
	}
	return min(pause, p.MaxPause)
}

// Logins throttles logins and registrations over a store.Throttles. It
// keeps no state of its own, so any number of them (one per worker, per
// host, per phone line) share the store's counts.
type Logins struct {
	store  store.Throttles
	policy Policy
	now    func() time.Time
}

// New returns Logins over st with policy p (zero fields take the
// defaults) and the clock now (time.Now when nil).
func New(st store.Throttles, p Policy, now func() time.Time) *Logins {
	if now == nil {
		now = time.Now
	}
	return &Logins{store: st, policy: p.WithDefaults(), now: now}
}

// Policy returns the policy in force, defaults filled in.
func (l *Logins) Policy() Policy { return l.policy }

// BeginLogin counts an attempt at name from peer, or refuses it with an
// error wrapping store.ErrThrottled (a *store.ThrottledError, with the
// wait). Addresses are counted by access.AddrKeyString: an IPv6 caller
// by their /64.
func (l *Logins) BeginLogin(ctx context.Context, name, peer string) error {
	return l.store.BeginLogin(ctx, store.NameKey(name), access.AddrKeyString(peer), l.now(),
		store.LoginLimits{Pause: l.policy.Pause, Forget: l.policy.Forget})
}

// LoginSucceeded forgets the attempts at name from peer.
func (l *Logins) LoginSucceeded(ctx context.Context, name, peer string) error {
	return l.store.LoginSucceeded(ctx, store.NameKey(name), access.AddrKeyString(peer))
}

// BeginRegistration counts a registration from peer, or refuses it with
// an error wrapping store.ErrThrottled. undo takes it back (the name was
// taken, say); it is never nil.
func (l *Logins) BeginRegistration(ctx context.Context, peer string) (undo func(context.Context) error, err error) {
	if l.policy.RegistrationsPerAddr <= 0 {
		return func(context.Context) error { return nil }, nil
	}
	id, err := l.store.BeginRegistration(ctx, access.AddrKeyString(peer), l.now(), l.policy.RegistrationsPerAddr, l.policy.RegistrationWindow)
	if err != nil {
		return func(context.Context) error { return nil }, err
	}
	return func(ctx context.Context) error { return l.store.CancelRegistration(ctx, id) }, nil
}

// MinPassword is the fewest characters a new password may have (0: any).
func (l *Logins) MinPassword() int { return l.policy.MinPassword }
