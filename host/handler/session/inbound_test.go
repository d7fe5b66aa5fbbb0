package session

import (
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/m2bbs/m2bbs/host/wire/m2proto"
	"github.com/m2bbs/m2bbs/luaapi"
)

// TestIsDisconnectAgreesWithTheWireCheck: telling the disconnect notice
// apart from the decoded body answers as m2proto's check of the raw body
// does, for every kind of body.
func TestIsDisconnectAgreesWithTheWireCheck(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	deep := `{"type":"disconnect","x":` + strings.Repeat("[", luaapi.MaxJSONDepth+5) + strings.Repeat("]", luaapi.MaxJSONDepth+5) + `}`
	for _, body := range []string{
		`{"type":"disconnect"}`, ` { "type" : "disconnect" } `, `{"type":"disconnect","extra":1}`,
		`{"type":"msg","msg":"disconnect"}`, `["type","disconnect"]`, `"disconnect"`,
		`{"type":"disconnect"`, `{"type":"msg","type":"disconnect"}`, `{"type":"disconnect","type":"msg"}`,
		deep, `{}`, ``,
	} {
		for _, method := range []string{"JSON", "XML"} {
			req := &m2proto.Request{ConnID: "1", Headers: []m2proto.Header{{Name: "METHOD", Value: method}}, Body: []byte(body)}
			data, err := luaapi.DecodeJSON(L, req.Body)
			if got, want := isDisconnect(req, data, err), req.IsDisconnect(); got != want {
				t.Errorf("%s %q: isDisconnect %v, IsDisconnect %v", method, body, got, want)
			}
		}
	}
}
