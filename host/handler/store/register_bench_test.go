package store

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// BenchmarkRegisterAmongAccounts: one registration's store write (the hash
// made beforehand, as the host's hash pool does) on a board that already
// has that many accounts. Its cost must not grow with them: migration 022
// replaced the first-user triggers' count of every account, which made the
// write at 30,000 accounts several times that at 1,000.
func BenchmarkRegisterAmongAccounts(b *testing.B) {
	hash, err := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	if err != nil {
		b.Fatal(err)
	}
	for _, accounts := range []int{1_000, 30_000} {
		b.Run(fmt.Sprintf("accounts=%d", accounts), func(b *testing.B) {
			ctx := context.Background()
			s, err := Open(filepath.Join(b.TempDir(), "bbs.db"), Options{BcryptCost: bcrypt.MinCost})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			for i := range accounts {
				if err := s.RegisterHashed(ctx, fmt.Sprintf("before%d", i), hash); err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			for i := range b.N {
				if err := s.RegisterHashed(ctx, fmt.Sprintf("caller%d", i), hash); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
