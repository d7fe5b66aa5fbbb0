package store

import (
	"errors"
	"strings"
	"testing"
	"unicode"
)

func TestNameFolding(t *testing.T) {
	for _, tc := range []struct{ in, clean, key, skeleton string }{
		{"Dave", "Dave", "dave", "dave"},
		{" dave\u2009", "dave", "dave", "dave"},
		{"\u200bda\u200dve\u00a0", "dave", "dave", "dave"},
		{"ＤＡＶＥ", "DAVE", "dave", "dave"},
		{"sys0p", "sys0p", "sys0p", "sysop"},
		{"SysOp.", "SysOp.", "sysop.", "sysop"},
		{"\u0455ysop", "\u0455ysop", "\u0455ysop", "sysop"},
		{"s_y-s.o|p", "s_y-s.o|p", "s_y-s.o|p", "sysolp"},
		{"Adm1n", "Adm1n", "adm1n", "admln"},
		{"admin", "admin", "admin", "admln"},
		{"rôot", "rôot", "rôot", "root"},
	} {
		if got := CleanName(tc.in); got != tc.clean {
			t.Errorf("CleanName(%q) = %q, want %q", tc.in, got, tc.clean)
		}
		if got := NameKey(tc.in); got != tc.key {
			t.Errorf("NameKey(%q) = %q, want %q", tc.in, got, tc.key)
		}
		if got := NameSkeleton(tc.in); got != tc.skeleton {
			t.Errorf("NameSkeleton(%q) = %q, want %q", tc.in, got, tc.skeleton)
		}
	}
}

// TestAccountsUseCleanNames: the store looks names up by CleanName, so a
// name typed with a thin space or in fullwidth letters is the same
// account; a name needs a letter.
func TestAccountsUseCleanNames(t *testing.T) {
	s, _ := newStore(t)
	ctx := t.Context()
	if err := s.RegisterUser(ctx, "ｄａｖｅ\u2009", "password"); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"dave", "DAVE\u200b", " Dave\u2009"} {
		if ok, err := s.AuthUser(ctx, name, "password"); !ok || err != nil {
			t.Errorf("AuthUser(%q) = %v, %v", name, ok, err)
		}
	}
	if err := s.RegisterUser(ctx, "1234", "password"); !errors.Is(err, ErrBadName) {
		t.Errorf("a name without a letter: %v", err)
	}
}

// FuzzNameFolding: whatever is typed, a name the store accepts has one
// key, its lower-cased clean form, and a skeleton of letters only.
func FuzzNameFolding(f *testing.F) {
	for _, s := range []string{"dave", " Dave\u2009", "ｄａｖｅ", "\u0455ysop", "s\u200by\u200ds0p.", "\xff\xfe", "é\u200d\u0301"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		clean := CleanName(name)
		if CleanName(clean) != clean {
			t.Errorf("CleanName(%q) = %q, not stable", name, clean)
		}
		if _, err := canonicalName(name); err == nil && NameKey(name) != strings.ToLower(clean) {
			t.Errorf("NameKey(%q) = %q, want %q", name, NameKey(name), strings.ToLower(clean))
		}
		for _, r := range NameSkeleton(name) {
			if !unicode.IsLetter(r) {
				t.Fatalf("NameSkeleton(%q) has %q", name, r)
			}
		}
	})
}
