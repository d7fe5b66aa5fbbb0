package config

import (
	"fmt"
	"sort"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// MaxRemoteBoards bounds the entries of rlogin_boards.
const MaxRemoteBoards = 1000

// RemoteBoard is one entry of rlogin_boards: another board whose callers
// may play this board's doors over RLogin (m2bbs run -rlogin-port).
//
//	rlogin_boards = {
//	    {name = 'alpha', secret = 'env:ALPHA_SECRET', allow = '192.0.2.7', door = 'guess'},
//	}
type RemoteBoard struct {
	// Name is the board's name in its callers' RLogin user, "NAME:user".
	Name string
	// Secret is the shared secret the board sends as the RLogin client
	// user; "env:VAR" reads it from the environment variable VAR.
	Secret string
	// Allow lists the addresses or prefixes the board calls from.
	Allow string
	// Door is the door its callers go straight into, or "doors" for the
	// Doors menu.
	Door string
}

// remoteBoardFields are the fields an rlogin_boards entry may have.
var remoteBoardFields = map[string]func(*RemoteBoard) *string{
	"name":   func(b *RemoteBoard) *string { return &b.Name },
	"secret": func(b *RemoteBoard) *string { return &b.Secret },
	"allow":  func(b *RemoteBoard) *string { return &b.Allow },
	"door":   func(b *RemoteBoard) *string { return &b.Door },
}

// remoteBoards reads rlogin_boards: a list of tables of strings.
func remoteBoards(v lua.LValue) ([]RemoteBoard, error) {
	list, ok := v.(*lua.LTable)
	if !ok {
		return nil, fmt.Errorf("must be a list of tables, not a %s", v.Type())
	}
	n := list.Len()
	if n > MaxRemoteBoards {
		return nil, fmt.Errorf("more than %d boards", MaxRemoteBoards)
	}
	out := make([]RemoteBoard, 0, n)
	for i := 1; i <= n; i++ {
		entry, ok := list.RawGetInt(i).(*lua.LTable)
		if !ok {
			return nil, fmt.Errorf("entry %d must be a table like {name = 'alpha', secret = '...', door = 'guess'}", i)
		}
		var b RemoteBoard
		var errs []string
		entry.ForEach(func(k, val lua.LValue) {
			field, known := remoteBoardFields[k.String()]
			s, isString := val.(lua.LString)
			switch {
			case !known:
				errs = append(errs, fmt.Sprintf("unknown field %s", k.String()))
			case !isString:
				errs = append(errs, fmt.Sprintf("%s must be a string", k.String()))
			default:
				*field(&b) = string(s)
			}
		})
		if b.Name == "" {
			errs = append(errs, "no name")
		}
		if len(errs) > 0 {
			sort.Strings(errs)
			return nil, fmt.Errorf("entry %d: %s", i, strings.Join(errs, "; "))
		}
		out = append(out, b)
	}
	return out, nil
}
