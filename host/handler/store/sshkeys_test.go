package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func sshKey(n int) SSHKey {
	return SSHKey{Type: "ssh-ed25519", Fingerprint: fmt.Sprintf("SHA256:key%02d", n), Line: fmt.Sprintf("ssh-ed25519 AAAA%02d me", n),
		AddedAt: time.UnixMilli(int64(1_700_000_000_000 + n))}
}

// TestSSHKeys: a user adds keys up to the limit, finds one by name (any
// spelling) and fingerprint, lists them oldest first, removes one; keys
// go with the account.
func TestSSHKeys(t *testing.T) {
	ctx := context.Background()
	s := openAccounts(t)
	if err := s.RegisterUser(ctx, "Dave", "pw"); err != nil {
		t.Fatal(err)
	}
	if err := s.AddSSHKey(ctx, "nobody", sshKey(0)); !errors.Is(err, ErrNoSuchUser) {
		t.Errorf("key of an unknown user: %v", err)
	}
	for i := range MaxSSHKeys {
		if err := s.AddSSHKey(ctx, "dave", sshKey(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AddSSHKey(ctx, "dave", sshKey(3)); !errors.Is(err, ErrSSHKeyExists) {
		t.Errorf("the same key twice: %v", err)
	}
	if err := s.AddSSHKey(ctx, "dave", sshKey(MaxSSHKeys)); !errors.Is(err, ErrTooManySSHKeys) {
		t.Errorf("one key too many: %v", err)
	}
	long := sshKey(99)
	long.Line = strings.Repeat("a", MaxSSHKeyLine+1)
	if err := s.AddSSHKey(ctx, "dave", long); !errors.Is(err, ErrBadSSHKey) {
		t.Errorf("too long a line: %v", err)
	}
	name, k, err := s.FindSSHKey(ctx, "DAVE", "SHA256:key02")
	if err != nil || name != "Dave" || k.Line != sshKey(2).Line || !k.AddedAt.Equal(sshKey(2).AddedAt) {
		t.Errorf("find = %q %+v %v", name, k, err)
	}
	if _, _, err := s.FindSSHKey(ctx, "dave", "SHA256:other"); !errors.Is(err, ErrNotFound) {
		t.Errorf("find an unknown key: %v", err)
	}
	if err := s.RemoveSSHKey(ctx, "dave", "SHA256:key00"); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveSSHKey(ctx, "dave", "SHA256:key00"); !errors.Is(err, ErrNotFound) {
		t.Errorf("remove twice: %v", err)
	}
	keys, err := s.ListSSHKeys(ctx, "dave")
	if err != nil || len(keys) != MaxSSHKeys-1 || keys[0].Fingerprint != "SHA256:key01" {
		t.Fatalf("list = %+v %v", keys, err)
	}
	if keys, err := s.ListSSHKeys(ctx, "nobody"); err != nil || len(keys) != 0 {
		t.Errorf("keys of nobody = %v %v", keys, err)
	}
}
