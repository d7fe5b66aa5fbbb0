package accessrule

import (
	"errors"
	"strings"
	"testing"
)

// TestRules evaluates rules against callers as a sysop would write them.
func TestRules(t *testing.T) {
	newbie := &Subject{Level: 10, AgeDays: 0, Calls: 1}
	regular := &Subject{Level: 20, AgeDays: 40, Calls: 25, Flags: "AX"}
	cosysop := &Subject{Level: 100, AgeDays: 400, Calls: 300, Groups: []string{"cosysop", "fido"}}
	sysop := &Subject{Level: 255, Groups: []string{"cosysop"}}
	for _, tc := range []struct {
		rule string
		want [4]bool // newbie, regular, cosysop, sysop
	}{
		{"new", [4]bool{true, true, true, true}},
		{"user", [4]bool{false, true, true, true}},
		{"sysop", [4]bool{false, false, false, true}},
		{"level >= 20 and group('cosysop')", [4]bool{false, false, true, true}},
		{"level >= user and group(\"CoSysop\")", [4]bool{false, false, true, true}},
		{"group(cosysop) or flag(x)", [4]bool{false, true, true, true}},
		{"not flag('X')", [4]bool{true, false, true, true}},
		{"calls > 10 and age >= 30", [4]bool{false, true, true, false}},
		{"level == 10 or level = 255", [4]bool{true, false, false, true}},
		{"level ~= 20 and level != 100", [4]bool{true, false, false, true}},
		{"level < 20 or level <= 20", [4]bool{true, true, false, false}},
		{"not (level > 10 and level < 255)", [4]bool{true, false, false, true}},
		{"true", [4]bool{true, true, true, true}},
		{"false or not not false", [4]bool{false, false, false, false}},
		{"  level>=sysop  ", [4]bool{false, false, false, true}},
	} {
		r, err := Compile(tc.rule)
		if err != nil {
			t.Errorf("Compile(%q): %v", tc.rule, err)
			continue
		}
		for i, s := range []*Subject{newbie, regular, cosysop, sysop} {
			if got := r.Allows(s); got != tc.want[i] {
				t.Errorf("%q for subject %d = %v, want %v", tc.rule, i, got, tc.want[i])
			}
		}
	}
}

// TestSyntaxErrors: a broken rule is refused with the column of the
// mistake, as the sysop sees it.
func TestSyntaxErrors(t *testing.T) {
	for _, tc := range []struct {
		rule   string
		column int
		says   string
	}{
		{"", 1, "empty rule"},
		{"level >= ", 10, "expected a number"},
		{"level >= 20 and", 16, "expected a comparison"},
		{"level >= 20 and group('cosysop'", 32, "expected ')'"},
		{"(level > 1", 11, "expected ')'"},
		{"level => 20", 8, "expected a number"},
		{"level ! 20", 7, `"!" is not a comparison`},
		{"lvl >= 20", 1, `unknown name "lvl"`},
		{"group('co sysop')", 7, "group name"},
		{"flag('XY')", 6, "one letter"},
		{"level >= 20 20", 13, "expected 'and', 'or'"},
		{"group('x", 7, "unclosed string"},
		{"level >= 99999999999", 10, "a number is at most"},
		{"sysop and user", 1, "a level name alone"},
		{"level # 3", 7, "unexpected character"},
		{strings.Repeat("(", MaxDepth+1) + "true" + strings.Repeat(")", MaxDepth+1), MaxDepth + 1, "nested more than"},
		{strings.Repeat("not ", MaxDepth+1) + "true", 4*MaxDepth + 1, "nested more than"},
		{"level >= 1 or " + strings.Repeat("x", MaxLength), MaxLength + 1, "at most"},
	} {
		_, err := Compile(tc.rule)
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("Compile(%q) = %v, want a SyntaxError", tc.rule, err)
			continue
		}
		if se.Column != tc.column || !strings.Contains(se.Msg, tc.says) {
			t.Errorf("Compile(%q): column %d %q, want column %d saying %q", tc.rule, se.Column, se.Msg, tc.column, tc.says)
		}
	}
}

// TestDepthLimitAllowsItsOwn: a rule nested exactly MaxDepth deep
// compiles.
func TestDepthLimitAllowsItsOwn(t *testing.T) {
	src := strings.Repeat("(", MaxDepth) + "level >= 1" + strings.Repeat(")", MaxDepth)
	r, err := Compile(src)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Allows(&Subject{Level: 1}) {
		t.Error("level 1 refused")
	}
}

// TestCacheCompilesOnce: the cache hands back the same compiled rule,
// and the same error, for the same source.
func TestCacheCompilesOnce(t *testing.T) {
	var c Cache
	a, err := c.Compile("level >= 20")
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := c.Compile("level >= 20"); a != b {
		t.Error("the cache compiled the rule twice")
	}
	_, e1 := c.Compile("level >=")
	_, e2 := c.Compile("level >=")
	if e1 == nil || e1 != e2 {
		t.Errorf("errors %v and %v, want the same cached error", e1, e2)
	}
}

// FuzzCompile feeds any text to the parser: it compiles or refuses with
// a SyntaxError whose column lies within the rule (or just past it), and
// a compiled rule evaluates without panicking.
func FuzzCompile(f *testing.F) {
	for _, s := range []string{"level >= 20 and group('cosysop')", "not (flag(X) or calls < 3)", "sysop", "((", "group('", "age ~= 1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		r, err := Compile(src)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Compile(%q): %T %v, want a SyntaxError", src, err, err)
			}
			if se.Column < 1 || se.Column > min(len(src), MaxLength)+1 {
				t.Fatalf("Compile(%q): column %d outside the rule", src, se.Column)
			}
			return
		}
		if len(src) > MaxLength {
			t.Fatalf("Compile accepted a rule of %d bytes", len(src))
		}
		r.Allows(&Subject{Level: 20, Groups: []string{"a"}, Flags: "A"})
	})
}
