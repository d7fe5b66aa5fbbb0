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
//     have the skeleton "sysop". Reserved names are matched by it.

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
	return b.String()
}

// hasLetter reports whether name has a letter in it.
func hasLetter(name string) bool {
	return strings.IndexFunc(name, unicode.IsLetter) >= 0
}
