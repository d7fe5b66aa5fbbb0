package store

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// User names are compared in three strengths, all built on one folding so
// that accounts, login throttles and reserved names cannot disagree on
// who a name means:
//
//   - CleanName is the name as it is stored and looked up: compatibility
//     forms folded (NFKC: fullwidth "ｄａｖｅ" is "dave"), invisible format
//     characters (zero-width space, joiners, direction marks) removed and
//     Unicode spaces trimmed. Case is kept.
//   - NameKey is CleanName lower-cased: one account, one key. Login
//     throttles count by it, so "Dave", "dave\u2009" and "ｄａｖｅ" share
//     one count.
//   - NameSkeleton is NameKey with look-alikes folded (Cyrillic and Greek
//     letters that look Latin, digits and signs that pass for letters) and
//     punctuation dropped: "sys0p", "SysOp.", "ѕysop" and "s-y-s-o-p" all
//     have the skeleton "sysop"; letter pairs that pass for one letter
//     are folded too ("adrnin" is "admin"). Reserved names are matched
//     by it (LooksLike), letters repeated and trailing digits allowed.

// CleanName folds compatibility forms, removes invisible characters and
// trims spaces; case is kept.
func CleanName(name string) string {
	name = strings.Map(func(r rune) rune {
		if unicode.Is(unicode.Cf, r) || r == unicode.ReplacementChar {
			return -1
		}
		return r
	}, name)
	return strings.TrimFunc(norm.NFKC.String(name), unicode.IsSpace)
}

// NameKey is the identity of a name: CleanName, lower-cased.
func NameKey(name string) string {
	return strings.ToLower(CleanName(name))
}

// lookAlikes maps characters that pass for Latin letters to the letter.
var lookAlikes = map[rune]rune{
	// Digits and signs.
	'0': 'o', '1': 'l', '3': 'e', '4': 'a', '5': 's', '7': 't', '8': 'b', '9': 'g',
	'$': 's', '@': 'a', '!': 'i', '|': 'l', '+': 't',
	// Cyrillic.
	'а': 'a', 'в': 'b', 'с': 'c', 'е': 'e', 'ё': 'e', 'һ': 'h', 'і': 'i', 'ї': 'i', 'ј': 'j',
	'к': 'k', 'м': 'm', 'н': 'h', 'о': 'o', 'р': 'p', 'ԛ': 'q', 'ѕ': 's', 'т': 't', 'у': 'y',
	'х': 'x', 'ԝ': 'w', 'ь': 'b', 'п': 'n', 'г': 'r', 'ӏ': 'l',
	// Greek.
	'α': 'a', 'β': 'b', 'ε': 'e', 'η': 'n', 'ι': 'i', 'κ': 'k', 'ν': 'v', 'ο': 'o', 'ρ': 'p',
	'τ': 't', 'υ': 'u', 'χ': 'x', 'ω': 'w', 'μ': 'u', 'ϲ': 'c',
}

// NameSkeleton is NameKey with look-alikes folded to the Latin letter
// they pass for, "i" and "l" made one (they look alike in many fonts),
// accents and everything but letters dropped.
func NameSkeleton(name string) string {
	key := norm.NFD.String(NameKey(name)) // accents become marks, dropped below
	var b strings.Builder
	for _, r := range key {
		if l, ok := lookAlikes[r]; ok {
			r = l
		}
		if r == 'i' {
			r = 'l'
		}
		if unicode.IsLetter(r) {
			b.WriteRune(r)
		}
	}
	return pairLookAlikes.Replace(b.String())
}

// pairLookAlikes folds letter pairs that pass for one letter in many
// fonts: "adrnin" for "admin", "vvebmaster", "aclmin".
var pairLookAlikes = strings.NewReplacer("rn", "m", "vv", "w", "cl", "d")

// LooksLike reports whether name passes for the reserved name reserved:
// their skeletons match (NameSkeleton), allowing name letters repeated
// more often ("sysoop", "sysopp") and trailing digits or signs
// ("Sysop1", "admin_42"). A letter the reserved name repeats must be
// repeated as often, so "Al" does not pass for "all".
func LooksLike(name, reserved string) bool {
	want := letterRuns(NameSkeleton(reserved))
	if len(want) == 0 {
		return false
	}
	key := NameKey(name)
	trimmed := strings.TrimRightFunc(key, func(r rune) bool { return !unicode.IsLetter(r) })
	for _, candidate := range []string{key, trimmed} {
		if runsCover(letterRuns(NameSkeleton(candidate)), want) {
			return true
		}
	}
	return false
}

// letterRun is one letter and how many times it comes in a row.
type letterRun struct {
	letter rune
	n      int
}

// letterRuns splits s into runs of one letter.
func letterRuns(s string) []letterRun {
	var runs []letterRun
	for _, r := range s {
		if len(runs) > 0 && runs[len(runs)-1].letter == r {
			runs[len(runs)-1].n++
			continue
		}
		runs = append(runs, letterRun{r, 1})
	}
	return runs
}

// runsCover reports whether got has the letters of want in the same
// order, each run at least as long.
func runsCover(got, want []letterRun) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i].letter != want[i].letter || got[i].n < want[i].n {
			return false
		}
	}
	return true
}

// hasLetter reports whether name has a letter in it.
func hasLetter(name string) bool {
	return strings.IndexFunc(name, unicode.IsLetter) >= 0
}
