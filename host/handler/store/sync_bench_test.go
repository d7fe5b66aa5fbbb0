package store

import (
	"context"
	"path/filepath"
	"testing"
)

// BenchmarkPostSync posts one ten-line message per transaction with
// synchronous=NORMAL and FULL: what -sync full costs a poster. Run it on
// the disk the board uses (TMPDIR); docs/benchmarks.md has the current medians.
func BenchmarkPostSync(b *testing.B) {
	lines := []string{"A message of ten lines, as a caller types it.", "", "Line three.", "Line four.",
		"Line five.", "Line six.", "Line seven.", "Line eight.", "Line nine.", "Bye."}
	for _, sync := range []string{SyncNormal, SyncFull} {
		b.Run(sync, func(b *testing.B) {
			s, err := Open(filepath.Join(b.TempDir(), "bbs.db"), Options{BcryptCost: testOptions.BcryptCost, Sync: sync})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			mustRegister(b, s, "ann")
			ctx := context.Background()
			b.ResetTimer()
			for range b.N {
				if _, err := s.PostMessage(ctx, "ann", lines); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
