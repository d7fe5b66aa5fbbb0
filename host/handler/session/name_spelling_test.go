package session

import (
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/m2bbs/m2bbs/host/handler/screens"
	"github.com/m2bbs/m2bbs/host/handler/store"
)

// A caller who registers typing a right-to-left override before their
// name ("\u202epoSys", drawn "sySop") is online, and listed to others,
// under the account's spelling, "poSys".
func TestRegisteredNameIsOnlineAsRegistered(t *testing.T) {
	var logs strings.Builder
	tbl, rec := newBoard(t, "../../../scripts/bbs.lua", &logs)
	converse(tbl, rec, "1", "connect", "Kim", "pw", "pw", "y")
	converse(tbl, rec, "2", "connect", "\u202epoSys", "pw", "pw", "y")
	for _, c := range tbl.Callers() {
		if c.User != "Kim" && c.User != "poSys" {
			t.Errorf("session user = %q, want the registered name %q", c.User, "poSys")
		}
	}
	handle(tbl, msg("1", "5"))
	who := strings.Join(rec.take(), "\n")
	if strings.Contains(who, "\u202e") {
		t.Errorf("Kim's who list carries the caller's bidi override:\n%q", who)
	}
}

// A caller who logs in to their account "poSys" typing "\u202epoSys" is
// announced to the chat room without the override.
func TestLoginNameReachesTheChatWithoutOverrides(t *testing.T) {
	db, err := store.Open(filepath.Join(t.TempDir(), "bbs.db"), store.Options{BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	h := newHubHost(t, db, Config{ScriptsDir: "../../../scripts", MainScript: "../../../scripts/bbs.lua",
		RatePerSecond: 1e6, RateBurst: 1 << 20}, screens.NewDir("../../../screens"), nil)
	for _, l := range []string{"connect", "Kim", "pw", "pw", "y"} {
		h.say(0, "1", l)
	}
	for _, l := range []string{"connect", "poSys", "pw", "pw", "y", "Q"} {
		h.say(0, "2", l)
	}
	for _, l := range []string{"connect", "\u202epoSys", "pw", "y"} {
		h.say(0, "3", l)
	}
	h.say(0, "1", "C")
	h.recs[0].take()
	h.say(0, "3", "C")
	var kim []string
	for _, r := range h.recs[0].take() {
		if strings.HasPrefix(r, "1 ") {
			kim = append(kim, r)
		}
	}
	all := strings.Join(kim, "\n")
	if !strings.Contains(all, "poSys comes in") {
		t.Fatalf("Kim was not told poSys came in:\n%q", all)
	}
	if strings.Contains(all, "\u202e") {
		t.Errorf("Kim's chat shows the caller's name as typed, bidi override and all:\n%q", all)
	}
}
