package session

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/m2bbs/m2bbs/host/handler/journal"
)

// TestKeptEntriesStayAsEncoded: entries cut from the table's chunks keep
// their bytes while later entries are encoded (across chunk boundaries,
// and for entries too big for a chunk), and appending to one never
// reaches the next.
func TestKeptEntriesStayAsEncoded(t *testing.T) {
	var b journalScratch
	var kept, want [][]byte
	for i := range 3000 {
		e := journal.Entry{Kind: journal.KindCall, Name: fmt.Sprintf("db.call_%d", i), Args: uint64(i)}
		if i%500 == 0 {
			e.Results = bytes.Repeat([]byte{byte(i)}, entryChunk) // too big for a chunk
		}
		kept = append(kept, b.encode(&e))
		want = append(want, e.Append(nil))
	}
	for i := range kept {
		if !bytes.Equal(kept[i], want[i]) {
			t.Fatalf("entry %d changed after later entries were encoded", i)
		}
	}
	_ = append(kept[0], 'x') // a full slice: the append copies
	if !bytes.Equal(kept[1], want[1]) {
		t.Error("appending to an entry overwrote the next one")
	}
	if cap(b.entry) > keepScratch || cap(b.enc) > keepScratch {
		t.Errorf("scratch kept %d and %d bytes, at most %d", cap(b.entry), cap(b.enc), keepScratch)
	}
}
