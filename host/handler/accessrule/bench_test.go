package accessrule

import "testing"

// BenchmarkMenuRender evaluates the rules of a 13-item menu, as the
// board does each time it draws one: a few level rules, one with groups.
func BenchmarkMenuRender(b *testing.B) {
	var c Cache
	rules := []string{"user", "user", "user", "user", "new", "user", "new", "user", "user", "user", "user",
		"level >= 20 and group('cosysop') or level >= sysop", "new"}
	s := &Subject{Level: 100, AgeDays: 30, Calls: 12, Groups: []string{"fido", "cosysop"}, Flags: "A"}
	b.ReportAllocs()
	for b.Loop() {
		for _, src := range rules {
			r, err := c.Compile(src)
			if err != nil {
				b.Fatal(err)
			}
			r.Allows(s)
		}
	}
}

// BenchmarkRule evaluates one compiled rule with a group test.
func BenchmarkRule(b *testing.B) {
	r, err := Compile("level >= 20 and group('cosysop') or flag(X)")
	if err != nil {
		b.Fatal(err)
	}
	s := &Subject{Level: 100, Groups: []string{"fido", "cosysop"}}
	b.ReportAllocs()
	for b.Loop() {
		r.Allows(s)
	}
}
