package session

import (
	lua "github.com/yuin/gopher-lua"
)

// storeFault logs and counts a store fault (the disk full, the database
// failing) that the script on L met; the script got nil and a plain
// message to show its caller, who stays online.
func (t *Table) storeFault(L *lua.LState, err error) {
	t.counts.storeErrors.Add(1)
	t.loggerFor(L).Error("store fault: the caller's request was not stored", "err", err)
}
