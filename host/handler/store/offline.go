package store

import (
	"context"
	"errors"
	"time"
)

// OfflineMail keeps QWK offline mail's state: the areas each caller
// takes in their packets, the packets built and not yet fetched (kept in
// the database so that any host can hand one out), the last-read
// pointers a fetched packet moves, and the replies posted from reply
// packets. *SQLite implements it. Area access rules are the caller's
// business (host/handler/qwkmail checks them).
type OfflineMail interface {
	// Conferences lists every area with its conference number (its
	// fixed id), in the order of Areas.
	Conferences(ctx context.Context) ([]Conference, error)
	// QWKSelection lists the areas user takes in their packets, in the
	// order of Areas, and whether they ever chose (until then their
	// packets take every area they may read). An unknown user has none.
	QWKSelection(ctx context.Context, user string) (areas []string, chosen bool, err error)
	// SelectQWK adds area to user's packets (on) or takes it out; user
	// has chosen from then on.
	// Errors: ErrNoSuchUser, ErrNoSuchArea, ErrBadArea.
	SelectQWK(ctx context.Context, user, area string, on bool) error
	// QWKNew returns, for each of areas, its conference number and the
	// posts new to user there (as NewCount counts them), oldest first,
	// with their lines: at most max posts in all, the earlier areas
	// first. Errors: ErrNoSuchUser, ErrNoSuchArea, ErrBadArea.
	QWKNew(ctx context.Context, user string, areas []string, max int) ([]ConferencePosts, error)
	// QWKMail returns user's unread mail, oldest first, with its lines:
	// at most max. An unknown user has none.
	QWKMail(ctx context.Context, user string, max int) ([]MailItem, error)
	// SaveQWKPacket keeps a packet built for p.User until it is fetched
	// or replaced: a user's packets past MaxQWKPackets, and anyone's
	// older than QWKPacketLife, are dropped first. Errors: ErrNoSuchUser,
	// ErrTooLarge (data over MaxQWKPacketBytes), ErrExists (the token is
	// taken).
	SaveQWKPacket(ctx context.Context, p QWKPacket) error
	// QWKPacketData returns the packet token built for user; ErrNotFound
	// if there is none (another user's token included).
	QWKPacketData(ctx context.Context, user, token string) ([]byte, error)
	// QWKFetched moves user's last-read pointers as packet token says
	// (never back), marks the mail it holds read, and marks it fetched,
	// in one transaction. first is
	// false when it was already marked: the call is idempotent.
	// ErrNotFound if user has no such packet.
	QWKFetched(ctx context.Context, user, token string) (first bool, err error)
	// QWKPacketFetched reports whether user's packet token was marked
	// fetched (by QWKFetched). ErrNotFound if user has no such packet.
	QWKPacketFetched(ctx context.Context, user, token string) (bool, error)
	// PostREP posts user's replies in one transaction: each either
	// posted or refused with its error (ErrAlreadyPosted if user posted the
	// same Hash before, or one of Post's or WriteMail's errors), the
	// others unaffected. The error is for the transaction as a whole:
	// then nothing is posted.
	PostREP(ctx context.Context, user string, items []REPItem) ([]REPResult, error)
}

// Limits of offline mail.
const (
	// MaxQWKPackets is how many packets per user are kept unfetched.
	MaxQWKPackets = 3
	// MaxQWKPacketBytes bounds one packet kept.
	MaxQWKPacketBytes = 16 << 20
	// QWKPacketLife is how long a packet is kept unfetched.
	QWKPacketLife = 24 * time.Hour
	// MaxQWKHashes is how many posted replies' hashes are kept per user
	// (the oldest are forgotten first).
	MaxQWKHashes = 5000
)

// Sentinel errors of offline mail, returned wrapped.
var (
	// ErrAlreadyPosted means the user posted the same reply before.
	ErrAlreadyPosted = errors.New("store: already posted")
	// ErrExists means a packet token is taken.
	ErrExists = errors.New("store: already exists")
)

// Conference is an area with its QWK conference number.
type Conference struct {
	Number int // the area's id: 1 for DefaultArea; never reused
	Name   string
}

// ConferencePosts are the new posts of one conference for a packet.
type ConferencePosts struct {
	Conference
	Posts []Post // with their lines, oldest first
}

// QWKPacket is a packet built for a user.
type QWKPacket struct {
	Token    string
	User     string
	Data     []byte
	Messages int
	// Pointers maps a conference number to the id of the newest post of
	// that area the packet holds: fetching it moves the pointer there.
	Pointers map[int]int64
	// Mail are the ids of the unread mail it holds: fetching it marks
	// them read.
	Mail []int64
}

// REPItem is one reply of a REP to post: a post in Area (or a reply to
// post ReplyTo, which must be in Area) or, with Area empty, mail To a
// user.
type REPItem struct {
	Area    string
	To      string // for mail
	Subject string
	Lines   []string
	ReplyTo int64
	// Hash identifies the reply's content for duplicate refusal.
	Hash [32]byte
}

// REPResult is what became of one REPItem: PostID or MailID set, or Err.
type REPResult struct {
	PostID, MailID int64
	// Subject is the subject it was posted with (a reply's "Re: ...").
	Subject string
	Err     error
}
