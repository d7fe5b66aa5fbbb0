package store

import "testing"

func TestLooksLike(t *testing.T) {
	for _, tc := range []struct {
		name, reserved string
		want           bool
	}{
		{"adrnin", "admin", true},
		{"rnoderator", "moderator", true},
		{"aclmin", "admin", true},
		{"vvebmaster", "webmaster", true},
		{"Sysop1", "sysop", true},
		{"sysop_42", "sysop", true},
		{"sysopp", "sysop", true},
		{"sysoop", "sysop", true},
		{"SSYYSOP", "sysop", true},
		{"sys0p", "sysop", true},
		{"r00t", "root", true},
		{"hos7", "host", true},
		{"sysop", "sysop", true},
		{"Al", "all", false},
		{"rot", "root", false},
		{"sysops", "sysop", false},
		{"sysadmin", "admin", false},
		{"dave", "sysop", false},
		{"bob1", "bob", true},
		{"", "sysop", false},
		{"1234", "sysop", false},
	} {
		if got := LooksLike(tc.name, tc.reserved); got != tc.want {
			t.Errorf("LooksLike(%q, %q) = %v, want %v", tc.name, tc.reserved, got, tc.want)
		}
	}
}

func TestSkeletonFoldsLetterPairs(t *testing.T) {
	for in, want := range map[string]string{"adrnin": "admln", "rnoderator": "moderator", "aclmin": "admln", "vvho": "who"} {
		if got := NameSkeleton(in); got != want {
			t.Errorf("NameSkeleton(%q) = %q, want %q", in, got, want)
		}
	}
}
