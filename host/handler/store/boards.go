package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Boards keeps the message areas: threaded posts in sysop-defined areas and
// each user's last-read pointer per area. *SQLite implements it.
//
// Areas are named by the area naming rules ([MaxAreaNameLen]; looked up
// regardless of case). [DefaultArea] always exists; the original board's
// Store.PostMessage, MessageCount and MessageAt work on it.
type Boards interface {
	// Areas lists the areas, DefaultArea first, then in the order they
	// were defined.
	Areas(ctx context.Context) ([]Area, error)
	// Area returns one area; ErrNoSuchArea if it does not exist.
	Area(ctx context.Context, name string) (Area, error)
	// DefineArea creates an area, or updates its description if it exists.
	// It returns ErrBadArea for a name breaking the rules and
	// ErrBadSubject for a description longer than MaxDescriptionLen or
	// holding control characters.
	DefineArea(ctx context.Context, name, description string) (Area, error)
	// Post adds a post. With ReplyTo set it joins that post's thread (in
	// that post's area: p.Area may be empty, and must name that area if
	// it is not); an empty subject then becomes "Re: " and the parent's
	// subject. Errors: ErrNoSuchArea, ErrNoSuchUser, ErrNotFound (no such
	// parent, or the parent is in another area), ErrBadSubject,
	// ErrTooLarge.
	Post(ctx context.Context, p NewPost) (Post, error)
	// PostCount returns the number of posts in an area.
	PostCount(ctx context.Context, area string) (int, error)
	// Posts lists a page of an area's posts, without their lines, newest
	// or oldest first. offset below 0 counts as 0; limit outside
	// 1..MaxPage means MaxPage. Past the end the list is empty.
	Posts(ctx context.Context, area string, offset, limit int, order Order) ([]Post, error)
	// ReadPost returns a post with its lines; ErrNotFound if there is none.
	ReadPost(ctx context.Context, id int64) (Post, error)
	// Thread returns the posts of the thread that id belongs to, without
	// their lines, oldest first, with Depth set; at most MaxThread posts.
	Thread(ctx context.Context, id int64) ([]Post, error)
	// DeletePost removes a post. Its replies stay in the thread with no
	// parent. ErrNotFound if there is no such post.
	DeletePost(ctx context.Context, id int64) error
	// NewCount returns how many posts in area are new to user: written by
	// someone else (one's own posts are never new) and newer than user's
	// last-read pointer there.
	NewCount(ctx context.Context, user, area string) (int, error)
	// NextNew returns the oldest post in area that is new to user (as in
	// NewCount), with its lines, and moves the pointer to it in the same
	// transaction. ErrNotFound when there is none.
	NextNew(ctx context.Context, user, area string) (Post, error)
	// LastRead returns user's last-read pointer in area: the id of the
	// newest post they have read there (0 if none). Posts by others with
	// a larger id are new to them.
	LastRead(ctx context.Context, user, area string) (int64, error)
	// MarkRead moves user's last-read pointer in area forward to post
	// upTo (0: to the newest post), so that posts up to it are no longer
	// new. The pointer never moves back.
	MarkRead(ctx context.Context, user, area string, upTo int64) error
}

// Mailbox keeps private mail: mail is kept, read or unread, until its
// recipient deletes it. *SQLite implements it; its SendMail,
// UnreadMailCount and ReadNextMail (from Store) work on the same mail.
type Mailbox interface {
	// WriteMail sends mail with a subject. Mail to "Name@zone:net/node"
	// is FTN netmail, kept for the FTN scanner to export (see FTN).
	// Errors: ErrNoSuchUser, ErrBadSubject, ErrTooLarge.
	WriteMail(ctx context.Context, to, from, subject string, lines []string) (MailItem, error)
	// ListMail lists a page of user's mail, without lines, newest first
	// (offset and limit as in Boards.Posts). An unknown user has none.
	ListMail(ctx context.Context, user string, offset, limit int) ([]MailItem, error)
	// MailCount returns how many mails user has, and how many of them are
	// unread.
	MailCount(ctx context.Context, user string) (total, unread int, err error)
	// ReadMail returns one of user's mails with its lines and marks it
	// read. ErrNotFound if user has no mail of that id (mail to others
	// included).
	ReadMail(ctx context.Context, user string, id int64) (MailItem, error)
	// DeleteMail deletes one of user's mails. ErrNotFound if user has no
	// mail of that id: nobody can delete mail sent to someone else.
	DeleteMail(ctx context.Context, user string, id int64) error
	// UnreadMailCount returns the number of unread mails to user.
	UnreadMailCount(ctx context.Context, user string) (int, error)
}

// DefaultArea is the area created with the schema; it cannot be removed.
const DefaultArea = "general"

// Limits on board and mail input.
const (
	// MaxAreaNameLen is the longest area name, in bytes.
	MaxAreaNameLen = 32
	// MaxSubjectLen is the longest subject, in bytes.
	MaxSubjectLen = 72
	// MaxDescriptionLen is the longest area description, in bytes.
	MaxDescriptionLen = 200
	// MaxPage is the most posts or mails one listing returns.
	MaxPage = 100
	// MaxThread is the most posts Thread returns.
	MaxThread = 1000
)

// Sentinel errors of boards and mail, returned wrapped; test for them with
// errors.Is. ErrNotFound, ErrNoSuchUser and ErrTooLarge are shared with
// Store.
var (
	// ErrNoSuchArea means the area named does not exist.
	ErrNoSuchArea = errors.New("store: no such area")
	// ErrBadArea means an area name breaks the naming rules.
	ErrBadArea = errors.New("store: invalid area name")
	// ErrBadSubject means a subject or description is too long or holds
	// control characters (a newline, say).
	ErrBadSubject = errors.New("store: invalid subject")
)

// Order is the order of a listing.
type Order int

// Orders of a listing.
const (
	NewestFirst Order = iota
	OldestFirst
)

// Area is a message area.
type Area struct {
	Name        string // as defined
	Description string
	Posts       int // how many posts it holds
}

// NewPost is a post to be written.
type NewPost struct {
	Area    string // may be empty for a reply
	Author  string
	Subject string
	Lines   []string
	ReplyTo int64 // the post this one answers; 0 for a new thread
}

// Post is a post in an area.
type Post struct {
	ID      int64
	Area    string // as defined
	Author  string // as registered
	Subject string
	// Lines are the post's lines: never nil from Post, ReadPost and
	// NextNew; nil in listings (Posts, Thread).
	Lines  []string
	Posted time.Time // UTC, millisecond precision
	// ParentID is the post this one replies to (0: none, or deleted);
	// RootID is the thread's first post (its own ID for a thread's first
	// post).
	ParentID, RootID int64
	// Replies is the number of direct replies to this post.
	Replies int
	// Depth is the post's depth in its thread (0 for the first post); set
	// by Thread only.
	Depth int
}

// MailItem is a private mail as kept in its recipient's mailbox.
type MailItem struct {
	ID      int64
	To      string // as registered
	From    string // as registered
	Subject string
	// Lines are the mail's lines: never nil from WriteMail and ReadMail;
	// nil in ListMail.
	Lines []string
	Sent  time.Time // UTC, millisecond precision
	Read  bool      // whether the recipient has read it
}

// canonicalArea trims name and checks it against the area naming rules
// (those of user names), returning an error wrapping ErrBadArea.
func canonicalArea(name string) (string, error) {
	canon, err := canonicalName(name)
	if err != nil {
		return "", fmt.Errorf("%w: %q: 1 to %d letters, digits, '_', '-' or '.'", ErrBadArea, clip(name), MaxAreaNameLen)
	}
	return canon, nil
}

// checkSubject trims a subject (or description) and returns it, or an
// error wrapping ErrBadSubject if it is longer than max bytes, is not
// UTF-8 or holds control characters.
func checkSubject(subject string, max int) (string, error) {
	subject = strings.TrimSpace(subject)
	if len(subject) > max {
		return "", fmt.Errorf("%w: longer than %d bytes", ErrBadSubject, max)
	}
	if !utf8.ValidString(subject) {
		return "", fmt.Errorf("%w: not UTF-8", ErrBadSubject)
	}
	for _, r := range subject {
		if r < ' ' || r == 0x7f {
			return "", fmt.Errorf("%w: control characters are not allowed", ErrBadSubject)
		}
	}
	return subject, nil
}

// replySubject is the subject of a reply to a post with subject parent:
// "Re: " once, however deep the thread.
func replySubject(parent string) string {
	if len(parent) >= 3 && strings.EqualFold(parent[:3], "re:") {
		return parent
	}
	s := "Re: " + parent
	if len(s) > MaxSubjectLen {
		// Cut at a rune boundary.
		s = s[:MaxSubjectLen]
		for !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
	}
	return strings.TrimSpace(s)
}

// page normalises offset and limit as Boards.Posts documents.
func page(offset, limit int) (int, int) {
	if offset < 0 {
		offset = 0
	}
	if limit < 1 || limit > MaxPage {
		limit = MaxPage
	}
	return offset, limit
}

// wrapBoards is wrap for boards and mail: it also leaves this file's
// sentinels unwrapped.
func wrapBoards(op string, err error) error {
	for _, sentinel := range []error{ErrNoSuchArea, ErrBadArea, ErrBadSubject} {
		if errors.Is(err, sentinel) {
			return err
		}
	}
	return wrap(op, err)
}
