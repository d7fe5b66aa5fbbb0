package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"
)

var (
	_ Boards  = (*SQLite)(nil)
	_ Mailbox = (*SQLite)(nil)
)

// defaultAreaID is DefaultArea's id, fixed by migration 004.
const defaultAreaID = 1

// readTx runs fn in a read transaction on the read pool, so that its
// queries see one snapshot of the database.
func (s *SQLite) readTx(ctx context.Context, fn func(tx txConn) error) error {
	return s.with(func(p *pools) error {
		if s.pg == nil {
			return connTx(ctx, p.r, beginRead, fn)
		}
		return sqlTx(ctx, p.r, s.readTxOptions(), fn)
	})
}

// lookupArea returns the id and defined spelling of area name in tx, or an
// error wrapping ErrBadArea or ErrNoSuchArea.
func lookupArea(ctx context.Context, tx txConn, name string) (int64, string, error) {
	canon, err := canonicalArea(name)
	if err != nil {
		return 0, "", err
	}
	var id int64
	err = tx.QueryRowContext(ctx, "SELECT id, name FROM areas WHERE name = ?", canon).Scan(&id, &canon)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, "", fmt.Errorf("%w: %q", ErrNoSuchArea, canon)
	}
	return id, canon, err
}

// postColumns select a post (from messages m joined with areas a and users
// u) for scanPost; postLineColumns add its lines. A post tossed in from an
// FTN network (ftn_posts fp) shows its FTN author as "Name@zone:net/node",
// so that nobody elsewhere can pass for a local caller.
const (
	postColumns = `m.id, a.name, coalesce(fp.from_name || '@' || fp.from_addr, u.name), m.subject, m.posted_at,
		coalesce(m.parent_id, 0), coalesce(m.root_id, m.id),
		(SELECT count(*) FROM messages c WHERE c.parent_id = m.id)`
	postLineColumns = postColumns + `, m.body, m.line_count`
	postFrom        = ` FROM messages m
		JOIN areas a ON a.id = m.area_id
		JOIN users u ON u.id = m.author_id
		LEFT JOIN ftn_posts fp ON fp.message_id = m.id AND fp.inbound = 1 `
)

// scanPost reads the columns of postColumns (postLineColumns when
// withLines).
func scanPost(row scanner, withLines bool) (Post, error) {
	var (
		p      Post
		posted int64
		err    error
	)
	p.Lines, err = scanWithLines(row, withLines, &p.ID, &p.Area, &p.Author, &p.Subject, &posted, &p.ParentID, &p.RootID, &p.Replies)
	if err != nil {
		return Post{}, err
	}
	p.Posted = fromMillis(posted)
	return p, nil
}

// scanWithLines scans row into dest and, when withLines, the two columns
// after them, a body and its line count, returning the decoded lines (nil
// without).
func scanWithLines(row scanner, withLines bool, dest ...any) ([]string, error) {
	var (
		body  string
		count int
	)
	if withLines {
		dest = append(dest, &body, &count)
	}
	if err := row.Scan(dest...); err != nil || !withLines {
		return nil, err
	}
	return decodeLines(body, count), nil
}

// queryPosts runs a query selecting postColumns and returns its posts.
func queryPosts(ctx context.Context, tx txConn, query string, args ...any) ([]Post, error) {
	return queryAll(ctx, tx, scanListedPost, query, args...)
}

// scanListedPost reads the columns of postColumns.
func scanListedPost(row scanner) (Post, error) { return scanPost(row, false) }

// areaColumns select an area (areas a) for scanArea, with its post count.
const areaColumns = `a.name, a.description,
	(SELECT coalesce(max(seq) + 1, 0) FROM messages WHERE area_id = a.id)`

// scanArea reads the columns of areaColumns.
func scanArea(row scanner) (Area, error) {
	var a Area
	err := row.Scan(&a.Name, &a.Description, &a.Posts)
	return a, err
}

// Areas implements Boards.
func (s *SQLite) Areas(ctx context.Context) ([]Area, error) {
	areas, err := readAll(ctx, s, scanArea, "SELECT "+areaColumns+" FROM areas a ORDER BY a.id")
	if err != nil {
		return nil, wrapBoards("areas", err)
	}
	return areas, nil
}

// Area implements Boards.
func (s *SQLite) Area(ctx context.Context, name string) (Area, error) {
	var a Area
	err := s.readTx(ctx, func(tx txConn) error {
		canon, err := canonicalArea(name)
		if err != nil {
			return err
		}
		a, err = scanArea(tx.QueryRowContext(ctx, "SELECT "+areaColumns+" FROM areas a WHERE a.name = ?", canon))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: %q", ErrNoSuchArea, canon)
		}
		return err
	})
	if err != nil {
		return Area{}, wrapBoards("area", err)
	}
	return a, nil
}

// DefineArea implements Boards. An existing area keeps its spelling.
func (s *SQLite) DefineArea(ctx context.Context, name, description string) (Area, error) {
	canon, err := canonicalArea(name)
	if err != nil {
		return Area{}, err
	}
	description, err = checkSubject(description, MaxDescriptionLen)
	if err != nil {
		return Area{}, fmt.Errorf("%w (area description)", err)
	}
	var a Area
	err = s.inTx(ctx, func(tx txConn) error {
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO areas (name, description, created_at) VALUES (?, ?, ?)
			 ON CONFLICT (name) DO UPDATE SET description = excluded.description`,
			canon, description, nowMillis()); err != nil {
			return err
		}
		a, err = scanArea(tx.QueryRowContext(ctx, "SELECT "+areaColumns+" FROM areas a WHERE a.name = ?", canon))
		return err
	})
	if err != nil {
		return Area{}, wrapBoards("define area", err)
	}
	return a, nil
}

// Post implements Boards.
func (s *SQLite) Post(ctx context.Context, np NewPost) (Post, error) {
	return s.post(ctx, "post", np)
}

// post is Post (and PostMessage), with op naming the call in errors.
func (s *SQLite) post(ctx context.Context, op string, np NewPost) (Post, error) {
	body, count, err := encodeLines(np.Lines)
	if err != nil {
		return Post{}, err
	}
	subject, err := checkSubject(np.Subject, MaxSubjectLen)
	if err != nil {
		return Post{}, err
	}
	p := Post{Subject: subject, Lines: decodeLines(body, count)}
	err = s.inTx(ctx, func(tx txConn) error {
		uid, author, err := lookupUser(ctx, tx, "author", np.Author)
		if err != nil {
			return err
		}
		p.Author = author
		var areaID int64
		var parentID, rootID any // NULL for a new thread
		if np.ReplyTo == 0 {
			if areaID, p.Area, err = lookupArea(ctx, tx, np.Area); err != nil {
				return err
			}
		} else {
			var parentSubject string
			err := tx.QueryRowContext(ctx,
				`SELECT m.area_id, a.name, m.subject, coalesce(m.root_id, m.id)
				 FROM messages m JOIN areas a ON a.id = m.area_id WHERE m.id = ?`,
				np.ReplyTo).Scan(&areaID, &p.Area, &parentSubject, &p.RootID)
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("%w: post %d to reply to", ErrNotFound, np.ReplyTo)
			}
			if err != nil {
				return err
			}
			if np.Area != "" {
				if want, err := canonicalArea(np.Area); err != nil {
					return err
				} else if !strings.EqualFold(want, p.Area) {
					return fmt.Errorf("%w: post %d in area %q (it is in %q)", ErrNotFound, np.ReplyTo, want, p.Area)
				}
			}
			if p.Subject == "" {
				p.Subject = replySubject(parentSubject)
			}
			p.ParentID = np.ReplyTo
			parentID, rootID = p.ParentID, p.RootID
		}
		now := nowMillis()
		err = tx.QueryRowContext(ctx,
			`INSERT INTO messages (area_id, seq, author_id, subject, parent_id, root_id, body, line_count, posted_at)
			 VALUES (?1, (SELECT coalesce(max(seq), -1) + 1 FROM messages WHERE area_id = ?1), ?2, ?3, ?4, ?5, ?6, ?7, ?8)
			 RETURNING id`,
			areaID, uid, p.Subject, parentID, rootID, body, count, now).Scan(&p.ID)
		if err != nil {
			return err
		}
		p.Posted = fromMillis(now)
		if p.RootID == 0 {
			p.RootID = p.ID
		}
		return nil
	})
	if err != nil {
		return Post{}, wrapBoards(op, err)
	}
	return p, nil
}

// PostCount implements Boards.
func (s *SQLite) PostCount(ctx context.Context, area string) (int, error) {
	a, err := s.Area(ctx, area)
	if err != nil {
		return 0, err
	}
	return a.Posts, nil
}

// Posts implements Boards. Positions are dense within an area, so a page is
// a range of the (area_id, seq) index, however deep the offset.
func (s *SQLite) Posts(ctx context.Context, area string, offset, limit int, order Order) ([]Post, error) {
	offset, limit = page(offset, limit)
	query := "SELECT " + postColumns + postFrom + `WHERE m.area_id = ?1 AND m.seq >= ?2
		ORDER BY m.seq LIMIT ?3`
	if order == NewestFirst {
		query = "SELECT " + postColumns + postFrom + `WHERE m.area_id = ?1
		AND m.seq <= (SELECT max(seq) FROM messages WHERE area_id = ?1) - ?2
		ORDER BY m.seq DESC LIMIT ?3`
	}
	var posts []Post
	err := s.readTx(ctx, func(tx txConn) error {
		areaID, _, err := lookupArea(ctx, tx, area)
		if err != nil {
			return err
		}
		posts, err = queryPosts(ctx, tx, query, areaID, offset, limit)
		return err
	})
	if err != nil {
		return nil, wrapBoards("posts", err)
	}
	return posts, nil
}

// ReadPost implements Boards.
func (s *SQLite) ReadPost(ctx context.Context, id int64) (Post, error) {
	var p Post
	err := s.readTx(ctx, func(tx txConn) (err error) {
		p, err = scanPost(tx.QueryRowContext(ctx, "SELECT "+postLineColumns+postFrom+"WHERE m.id = ?", id), true)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: post %d", ErrNotFound, id)
		}
		return err
	})
	if err != nil {
		return Post{}, wrapBoards("read post", err)
	}
	return p, nil
}

// Thread implements Boards: the posts come in reading order, each reply
// after the post it answers and before that post's later replies.
func (s *SQLite) Thread(ctx context.Context, id int64) ([]Post, error) {
	var posts []Post
	err := s.readTx(ctx, func(tx txConn) error {
		var root int64
		err := tx.QueryRowContext(ctx, "SELECT coalesce(root_id, id) FROM messages WHERE id = ?", id).Scan(&root)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: post %d", ErrNotFound, id)
		}
		if err != nil {
			return err
		}
		posts, err = queryPosts(ctx, tx,
			"SELECT "+postColumns+postFrom+"WHERE m.id = ?1 OR m.root_id = ?1 ORDER BY m.id LIMIT ?2",
			root, MaxThread)
		return err
	})
	if err != nil {
		return nil, wrapBoards("thread", err)
	}
	return threadOrder(posts), nil
}

// threadOrder arranges posts sorted by id into depth-first reading order
// and sets their Depth. A post whose parent is missing (deleted) hangs
// below the thread's first post, or at the top if that is gone too.
func threadOrder(posts []Post) []Post {
	byID := make(map[int64]bool, len(posts))
	for _, p := range posts {
		byID[p.ID] = true
	}
	children := make(map[int64][]Post)
	var tops []Post
	for _, p := range posts {
		switch {
		case p.ID == p.RootID:
			tops = append(tops, p)
		case byID[p.ParentID]:
			children[p.ParentID] = append(children[p.ParentID], p)
		case byID[p.RootID]:
			children[p.RootID] = append(children[p.RootID], p)
		default:
			p.Depth = 1 // an orphan of a deleted first post
			tops = append(tops, p)
		}
	}
	out := make([]Post, 0, len(posts))
	var walk func(p Post, depth int)
	walk = func(p Post, depth int) {
		p.Depth = depth
		out = append(out, p)
		kids := children[p.ID]
		sort.Slice(kids, func(i, j int) bool { return kids[i].ID < kids[j].ID })
		for _, c := range kids {
			walk(c, depth+1)
		}
	}
	for _, p := range tops {
		walk(p, p.Depth)
	}
	return out
}

// DeletePost implements Boards. The area's later posts move up one
// position, keeping positions dense.
func (s *SQLite) DeletePost(ctx context.Context, id int64) error {
	err := s.inTx(ctx, func(tx txConn) error {
		var areaID, seq int64
		err := tx.QueryRowContext(ctx, "SELECT area_id, seq FROM messages WHERE id = ?", id).Scan(&areaID, &seq)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: post %d", ErrNotFound, id)
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM messages WHERE id = ?", id); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, "UPDATE messages SET seq = seq - 1 WHERE area_id = ? AND seq > ?", areaID, seq)
		return err
	})
	return wrapBoards("delete post", err)
}

// pointerSQL is user ?1's last-read pointer in area ?2 (0 if none).
const pointerSQL = `coalesce((SELECT message_id FROM last_read WHERE user_id = ?1 AND area_id = ?2), 0)`

// readerArea is a user and an area, as looked up in one transaction.
type readerArea struct {
	userID, areaID int64
	user, area     string // as registered and as defined
}

// lookupReaderArea looks up user (as lookupUser does) and area (as
// lookupArea does) in tx.
func lookupReaderArea(ctx context.Context, tx txConn, user, area string) (readerArea, error) {
	var (
		ra  readerArea
		err error
	)
	if ra.userID, ra.user, err = lookupUser(ctx, tx, "user", user); err != nil {
		return readerArea{}, err
	}
	if ra.areaID, ra.area, err = lookupArea(ctx, tx, area); err != nil {
		return readerArea{}, err
	}
	return ra, nil
}

// NewCount implements Boards.
func (s *SQLite) NewCount(ctx context.Context, user, area string) (int, error) {
	var n int
	err := s.readTx(ctx, func(tx txConn) error {
		ra, err := lookupReaderArea(ctx, tx, user, area)
		if err != nil {
			return err
		}
		return tx.QueryRowContext(ctx,
			"SELECT count(*) FROM messages WHERE area_id = ?2 AND author_id <> ?1 AND id > "+pointerSQL,
			ra.userID, ra.areaID).Scan(&n)
	})
	if err != nil {
		return 0, wrapBoards("new count", err)
	}
	return n, nil
}

// LastRead implements Boards.
func (s *SQLite) LastRead(ctx context.Context, user, area string) (int64, error) {
	var id int64
	err := s.readTx(ctx, func(tx txConn) error {
		ra, err := lookupReaderArea(ctx, tx, user, area)
		if err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, "SELECT "+pointerSQL, ra.userID, ra.areaID).Scan(&id)
	})
	if err != nil {
		return 0, wrapBoards("last read", err)
	}
	return id, nil
}

// setPointer moves user uid's pointer in areaID forward to id.
func setPointer(ctx context.Context, tx txConn, uid, areaID, id int64) error {
	_, err := tx.ExecContext(ctx,
		`INSERT INTO last_read (user_id, area_id, message_id) VALUES (?, ?, ?)
		 ON CONFLICT (user_id, area_id) DO UPDATE SET message_id = max(last_read.message_id, excluded.message_id)`,
		uid, areaID, id)
	return err
}

// NextNew implements Boards.
func (s *SQLite) NextNew(ctx context.Context, user, area string) (Post, error) {
	var p Post
	err := s.inTx(ctx, func(tx txConn) error {
		ra, err := lookupReaderArea(ctx, tx, user, area)
		if err != nil {
			return err
		}
		p, err = scanPost(tx.QueryRowContext(ctx,
			"SELECT "+postLineColumns+postFrom+"WHERE m.area_id = ?2 AND m.author_id <> ?1 AND m.id > "+pointerSQL+" ORDER BY m.id LIMIT 1",
			ra.userID, ra.areaID), true)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: no new posts in %q for %q", ErrNotFound, ra.area, ra.user)
		}
		if err != nil {
			return err
		}
		return setPointer(ctx, tx, ra.userID, ra.areaID, p.ID)
	})
	if err != nil {
		return Post{}, wrapBoards("next new", err)
	}
	return p, nil
}

// MarkRead implements Boards.
func (s *SQLite) MarkRead(ctx context.Context, user, area string, upTo int64) error {
	err := s.inTx(ctx, func(tx txConn) error {
		ra, err := lookupReaderArea(ctx, tx, user, area)
		if err != nil {
			return err
		}
		var id int64
		if upTo == 0 {
			err = tx.QueryRowContext(ctx, "SELECT coalesce(max(id), 0) FROM messages WHERE area_id = ?", ra.areaID).Scan(&id)
		} else {
			err = tx.QueryRowContext(ctx, "SELECT id FROM messages WHERE id = ? AND area_id = ?", upTo, ra.areaID).Scan(&id)
			if errors.Is(err, sql.ErrNoRows) {
				err = fmt.Errorf("%w: post %d in area %q", ErrNotFound, upTo, ra.area)
			}
		}
		if err != nil || id == 0 {
			return err
		}
		return setPointer(ctx, tx, ra.userID, ra.areaID, id)
	})
	return wrapBoards("mark read", err)
}

// mailColumns select a mail (mail m joined with users t (to) and f (from))
// for scanMail; mailLineColumns add its lines. Netmail tossed in from an
// FTN network (ftn_mail fm) is from "Name@zone:net/node".
const (
	mailColumns     = `m.id, t.name, coalesce(fm.from_name || '@' || fm.from_addr, f.name), m.subject, m.sent_at, m.read_at IS NOT NULL`
	mailLineColumns = mailColumns + `, m.body, m.line_count`
	mailFrom        = ` FROM mail m
		JOIN users t ON t.id = m.to_id
		JOIN users f ON f.id = m.from_id
		LEFT JOIN ftn_mail fm ON fm.mail_id = m.id `
	// mailOwner is the recipient ?1's id.
	mailOwner = `(SELECT id FROM users WHERE name = ?1)`
)

// scanMail reads the columns of mailColumns (mailLineColumns when
// withLines).
func scanMail(row scanner, withLines bool) (MailItem, error) {
	var (
		m    MailItem
		sent int64
		err  error
	)
	m.Lines, err = scanWithLines(row, withLines, &m.ID, &m.To, &m.From, &m.Subject, &sent, &m.Read)
	if err != nil {
		return MailItem{}, err
	}
	m.Sent = fromMillis(sent)
	return m, nil
}

// scanListedMail reads the columns of mailColumns.
func scanListedMail(row scanner) (MailItem, error) { return scanMail(row, false) }

// WriteMail implements Mailbox.
func (s *SQLite) WriteMail(ctx context.Context, to, from, subject string, lines []string) (MailItem, error) {
	return s.writeMail(ctx, "write mail", to, from, subject, lines)
}

// writeMail is WriteMail (and SendMail), with op naming the call in errors.
func (s *SQLite) writeMail(ctx context.Context, op, to, from, subject string, lines []string) (MailItem, error) {
	body, count, err := encodeLines(lines)
	if err != nil {
		return MailItem{}, err
	}
	subject, err = checkSubject(subject, MaxSubjectLen)
	if err != nil {
		return MailItem{}, err
	}
	m := MailItem{Subject: subject, Lines: decodeLines(body, count)}
	err = s.inTx(ctx, func(tx txConn) error {
		if _, _, ftn := FTNDestination(to); ftn {
			m, err = writeNetmail(ctx, tx, to, from, subject, body, count)
			return err
		}
		toID, toName, err := lookupUser(ctx, tx, "recipient", to)
		if err != nil {
			return err
		}
		fromID, fromName, err := lookupUser(ctx, tx, "sender", from)
		if err != nil {
			return err
		}
		m.To, m.From = toName, fromName
		now := nowMillis()
		m.Sent = fromMillis(now)
		return tx.QueryRowContext(ctx,
			`INSERT INTO mail (to_id, from_id, subject, body, line_count, sent_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
			toID, fromID, subject, body, count, now).Scan(&m.ID)
	})
	if err != nil {
		return MailItem{}, wrapBoards(op, err)
	}
	return m, nil
}

// ListMail implements Mailbox.
func (s *SQLite) ListMail(ctx context.Context, user string, offset, limit int) ([]MailItem, error) {
	name, err := canonicalName(user)
	if err != nil {
		return []MailItem{}, nil
	}
	offset, limit = page(offset, limit)
	list, err := readAll(ctx, s, scanListedMail,
		"SELECT "+mailColumns+mailFrom+"WHERE m.to_id = "+mailOwner+" ORDER BY m.id DESC LIMIT ?2 OFFSET ?3",
		name, limit, offset)
	if err != nil {
		return nil, wrapBoards("list mail", err)
	}
	return list, nil
}

// MailCount implements Mailbox.
func (s *SQLite) MailCount(ctx context.Context, user string) (total, unread int, err error) {
	name, err := canonicalName(user)
	if err != nil {
		return 0, 0, nil
	}
	err = s.with(func(p *pools) error {
		return p.r.QueryRowContext(ctx,
			"SELECT count(*), coalesce(sum(CASE WHEN read_at IS NULL THEN 1 ELSE 0 END), 0) FROM mail WHERE to_id = "+mailOwner,
			name).Scan(&total, &unread)
	})
	if err != nil {
		return 0, 0, wrapBoards("mail count", err)
	}
	return total, unread, nil
}

// ReadMail implements Mailbox. The first reading sets the time it was read.
func (s *SQLite) ReadMail(ctx context.Context, user string, id int64) (MailItem, error) {
	name, err := canonicalName(user)
	if err != nil {
		return MailItem{}, fmt.Errorf("%w: mail %d for %q", ErrNotFound, id, clip(user))
	}
	var m MailItem
	err = s.inTx(ctx, func(tx txConn) error {
		m, err = scanMail(tx.QueryRowContext(ctx,
			"SELECT "+mailLineColumns+mailFrom+"WHERE m.to_id = "+mailOwner+" AND m.id = ?2",
			name, id), true)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: mail %d for %q", ErrNotFound, id, name)
		}
		if err != nil || m.Read {
			return err
		}
		m.Read = true
		_, err = tx.ExecContext(ctx, "UPDATE mail SET read_at = ? WHERE id = ?", nowMillis(), id)
		return err
	})
	if err != nil {
		return MailItem{}, wrapBoards("read mail", err)
	}
	return m, nil
}

// DeleteMail implements Mailbox.
func (s *SQLite) DeleteMail(ctx context.Context, user string, id int64) error {
	name, err := canonicalName(user)
	if err != nil {
		return fmt.Errorf("%w: mail %d for %q", ErrNotFound, id, clip(user))
	}
	var n int64
	err = s.with(func(p *pools) error {
		res, err := p.w.ExecContext(ctx, "DELETE FROM mail WHERE to_id = "+mailOwner+" AND id = ?2", name, id)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return wrapBoards("delete mail", err)
	}
	if n == 0 {
		return fmt.Errorf("%w: mail %d for %q", ErrNotFound, id, name)
	}
	return nil
}
