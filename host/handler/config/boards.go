package config

import (
	"fmt"
	"sort"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// MaxRemoteBoards bounds the entries of rlogin_boards and of door_servers.
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

// DoorServer is one entry of door_servers: a door server (a door
// network, another board) scripts may send callers to, over RLogin or
// telnet, with credentials the scripts never see (host/handler/doorserver).
//
//	door_servers = {
//	    {name = 'alpha', address = 'doors.example.org:513', secret = 'env:ALPHA_SECRET',
//	     server_user = 'mybbs:{user}'},
//	}
type DoorServer struct {
	// Title is what the Doors menu shows for it (the name when empty).
	Name, Title, Protocol, Address   string
	ClientUser, ServerUser, Terminal string
	// Secret is the password the server gave this board; "env:VAR" reads
	// it from the environment variable VAR.
	Secret string
	// Charset is what the server writes in: "cp437" (when empty) or
	// "utf-8".
	Charset string
}

// doorServerFields are the fields a door_servers entry may have.
var doorServerFields = map[string]func(*DoorServer) *string{
	"name":        func(d *DoorServer) *string { return &d.Name },
	"title":       func(d *DoorServer) *string { return &d.Title },
	"protocol":    func(d *DoorServer) *string { return &d.Protocol },
	"address":     func(d *DoorServer) *string { return &d.Address },
	"client_user": func(d *DoorServer) *string { return &d.ClientUser },
	"server_user": func(d *DoorServer) *string { return &d.ServerUser },
	"terminal":    func(d *DoorServer) *string { return &d.Terminal },
	"secret":      func(d *DoorServer) *string { return &d.Secret },
	"charset":     func(d *DoorServer) *string { return &d.Charset },
}

// remoteBoards reads rlogin_boards: a list of tables of strings.
func remoteBoards(v lua.LValue) ([]RemoteBoard, error) {
	return stringTables(v, remoteBoardFields, "{name = 'alpha', secret = '...', door = 'guess'}")
}

// doorServers reads door_servers: a list of tables of strings.
func doorServers(v lua.LValue) ([]DoorServer, error) {
	return stringTables(v, doorServerFields, "{name = 'alpha', address = 'host:513', secret = '...'}")
}

// stringTables reads a list (at most MaxRemoteBoards entries) of tables
// whose fields, all strings, are those of fields; each must have a
// name. example shows an entry in the messages.
func stringTables[T any](v lua.LValue, fields map[string]func(*T) *string, example string) ([]T, error) {
	list, ok := v.(*lua.LTable)
	if !ok {
		return nil, fmt.Errorf("must be a list of tables, not a %s", v.Type())
	}
	n := list.Len()
	if n > MaxRemoteBoards {
		return nil, fmt.Errorf("more than %d entries", MaxRemoteBoards)
	}
	out := make([]T, 0, n)
	for i := 1; i <= n; i++ {
		entry, ok := list.RawGetInt(i).(*lua.LTable)
		if !ok {
			return nil, fmt.Errorf("entry %d must be a table like %s", i, example)
		}
		var item T
		var errs []string
		entry.ForEach(func(k, val lua.LValue) {
			field, known := fields[k.String()]
			s, isString := val.(lua.LString)
			switch {
			case !known:
				errs = append(errs, fmt.Sprintf("unknown field %s", k.String()))
			case !isString:
				errs = append(errs, fmt.Sprintf("%s must be a string", k.String()))
			default:
				*field(&item) = string(s)
			}
		})
		if entry.RawGetString("name") == lua.LNil {
			errs = append(errs, "no name")
		}
		if len(errs) > 0 {
			sort.Strings(errs)
			return nil, fmt.Errorf("entry %d: %s", i, strings.Join(errs, "; "))
		}
		out = append(out, item)
	}
	return out, nil
}
