package config

import (
	"fmt"
	"sort"
)

// Fields reads the fields of a table setting (as Table returns it),
// collecting every mistake in Errs so that the sysop hears of all of them
// at once; Unknown adds the fields nothing asked for (typos).
type Fields struct {
	T    map[string]any
	Errs []error
	seen map[string]bool
}

// Fail adds a mistake.
func (f *Fields) Fail(format string, args ...any) {
	f.Errs = append(f.Errs, fmt.Errorf(format, args...))
}

// Get returns the field key and marks it as known.
func (f *Fields) Get(key string) (any, bool) {
	if f.seen == nil {
		f.seen = map[string]bool{}
	}
	f.seen[key] = true
	v, ok := f.T[key]
	return v, ok
}

// Str reads a string ("" when absent).
func (f *Fields) Str(key string) string {
	v, ok := f.Get(key)
	if !ok {
		return ""
	}
	s, ok := v.(string)
	if !ok {
		f.Fail("%s must be a string", key)
	}
	return s
}

// Bool reads true or false (false when absent).
func (f *Fields) Bool(key string) bool {
	v, ok := f.Get(key)
	if !ok {
		return false
	}
	b, ok := v.(bool)
	if !ok {
		f.Fail("%s must be true or false", key)
	}
	return b
}

// Unknown adds a mistake naming the fields of T that were never read.
func (f *Fields) Unknown() {
	var extra []string
	for k := range f.T {
		if !f.seen[k] {
			extra = append(extra, k)
		}
	}
	if len(extra) > 0 {
		sort.Strings(extra)
		f.Fail("unknown settings %v", extra)
	}
}
