package accessrule

// MaxCached bounds how many rules a Cache keeps: past it the cache starts
// over (a board has a few dozen rules; a script that builds rules from
// input cannot grow it without end).
const MaxCached = 1024

// Cache keeps compiled rules by their source, so that each is compiled
// once however often a menu is drawn. The zero value is ready. A Cache is
// not safe for concurrent use: keep one per Lua state.
type Cache struct {
	rules map[string]cached
}

// cached is a compiled rule or why it did not compile.
type cached struct {
	rule *Rule
	err  error
}

// Compile returns the rule for src, compiling it on first use; errors
// are cached too.
func (c *Cache) Compile(src string) (*Rule, error) {
	if e, ok := c.rules[src]; ok {
		return e.rule, e.err
	}
	r, err := Compile(src)
	if c.rules == nil || len(c.rules) >= MaxCached {
		c.rules = make(map[string]cached)
	}
	c.rules[src] = cached{r, err}
	return r, err
}
