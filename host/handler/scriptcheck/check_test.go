package scriptcheck

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/m2bbs/m2bbs/host/handler/screens"
)

// board returns the Config for testdata/NAME, whose main script is
// scripts/bbs.lua.
func board(name string) Config {
	dir := filepath.Join("testdata", name)
	return Config{
		ScriptsDir: filepath.Join(dir, "scripts"),
		ScreensDir: filepath.Join(dir, "screens"),
		MainScript: filepath.Join(dir, "scripts", "bbs.lua"),
	}
}

func problemStrings(r *Report) []string {
	var out []string
	for _, p := range r.Problems {
		out = append(out, p.String())
	}
	return out
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name    string
		scripts int
		want    []string // with testdata/NAME/ left off
	}{
		{name: "good", scripts: 2},
		{name: "returns", scripts: 1},
		{name: "required", scripts: 2},
		{name: "syntax", scripts: 2, want: []string{
			`scripts/broken.lua:4: syntax error after '1' (noticed at 'return' on line 5)`,
		}},
		{name: "eof", scripts: 1, want: []string{
			`scripts/bbs.lua:1: 'function' has no 'end' (noticed at the end of the file, line 3)`,
		}},
		{name: "compile", scripts: 1, want: []string{
			`scripts/bbs.lua:6: no loop to break`,
		}},
		{name: "missing", scripts: 1, want: []string{
			`scripts/bbs.lua:5: screen "by" not found (testdata/missing/screens/by.txt)`,
			`scripts/bbs.lua:7: screen "doors/lobby" not found (testdata/missing/screens/doors/lobby.txt)`,
			`scripts/bbs.lua:8: ui.screen: "bad name!" is not a screen name (use letters, digits, '_', '-', and '/' for subfolders)`,
			`scripts/bbs.lua:9: screen "menu_eror" not found (testdata/missing/screens/menu_eror.txt)`,
		}},
		{name: "noentry", scripts: 1, want: []string{
			"scripts/bbs.lua: no entry function: define a global function m2bbs(conn, req), end the main script with `return` and the entry function, or install it with engine.run(conn, entry)",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			report, err := Check(board(tt.name))
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, w := range tt.want {
				want = append(want, filepath.ToSlash(filepath.Join("testdata", tt.name, w)))
			}
			got := problemStrings(report)
			for i := range got {
				got[i] = filepath.ToSlash(got[i])
			}
			if !slices.Equal(got, want) {
				t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			if report.Scripts != tt.scripts {
				t.Errorf("Scripts = %d, want %d", report.Scripts, tt.scripts)
			}
		})
	}
}

// TestShippedBoard keeps the board in the repository deployable.
func TestShippedBoard(t *testing.T) {
	report, err := Check(Config{
		ScriptsDir: "../../../scripts",
		ScreensDir: "../../../screens",
		MainScript: "../../../scripts/bbs.lua",
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range report.Problems {
		t.Error(p)
	}
	luaFiles, _ := filepath.Glob("../../../scripts/*.lua")
	txtFiles, _ := filepath.Glob("../../../screens/*.txt")
	if len(luaFiles) == 0 || len(txtFiles) == 0 || report.Scripts < len(luaFiles) || report.Screens < len(txtFiles) {
		t.Errorf("checked %d scripts and %d screens, want at least the %d and %d at the top of the folders",
			report.Scripts, report.Screens, len(luaFiles), len(txtFiles))
	}
}

// TestCheckSymlinkedFolders: a deploy may link the folders from elsewhere.
func TestCheckSymlinkedFolders(t *testing.T) {
	real, err := filepath.Abs(filepath.Join("testdata", "missing"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, name := range []string{"scripts", "screens"} {
		if err := os.Symlink(filepath.Join(real, name), filepath.Join(dir, name)); err != nil {
			t.Skip("no symbolic links here:", err)
		}
	}
	report, err := Check(tempConfig(dir))
	if err != nil {
		t.Fatal(err)
	}
	if report.Scripts != 1 || report.Screens != 3 || len(report.Problems) != 4 {
		t.Errorf("checked %d scripts and %d screens with problems %q; want 1, 3 and the 4 of testdata/missing",
			report.Scripts, report.Screens, problemStrings(report))
	}
}

func TestCheckCountsScreens(t *testing.T) {
	report, err := Check(board("good"))
	if err != nil {
		t.Fatal(err)
	}
	if report.Screens != 4 {
		t.Errorf("Screens = %d, want 4", report.Screens)
	}
}

// writeBoard makes a board in a temporary folder from name → content.
func writeBoard(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func tempConfig(dir string) Config {
	return Config{
		ScriptsDir: filepath.Join(dir, "scripts"),
		ScreensDir: filepath.Join(dir, "screens"),
		MainScript: filepath.Join(dir, "scripts", "bbs.lua"),
	}
}

const entryScript = "function m2bbs(conn, req)\n    ui.exit(conn, req, 'big')\nend\nrequire 'ui'\n"

func TestCheckOversizedScreen(t *testing.T) {
	dir := writeBoard(t, map[string]string{
		"scripts/bbs.lua": entryScript,
		"screens/big.txt": strings.Repeat("x", screens.MaxScreenBytes+1),
		"screens/ok.txt":  strings.Repeat("x", screens.MaxScreenBytes),
	})
	report, err := Check(tempConfig(dir))
	if err != nil {
		t.Fatal(err)
	}
	// Reported once, for the file, not again where bbs.lua uses it.
	want := []string{filepath.Join(dir, "screens", "big.txt") + ": screen is 65537 bytes, over the host's limit of 65536"}
	if got := problemStrings(report); !slices.Equal(got, want) {
		t.Errorf("problems = %q, want %q", got, want)
	}
}

func TestCheckUnreadableFiles(t *testing.T) {
	dir := writeBoard(t, map[string]string{
		"scripts/bbs.lua": entryScript,
		"screens/big.txt": "Big\n",
	})
	// Links to nothing cannot be read, even by root.
	for _, name := range []string{"scripts/gone.lua", "screens/gone.txt"} {
		if err := os.Symlink("nowhere", filepath.Join(dir, name)); err != nil {
			t.Skip("no symbolic links here:", err)
		}
	}
	report, err := Check(tempConfig(dir))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		filepath.Join(dir, "screens", "gone.txt") + ": cannot read: no such file or directory",
		filepath.Join(dir, "scripts", "gone.lua") + ": cannot read: no such file or directory",
	}
	if got := problemStrings(report); !slices.Equal(got, want) {
		t.Errorf("problems = %q, want %q", got, want)
	}
}

func TestCheckFilesWithoutPermission(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads files whatever their mode")
	}
	dir := writeBoard(t, map[string]string{
		"scripts/bbs.lua":        entryScript,
		"scripts/secret.lua":     "x = 1\n",
		"scripts/doors/door.lua": "y = 1\n",
		"screens/big.txt":        "Big\n",
	})
	for _, name := range []string{"scripts/secret.lua", "screens/big.txt", "scripts/doors"} {
		if err := os.Chmod(filepath.Join(dir, name), 0); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { os.Chmod(filepath.Join(dir, "scripts", "doors"), 0o755) })
	report, err := Check(tempConfig(dir))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		filepath.Join(dir, "screens", "big.txt") + ": cannot read: permission denied",
		filepath.Join(dir, "scripts", "doors") + ": cannot read: permission denied",
		filepath.Join(dir, "scripts", "secret.lua") + ": cannot read: permission denied",
	}
	if got := problemStrings(report); !slices.Equal(got, want) {
		t.Errorf("problems = %q, want %q", got, want)
	}
}

func TestCheckMainScript(t *testing.T) {
	dir := writeBoard(t, map[string]string{
		"scripts/lib.lua":   "function helper() end\n",
		"screens/big.txt":   "Big\n",
		"elsewhere/bbs.lua": "function m2bbs(conn, req)\n    ui.exit(conn, req, 'gone')\nend\nrequire 'ui'\n",
	})
	cfg := tempConfig(dir)

	t.Run("missing", func(t *testing.T) {
		report, err := Check(cfg)
		if err != nil {
			t.Fatal(err)
		}
		want := []string{cfg.MainScript + ": main script not found (set main_script in the settings file, or -main)"}
		if got := problemStrings(report); !slices.Equal(got, want) {
			t.Errorf("problems = %q, want %q", got, want)
		}
	})
	t.Run("outside the scripts folder", func(t *testing.T) {
		cfg := cfg
		cfg.MainScript = filepath.Join(dir, "elsewhere", "bbs.lua")
		report, err := Check(cfg)
		if err != nil {
			t.Fatal(err)
		}
		want := []string{cfg.MainScript + `:2: screen "gone" not found (` + filepath.Join(cfg.ScreensDir, "gone.txt") + ")"}
		if got := problemStrings(report); !slices.Equal(got, want) {
			t.Errorf("problems = %q, want %q", got, want)
		}
		if report.Scripts != 2 {
			t.Errorf("Scripts = %d, want 2", report.Scripts)
		}
	})
	t.Run("other entry name", func(t *testing.T) {
		cfg := cfg
		cfg.MainScript = filepath.Join(dir, "elsewhere", "bbs.lua")
		cfg.Entry = "main"
		report, err := Check(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if got := problemStrings(report); len(got) != 2 || !strings.Contains(got[0], "no entry function: define a global function main(conn, req)") {
			t.Errorf("problems = %q, want a missing entry function main", got)
		}
	})
}

func TestCheckMissingFolders(t *testing.T) {
	dir := writeBoard(t, map[string]string{"scripts/bbs.lua": entryScript, "screens/big.txt": "Big\n"})
	cfg := Config{ScriptsDir: filepath.Join(dir, "nope"), ScreensDir: filepath.Join(dir, "screens")}
	if _, err := Check(cfg); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Check(%+v) error = %v, want one wrapping fs.ErrNotExist", cfg, err)
	}
	// No screens folder is no error: the 2010 board keeps its texts in
	// ui.lua.
	cfg = Config{ScriptsDir: filepath.Join(dir, "scripts"), ScreensDir: filepath.Join(dir, "nope")}
	if report, err := Check(cfg); err != nil || report.Screens != 0 {
		t.Errorf("Check without a screens folder: %v", err)
	}
	cfg = Config{ScriptsDir: filepath.Join(dir, "scripts", "bbs.lua"), ScreensDir: filepath.Join(dir, "screens")}
	if _, err := Check(cfg); err == nil || !strings.Contains(err.Error(), "is not a folder") {
		t.Errorf("Check with a file for the scripts folder: error = %v, want \"is not a folder\"", err)
	}
}

func TestProblemString(t *testing.T) {
	tests := []struct {
		p    Problem
		want string
	}{
		{Problem{File: "scripts/bbs.lua", Line: 12, Msg: "oops"}, "scripts/bbs.lua:12: oops"},
		{Problem{File: "screens/big.txt", Msg: "too big"}, "screens/big.txt: too big"},
	}
	for _, tt := range tests {
		if got := tt.p.String(); got != tt.want {
			t.Errorf("%+v.String() = %q, want %q", tt.p, got, tt.want)
		}
	}
}

// BenchmarkCheckShippedBoard is the cost of one "m2bbs check" of the
// board in the repository, host globals and lint included.
func BenchmarkCheckShippedBoard(b *testing.B) {
	cfg := Config{
		ScriptsDir: "../../../scripts",
		ScreensDir: "../../../screens",
		MainScript: "../../../scripts/bbs.lua",
	}
	for b.Loop() {
		if _, err := Check(cfg); err != nil {
			b.Fatal(err)
		}
	}
}

// TestCheckArtScreens: ANSI art (NAME.ans) counts as a screen a script may
// name, and art the host would refuse is reported.
func TestCheckArtScreens(t *testing.T) {
	damaged := "art\x1aSAUCE99" + strings.Repeat(" ", 121)
	dir := writeBoard(t, map[string]string{
		"scripts/bbs.lua":     "function m2bbs(conn, req)\n    ui.screen(conn, req, 'logo')\n    ui.art(conn, req, 'logo')\n    ui.art(conn, req, 'header')\n    ui.exit(conn, req, 'bye')\nend\nrequire 'ui'\n",
		"screens/logo.ans":    "\x1b[1;34m\xdb\xdb\xdb\r\n",
		"screens/bye.txt":     "Bye.",
		"screens/big.ans":     strings.Repeat("\xb0", screens.MaxArtBytes+1),
		"screens/damaged.ans": damaged,
	})
	report, err := Check(tempConfig(dir))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		filepath.Join(dir, "screens", "big.ans") + ": art is 262145 bytes, over the host's limit of 262144",
		filepath.Join(dir, "screens", "damaged.ans") + `: bad SAUCE record: version "99", want "00"`,
		filepath.Join(dir, "scripts", "bbs.lua") + `:4: screen "header" not found (` + filepath.Join(dir, "screens", "header.txt") + ")",
	}
	if got := problemStrings(report); !slices.Equal(got, want) {
		t.Errorf("problems = %q, want %q", got, want)
	}
	if report.Screens != 4 {
		t.Errorf("Screens = %d, want 4", report.Screens)
	}
}
