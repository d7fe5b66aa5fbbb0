package store

import "context"

// NodeStore keeps the node each caller online holds, per phone line
// (host/handler/nodes keeps its copy here). *SQLite implements it.
type NodeStore interface {
	// LoadNodes returns line's nodes and their holders' conn ids.
	LoadNodes(ctx context.Context, line int) (map[int]string, error)
	// SetNode keeps connID as the holder of line's node, or frees the node
	// when connID is "". A node outside 1..MaxNodes or a conn id over
	// MaxNodeConnID bytes is ErrTooLarge.
	SetNode(ctx context.Context, line, node int, connID string) error
}

// Limits of NodeStore.
const (
	// MaxNodes bounds the nodes of a line.
	MaxNodes = 1000
	// MaxNodeConnID bounds a holder's conn id, in bytes.
	MaxNodeConnID = 200
)
