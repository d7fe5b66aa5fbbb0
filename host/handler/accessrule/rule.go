// Package accessrule is the small language of access rules a sysop
// writes on menu items and message areas, compiled once and evaluated in
// Go for each caller:
//
//	level >= 20 and group('cosysop')
//	not flag('X') and (calls > 10 or age >= 30)
//	sysop
//
// # Grammar
//
//	rule       = or
//	or         = and { "or" and }
//	and        = unary { "and" unary }
//	unary      = "not" unary | primary
//	primary    = "(" or ")" | comparison | test | "true" | "false" | levelname
//	comparison = variable op value
//	variable   = "level" | "age" | "calls"
//	op         = "==" | "=" | "~=" | "!=" | "<" | "<=" | ">" | ">="
//	value      = number | levelname
//	levelname  = "new" | "user" | "sysop"          (10, 20 and 255)
//	test       = ("group" | "flag") "(" (string | name) ")"
//
// level is the caller's security level (0 to 255), age the whole days
// since they registered, calls how many times they logged in. group(name)
// holds when the caller is a member of the group (names compared without
// regard to case); flag(X) when they carry flag X (one letter, A to Z).
// Strings are in single or double quotes. A rule that is only a level
// name means "level >= that level", so the three named levels of the
// board's first rules ('new', 'user', 'sysop') are rules too. Keywords
// are lower case.
//
// # Limits
//
// A rule is at most [MaxLength] bytes and nests "(" and "not" at most
// [MaxDepth] deep; numbers are whole, at most [MaxNumber]. A rule that
// breaks the grammar or a limit is refused by [Compile] with a
// [*SyntaxError] giving the column of the mistake.
package accessrule

import (
	"strings"
)

// Limits of a rule.
const (
	// MaxLength bounds a rule's source, in bytes.
	MaxLength = 512
	// MaxDepth bounds how deep parentheses and "not" nest.
	MaxDepth = 16
	// MaxNumber bounds a number in a rule.
	MaxNumber = 1 << 20
	// MaxGroupName bounds a group name, in bytes.
	MaxGroupName = 32
)

// The named security levels, as numbers.
const (
	LevelNew   = 10
	LevelUser  = 20
	LevelSysop = 255
)

// Subject is what a rule may ask about one caller.
type Subject struct {
	// Level is the caller's security level, 0 to 255.
	Level int
	// AgeDays is how many whole days ago they registered; Calls how many
	// times they logged in.
	AgeDays, Calls int
	// Groups are the groups the caller belongs to, lower case.
	Groups []string
	// Flags are the caller's flags, upper-case letters.
	Flags string
}

// inGroup reports whether the subject belongs to group (lower case).
func (s *Subject) inGroup(group string) bool {
	for _, g := range s.Groups {
		if g == group {
			return true
		}
	}
	return false
}

// Rule is a compiled access rule; it is immutable and safe for
// concurrent use.
type Rule struct {
	src  string
	root node
}

// String returns the rule's source.
func (r *Rule) String() string { return r.src }

// Allows reports whether the rule lets s in.
func (r *Rule) Allows(s *Subject) bool { return r.root.eval(s) }

// node is one part of a compiled rule.
type node interface {
	eval(s *Subject) bool
}

type (
	orNode   struct{ a, b node }
	andNode  struct{ a, b node }
	notNode  struct{ a node }
	constant bool
	// compare compares a variable of the subject with a number.
	compare struct {
		variable func(*Subject) int
		op       string
		value    int
	}
	groupTest struct{ name string }
	flagTest  struct{ flag byte }
)

func (n orNode) eval(s *Subject) bool  { return n.a.eval(s) || n.b.eval(s) }
func (n andNode) eval(s *Subject) bool { return n.a.eval(s) && n.b.eval(s) }
func (n notNode) eval(s *Subject) bool { return !n.a.eval(s) }
func (n constant) eval(*Subject) bool  { return bool(n) }

func (n groupTest) eval(s *Subject) bool { return s.inGroup(n.name) }

func (n flagTest) eval(s *Subject) bool { return strings.IndexByte(s.Flags, n.flag) >= 0 }

func (n compare) eval(s *Subject) bool {
	v := n.variable(s)
	switch n.op {
	case "==":
		return v == n.value
	case "~=":
		return v != n.value
	case "<":
		return v < n.value
	case "<=":
		return v <= n.value
	case ">":
		return v > n.value
	}
	return v >= n.value // ">="
}

// variables are the subject's numbers a rule may compare.
var variables = map[string]func(*Subject) int{
	"level": func(s *Subject) int { return s.Level },
	"age":   func(s *Subject) int { return s.AgeDays },
	"calls": func(s *Subject) int { return s.Calls },
}

// levelNames are the named levels a rule may use as numbers.
var levelNames = map[string]int{"new": LevelNew, "user": LevelUser, "sysop": LevelSysop}

// NamedLevel returns the number of a named level ("new", "user",
// "sysop"), and whether name is one.
func NamedLevel(name string) (int, bool) {
	n, ok := levelNames[name]
	return n, ok
}
