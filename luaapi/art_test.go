package luaapi

import (
	"log/slog"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// artMap is a fake ArtScreens: texts and, for some screens, art.
type artMap struct {
	screenMap
	art map[string]string
}

func (a artMap) Art(name string) (string, bool) {
	art, ok := a.art[name]
	return art, ok
}

// TestScreenArtByCaller: ui.screen, ui.prompt and ui.exit send a screen's
// ANSI art to a caller who shows colour and ANSI, and its text to the
// classic client (no "ansi") and to a caller who asked for no colour.
func TestScreenArtByCaller(t *testing.T) {
	const art = "\x1b[1;34m╔══╗ welcome\x1b[0m"
	screens := artMap{
		screenMap: screenMap{"welcome": "Welcome.", "menu": "Menu:"},
		art:       map[string]string{"welcome": art},
	}
	for _, tc := range []struct {
		name         string
		colour, ansi bool
		wantWelcome  string
		wantMenu     string
	}{
		{"telnet or the browser page", true, true, art, "Menu:"},
		{"classic client", true, false, "Welcome.", "Menu:"},
		{"a terminal that asked for no colour", false, true, "Welcome.", "Menu:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			L := lua.NewState()
			defer L.Close()
			log := slog.New(slog.NewTextHandler(&strings.Builder{}, nil))
			if err := New(Deps{Screens: screens, Store: newMemStore(), Log: func(*lua.LState) *slog.Logger { return log }}).Open(L); err != nil {
				t.Fatal(err)
			}
			replier := &recordingReplier{}
			conn := NewConn("7", "sender-1", replier)
			conn.Colour, conn.ANSI = tc.colour, tc.ansi
			L.SetGlobal("conn", NewConnValue(L, conn))
			if err := L.DoString(`require 'ui'
				ui.screen(conn, nil, 'welcome')
				ui.screen(conn, nil, 'menu')
				shown = ui.art(conn, nil, 'welcome')
				assert(ui.art(conn, nil, 'menu') == false, 'ui.art showed a screen without art')
				ui.exit(conn, nil, 'welcome')`); err != nil {
				t.Fatal(err)
			}
			got := replier.messages(t)
			want := []string{tc.wantWelcome, tc.wantMenu, tc.wantWelcome}
			if shown := L.GetGlobal("shown") == lua.LTrue; shown != (tc.wantWelcome == art) {
				t.Errorf("ui.art(welcome) = %v", shown)
			} else if shown {
				want = []string{art, "Menu:", art, art} // ui.art sent the art too
			}
			if len(got) != len(want) {
				t.Fatalf("got %d messages, want %d", len(got), len(want))
			}
			for i, want := range want {
				if got[i]["msg"] != want {
					t.Errorf("message %d = %q, want %q", i, got[i]["msg"], want)
				}
			}
		})
	}
}
