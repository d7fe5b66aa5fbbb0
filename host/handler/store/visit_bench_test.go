package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

// visitCtx is the context of a visit's store calls: one that is never
// cancelled, as luaapi's storeCall gives every call (a context that can
// end takes other paths in the driver: a goroutine per statement).
func visitCtx(b *testing.B) context.Context {
	b.Helper()
	return context.WithoutCancel(b.Context())
}

// visitStore is a store with users ann and bob and a board of 100 posts.
func visitStore(b *testing.B) *SQLite {
	s, _ := newStore(b)
	fillBoard(b, s, 100)
	mustRegister(b, s, "ann", "bob")
	return s
}

// visitLimits are the login throttle's limits as the host sets them.
var visitLimits = LoginLimits{
	Pause:  func(n int, _ bool) time.Duration { return time.Duration(n-1) * time.Millisecond },
	Forget: time.Hour,
}

// BenchmarkVisitCalls is each store call a visit of the shipped board
// (scripts/bbs.lua) makes, alone, with a context that has a deadline as
// the Lua modules' have. Writes that a visit pairs (login throttle,
// registration throttle, mail sent and read) are measured as the pair.
func BenchmarkVisitCalls(b *testing.B) {
	cases := []struct {
		name string
		call func(ctx context.Context, s *SQLite, i int) error
	}{
		{"UserExists", func(ctx context.Context, s *SQLite, _ int) error {
			_, err := s.UserExists(ctx, "Ann")
			return err
		}},
		{"Account", func(ctx context.Context, s *SQLite, _ int) error {
			_, err := s.Account(ctx, "ann")
			return err
		}},
		{"RecordCall", func(ctx context.Context, s *SQLite, _ int) error {
			return s.RecordCall(ctx, "ann")
		}},
		{"MessageCount", func(ctx context.Context, s *SQLite, _ int) error {
			_, err := s.MessageCount(ctx)
			return err
		}},
		{"MessageAt", func(ctx context.Context, s *SQLite, i int) error {
			_, err := s.MessageAt(ctx, i%100)
			return err
		}},
		{"UnreadMailCount", func(ctx context.Context, s *SQLite, _ int) error {
			_, err := s.UnreadMailCount(ctx, "bob")
			return err
		}},
		{"SendAndReadMail", func(ctx context.Context, s *SQLite, _ int) error {
			if _, err := s.SendMail(ctx, "bob", "ann", benchLines); err != nil {
				return err
			}
			_, err := s.ReadNextMail(ctx, "bob")
			return err
		}},
		{"LoginThrottle", func(ctx context.Context, s *SQLite, _ int) error {
			if err := s.BeginLogin(ctx, "ann", "127.0.0.1", time.Now(), visitLimits); err != nil {
				return err
			}
			return s.LoginSucceeded(ctx, "ann", "127.0.0.1")
		}},
		{"RegistrationThrottle", func(ctx context.Context, s *SQLite, _ int) error {
			id, err := s.BeginRegistration(ctx, "127.0.0.1", time.Now(), 1<<30, time.Hour)
			if err != nil {
				return err
			}
			return s.CancelRegistration(ctx, id)
		}},
		{"PostMessage", func(ctx context.Context, s *SQLite, _ int) error {
			_, err := s.PostMessage(ctx, "ann", benchLines)
			return err
		}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			s := visitStore(b)
			ctx := visitCtx(b)
			b.ReportAllocs()
			i := 0
			cpu := processCPU(b)
			for b.Loop() {
				if err := c.call(ctx, s, i); err != nil {
					b.Fatal(err)
				}
				i++
			}
			b.ReportMetric(float64((processCPU(b)-cpu).Nanoseconds())/float64(b.N), "cpu-ns/op")
		})
	}
}

// returningVisit is the store calls of one returning user's visit of the
// shipped board, without the password check (bcrypt, measured apart by
// BenchmarkAuthUser): log in, leave a message, read ten, send a private
// message, read the inbox, as the load generator's visit does.
func returningVisit(ctx context.Context, s *SQLite, user, to string) error {
	if _, err := s.UserExists(ctx, user); err != nil {
		return err
	}
	if err := s.BeginLogin(ctx, user, "127.0.0.1", time.Now(), visitLimits); err != nil {
		return err
	}
	if err := s.LoginSucceeded(ctx, user, "127.0.0.1"); err != nil {
		return err
	}
	if _, err := s.Account(ctx, user); err != nil {
		return err
	}
	if err := s.RecordCall(ctx, user); err != nil {
		return err
	}
	if _, err := s.PostMessage(ctx, user, benchLines); err != nil {
		return err
	}
	n, err := s.MessageCount(ctx)
	if err != nil {
		return err
	}
	for i := n - 1; i >= max(n-10, 0); i-- {
		if _, err := s.MessageAt(ctx, i); err != nil {
			return err
		}
	}
	if _, err := s.UserExists(ctx, to); err != nil {
		return err
	}
	if _, err := s.SendMail(ctx, to, user, benchLines); err != nil {
		return err
	}
	for {
		n, err := s.UnreadMailCount(ctx, user)
		if err != nil || n == 0 {
			return err
		}
		if _, err := s.ReadNextMail(ctx, user); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
	}
}

// BenchmarkReturningVisit is the store's part of one returning user's
// visit (returningVisit), ann and bob writing to each other.
func BenchmarkReturningVisit(b *testing.B) {
	s := visitStore(b)
	ctx := visitCtx(b)
	b.ReportAllocs()
	i := 0
	cpu := processCPU(b)
	for b.Loop() {
		user, to := "ann", "bob"
		if i%2 == 1 {
			user, to = to, user
		}
		if err := returningVisit(ctx, s, user, to); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64((processCPU(b)-cpu).Nanoseconds())/float64(b.N), "cpu-ns/op")
}
