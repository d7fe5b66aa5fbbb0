package files

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/m2bbs/m2bbs/host/handler/store"
)

// BenchmarkIngest16MiB: one 16 MiB upload checked, hashed and placed (a
// hard link, one file system): the time a files.ingest call holds its
// Lua worker.
func BenchmarkIngest16MiB(b *testing.B) {
	dir := b.TempDir()
	st, err := store.Open(filepath.Join(dir, "bbs.db"), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	set, err := ParseSettings(map[string]any{"areas": []any{map[string]any{"name": "games"}}}, filepath.Join(dir, "bbs.db"))
	if err != nil {
		b.Fatal(err)
	}
	lib := &Library{Settings: set, Store: st}
	data := make([]byte, 16<<20)
	b.SetBytes(int64(len(data)))
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		rand.Read(data[:64])
		p := filepath.Join(dir, fmt.Sprint("up", i))
		if err := os.WriteFile(p, data, 0o600); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if _, err := lib.Ingest(context.Background(), Upload{Area: "games", Name: fmt.Sprint("f", i, ".bin"), Path: p, Uploader: "ann", Approved: true}); err != nil {
			b.Fatal(err)
		}
	}
}
