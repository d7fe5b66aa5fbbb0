package session

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/m2bbs/m2bbs/luaapi"
)

// TestPagesAreLimited: bob pages ann three times in a row, and his fourth
// page is refused with how long to wait; ten seconds later he may page
// again. Ann sees three pages, not a screenful of them.
func TestPagesAreLimited(t *testing.T) {
	_, clock, tbl, rec := sleepyBoard(t, nil)
	converse(tbl, rec, "1", "connect", "ann", "pw", "pw", "y")
	converse(tbl, rec, "2", "connect", "bob", "pw", "pw", "y")
	rec.take()
	page := func(text string) []string { return converse(tbl, rec, "2", "8", "ann", text) }
	for i := range luaapi.PageBurst {
		got := page(fmt.Sprintf("lunch %d?", i))
		if !slices.Contains(got, fmt.Sprintf("1 screen:Page from bob: lunch %d?", i)) || !slices.Contains(got, "2 screen:Paged.") {
			t.Fatalf("page %d:\n%s", i, strings.Join(got, "\n"))
		}
	}
	got := page("LUNCH?!")
	if !slices.Contains(got, "2 screen:Not paged: you page too often. Try again in 10 seconds.") || strings.Contains(strings.Join(got, "\n"), "Page from bob") {
		t.Fatalf("bob's fourth page in a row:\n%s", strings.Join(got, "\n"))
	}
	clock.Advance(luaapi.PageEvery)
	if got := page("lunch?"); !slices.Contains(got, "1 screen:Page from bob: lunch?") {
		t.Fatalf("bob's page after %v:\n%s", luaapi.PageEvery, strings.Join(got, "\n"))
	}
}
