package luaapi

import (
	"strings"
	"testing"
)

// TestReservedLookAlikes: letter pairs that pass for one letter, repeated
// letters and trailing digits do not get round the reserved names; a
// name that only shares some letters with one ("Al", "all") is free.
func TestReservedLookAlikes(t *testing.T) {
	e := newAccountsEnv(t)
	e.run(t, `require 'db'`)
	for _, name := range []string{"adrnin", "rnoderator", "aclmin", "Sysop1", "sysopp", "sysoop", "r00t99"} {
		err := e.L.DoString(`local ok, err = db.register_user('` + name + `', 'long enough') assert(ok, err)`)
		if err == nil || !strings.Contains(err.Error(), "is reserved") {
			t.Errorf("register %q: %v, want reserved", name, err)
		}
	}
	e.run(t, `assert(db.register_user('Al', 'long enough'))`)
}
