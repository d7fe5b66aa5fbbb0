package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

var benchLines = []string{"Hello everyone,", "", "this is a benchmark post of a few lines.", "-- bench"}

func BenchmarkPostMessage(b *testing.B) {
	s, _ := newStore(b)
	mustRegister(b, s, "bench")
	ctx := context.Background()
	for b.Loop() {
		if _, err := s.PostMessage(ctx, "bench", benchLines); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPostMessageParallel(b *testing.B) {
	s, _ := newStore(b)
	mustRegister(b, s, "bench")
	ctx := context.Background()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.PostMessage(ctx, "bench", benchLines); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// fillBoard adds n messages in one transaction (posting them one by one
// would dominate the benchmark's set-up).
func fillBoard(b *testing.B, s *SQLite, n int) {
	b.Helper()
	mustRegister(b, s, "bench")
	body, count, _ := encodeLines(benchLines)
	err := s.inTx(context.Background(), func(tx txConn) error {
		for i := range n {
			if _, err := tx.ExecContext(context.Background(),
				`INSERT INTO messages (seq, author_id, body, line_count, posted_at)
				 VALUES (?, (SELECT id FROM users WHERE name = 'bench'), ?, ?, ?)`,
				i, body, count, nowMillis()); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

func BenchmarkMessageAt(b *testing.B) {
	const n = 10_000
	s, _ := newStore(b)
	fillBoard(b, s, n)
	ctx := context.Background()
	i := 0
	for b.Loop() {
		if _, err := s.MessageAt(ctx, i%n); err != nil {
			b.Fatal(err)
		}
		i += 7919 // a prime: visit the board out of order
	}
}

func BenchmarkMessageAtParallel(b *testing.B) {
	const n = 10_000
	s, _ := newStore(b)
	fillBoard(b, s, n)
	ctx := context.Background()
	b.RunParallel(func(pb *testing.PB) {
		r := rand.New(rand.NewPCG(1, 2))
		for pb.Next() {
			if _, err := s.MessageAt(ctx, r.IntN(n)); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkAuthUser(b *testing.B) {
	s, _ := newStore(b) // bcrypt.MinCost: measures the store, not bcrypt
	ctx := context.Background()
	if err := s.RegisterUser(ctx, "bench", "password"); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(bcrypt.MinCost), "bcrypt-cost")
	for b.Loop() {
		ok, err := s.AuthUser(ctx, "BENCH", "password")
		if !ok || err != nil {
			b.Fatal(fmt.Sprint("AuthUser = ", ok, err))
		}
	}
}

// BenchmarkWritesPerTransaction is what a write's own transaction costs:
// n posts in one write transaction, each inside a savepoint of its own
// (as a transaction shared by a worker's batch would need, so that one
// failed write undoes only itself), against n = 1: a transaction per
// write, as every write is stored today (PostMessage's path, here with a
// savepoint it does not need, two statements more). Report: ns/post and
// cpu-ns/post, the process's CPU per post (user and system, all
// threads).
func BenchmarkWritesPerTransaction(b *testing.B) {
	for _, n := range []int{1, 4, 12} {
		b.Run(fmt.Sprintf("posts=%d", n), func(b *testing.B) {
			s, _ := newStore(b)
			mustRegister(b, s, "bench")
			ctx := context.Background()
			body, count, err := encodeLines(benchLines)
			if err != nil {
				b.Fatal(err)
			}
			post := NewPost{Area: DefaultArea, Author: "bench", Lines: benchLines}
			cpu := processCPU(b)
			for b.Loop() {
				err := s.inTx(ctx, func(tx txConn) error {
					for range n {
						if _, err := tx.ExecContext(ctx, "SAVEPOINT write"); err != nil {
							return err
						}
						if _, err := insertPost(ctx, tx, post, "", body, count); err != nil {
							return err
						}
						if _, err := tx.ExecContext(ctx, "RELEASE write"); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			posts := float64(b.N * n)
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/posts, "ns/post")
			b.ReportMetric(float64((processCPU(b)-cpu).Nanoseconds())/posts, "cpu-ns/post")
		})
	}
}
