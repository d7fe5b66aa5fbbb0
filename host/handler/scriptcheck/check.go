package scriptcheck

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/m2bbs/m2bbs/host/handler/screens"
)

// DefaultEntry is the global entry function the host calls when the main
// script returns none.
const DefaultEntry = "m2bbs"

// DefaultResumeEntry is the global function the host restarts a caller at
// when it rebuilds their session (see host/handler/session).
const DefaultResumeEntry = "m2bbs_resume"

// Config says what to check.
type Config struct {
	// ScriptsDir is searched recursively: every *.lua file in it and its
	// subfolders is checked. require finds modules here.
	ScriptsDir string
	// ScreensDir holds the screens, NAME.txt each, in subfolders for names
	// with a '/'.
	ScreensDir string
	// MainScript is the path the host runs first, as the host opens it
	// (already joined with ScriptsDir when relative to it). Empty skips the
	// entry-function check.
	MainScript string
	// Entry is the name of the global entry function; DefaultEntry when
	// empty.
	Entry string
	// ResumeEntry is the global function the host resumes callers at;
	// DefaultResumeEntry when empty. Like Entry, it runs inside a
	// caller's session.
	ResumeEntry string
}

// Problem is one thing wrong with a script or a screen.
type Problem struct {
	// File is the script or screen, as found under the configured folders.
	File string
	// Line is 1-based; 0 when the problem is the whole file's.
	Line int
	// Msg says what is wrong.
	Msg string
	// Warning is set for what may be wrong but runs: the script loads
	// and works with one worker (see checkSharedWrites). A warning does
	// not fail "m2bbs check".
	Warning bool
}

// String formats the problem as "FILE:LINE: message", or "FILE: message"
// for a whole-file problem; a warning's message starts "warning: ".
func (p Problem) String() string {
	msg := p.Msg
	if p.Warning {
		msg = "warning: " + msg
	}
	if p.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", p.File, p.Line, msg)
	}
	return p.File + ": " + msg
}

// Report is the outcome of Check.
type Report struct {
	// Scripts is the number of Lua files read and compiled.
	Scripts int
	// Screens is the number of screen files found.
	Screens int
	// Problems are sorted by file, then line; none means all is well.
	// Warnings are among them, marked.
	Problems []Problem
}

// Errors is the number of problems that are not warnings.
func (r *Report) Errors() int {
	n := 0
	for _, p := range r.Problems {
		if !p.Warning {
			n++
		}
	}
	return n
}

// Warnings is the number of warnings among the problems.
func (r *Report) Warnings() int { return len(r.Problems) - r.Errors() }

// Check compiles every script in cfg.ScriptsDir, checks the modules they
// require, the screens they name literally and the screen files
// themselves, checks that cfg.MainScript provides an entry function, and
// from the main script lints the globals the scripts read and warns of
// top-level tables written while a caller runs. Problems in the scripts
// and screens are in the Report; the error is only for a check that could
// not run, such as a missing scripts folder (no screens folder is no error).
func Check(cfg Config) (*Report, error) {
	if cfg.Entry == "" {
		cfg.Entry = DefaultEntry
	}
	if cfg.ResumeEntry == "" {
		cfg.ResumeEntry = DefaultResumeEntry
	}
	h, err := newHost()
	if err != nil {
		return nil, err
	}
	c := &checker{
		cfg:      cfg,
		screens:  screens.NewDir(cfg.ScreensDir),
		scripts:  make(map[string]*script),
		reported: make(map[string]bool),
		host:     h,
		genv:     newEnv(),
	}
	if err := c.checkScreenFiles(); err != nil {
		return nil, err
	}
	if err := c.checkScripts(); err != nil {
		return nil, err
	}
	var main *script
	if cfg.MainScript != "" {
		main = c.checkMain()
	}
	c.checkRequires()
	c.checkScreenUses()
	c.checkEvents()
	c.checkAccessRules()
	if main != nil && main.facts != nil {
		c.checkGlobals(main)
		c.checkSharedWrites(main)
	}
	slices.SortStableFunc(c.report.Problems, func(a, b Problem) int {
		return cmp.Or(strings.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line))
	})
	return &c.report, nil
}

// checker holds one Check's progress.
type checker struct {
	cfg     Config
	screens *screens.Dir
	// scripts are the scripts read so far, by key.
	scripts map[string]*script
	// reported holds the keys of screen files with a problem already.
	reported map[string]bool
	report   Report
	// host is what the host gives scripts; genv the globals of _G that
	// scripts assign, shared by all of them.
	host *host
	genv *env
}

// add puts problems in the report.
func (c *checker) add(p ...Problem) {
	c.report.Problems = append(c.report.Problems, p...)
}

// key identifies a file whatever path it was reached by.
func key(path string) string {
	if abs, err := filepath.Abs(path); err == nil {
		return abs
	}
	return filepath.Clean(path)
}

// checkScreenFiles reports screen files (NAME.txt, NAME.ans) that are
// unreadable or too large for the host to show, and art it would refuse.
func (c *checker) checkScreenFiles() error {
	if _, err := os.Stat(c.cfg.ScreensDir); errors.Is(err, fs.ErrNotExist) {
		return nil // no screens folder: the scripts keep their texts
	}
	err := c.walk(c.cfg.ScreensDir, "screens", ".txt", func(path string) {
		c.report.Screens++
		f, err := os.Open(path)
		if err != nil {
			c.fileProblem(path, "cannot read: "+reason(err))
			return
		}
		defer f.Close()
		info, err := f.Stat()
		switch {
		case err != nil:
			c.fileProblem(path, "cannot read: "+reason(err))
		case info.Size() > screens.MaxScreenBytes:
			c.fileProblem(path, fmt.Sprintf("screen is %d bytes, over the host's limit of %d", info.Size(), screens.MaxScreenBytes))
		}
	})
	if err != nil {
		return err
	}
	return c.walk(c.cfg.ScreensDir, "screens", ".ans", c.checkArtFile)
}

// checkArtFile reports ANSI art (NAME.ans) the host would refuse: too
// large, a damaged SAUCE record, or a SAUCE record that is not of
// character art.
func (c *checker) checkArtFile(path string) {
	c.report.Screens++
	info, err := os.Stat(path)
	switch {
	case err != nil:
		c.fileProblem(path, "cannot read: "+reason(err))
		return
	case info.Size() > screens.MaxArtBytes:
		c.fileProblem(path, fmt.Sprintf("art is %d bytes, over the host's limit of %d", info.Size(), screens.MaxArtBytes))
		return
	}
	data, err := os.ReadFile(path)
	if err != nil {
		c.fileProblem(path, "cannot read: "+reason(err))
		return
	}
	if _, err := screens.ParseArt(data); err != nil {
		c.fileProblem(path, err.Error())
	}
}

// checkScripts checks every *.lua file under the scripts folder.
func (c *checker) checkScripts() error {
	return c.walk(c.cfg.ScriptsDir, "scripts", ".lua", func(path string) { c.checkScript(path) })
}

// walk calls fn with the path of every file under root whose name ends in
// ext, in lexical order. root may be a symbolic link to the folder; links
// to folders below it are not followed. An unreadable subfolder is a
// problem of the report; an unreadable root is walk's error, what says
// which folder it is.
func (c *checker) walk(root, what, ext string, fn func(path string)) error {
	info, err := os.Stat(root)
	if err != nil {
		return fmt.Errorf("scriptcheck: %s: %w", what, err)
	}
	if !info.IsDir() {
		return fmt.Errorf("scriptcheck: %s: %s is not a folder", what, root)
	}
	return fs.WalkDir(os.DirFS(root), ".", func(rel string, d fs.DirEntry, err error) error {
		path := filepath.Join(root, filepath.FromSlash(rel))
		if err != nil {
			if rel == "." {
				return fmt.Errorf("scriptcheck: %s: %w", what, err)
			}
			c.fileProblem(path, "cannot read: "+reason(err))
			return skip(d)
		}
		if !d.IsDir() && strings.HasSuffix(d.Name(), ext) {
			fn(path)
		}
		return nil
	})
}

// fileProblem reports a problem with a whole file.
func (c *checker) fileProblem(path, msg string) {
	c.reported[key(path)] = true
	c.add(Problem{File: path, Msg: msg})
}

// checkScript compiles one script and checks the screens it names.
func (c *checker) checkScript(path string) *script {
	src, err := os.ReadFile(path)
	if err != nil {
		c.fileProblem(path, "cannot read: "+reason(err))
		return nil
	}
	c.report.Scripts++
	s := analyse(path, src, c.cfg.Entry, c.genv)
	c.scripts[key(path)] = s
	c.add(s.problems...)
	return s
}

// checkScreenUses checks the screens scripts name. When the scripts folder
// has a ui module of its own, the names are its texts, not screens: they
// are checked against the table its functions look them up in, when that
// can be read from its source (see uiTexts), and otherwise not at all.
func (c *checker) checkScreenUses() {
	ui := c.findModule("ui")
	var texts map[string]uiText
	if !ui.builtin && ui.file != nil {
		texts = uiTexts(ui.file.chunk)
	}
	for _, s := range c.scriptsInOrder() {
		for _, use := range s.screens {
			switch {
			case ui.builtin || !ui.found:
				c.checkScreenUse(s.path, use)
			default:
				c.checkTextUse(s.path, ui.file, texts, use)
			}
		}
	}
}

// checkScreenUse reports a screen named in a script that the host could
// not show.
func (c *checker) checkScreenUse(path string, use screenUse) {
	_, err := c.screens.Screen(use.name)
	if err == nil {
		return
	}
	file := filepath.Join(c.cfg.ScreensDir, filepath.FromSlash(use.name)+".txt")
	var msg string
	switch {
	case errors.Is(err, screens.ErrNotFound):
		msg = fmt.Sprintf("screen %q not found (%s)", use.name, file)
	case errors.Is(err, screens.ErrBadName):
		msg = fmt.Sprintf("%s: %q is not a screen name (use letters, digits, '_', '-', and '/' for subfolders)", use.call, use.name)
	case c.reported[key(file)]:
		return // the file's own problem is reported already
	default:
		msg = fmt.Sprintf("screen %q: %v", use.name, err)
	}
	c.add(Problem{File: path, Line: use.line, Msg: msg})
}

// checkMain reports a main script that is missing or provides no entry
// function, and returns it when it was read.
func (c *checker) checkMain() *script {
	path := c.cfg.MainScript
	s, ok := c.scripts[key(path)]
	if !ok {
		// The main script may live outside the scripts folder.
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			c.add(Problem{File: path, Msg: "main script not found (set main_script in the settings file, or -main)"})
			return nil
		}
		if s = c.checkScript(path); s == nil {
			return nil
		}
	}
	if !s.parsed || s.returnsValue || s.facts.engineRun || c.definesEntry(s, make(map[*script]bool)) {
		return s
	}
	c.add(Problem{File: path, Msg: fmt.Sprintf(
		"no entry function: define a global function %s(conn, req), end the main script with `return` and the entry function, "+
			"or install it with engine.run(conn, entry)",
		c.cfg.Entry)})
	return s
}

// definesEntry reports whether s, or a module it requires from the scripts
// folder, assigns the global entry function.
func (c *checker) definesEntry(s *script, seen map[*script]bool) bool {
	if seen[s] {
		return false
	}
	seen[s] = true
	if s.definesEntry {
		return true
	}
	for _, name := range s.requires {
		base := filepath.Join(c.cfg.ScriptsDir, filepath.FromSlash(strings.ReplaceAll(name, ".", "/")))
		for _, path := range []string{base + ".lua", filepath.Join(base, "init.lua")} {
			if mod, ok := c.scripts[key(path)]; ok && c.definesEntry(mod, seen) {
				return true
			}
		}
	}
	return false
}

// reason is err without the path a *fs.PathError repeats.
func reason(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// skip tells WalkDir to leave out a folder it could not read.
func skip(d fs.DirEntry) error {
	if d != nil && d.IsDir() {
		return fs.SkipDir
	}
	return nil
}
