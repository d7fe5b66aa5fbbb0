package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

var _ FTN = (*SQLite)(nil)

// ftnAccountID returns the id of FTNAccount in tx.
func ftnAccountID(ctx context.Context, tx txConn) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, "SELECT id FROM users WHERE name = ?", FTNAccount).Scan(&id)
	return id, err
}

// seenDupe records key as seen and reports whether it was seen before,
// counting a duplicate.
func seenDupe(ctx context.Context, tx txConn, key string) (bool, error) {
	res, err := tx.ExecContext(ctx, "INSERT INTO ftn_dupes (key, seen_at) VALUES (?, ?) ON CONFLICT DO NOTHING", key, nowMillis())
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	if err != nil || n == 1 {
		return false, err
	}
	return true, countFTN(ctx, tx, "dupes", 1)
}

// countFTN adds n to counter in tx.
func countFTN(ctx context.Context, tx txConn, counter string, n int) error {
	_, err := tx.ExecContext(ctx, "UPDATE ftn_state SET value = value + ? WHERE name = ?", n, counter)
	return err
}

// ftnName cleans an FTN user name for storage: valid UTF-8, no control
// characters, at most MaxFTNNameLen bytes; "" becomes "Unknown". A bar
// becomes a broken bar: the board shows names through its pipe colour
// codes, and "sysop|00" would show as "sysop" with its "@address" in
// black on black (local names never hold a bar).
func ftnName(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return -1
		}
		if r == '|' {
			return '¦'
		}
		return r
	}, strings.ToValidUTF8(s, "?"))
	s = strings.TrimSpace(s)
	for len(s) > MaxFTNNameLen {
		_, n := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-n]
	}
	if s == "" {
		return "Unknown"
	}
	return s
}

// ftnSubject cleans a subject as checkSubject would accept it.
func ftnSubject(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, "?"))
	s = strings.TrimSpace(s)
	for len(s) > MaxSubjectLen {
		_, n := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-n]
	}
	return s
}

// ftnMeta joins lines for storage, cut at MaxFTNMetaBytes.
func ftnMeta(lines []string) string {
	s := strings.Join(lines, "\n")
	if len(s) > MaxFTNMetaBytes {
		s = strings.ToValidUTF8(s[:MaxFTNMetaBytes], "")
	}
	return s
}

// nullable is s, or NULL when empty.
func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// toss runs store in a transaction unless key was seen before (then it
// reports dupe), with the message's lines encoded and subject cleaned;
// store returns the new row's id. op names the call in errors.
func (s *SQLite) toss(ctx context.Context, op, key, subject string, lines []string,
	store func(tx txConn, subject, body string, count int) (int64, error)) (id int64, dupe bool, err error) {
	body, count, err := encodeLines(lines)
	if err != nil {
		return 0, false, err
	}
	subject = ftnSubject(subject)
	err = s.inTx(ctx, func(tx txConn) error {
		if dupe, err = seenDupe(ctx, tx, key); err != nil || dupe {
			return err
		}
		if id, err = store(tx, subject, body, count); err != nil {
			return err
		}
		return countFTN(ctx, tx, "tossed", 1)
	})
	if err != nil {
		return 0, false, wrapBoards(op, err)
	}
	return id, dupe, nil
}

// TossPost implements FTN.
func (s *SQLite) TossPost(ctx context.Context, tp TossedPost) (int64, bool, error) {
	return s.toss(ctx, "toss post", tp.DupeKey, tp.Subject, tp.Lines, func(tx txConn, subject, body string, count int) (int64, error) {
		areaID, _, err := lookupArea(ctx, tx, tp.Area)
		if err != nil {
			return 0, err
		}
		author, err := ftnAccountID(ctx, tx)
		if err != nil {
			return 0, err
		}
		var parent, root any
		if tp.Reply != "" {
			var p, r int64
			err := tx.QueryRowContext(ctx, replyParentQuery, tp.Tag, tp.Reply, areaID).Scan(&p, &r)
			switch {
			case err == nil:
				parent, root = p, r
			case !errors.Is(err, sql.ErrNoRows):
				return 0, err
			}
		}
		id, err := insertID(ctx, tx,
			`INSERT INTO messages (area_id, seq, author_id, subject, parent_id, root_id, body, line_count, posted_at)
			 VALUES (?1, (SELECT coalesce(max(seq), -1) + 1 FROM messages WHERE area_id = ?1), ?2, ?3, ?4, ?5, ?6, ?7, ?8)`,
			areaID, author, subject, parent, root, body, count, millisOrNow(tp.Posted))
		if err != nil {
			return 0, err
		}
		_, err = tx.ExecContext(ctx,
			`INSERT INTO ftn_posts (message_id, inbound, area_tag, from_name, from_addr, to_name, msgid, reply, kludges, seen_by, path, forward)
			 VALUES (?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			id, tp.Tag, ftnName(tp.FromName), tp.FromAddr, ftnName(tp.ToName), nullable(tp.MsgID), nullable(tp.Reply),
			ftnMeta(tp.Kludges), ftnMeta([]string{tp.SeenBy}), ftnMeta([]string{tp.Path}), tp.Forward)
		if err != nil || tp.MsgID == "" {
			return id, err
		}
		newRoot := any(id)
		if root != nil {
			newRoot = root
		}
		return id, adoptReplies(ctx, tx, areaID, tp.Tag, tp.MsgID, id, newRoot)
	})
}

// The two searches of a toss for its post's thread. Each runs inside the
// toss's write transaction, so each reads an index of ftn_posts (CROSS
// JOIN keeps SQLite from starting at messages, which read every post of
// the echo's area: 230 ms a tossed message in an echo of 200,000 posts,
// callers' writes waiting on it).
const (
	// replyParentQuery finds the post of an echo's area with a MSGID
	// (ftn_posts_msgid).
	replyParentQuery = `SELECT m.id, coalesce(m.root_id, m.id) FROM ftn_posts f CROSS JOIN messages m
		WHERE m.id = f.message_id AND f.area_tag = ? AND f.msgid = ? AND m.area_id = ? ORDER BY m.id LIMIT 1`
	// orphanRepliesQuery finds the posts of an echo's area that reply to
	// a MSGID and have no parent yet (ftn_posts_reply).
	orphanRepliesQuery = `SELECT m.id FROM ftn_posts f CROSS JOIN messages m
		WHERE m.id = f.message_id AND f.area_tag = ? AND f.reply = ? AND m.area_id = ? AND m.parent_id IS NULL AND m.id <> ?`
)

// adoptReplies threads under post id (of thread root) the posts of the
// area that arrived before it and reply to its MSGID: mail travels by
// different paths, and a reply may come first.
func adoptReplies(ctx context.Context, tx txConn, areaID int64, tag, msgid string, id int64, root any) error {
	orphans, err := queryAll(ctx, tx, func(row scanner) (int64, error) {
		var o int64
		return o, row.Scan(&o)
	}, orphanRepliesQuery, tag, msgid, areaID, id)
	if err != nil {
		return err
	}
	for _, o := range orphans {
		if r, ok := root.(int64); ok && r == o {
			// The orphan is the first post of id's own thread (two
			// messages replying to each other): adopting it would make
			// a cycle that no thread view reaches.
			continue
		}
		if _, err := tx.ExecContext(ctx, "UPDATE messages SET parent_id = ? WHERE id = ?", id, o); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "UPDATE messages SET root_id = ?1 WHERE id = ?2 OR root_id = ?2", root, o); err != nil {
			return err
		}
	}
	return nil
}

// insertID runs an INSERT in tx and returns the new row's id.
func insertID(ctx context.Context, tx txConn, query string, args ...any) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, query+" RETURNING id", args...).Scan(&id)
	return id, err
}

// millisOrNow is t as stored, or now for a zero t.
func millisOrNow(t time.Time) int64 {
	if t.IsZero() {
		return nowMillis()
	}
	return t.UnixMilli()
}

// TossMail implements FTN.
func (s *SQLite) TossMail(ctx context.Context, tm TossedMail) (int64, bool, error) {
	return s.toss(ctx, "toss mail", tm.DupeKey, tm.Subject, tm.Lines, func(tx txConn, subject, body string, count int) (int64, error) {
		to, _, err := lookupUser(ctx, tx, "recipient", tm.To)
		if err != nil {
			return 0, err
		}
		from, err := ftnAccountID(ctx, tx)
		if err != nil {
			return 0, err
		}
		id, err := insertID(ctx, tx,
			`INSERT INTO mail (to_id, from_id, subject, body, line_count, sent_at) VALUES (?, ?, ?, ?, ?, ?)`,
			to, from, subject, body, count, millisOrNow(tm.Sent))
		if err != nil {
			return 0, err
		}
		_, err = tx.ExecContext(ctx,
			`INSERT INTO ftn_mail (mail_id, from_name, from_addr, msgid, kludges) VALUES (?, ?, ?, ?, ?)`,
			id, ftnName(tm.FromName), tm.FromAddr, nullable(tm.MsgID), ftnMeta(tm.Kludges))
		return id, err
	})
}

// LinkEchoes implements FTN.
func (s *SQLite) LinkEchoes(ctx context.Context, areas []string) error {
	err := s.inTx(ctx, func(tx txConn) error {
		for _, a := range areas {
			id, _, err := lookupArea(ctx, tx, a)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx,
				`INSERT INTO ftn_links (area_id, after_id) VALUES (?, (SELECT coalesce(max(id), 0) FROM messages))
				 ON CONFLICT DO NOTHING`, id); err != nil {
				return err
			}
		}
		return nil
	})
	return wrapBoards("link echoes", err)
}

// lastExportedQuery is the newest post ever exported; it reads the
// ftn_posts_exported index, not every FTN post, at each scan.
const lastExportedQuery = "SELECT max(message_id) FROM ftn_posts WHERE inbound = 0"

// UnexportedPosts implements FTN: posts by local authors (not
// FTNAccount) with no ftn_posts row, written since their area was linked
// and newer than the newest post ever exported.
func (s *SQLite) UnexportedPosts(ctx context.Context, areas []string, limit int) ([]ExportPost, error) {
	if len(areas) == 0 {
		return nil, nil
	}
	names := make([]any, 0, len(areas))
	for _, a := range areas {
		canon, err := canonicalArea(a)
		if err != nil {
			return nil, err
		}
		names = append(names, canon)
	}
	marks := strings.TrimSuffix(strings.Repeat("?,", len(names)), ",")
	query := `SELECT m.id, a.name, u.name, m.subject, m.posted_at,
		coalesce((SELECT f.msgid FROM ftn_posts f WHERE f.message_id = m.parent_id), ''),
		coalesce((SELECT coalesce(f.from_name, pu.name) FROM messages pm JOIN users pu ON pu.id = pm.author_id
			LEFT JOIN ftn_posts f ON f.message_id = pm.id WHERE pm.id = m.parent_id), ''),
		m.body, m.line_count
		FROM messages m JOIN areas a ON a.id = m.area_id JOIN users u ON u.id = m.author_id
		JOIN ftn_links l ON l.area_id = m.area_id AND m.id > l.after_id
		WHERE a.name IN (` + marks + `) AND u.name <> '` + FTNAccount + `'
		AND m.id > coalesce((` + lastExportedQuery + `), 0)
		AND NOT EXISTS (SELECT 1 FROM ftn_posts f WHERE f.message_id = m.id)
		ORDER BY m.id LIMIT ?`
	args := append(names, limit)
	posts, err := readAll(ctx, s, func(row scanner) (ExportPost, error) {
		var p ExportPost
		var posted int64
		lines, err := scanWithLines(row, true, &p.ID, &p.Area, &p.Author, &p.Subject, &posted, &p.ReplyMsgID, &p.ReplyTo)
		p.Lines, p.Posted = lines, fromMillis(posted)
		return p, err
	}, query, args...)
	if err != nil {
		return nil, wrapBoards("unexported posts", err)
	}
	return posts, nil
}

// UnforwardedPosts implements FTN.
func (s *SQLite) UnforwardedPosts(ctx context.Context, limit int) ([]ForwardPost, error) {
	list, err := readAll(ctx, s, func(row scanner) (ForwardPost, error) {
		var p ForwardPost
		return p, row.Scan(&p.ID, &p.Packet)
	}, "SELECT message_id, forward FROM ftn_posts WHERE forward IS NOT NULL ORDER BY message_id LIMIT ?", limit)
	if err != nil {
		return nil, wrap("unforwarded posts", err)
	}
	return list, nil
}

// UnexportedNetmail implements FTN.
func (s *SQLite) UnexportedNetmail(ctx context.Context, limit int) ([]ExportNetmail, error) {
	list, err := readAll(ctx, s, func(row scanner) (ExportNetmail, error) {
		var n ExportNetmail
		var written int64
		lines, err := scanWithLines(row, true, &n.ID, &n.From, &n.ToName, &n.ToAddr, &n.Subject, &written, &n.Reply)
		n.Lines, n.Written = lines, fromMillis(written)
		return n, err
	}, `SELECT o.id, u.name, o.to_name, o.to_addr, o.subject, o.written_at, coalesce(o.reply, ''), o.body, o.line_count
		FROM ftn_netmail_out o JOIN users u ON u.id = o.from_id
		WHERE o.exported_at IS NULL ORDER BY o.id LIMIT ?`, limit)
	if err != nil {
		return nil, wrapBoards("unexported netmail", err)
	}
	return list, nil
}

// NextSerials implements FTN.
func (s *SQLite) NextSerials(ctx context.Context, n int) (uint32, error) {
	var first int64
	err := s.inTx(ctx, func(tx txConn) error {
		if err := tx.QueryRowContext(ctx, "SELECT value FROM ftn_state WHERE name = 'serial'").Scan(&first); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, "UPDATE ftn_state SET value = (value + ?) % 4294967296 WHERE name = 'serial'", n)
		return err
	})
	if err != nil {
		return 0, wrap("next serials", err)
	}
	return uint32(first), nil
}

// MarkExported implements FTN.
func (s *SQLite) MarkExported(ctx context.Context, b ExportBatch) error {
	err := s.inTx(ctx, func(tx txConn) error {
		now := nowMillis()
		for _, p := range b.Posts {
			if _, err := tx.ExecContext(ctx,
				`INSERT INTO ftn_posts (message_id, inbound, area_tag, from_name, from_addr, msgid)
				 SELECT m.id, 0, ?, u.name, '', ? FROM messages m JOIN users u ON u.id = m.author_id WHERE m.id = ?`,
				p.Tag, nullable(p.MsgID), p.ID); err != nil {
				return err
			}
			if p.DupeKey != "" {
				if _, err := tx.ExecContext(ctx, "INSERT INTO ftn_dupes (key, seen_at) VALUES (?, ?) ON CONFLICT DO NOTHING", p.DupeKey, now); err != nil {
					return err
				}
			}
		}
		for _, id := range b.Forwarded {
			if _, err := tx.ExecContext(ctx, "UPDATE ftn_posts SET forward = NULL WHERE message_id = ?", id); err != nil {
				return err
			}
		}
		for _, id := range b.Netmail {
			res, err := tx.ExecContext(ctx, "UPDATE ftn_netmail_out SET exported_at = ? WHERE id = ? AND exported_at IS NULL", now, id)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n != 1 {
				return fmt.Errorf("%w: netmail %d already exported", ErrNotFound, id)
			}
		}
		for _, p := range b.Packets {
			if _, err := tx.ExecContext(ctx, "INSERT INTO ftn_staged (name, uplink, staged_at) VALUES (?, ?, ?)", p.Name, p.Uplink, now); err != nil {
				return err
			}
		}
		return countFTN(ctx, tx, "exported", len(b.Posts)+len(b.Netmail))
	})
	return wrap("mark exported", err)
}

// StagedPackets implements FTN.
func (s *SQLite) StagedPackets(ctx context.Context) ([]StagedPacket, error) {
	list, err := readAll(ctx, s, func(row scanner) (StagedPacket, error) {
		var p StagedPacket
		return p, row.Scan(&p.Name, &p.Uplink)
	}, "SELECT name, uplink FROM ftn_staged ORDER BY staged_at, name")
	return list, wrap("staged packets", err)
}

// UnstagePacket implements FTN.
func (s *SQLite) UnstagePacket(ctx context.Context, name string) error {
	return wrap("unstage packet", s.inTx(ctx, func(tx txConn) error {
		_, err := tx.ExecContext(ctx, "DELETE FROM ftn_staged WHERE name = ?", name)
		return err
	}))
}

// PruneFTNDupes implements FTN.
func (s *SQLite) PruneFTNDupes(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := s.inTx(ctx, func(tx txConn) error {
		res, err := tx.ExecContext(ctx, "DELETE FROM ftn_dupes WHERE seen_at < ?", before.UnixMilli())
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, wrap("prune ftn dupes", err)
}

// SeenFTN implements FTN.
func (s *SQLite) SeenFTN(ctx context.Context, key string) (bool, error) {
	var seen bool
	err := s.inTx(ctx, func(tx txConn) error {
		if err := tx.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM ftn_dupes WHERE key = ?)", key).Scan(&seen); err != nil || !seen {
			return err
		}
		return countFTN(ctx, tx, "dupes", 1)
	})
	return seen, wrap("seen ftn", err)
}

// CountFTN implements FTN.
func (s *SQLite) CountFTN(ctx context.Context, counter string, n int) error {
	return wrap("count ftn", s.inTx(ctx, func(tx txConn) error { return countFTN(ctx, tx, counter, n) }))
}

// FTNCounters implements FTN.
func (s *SQLite) FTNCounters(ctx context.Context) (map[string]int64, error) {
	out := make(map[string]int64)
	type kv struct {
		k string
		v int64
	}
	list, err := readAll(ctx, s, func(row scanner) (kv, error) {
		var p kv
		return p, row.Scan(&p.k, &p.v)
	}, "SELECT name, value FROM ftn_state WHERE name <> 'serial'")
	if err != nil {
		return nil, wrap("ftn counters", err)
	}
	for _, p := range list {
		out[p.k] = p.v
	}
	return out, nil
}

// writeNetmail stores mail to an FTN address (to is "Name@zone:net/node")
// for the scanner to export, returning it as a MailItem.
func writeNetmail(ctx context.Context, tx txConn, to, from, subject, body string, count int) (MailItem, error) {
	name, addr, _ := FTNDestination(to)
	name = strings.TrimSpace(name)
	if len(name) > MaxFTNNameLen || !utf8.ValidString(name) || strings.ContainsFunc(name, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return MailItem{}, fmt.Errorf("%w: FTN name %q: at most %d bytes, no control characters", ErrNoSuchUser, clip(name), MaxFTNNameLen)
	}
	if !strings.Contains(addr, ":") || !strings.Contains(addr, "/") {
		return MailItem{}, fmt.Errorf("%w: %q is not an FTN address (zone:net/node)", ErrNoSuchUser, clip(addr))
	}
	fromID, fromName, err := lookupUser(ctx, tx, "sender", from)
	if err != nil {
		return MailItem{}, err
	}
	var reply any
	// A reply to a tossed netmail from that name and address carries its MSGID.
	if err := tx.QueryRowContext(ctx,
		`SELECT f.msgid FROM ftn_mail f JOIN mail m ON m.id = f.mail_id
		 WHERE m.to_id = ? AND f.from_name = ? AND f.from_addr = ? AND f.msgid IS NOT NULL ORDER BY m.id DESC LIMIT 1`,
		fromID, name, addr).Scan(&reply); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return MailItem{}, err
	}
	now := nowMillis()
	m := MailItem{To: name + "@" + addr, From: fromName, Subject: subject, Lines: decodeLines(body, count), Sent: fromMillis(now)}
	err = tx.QueryRowContext(ctx,
		`INSERT INTO ftn_netmail_out (from_id, to_name, to_addr, subject, body, line_count, reply, written_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		 RETURNING id`,
		fromID, name, addr, subject, body, count, reply, now).Scan(&m.ID)
	if err != nil {
		return MailItem{}, err
	}
	return m, nil
}
