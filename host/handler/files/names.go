package files

import (
	"errors"
	"fmt"
	"strings"
)

// MaxNameBytes is the longest file name.
const MaxNameBytes = 64

// ErrBadName is wrapped by the errors of names that cannot be files'
// names.
var ErrBadName = errors.New("files: invalid file name")

// CheckName returns name if it can be a file's name in an area, or an
// error wrapping ErrBadName: 1 to MaxNameBytes bytes of ASCII letters,
// digits and "._-+()!~", not starting with '.' or '-', and not a name
// Windows reserves (CON, PRN, AUX, NUL, COM0-9, LPT0-9). No separator can pass, so a name
// joined to an area's folder always stays in it.
func CheckName(name string) (string, error) {
	switch {
	case name == "":
		return "", fmt.Errorf("%w: empty", ErrBadName)
	case len(name) > MaxNameBytes:
		return "", fmt.Errorf("%w: longer than %d characters", ErrBadName, MaxNameBytes)
	case name[0] == '.' || name[0] == '-':
		return "", fmt.Errorf("%w: it may not start with '.' or '-'", ErrBadName)
	}
	for i := 0; i < len(name); i++ {
		if !nameByte(name[i]) {
			return "", fmt.Errorf("%w: only letters, digits and . _ - + ( ) ! ~ are allowed", ErrBadName)
		}
	}
	base := strings.ToUpper(name)
	if i := strings.IndexByte(base, '.'); i >= 0 {
		base = base[:i]
	}
	if deviceName(base) {
		return "", fmt.Errorf("%w: %s is a device name", ErrBadName, base)
	}
	return name, nil
}

// deviceName reports whether base (upper case, before its first '.') is
// a name Windows keeps for a device: CON, PRN, AUX, NUL, COM0 to COM9,
// LPT0 to LPT9.
func deviceName(base string) bool {
	switch base {
	case "CON", "PRN", "AUX", "NUL":
		return true
	}
	return len(base) == 4 && (base[:3] == "COM" || base[:3] == "LPT") && '0' <= base[3] && base[3] <= '9'
}

// nameByte reports whether c may appear in a file name.
func nameByte(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("._-+()!~", c) >= 0
}
