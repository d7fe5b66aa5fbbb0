package scriptcheck

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/yuin/gopher-lua/ast"

	"github.com/m2bbs/m2bbs/host/handler/events"
)

// EventsScript is the file of the scripts folder that declares the
// sysop's scheduled events (docs/events.md).
const EventsScript = "events.lua"

// checkEvents checks what the events script says literally: a `when`,
// `zone` or `missed` field given as a string in a table constructor must
// be one the host accepts, or the board would not load. Values computed
// at run time are not checked; the host checks them when it loads.
func (c *checker) checkEvents() {
	s := c.scripts[key(filepath.Join(c.cfg.ScriptsDir, EventsScript))]
	if s == nil || s.chunk == nil {
		return
	}
	visit(s.chunk, nil, func(e ast.Expr) {
		t, ok := e.(*ast.TableExpr)
		if !ok {
			return
		}
		for _, f := range t.Fields {
			k, isKey := f.Key.(*ast.StringExpr)
			v, isString := f.Value.(*ast.StringExpr)
			if !isKey || !isString {
				continue
			}
			if msg := eventField(k.Value, v.Value); msg != "" {
				c.add(Problem{File: s.path, Line: v.Line(), Msg: msg})
			}
		}
	})
}

// eventField says what is wrong with an event's field, or "".
func eventField(name, value string) string {
	var err error
	switch name {
	case "when":
		_, err = events.Parse(value)
	case "zone":
		_, err = time.LoadLocation(value)
		if err != nil {
			return fmt.Sprintf("event: zone %q: no such time zone (an IANA name such as Europe/London)", value)
		}
	case "missed":
		_, err = events.ParseMissed(value)
	}
	if err != nil {
		return "event: " + err.Error()
	}
	return ""
}
