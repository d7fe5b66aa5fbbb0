package main

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/m2bbs/m2bbs/host/gateway/sshgw"
	"github.com/m2bbs/m2bbs/host/handler/store"
	"github.com/m2bbs/m2bbs/host/handler/throttle"
)

// TestKeyLoginsShareThePasswordThrottle: a registered key logs its
// account in; after failed passwords at that name from that address the
// key is throttled too; a banned account's key is refused.
func TestKeyLoginsShareThePasswordThrottle(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(filepath.Join(t.TempDir(), "bbs.db"), store.Options{BcryptCost: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.RegisterUser(ctx, "Dave", "hunter22"); err != nil {
		t.Fatal(err)
	}
	key := store.SSHKey{Type: "ssh-ed25519", Fingerprint: "SHA256:dave", Line: "ssh-ed25519 AAAA dave"}
	if err := db.AddSSHKey(ctx, "dave", key); err != nil {
		t.Fatal(err)
	}
	auth := storeAuth{db: db, logins: throttle.New(db, throttle.Policy{}, time.Now)}

	if name, v, err := auth.CheckKey(ctx, "DAVE", "SHA256:dave", "192.0.2.1"); err != nil || v != sshgw.Member || name != "Dave" {
		t.Fatalf("dave's key: %q %v %v", name, v, err)
	}
	if err := auth.KeyLoginSucceeded(ctx, "Dave", "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	if _, v, err := auth.CheckKey(ctx, "dave", "SHA256:other", "192.0.2.1"); err != nil || v != sshgw.Refused {
		t.Errorf("another key: %v %v", v, err)
	}
	for range throttle.DefaultFreePerName + 1 {
		_, _, _ = auth.CheckPassword(ctx, "dave", "guess", "192.0.2.1")
	}
	if _, v, err := auth.CheckKey(ctx, "dave", "SHA256:dave", "192.0.2.1"); v != sshgw.Refused || !errors.Is(err, store.ErrThrottled) {
		t.Errorf("the key after failed passwords: %v %v, want throttled", v, err)
	}
	if err := db.SetBanned(ctx, "dave", true); err != nil {
		t.Fatal(err)
	}
	if _, v, err := auth.CheckKey(ctx, "dave", "SHA256:dave", "198.51.100.1"); v != sshgw.Refused || err == nil {
		t.Errorf("a banned account's key: %v %v", v, err)
	}
}
