package scriptcheck

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/m2bbs/m2bbs/luaapi"
)

// host is what the host gives scripts, read from luaapi (the code that
// installs it), never from a list of our own.
type host struct {
	modules map[string]bool // built-in modules, for require
	globals map[string]bool // globals set before any script runs
}

// newHost reads the host's modules and globals.
func newHost() (*host, error) {
	globals, err := luaapi.HostGlobals()
	if err != nil {
		return nil, fmt.Errorf("scriptcheck: %w", err)
	}
	h := &host{modules: make(map[string]bool), globals: make(map[string]bool)}
	for _, m := range luaapi.BuiltinModuleNames() {
		h.modules[m] = true
	}
	for _, g := range globals {
		h.globals[g] = true
	}
	return h, nil
}

// moduleTarget is what require(name) finds.
type moduleTarget struct {
	builtin bool
	file    *script // nil for a built-in, or a file that could not be read
	found   bool
}

// findModule resolves require(name) as the host does: a file in the
// scripts folder first (NAME.lua, then NAME/init.lua, dots naming
// subfolders), then a built-in module.
func (c *checker) findModule(name string) moduleTarget {
	base := filepath.Join(c.cfg.ScriptsDir, filepath.FromSlash(strings.ReplaceAll(name, ".", "/")))
	for _, path := range []string{base + ".lua", filepath.Join(base, "init.lua")} {
		if s, ok := c.scripts[key(path)]; ok {
			return moduleTarget{file: s, found: true}
		}
		if _, err := os.Stat(path); err == nil {
			return moduleTarget{found: true} // read failed: reported already
		}
	}
	if c.host.modules[name] {
		return moduleTarget{builtin: true, found: true}
	}
	return moduleTarget{}
}

// setsGlobal returns the global that require(name) sets, if any: a
// built-in module's own name, the first part of the name a file passes to
// module(...), and for a module that does not exist (reported already)
// its name, so that its uses are not reported again.
func (c *checker) setsGlobal(name string) (string, bool) {
	t := c.findModule(name)
	switch {
	case !t.found || t.builtin:
		return name, true
	case t.file != nil && t.file.facts != nil && t.file.facts.module != nil:
		m := t.file.facts.module.name
		if m == "" {
			m = name // module(...): the name require was given
		}
		first, _, _ := strings.Cut(m, ".")
		return first, true
	}
	return "", false
}

// scriptsInOrder returns the parsed scripts sorted by path, so that
// reports come out alike on every run.
func (c *checker) scriptsInOrder() []*script {
	var list []*script
	for _, s := range c.scripts {
		if s.facts != nil {
			list = append(list, s)
		}
	}
	slices.SortFunc(list, func(a, b *script) int { return strings.Compare(a.path, b.path) })
	return list
}

// checkRequires reports require calls that name no module.
func (c *checker) checkRequires() {
	where := filepath.ToSlash(c.cfg.ScriptsDir) + "/"
	for _, s := range c.scriptsInOrder() {
		for _, r := range s.facts.requires {
			if !c.findModule(r.name).found {
				c.add(Problem{File: s.path, Line: r.line, Msg: fmt.Sprintf("require '%s': no such module in %s or the host", r.name, where)})
			}
		}
	}
}

// loadTime returns the scripts that run when the main script loads: main,
// and the files it requires outside any function, and theirs.
func (c *checker) loadTime(main *script) map[*script]bool {
	seen := make(map[*script]bool)
	var visit func(s *script)
	visit = func(s *script) {
		if s == nil || s.facts == nil || seen[s] {
			return
		}
		seen[s] = true
		for _, r := range s.facts.requires {
			if r.topLevel {
				visit(c.findModule(r.name).file)
			}
		}
	}
	visit(main)
	return seen
}

// checkGlobals reports globals that scripts read and nothing defines.
// A global is defined when it is one of the host's, when any script
// assigns it (at the top level or in a function, plainly, through _G or
// rawset(_G, ...)), or when a require sets it: one the reading script
// makes, or one made at the top level of a script that runs when the
// main script loads. After module(...) without options (package.seeall
// or another) only the module's own fields are visible. NAME in
// "NAME or default" is a test of a global that may be nil, not reported.
func (c *checker) checkGlobals(main *script) {
	loaded := make(map[string]bool)
	for s := range c.loadTime(main) {
		for _, r := range s.facts.requires {
			if g, ok := c.setsGlobal(r.name); ok && r.topLevel {
				loaded[g] = true
			}
		}
	}
	for _, s := range c.scriptsInOrder() {
		f := s.facts
		own := make(map[string]bool)
		for _, r := range f.requires {
			if g, ok := c.setsGlobal(r.name); ok {
				own[g] = true
			}
		}
		reported := make(map[string]bool)
		reads := slices.Clone(f.reads)
		slices.SortStableFunc(reads, func(a, b globalRead) int { return a.line - b.line })
		for _, rd := range reads {
			if reported[rd.name] || rd.defaulted {
				continue
			}
			if rd.inModule {
				if b := f.menv.vars[rd.name]; b != nil && b.defined {
					continue
				}
				if !f.module.seeall {
					reported[rd.name] = true
					c.add(Problem{File: s.path, Line: rd.line, Msg: fmt.Sprintf(
						"global '%s' is not visible here: after module(...) without package.seeall only the module's own names are", rd.name)})
					continue
				}
			}
			if c.host.globals[rd.name] || own[rd.name] || loaded[rd.name] {
				continue
			}
			if b := c.genv.vars[rd.name]; b != nil && b.defined {
				continue
			}
			reported[rd.name] = true
			msg := fmt.Sprintf("undefined global '%s'", rd.name)
			switch {
			case requires(f, rd.name):
				// It is required but is a file that sets no global.
				msg += fmt.Sprintf(" (require '%s' returns the module without setting a global: local %s = require '%s')", rd.name, rd.name, rd.name)
			case c.findModule(rd.name).found:
				msg += fmt.Sprintf(" (add require '%s' to this script)", rd.name)
			}
			c.add(Problem{File: s.path, Line: rd.line, Msg: msg})
		}
	}
}

// requires reports whether f requires the module name.
func requires(f *facts, name string) bool {
	return slices.ContainsFunc(f.requires, func(r requireUse) bool { return r.name == name })
}

// reachable returns the functions that may run inside a caller's entry
// function: what the entry refers to, and what that refers to in turn.
// A module referred to (required, or named through a variable holding it)
// brings in what it exports: the value its chunk returns and, after
// module(...), the module's fields. Its globals are reached by name.
func (c *checker) reachable(main *script) map[*funcNode]bool {
	fns := make(map[*funcNode]bool)
	vars := make(map[*binding]bool)
	files := make(map[*script]bool)
	var work []refs
	work = append(work, main.facts.entryRefs)
	for _, name := range []string{c.cfg.Entry, c.cfg.ResumeEntry} {
		if b := c.genv.vars[name]; b != nil {
			work = append(work, b.refs)
		}
	}
	byModule := c.moduleNames()
	declared := make(map[string][]*script) // module 'a.b' files by a
	for _, s := range c.scriptsInOrder() {
		if m := s.facts.module; m != nil {
			declared[firstPart(m.name)] = append(declared[firstPart(m.name)], s)
		}
	}
	addFile := func(s *script) {
		if s == nil || s.facts == nil || files[s] {
			return
		}
		files[s] = true
		work = append(work, s.facts.entryRefs)
		if s.facts.menv != nil {
			for _, b := range s.facts.menv.vars {
				work = append(work, refs{vars: []*binding{b}})
			}
		}
	}
	for len(work) > 0 {
		r := work[len(work)-1]
		work = work[:len(work)-1]
		for _, f := range r.funcs {
			if !fns[f] {
				fns[f] = true
				work = append(work, f.refs)
			}
		}
		for _, v := range r.vars {
			if !vars[v] {
				vars[v] = true
				work = append(work, v.refs)
				if v.global {
					for _, s := range declared[v.name] {
						addFile(s)
					}
				}
			}
		}
		for _, m := range r.modules {
			if !m.prefix {
				addFile(c.findModule(m.name).file)
				continue
			}
			for name, s := range byModule {
				if strings.HasPrefix(name, m.name) {
					addFile(s)
				}
			}
		}
	}
	return fns
}

func firstPart(name string) string {
	first, _, _ := strings.Cut(name, ".")
	return first
}

// moduleNames maps the require name of every script in the scripts
// folder to it: doors/chess.lua is "doors.chess", board/init.lua "board".
func (c *checker) moduleNames() map[string]*script {
	names := make(map[string]*script)
	for _, s := range c.scripts {
		rel, err := filepath.Rel(c.cfg.ScriptsDir, s.path)
		if err != nil || strings.HasPrefix(rel, "..") {
			continue
		}
		rel = strings.TrimSuffix(filepath.ToSlash(rel), ".lua")
		rel = strings.TrimSuffix(rel, "/init")
		names[strings.ReplaceAll(rel, "/", ".")] = s
	}
	return names
}

// checkSharedWrites warns of functions that may run inside a caller's
// entry and write into a table held in a top-level variable of a script:
// with several workers each Lua state has its own copy of that table.
// One warning per table, at its first such write.
func (c *checker) checkSharedWrites(main *script) {
	fns := c.reachable(main)
	for _, s := range c.scriptsInOrder() {
		first := make(map[*binding]int)
		var order []*binding
		for _, f := range s.facts.funcs {
			if !fns[f] {
				continue
			}
			for _, w := range f.writes {
				line, seen := first[w.v]
				switch {
				case !w.v.table:
				case !seen:
					first[w.v] = w.line
					order = append(order, w.v)
				case w.line < line:
					first[w.v] = w.line
				}
			}
		}
		for _, v := range order {
			c.add(Problem{File: s.path, Line: first[v], Warning: true, Msg: fmt.Sprintf(
				"writes into '%s', a table at the top level of this script, while a caller runs: "+
					"each worker's Lua state has its own copy, so callers on other workers do not see the change "+
					"(keep live shared state in the shared module, or run with -workers 1)", v.name)})
		}
	}
}
