package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

var _ FileStore = (*SQLite)(nil)

// fileColumns select a file (files f) for scanFile.
const fileColumns = `f.id, f.area, f.name, f.description, f.uploader, f.size, f.sha256,
	f.uploaded_at, coalesce(f.approved_at, 0), f.downloads`

// scanFile reads the columns of fileColumns.
func scanFile(row scanner) (File, error) {
	var (
		f                  File
		uploaded, approved int64
	)
	err := row.Scan(&f.ID, &f.Area, &f.Name, &f.Description, &f.Uploader, &f.Size, &f.SHA256, &uploaded, &approved, &f.Downloads)
	if err != nil {
		return File{}, err
	}
	f.Uploaded = fromMillis(uploaded)
	if approved != 0 {
		f.Approved = fromMillis(approved)
	}
	return f, nil
}

// fileKey is how a user or area name is kept in the file tables.
func fileKey(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// AddFile implements FileStore.
func (s *SQLite) AddFile(ctx context.Context, nf NewFile) (File, error) {
	var f File
	err := s.inTx(ctx, func(tx txConn) error {
		if err := checkNewFile(ctx, tx, nf); err != nil {
			return err
		}
		now := nowMillis()
		var approved any
		if nf.Approved {
			approved = now
		}
		var id int64
		err := tx.QueryRowContext(ctx,
			`INSERT INTO files (area, name, name_key, description, uploader, size, sha256, uploaded_at, approved_at)
			 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			fileKey(nf.Area), nf.Name, fileKey(nf.Name), nf.Description, nf.Uploader, nf.Size, nf.SHA256, now, approved).Scan(&id)
		if isUniqueViolation(err) {
			return ErrFileExists
		}
		if err != nil {
			return err
		}
		f, err = scanFile(tx.QueryRowContext(ctx, "SELECT "+fileColumns+" FROM files f WHERE f.id = ?", id))
		return err
	})
	return f, wrapFiles("add file", err)
}

// checkNewFile refuses nf in tx if its name or content is taken or it
// breaks a quota.
func checkNewFile(ctx context.Context, tx txConn, nf NewFile) error {
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM files WHERE area = ? AND name_key = ?",
		fileKey(nf.Area), fileKey(nf.Name)).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return fmt.Errorf("%w: %q", ErrFileExists, nf.Name)
	}
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM files WHERE sha256 = ?", nf.SHA256).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return ErrDuplicate
	}
	for _, q := range []struct {
		quota int64
		where string
		arg   string
		whose string
	}{{nf.AreaQuota, "area = ?", fileKey(nf.Area), "the area's"}, {nf.UserQuota, "lower(uploader) = ?", fileKey(nf.Uploader), "your"}} {
		if q.quota <= 0 {
			continue
		}
		var used int64
		if err := tx.QueryRowContext(ctx, "SELECT CAST(coalesce(sum(size), 0) AS BIGINT) FROM files WHERE "+q.where, q.arg).Scan(&used); err != nil {
			return err
		}
		if used+nf.Size > q.quota {
			return fmt.Errorf("%w: %s %d of %d bytes are used", ErrQuota, q.whose, used, q.quota)
		}
	}
	return nil
}

// File implements FileStore.
func (s *SQLite) File(ctx context.Context, id int64) (File, error) {
	return s.oneFile(ctx, "file", "f.id = ?", id)
}

// FileByName implements FileStore.
func (s *SQLite) FileByName(ctx context.Context, area, name string) (File, error) {
	return s.oneFile(ctx, "file by name", "f.area = ? AND f.name_key = ?", fileKey(area), fileKey(name))
}

// oneFile reads the file where selects; ErrNotFound if none.
func (s *SQLite) oneFile(ctx context.Context, op, where string, args ...any) (File, error) {
	var f File
	err := s.with(func(p *pools) (err error) {
		f, err = scanFile(p.r.QueryRowContext(ctx, "SELECT "+fileColumns+" FROM files f WHERE "+where, args...))
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		return File{}, ErrNotFound
	}
	return f, wrapFiles(op, err)
}

// fileWhere is the WHERE clause and arguments of q.
func fileWhere(q FileQuery) (string, []any) {
	conds := []string{"f.approved_at IS NOT NULL"}
	if q.Waiting {
		conds[0] = "f.approved_at IS NULL"
	}
	var args []any
	if q.Area != "" {
		conds = append(conds, "f.area = ?")
		args = append(args, fileKey(q.Area))
	}
	if q.Search != "" {
		pattern := "%" + likeEscaper.Replace(q.Search) + "%"
		conds = append(conds, `(lower(f.name) LIKE lower(?) ESCAPE '\' OR lower(f.description) LIKE lower(?) ESCAPE '\')`)
		args = append(args, pattern, pattern)
	}
	if !q.Since.IsZero() {
		conds = append(conds, "f.approved_at > ?")
		args = append(args, q.Since.UnixMilli())
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// likeEscaper escapes LIKE's wildcards with '\'.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// Files implements FileStore.
func (s *SQLite) Files(ctx context.Context, q FileQuery) ([]File, error) {
	if len(q.Search) > MaxFileSearch {
		q.Search = q.Search[:MaxFileSearch]
	}
	where, args := fileWhere(q)
	order := " ORDER BY f.id"
	if q.Newest {
		order += " DESC"
	}
	limit := q.Limit
	if limit < 1 || limit > MaxPage {
		limit = MaxPage
	}
	args = append(args, limit, max(q.Offset, 0))
	files, err := readAll(ctx, s, scanFile, "SELECT "+fileColumns+" FROM files f"+where+order+" LIMIT ? OFFSET ?", args...)
	return files, wrapFiles("files", err)
}

// FileCount implements FileStore.
func (s *SQLite) FileCount(ctx context.Context, q FileQuery) (int, error) {
	if len(q.Search) > MaxFileSearch {
		q.Search = q.Search[:MaxFileSearch]
	}
	where, args := fileWhere(q)
	var n int
	err := s.with(func(p *pools) error {
		return p.r.QueryRowContext(ctx, "SELECT count(*) FROM files f"+where, args...).Scan(&n)
	})
	return n, wrapFiles("file count", err)
}

// ApproveFile implements FileStore.
func (s *SQLite) ApproveFile(ctx context.Context, id int64) (File, error) {
	var f File
	err := s.inTx(ctx, func(tx txConn) error {
		res, err := tx.ExecContext(ctx, "UPDATE files SET approved_at = ? WHERE id = ? AND approved_at IS NULL", nowMillis(), id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return errors.Join(err, ErrNotFound)
		}
		f, err = scanFile(tx.QueryRowContext(ctx, "SELECT "+fileColumns+" FROM files f WHERE f.id = ?", id))
		return err
	})
	return f, wrapFiles("approve file", err)
}

// RemoveFile implements FileStore.
func (s *SQLite) RemoveFile(ctx context.Context, id int64) (File, error) {
	var f File
	err := s.inTx(ctx, func(tx txConn) (err error) {
		f, err = scanFile(tx.QueryRowContext(ctx, "SELECT "+fileColumns+" FROM files f WHERE f.id = ?", id))
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, "DELETE FROM files WHERE id = ?", id)
		return err
	})
	return f, wrapFiles("remove file", err)
}

// CountDownload implements FileStore.
func (s *SQLite) CountDownload(ctx context.Context, id int64) error {
	err := s.inTx(ctx, func(tx txConn) error {
		_, err := tx.ExecContext(ctx, "UPDATE files SET downloads = downloads + 1 WHERE id = ?", id)
		return err
	})
	return wrapFiles("count download", err)
}

// LastFileScan implements FileStore.
func (s *SQLite) LastFileScan(ctx context.Context, user string) (time.Time, error) {
	var at int64
	err := s.with(func(p *pools) error {
		return p.r.QueryRowContext(ctx, `SELECT scanned FROM file_scans WHERE "user" = ?`, fileKey(user)).Scan(&at)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, wrapFiles("last file scan", err)
	}
	return fromMillis(at), nil
}

// MarkFileScan implements FileStore.
func (s *SQLite) MarkFileScan(ctx context.Context, user string, at time.Time) error {
	err := s.inTx(ctx, func(tx txConn) error {
		_, err := tx.ExecContext(ctx,
			`INSERT INTO file_scans ("user", scanned) VALUES (?, ?)
			 ON CONFLICT ("user") DO UPDATE SET scanned = max(file_scans.scanned, excluded.scanned)`,
			fileKey(user), at.UnixMilli())
		return err
	})
	return wrapFiles("mark file scan", err)
}

// QueueFile implements FileStore.
func (s *SQLite) QueueFile(ctx context.Context, user string, id int64) error {
	err := s.inTx(ctx, func(tx txConn) error {
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM files WHERE id = ? AND approved_at IS NOT NULL", id).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return ErrNotFound
		}
		var queued, in int
		if err := tx.QueryRowContext(ctx, `SELECT count(*), count(CASE WHEN file_id = ? THEN 1 END) FROM file_queue WHERE "user" = ?`,
			id, fileKey(user)).Scan(&queued, &in); err != nil {
			return err
		}
		if in > 0 {
			return nil
		}
		if queued >= MaxQueuedFiles {
			return fmt.Errorf("%w: %d files", ErrQueueFull, queued)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO file_queue ("user", file_id, queued_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
			fileKey(user), id, nowMillis())
		return err
	})
	return wrapFiles("queue file", err)
}

// Queued implements FileStore.
func (s *SQLite) Queued(ctx context.Context, user string) ([]File, error) {
	files, err := readAll(ctx, s, scanFile, "SELECT "+fileColumns+
		` FROM file_queue q JOIN files f ON f.id = q.file_id WHERE q."user" = ? ORDER BY q.queued_at, f.id`, fileKey(user))
	return files, wrapFiles("queued files", err)
}

// UnqueueFile implements FileStore.
func (s *SQLite) UnqueueFile(ctx context.Context, user string, id int64) error {
	err := s.inTx(ctx, func(tx txConn) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM file_queue WHERE "user" = ? AND file_id = ?`, fileKey(user), id)
		return err
	})
	return wrapFiles("unqueue file", err)
}

// FileLinkKey implements FileStore.
func (s *SQLite) FileLinkKey(ctx context.Context) ([]byte, error) {
	var key []byte
	err := s.inTx(ctx, func(tx txConn) error {
		fresh := make([]byte, 32)
		if _, err := rand.Read(fresh); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO file_link_key (id, key) VALUES (1, ?) ON CONFLICT DO NOTHING", fresh); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, "SELECT key FROM file_link_key WHERE id = 1").Scan(&key)
	})
	return key, wrapFiles("file link key", err)
}
