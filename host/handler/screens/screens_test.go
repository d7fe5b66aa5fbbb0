package screens

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestScreen(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		t.Helper()
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("menu.txt", "1. Read\nQ. Quit\n")
	write("crlf.txt", "line\r\n")
	write("blank_end.txt", "keep one\n\n")
	write("doors/chess.txt", "Chess!")
	write("huge.txt", strings.Repeat("x", MaxScreenBytes+1))

	d := NewDir(dir)
	for name, want := range map[string]string{
		"menu":        "1. Read\nQ. Quit",
		"crlf":        "line",
		"blank_end":   "keep one\n",
		"doors/chess": "Chess!",
	} {
		got, err := d.Screen(name)
		if err != nil || got != want {
			t.Errorf("Screen(%q) = %q, %v; want %q", name, got, err, want)
		}
	}
	for _, name := range []string{"", "../secret", "/etc/passwd", "a//b", "menu.txt", "doors/", "sp ace"} {
		if _, err := d.Screen(name); !errors.Is(err, ErrBadName) {
			t.Errorf("Screen(%q): err = %v, want ErrBadName", name, err)
		}
	}
	if _, err := d.Screen("missing"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing screen: err = %v, want ErrNotFound", err)
	}
	if _, err := d.Screen("huge"); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("huge screen: err = %v", err)
	}
}

// TestShippedScreens checks that every screen the BBS script names exists.
func TestShippedScreens(t *testing.T) {
	script, err := os.ReadFile("../../../scripts/bbs.lua")
	if err != nil {
		t.Fatal(err)
	}
	d := NewDir("../../../screens")
	names := map[string]bool{"error": true} // shown by the host on script errors
	for _, call := range []string{"ui.screen(conn, req, '", "ui.prompt(conn, req, '", "ui.exit(conn, req, '"} {
		rest := string(script)
		for {
			i := strings.Index(rest, call)
			if i < 0 {
				break
			}
			rest = rest[i+len(call):]
			names[rest[:strings.IndexByte(rest, '\'')]] = true
		}
	}
	if len(names) < 10 {
		t.Fatalf("found only %d screen names in bbs.lua: %v", len(names), names)
	}
	for name := range names {
		if _, err := d.Screen(name); err != nil {
			t.Errorf("bbs.lua uses screen %q: %v", name, err)
		}
	}
}

func TestSnapshot(t *testing.T) {
	dir := t.TempDir()
	for name, text := range map[string]string{"menu.txt": "Menu\n", "doors/chess.txt": "Chess", "notes.md": "not a screen"} {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	snap, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "menu.txt"), []byte("Edited"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := snap.Screen("menu"); err != nil || got != "Menu" {
		t.Errorf("menu = %q, %v; a snapshot must not see later edits", got, err)
	}
	if got, _ := snap.Screen("doors/chess"); got != "Chess" || snap.Len() != 2 {
		t.Errorf("doors/chess = %q, Len = %d", got, snap.Len())
	}
	if _, err := snap.Screen("notes"); !errors.Is(err, ErrNotFound) {
		t.Errorf("notes: err = %v", err)
	}
	// No folder, no screens: scripts may keep their texts themselves.
	empty, err := Load(filepath.Join(dir, "missing"))
	if err != nil || empty.Len() != 0 {
		t.Fatalf("loading a missing folder: %v", err)
	}
	if _, err := empty.Screen("menu"); !errors.Is(err, ErrNotFound) {
		t.Errorf("menu with no screens folder: err = %v", err)
	}
}
