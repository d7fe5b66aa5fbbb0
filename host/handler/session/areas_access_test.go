package session

import (
	"strings"
	"testing"
)

// TestAreaAccessRule: an entry of boards.AREAS with an access rule is
// listed and opened for callers who pass it only.
func TestAreaAccessRule(t *testing.T) {
	main := strings.Replace(boardsMain, "    local user = req.data.msg\n",
		"    local user = req.data.msg\n    assert(require('db').auth_user(user, 'pw'))\n", 1)
	main = "require('boards').AREAS[3].access = \"group('gamers')\"\n" + main
	tbl, rec, db := boardsTableWith(t, main)
	if err := db.SetGroup(t.Context(), "bob", "gamers", true); err != nil {
		t.Fatal(err)
	}
	bob := call(t, tbl, rec, "1", "bob")
	bob.say("B").shows(" 1. general", " 2. tech", " 3. games")
	cy := call(t, tbl, rec, "2", "cy")
	if got := cy.say("B").all(); strings.Contains(got, "games") || !strings.Contains(got, " 2. tech") {
		t.Errorf("cy, not a gamer, sees:\n%s", got)
	}
	cy.say("3").shows("That is not one of the choices here.")
}
