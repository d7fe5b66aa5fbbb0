package termprofile

import "strings"

// Terminal types Detect knows, lower case. BBS terminals (SyncTERM,
// NetRunner, the ANSI of MS-DOS terminals) show CP437; modern emulators
// and multiplexers show UTF-8; "dumb" shows neither colour nor more than
// ASCII.
var (
	cp437Types = map[string]bool{
		"ansi": true, "ansi-bbs": true, "ansi.sys": true, "ansi-mono": true, "pcansi": true,
		"scoansi": true, "syncterm": true, "cterm": true, "netrunner": true, "qmodem": true,
		"ansi-color": true, "ansi-256color": true, "cp437": true,
	}
	utf8Prefixes = []string{
		"xterm", "screen", "tmux", "rxvt", "putty", "alacritty", "kitty", "foot",
		"wezterm", "vte", "gnome", "konsole", "iterm", "mintty", "contour", "st-",
	}
	utf8Types = map[string]bool{"linux": true, "st": true, "utf-8": true, "utf8": true}
)

// Detect returns the encoding a terminal of type name shows and whether it
// shows ANSI codes; ok is false for a name it does not know (the vt100
// family among them: a real VT100 shows ASCII, the emulators that call
// themselves vt100 mostly UTF-8, so the caller is better asked).
func Detect(name string) (enc Encoding, ansi, ok bool) {
	n := strings.ToLower(name)
	switch {
	case n == "dumb":
		return ASCII, false, true
	case cp437Types[n]:
		return CP437, true, true
	case utf8Types[n]:
		return UTF8, true, true
	}
	for _, p := range utf8Prefixes {
		if strings.HasPrefix(n, p) {
			return UTF8, true, true
		}
	}
	return "", true, false
}
