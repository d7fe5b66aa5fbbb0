package session

import (
	"context"
	"fmt"
	"testing"
)

// benchVisit is the prompts each journaled visit answers after
// logging in: a trip through the message reader and the who's-online list.
var benchVisit = []string{"2", "", "5", "6", "", "7"}

// benchBoard is a journaled or plain board with one message on it.
func benchBoard(b *testing.B, journaled bool) (*Table, *recorder, *journaledBoard) {
	b.Helper()
	jb := newJournaledBoardTB(b)
	tbl, rec := jb.tableTB(b, journaled)
	converse(tbl, rec, "1", "connect", "poster", "pw", "pw", "y", "1", "hello", ".", "Q")
	return tbl, rec, jb
}

// BenchmarkJournaling measures what journaling costs a live session: one
// prompt round trip (answer, script runs, next prompt) with and without
// the journal. Report: ns/op per prompt; cpu-ns/prompt, the process's
// CPU time (see BenchmarkJournalLength); journal-bytes/prompt.
func BenchmarkJournaling(b *testing.B) {
	for _, journaled := range []bool{false, true} {
		b.Run(fmt.Sprintf("journal=%v", journaled), func(b *testing.B) {
			tbl, rec, _ := benchBoard(b, journaled)
			converse(tbl, rec, "2", "connect", "reader", "pw", "pw", "y")
			before := tbl.JournalStats().BytesWritten
			prompts := 0
			cpu := processCPU(b)
			b.ResetTimer()
			for b.Loop() {
				for _, line := range benchVisit {
					handle(tbl, msg("2", line))
					prompts++
				}
				rec.take()
			}
			b.StopTimer()
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(prompts), "ns/prompt")
			b.ReportMetric(float64((processCPU(b)-cpu).Nanoseconds())/float64(prompts), "cpu-ns/prompt")
			if journaled {
				b.ReportMetric(float64(tbl.JournalStats().BytesWritten-before)/float64(prompts), "journal-bytes/prompt")
			}
		})
	}
}

// BenchmarkReplay measures rebuilding a session from its journal on a
// fresh table: a caller who answered n prompts after the main menu
// (reading messages one by one, with no checkpoint in between). Report:
// ns/op per replay, ns per journaled prompt, journal bytes per prompt.
func BenchmarkReplay(b *testing.B) {
	for _, n := range []int{10, 100} {
		b.Run(fmt.Sprintf("prompts=%d", n), func(b *testing.B) {
			jb := newJournaledBoardTB(b)
			tbl, rec := jb.tableTB(b, true)
			lines := []string{"connect", "poster", "pw", "pw", "y"}
			for i := range n {
				lines = append(lines, "1", fmt.Sprintf("post %d", i), ".")
			}
			lines = append(lines, "Q")
			converse(tbl, rec, "1", lines...)
			// The reader: "2" then Enter for each post, n prompts in all,
			// stopping before the last so the caller is mid-reader.
			reader := []string{"connect", "reader", "pw", "pw", "y", "2"}
			for range n - 1 {
				reader = append(reader, "")
			}
			converse(tbl, rec, "2", reader...)
			raw, _, err := jb.db.LoadJournal(context.Background(), "2")
			if err != nil {
				b.Fatal(err)
			}
			size := 0
			for _, e := range raw {
				size += len(e)
			}
			fresh, _ := jb.tableTB(b, true)
			loaded, err := fresh.loadJournal("2")
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for b.Loop() {
				s, res := fresh.replay("2", loaded, nil, nil)
				if res != replayDone {
					b.Fatalf("replay: %v", res)
				}
				fresh.remove(s)
			}
			b.StopTimer()
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/prompt")
			b.ReportMetric(float64(size)/float64(n), "journal-bytes/prompt")
		})
	}
}
