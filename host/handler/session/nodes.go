package session

import lua "github.com/yuin/gopher-lua"

// Nodes numbers the callers of the table's phone line
// (host/handler/nodes.Allocator is one): a session claims its node when it
// starts or is rebuilt by replay (a resumed caller gets the node they
// had), releases it when the call ends, and forgets it, the store's copy
// kept, when another host takes the caller over. Detach leaves it held:
// the table that adopts the caller (an upgrade) claims the same one; a
// host whose line is drained releases its callers' nodes itself.
type Nodes interface {
	Claim(connID string) int
	Release(connID string)
	Forget(connID string)
}

// claimNode gives s its node.
func (t *Table) claimNode(s *Session) {
	if t.deps.Nodes != nil && t.dry == nil {
		s.node = t.deps.Nodes.Claim(s.connID)
	}
}

// releaseNode frees s's node: the call is over.
func (t *Table) releaseNode(s *Session) {
	if t.deps.Nodes != nil && t.dry == nil && s.node != 0 {
		t.deps.Nodes.Release(s.connID)
		s.node = 0
	}
}

// forgetNode lets s's node go from this host only: another host has the
// caller now.
func (t *Table) forgetNode(s *Session) {
	if t.deps.Nodes != nil && t.dry == nil && s.node != 0 {
		t.deps.Nodes.Forget(s.connID)
		s.node = 0
	}
}

// nodeOn is door.node: the node of the caller running on L, or 0.
func (t *Table) nodeOn(L *lua.LState) int {
	if s := t.sessionOn(L); s != nil {
		return s.node
	}
	return 0
}

// NodeOf returns the node of connID's caller, or 0.
func (t *Table) NodeOf(connID string) int {
	if s := t.sessions[connID]; s != nil {
		return s.node
	}
	return 0
}
