package frontend

import "testing"

func TestRouteTable(t *testing.T) {
	var table routeTable
	for _, p := range []string{"@bbs", "@chat", "<msg", "/status", "/who", "/status/x"} {
		table.insert(&routeTarget{pattern: p})
	}
	for _, tc := range []struct{ path, want string }{
		{"@bbs", "@bbs"},
		{"@bbs.1", "@bbs"}, // a route that is a prefix of the path
		{"@bbsx", "@bbs"},  // not only at a '/' or '.'
		{"@bbs/a", "@bbs"}, // longest prefix...
		{"@chat", "@chat"}, //
		{"@b", "@bbs"},     // a path that is a prefix of a route
		{"@", "@bbs"},      // ...the first route inserted below it
		{"@c", "@chat"},    //
		{"/", "/status"},   // first inserted of /status and /who
		{"/s", "/status"},  //
		{"/w", "/who"},     //
		{"/status/x/y", "/status/x"},
		{"/status/y", "/status"},
		{"<msgs", "<msg"},
		{"<m", "<msg"},
		{"@x", ""},
		{"@BBS", ""},
		{"/x", ""},
		{"//status", ""},
		{"", ""},
		{"x", ""},
	} {
		got := ""
		if r := table.match(tc.path); r != nil {
			got = r.pattern
		}
		if got != tc.want {
			t.Errorf("match(%q) = %q, want %q", tc.path, got, tc.want)
		}
	}
}
