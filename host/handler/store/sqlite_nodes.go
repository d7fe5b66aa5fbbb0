package store

import (
	"context"
	"fmt"
)

var _ NodeStore = (*SQLite)(nil)

// LoadNodes implements NodeStore.
func (s *SQLite) LoadNodes(ctx context.Context, line int) (map[int]string, error) {
	out := map[int]string{}
	err := s.with(func(p *pools) error {
		rows, err := p.r.QueryContext(ctx, "SELECT node, conn_id FROM nodes WHERE line = ?", line)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				node int
				id   string
			)
			if err := rows.Scan(&node, &id); err != nil {
				return err
			}
			out[node] = id
		}
		return rows.Err()
	})
	if err != nil {
		return nil, wrap("load nodes", err)
	}
	return out, nil
}

// SetNode implements NodeStore.
func (s *SQLite) SetNode(ctx context.Context, line, node int, connID string) error {
	if node < 1 || node > MaxNodes || len(connID) > MaxNodeConnID {
		return fmt.Errorf("set node %d: %w", node, ErrTooLarge)
	}
	err := s.with(func(p *pools) error {
		var err error
		if connID == "" {
			_, err = p.w.ExecContext(ctx, "DELETE FROM nodes WHERE line = ? AND node = ?", line, node)
		} else {
			_, err = p.w.ExecContext(ctx, "INSERT INTO nodes (line, node, conn_id) VALUES (?, ?, ?) ON CONFLICT (line, node) DO UPDATE SET conn_id = excluded.conn_id", line, node, connID)
		}
		return err
	})
	return wrap("set node", err)
}
