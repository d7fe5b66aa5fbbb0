package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

var _ OfflineMail = (*SQLite)(nil)

// Conferences implements OfflineMail.
func (s *SQLite) Conferences(ctx context.Context) ([]Conference, error) {
	list, err := readAll(ctx, s, func(row scanner) (c Conference, err error) {
		err = row.Scan(&c.Number, &c.Name)
		return c, err
	}, "SELECT id, name FROM areas ORDER BY id")
	if err != nil {
		return nil, wrap("conferences", err)
	}
	return list, nil
}

// QWKSelection implements OfflineMail.
func (s *SQLite) QWKSelection(ctx context.Context, user string) ([]string, bool, error) {
	name, err := canonicalName(user)
	if err != nil {
		return []string{}, false, nil
	}
	var (
		list   []string
		chosen bool
	)
	err = s.readTx(ctx, func(tx txConn) (err error) {
		if err := tx.QueryRowContext(ctx,
			"SELECT EXISTS (SELECT 1 FROM qwk_chosen WHERE user_id = (SELECT id FROM users WHERE name = ?))",
			name).Scan(&chosen); err != nil {
			return err
		}
		list, err = queryAll(ctx, tx, func(row scanner) (a string, err error) {
			err = row.Scan(&a)
			return a, err
		}, `SELECT a.name FROM qwk_areas q JOIN areas a ON a.id = q.area_id
			WHERE q.user_id = (SELECT id FROM users WHERE name = ?) ORDER BY a.id`, name)
		return err
	})
	if err != nil {
		return nil, false, wrap("qwk selection", err)
	}
	return list, chosen, nil
}

// SelectQWK implements OfflineMail.
func (s *SQLite) SelectQWK(ctx context.Context, user, area string, on bool) error {
	err := s.inTx(ctx, func(tx txConn) error {
		ra, err := lookupReaderArea(ctx, tx, user, area)
		if err != nil {
			return err
		}
		query := "DELETE FROM qwk_areas WHERE user_id = ? AND area_id = ?"
		if on {
			query = "INSERT INTO qwk_areas (user_id, area_id) VALUES (?, ?) ON CONFLICT DO NOTHING"
		}
		if _, err := tx.ExecContext(ctx, query, ra.userID, ra.areaID); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, "INSERT INTO qwk_chosen (user_id) VALUES (?) ON CONFLICT DO NOTHING", ra.userID)
		return err
	})
	return wrapBoards("select qwk", err)
}

// scanPostWithLines reads the columns of postLineColumns.
func scanPostWithLines(row scanner) (Post, error) { return scanPost(row, true) }

// QWKNew implements OfflineMail.
func (s *SQLite) QWKNew(ctx context.Context, user string, areas []string, max int) ([]ConferencePosts, error) {
	out := make([]ConferencePosts, 0, len(areas))
	err := s.readTx(ctx, func(tx txConn) error {
		left := max
		for _, area := range areas {
			ra, err := lookupReaderArea(ctx, tx, user, area)
			if err != nil {
				return err
			}
			cp := ConferencePosts{Conference: Conference{Number: int(ra.areaID), Name: ra.area}, Posts: []Post{}}
			if left > 0 {
				cp.Posts, err = queryAll(ctx, tx, scanPostWithLines,
					"SELECT "+postLineColumns+postFrom+"WHERE m.area_id = ?2 AND m.author_id <> ?1 AND m.id > "+pointerSQL+" ORDER BY m.id LIMIT ?3",
					ra.userID, ra.areaID, left)
				if err != nil {
					return err
				}
				left -= len(cp.Posts)
			}
			out = append(out, cp)
		}
		return nil
	})
	if err != nil {
		return nil, wrapBoards("qwk new", err)
	}
	return out, nil
}

// QWKMail implements OfflineMail.
func (s *SQLite) QWKMail(ctx context.Context, user string, max int) ([]MailItem, error) {
	name, err := canonicalName(user)
	if err != nil || max < 1 {
		return []MailItem{}, nil
	}
	list, err := readAll(ctx, s, scanMailWithLines,
		"SELECT "+mailLineColumns+mailFrom+"WHERE m.to_id = "+mailOwner+" AND m.read_at IS NULL ORDER BY m.id LIMIT ?2",
		name, max)
	if err != nil {
		return nil, wrapBoards("qwk mail", err)
	}
	return list, nil
}

// scanMailWithLines reads the columns of mailLineColumns.
func scanMailWithLines(row scanner) (MailItem, error) { return scanMail(row, true) }

// SaveQWKPacket implements OfflineMail.
func (s *SQLite) SaveQWKPacket(ctx context.Context, p QWKPacket) error {
	if len(p.Data) > MaxQWKPacketBytes {
		return fmt.Errorf("%w: packet of %d bytes (at most %d)", ErrTooLarge, len(p.Data), MaxQWKPacketBytes)
	}
	err := s.inTx(ctx, func(tx txConn) error {
		uid, _, err := lookupUser(ctx, tx, "user", p.User)
		if err != nil {
			return err
		}
		now := nowMillis()
		// Make room: anyone's packets too old (a caller who never comes
		// back leaves none for long), then user's oldest past the limit.
		if _, err := tx.ExecContext(ctx, "DELETE FROM qwk_packets WHERE created_at < ?",
			now-QWKPacketLife.Milliseconds()); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx,
			`DELETE FROM qwk_packets WHERE user_id = ?1 AND token NOT IN
			   (SELECT token FROM qwk_packets WHERE user_id = ?1 ORDER BY created_at DESC, id DESC LIMIT ?2)`,
			uid, MaxQWKPackets-1); err != nil {
			return err
		}
		var taken bool
		if err := tx.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM qwk_packets WHERE token = ?)", p.Token).Scan(&taken); err != nil {
			return err
		}
		if taken {
			return fmt.Errorf("%w: packet token", ErrExists)
		}
		if _, err := tx.ExecContext(ctx,
			"INSERT INTO qwk_packets (token, user_id, data, messages, created_at) VALUES (?, ?, ?, ?, ?)",
			p.Token, uid, p.Data, p.Messages, now); err != nil {
			return err
		}
		for _, id := range p.Mail {
			if _, err := tx.ExecContext(ctx,
				"INSERT INTO qwk_packet_mail (token, mail_id) VALUES (?, ?) ON CONFLICT DO NOTHING", p.Token, id); err != nil {
				return err
			}
		}
		for conf, id := range p.Pointers {
			if _, err := tx.ExecContext(ctx,
				"INSERT INTO qwk_packet_pointers (token, area_id, message_id) VALUES (?, ?, ?)",
				p.Token, conf, id); err != nil {
				return err
			}
		}
		return nil
	})
	return wrapBoards("save qwk packet", err)
}

// packetOwned looks up user and their packet token in tx (ErrNotFound
// if they have none of that token), returning the user's id and whether
// it was fetched.
func packetOwned(ctx context.Context, tx txConn, user, token string) (int64, bool, error) {
	uid, _, err := lookupUser(ctx, tx, "user", user)
	if err != nil {
		return 0, false, err
	}
	var fetched sql.NullInt64
	err = tx.QueryRowContext(ctx, "SELECT fetched_at FROM qwk_packets WHERE token = ? AND user_id = ?", token, uid).Scan(&fetched)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, fmt.Errorf("%w: packet %q of %q", ErrNotFound, clip(token), clip(user))
	}
	return uid, fetched.Valid, err
}

// QWKPacketData implements OfflineMail.
func (s *SQLite) QWKPacketData(ctx context.Context, user, token string) ([]byte, error) {
	var data []byte
	err := s.readTx(ctx, func(tx txConn) error {
		if _, _, err := packetOwned(ctx, tx, user, token); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, "SELECT data FROM qwk_packets WHERE token = ?", token).Scan(&data)
	})
	if err != nil {
		return nil, wrapBoards("qwk packet", err)
	}
	return data, nil
}

// QWKPacketFetched implements OfflineMail.
func (s *SQLite) QWKPacketFetched(ctx context.Context, user, token string) (bool, error) {
	var fetched bool
	err := s.readTx(ctx, func(tx txConn) error {
		var err error
		_, fetched, err = packetOwned(ctx, tx, user, token)
		return err
	})
	if err != nil {
		return false, wrapBoards("qwk packet fetched", err)
	}
	return fetched, nil
}

// QWKFetched implements OfflineMail.
func (s *SQLite) QWKFetched(ctx context.Context, user, token string) (bool, error) {
	var first bool
	err := s.inTx(ctx, func(tx txConn) error {
		uid, fetched, err := packetOwned(ctx, tx, user, token)
		if err != nil || fetched {
			return err
		}
		first = true
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO last_read (user_id, area_id, message_id)
			 SELECT CAST(?1 AS INTEGER), area_id, message_id FROM qwk_packet_pointers WHERE token = ?2 AND true
			 ON CONFLICT (user_id, area_id) DO UPDATE SET message_id = max(last_read.message_id, excluded.message_id)`,
			uid, token); err != nil {
			return err
		}
		now := nowMillis()
		if _, err := tx.ExecContext(ctx,
			`UPDATE mail SET read_at = ?1 WHERE to_id = ?2 AND read_at IS NULL
			 AND id IN (SELECT mail_id FROM qwk_packet_mail WHERE token = ?3)`,
			now, uid, token); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, "UPDATE qwk_packets SET fetched_at = ? WHERE token = ?", now, token)
		return err
	})
	if err != nil {
		return false, wrapBoards("qwk fetched", err)
	}
	return first, nil
}

// PostREP implements OfflineMail. Each reply is posted under a savepoint,
// so that a refused one leaves nothing behind while the others stand.
func (s *SQLite) PostREP(ctx context.Context, user string, items []REPItem) ([]REPResult, error) {
	results := make([]REPResult, len(items))
	err := s.inTx(ctx, func(tx txConn) error {
		uid, author, err := lookupUser(ctx, tx, "user", user)
		if err != nil {
			return err
		}
		now := nowMillis()
		for i, it := range items {
			if _, err := tx.ExecContext(ctx, "SAVEPOINT rep_item"); err != nil {
				return err
			}
			results[i] = postREPItem(ctx, tx, uid, author, it, now)
			if err := results[i].Err; err != nil && !refusable(err) {
				return err
			}
			if results[i].Err != nil {
				// On PostgreSQL the failed statement also left the
				// transaction unusable until this.
				if _, err := tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT rep_item"); err != nil {
					return err
				}
			}
			if _, err := tx.ExecContext(ctx, "RELEASE SAVEPOINT rep_item"); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx,
			`DELETE FROM qwk_posted WHERE user_id = ?1 AND hash NOT IN
			   (SELECT hash FROM qwk_posted WHERE user_id = ?1 ORDER BY posted_at DESC LIMIT ?2)`,
			uid, MaxQWKHashes)
		return err
	})
	if err != nil {
		return nil, wrapBoards("post rep", err)
	}
	return results, nil
}

// refusable reports whether err refuses one reply of a REP (the others
// stand); any other error fails the whole REP.
func refusable(err error) bool {
	for _, e := range []error{ErrAlreadyPosted, ErrNoSuchUser, ErrNotFound, ErrBadSubject, ErrTooLarge, ErrNoSuchArea, ErrBadArea} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// postREPItem posts one reply of user uid (author) in tx; the caller
// rolls back to its savepoint if the result carries an error.
func postREPItem(ctx context.Context, tx txConn, uid int64, author string, it REPItem, now int64) REPResult {
	var dup bool
	if err := tx.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM qwk_posted WHERE user_id = ? AND hash = ?)",
		uid, it.Hash[:]).Scan(&dup); err != nil {
		return REPResult{Err: err}
	}
	if dup {
		return REPResult{Err: ErrAlreadyPosted}
	}
	body, count, err := encodeLines(it.Lines)
	if err != nil {
		return REPResult{Err: err}
	}
	subject, err := checkSubject(it.Subject, MaxSubjectLen)
	if err != nil {
		return REPResult{Err: err}
	}
	var r REPResult
	if it.Area == "" {
		m, err := insertMail(ctx, tx, it.To, author, subject, body, count)
		r = REPResult{MailID: m.ID, Subject: m.Subject, Err: err}
	} else {
		p, err := insertPost(ctx, tx, NewPost{Area: it.Area, Author: author, ReplyTo: it.ReplyTo}, subject, body, count)
		r = REPResult{PostID: p.ID, Subject: p.Subject, Err: err}
	}
	if r.Err != nil {
		return r
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO qwk_posted (user_id, hash, posted_at) VALUES (?, ?, ?)",
		uid, it.Hash[:], now); err != nil {
		return REPResult{Err: err}
	}
	return r
}
