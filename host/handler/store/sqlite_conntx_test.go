package store

import (
	"context"
	"errors"
	"testing"
)

func TestTransactionsRollBackAndFreeTheWriter(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	mustRegister(t, s, "ann")
	addLiner := func(tx txConn, text string) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO oneliners (user_id, text, posted_at)
			VALUES ((SELECT id FROM users WHERE name = 'ann'), ?, 0)`, text)
		return err
	}
	// fn fails after a write: nothing of it is kept.
	failed := errors.New("failed")
	if err := s.inTx(ctx, func(tx txConn) error {
		if err := addLiner(tx, "failed"); err != nil {
			return err
		}
		return failed
	}); !errors.Is(err, failed) {
		t.Fatalf("inTx = %v, want fn's error", err)
	}
	// fn panics after a write: the panic goes on, nothing is kept, and the
	// writer is not left in the transaction.
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("the panic was swallowed")
			}
		}()
		_ = s.inTx(ctx, func(tx txConn) error {
			if err := addLiner(tx, "panicked"); err != nil {
				return err
			}
			panic("boom")
		})
	}()
	if err := s.inTx(ctx, func(tx txConn) error { return addLiner(tx, "kept") }); err != nil {
		t.Fatalf("write after the failures: %v", err)
	}
	var texts []string
	if err := s.readTx(ctx, func(tx txConn) error {
		rows, err := tx.QueryContext(ctx, "SELECT text FROM oneliners ORDER BY id")
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var text string
			if err := rows.Scan(&text); err != nil {
				return err
			}
			texts = append(texts, text)
		}
		return rows.Err()
	}); err != nil {
		t.Fatal(err)
	}
	if len(texts) != 1 || texts[0] != "kept" {
		t.Fatalf("one-liners = %q, want only the committed one", texts)
	}
}
