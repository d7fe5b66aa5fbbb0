package store

import (
	"context"
	"time"
)

// FTN keeps what FidoNet-technology mail adds to posts and mail: posts
// and netmail tossed in from a network, what was exported, duplicates
// seen, and the scanner's staged packets. *SQLite implements it; the
// host/handler/ftn package is its user. Posts tossed in belong to the
// account FTNAccount, and are shown under their FTN author's name.
type FTN interface {
	// TossPost stores an echomail message as a post in its area, threaded
	// under the post whose MSGID its REPLY names (in the same echo). If
	// its DupeKey was seen before it stores nothing and reports dupe.
	// Errors: ErrNoSuchArea, ErrBadSubject, ErrTooLarge.
	TossPost(ctx context.Context, p TossedPost) (id int64, dupe bool, err error)
	// TossMail stores a netmail as mail to a local user, unless its
	// DupeKey was seen before. Errors: ErrNoSuchUser, ErrBadSubject,
	// ErrTooLarge.
	TossMail(ctx context.Context, m TossedMail) (id int64, dupe bool, err error)
	// LinkEchoes records, for each named area not linked yet, that it is
	// an echo from now on: only posts written after this call are
	// exported from it. ErrNoSuchArea if an area does not exist.
	LinkEchoes(ctx context.Context, areas []string) error
	// UnexportedPosts lists, oldest first, at most limit posts written
	// here in the named areas, since each was linked (LinkEchoes), that
	// were never exported.
	UnexportedPosts(ctx context.Context, areas []string, limit int) ([]ExportPost, error)
	// UnforwardedPosts lists, oldest first, at most limit tossed posts
	// still to pass on to other uplinks, with the packet each came in.
	UnforwardedPosts(ctx context.Context, limit int) ([]ForwardPost, error)
	// UnexportedNetmail lists, oldest first, at most limit netmails
	// written here to FTN addresses that were never exported.
	UnexportedNetmail(ctx context.Context, limit int) ([]ExportNetmail, error)
	// NextSerials reserves n MSGID serials and returns the first.
	NextSerials(ctx context.Context, n int) (uint32, error)
	// MarkExported records, in one transaction, that the batch's posts
	// and netmail were exported and that its packets are staged.
	MarkExported(ctx context.Context, b ExportBatch) error
	// StagedPackets lists the packets marked staged and not yet handed
	// to the mailer.
	StagedPackets(ctx context.Context) ([]StagedPacket, error)
	// UnstagePacket forgets a staged packet once the mailer has it.
	UnstagePacket(ctx context.Context, name string) error
	// PruneFTNDupes forgets duplicate keys seen before the given time,
	// returning how many were forgotten.
	PruneFTNDupes(ctx context.Context, before time.Time) (int64, error)
	// SeenFTN reports whether a duplicate key was seen (and not pruned),
	// counting a duplicate when it was; it records nothing new.
	SeenFTN(ctx context.Context, key string) (bool, error)
	// CountFTN adds n to one of the FTN counters (FTNCounters' names).
	CountFTN(ctx context.Context, counter string, n int) error
	// FTNCounters returns the counters: tossed, dupes, bad, exported.
	FTNCounters(ctx context.Context) (map[string]int64, error)
}

// FTNAccount is the account that posts and mail from FTN networks belong
// to. No caller can register or log in with it.
const FTNAccount = "~ftn"

// Limits of FTN input.
const (
	// MaxFTNNameLen is the longest FTN user name (FTS-0001's 35 bytes).
	MaxFTNNameLen = 35
	// MaxFTNMetaBytes bounds the kludges, SEEN-BY and PATH kept per
	// message, each.
	MaxFTNMetaBytes = 16 << 10
)

// TossedPost is an echomail message to store as a post.
type TossedPost struct {
	Area     string // the local area
	Tag      string // the echo's area tag
	FromName string // UTF-8
	FromAddr string
	ToName   string
	Subject  string
	Lines    []string // the body with its tear and origin lines, UTF-8
	Posted   time.Time
	MsgID    string // "" when absent
	Reply    string // "" when absent
	Kludges  []string
	SeenBy   string
	Path     string
	DupeKey  string
	// Forward, if set, is the packet the message came in (its header and
	// the message alone), to pass on to the echo's other uplinks.
	Forward []byte
}

// ForwardPost is a tossed post to pass on, with the packet it came in.
type ForwardPost struct {
	ID     int64
	Packet []byte
}

// TossedMail is a netmail to store in a local user's mailbox.
type TossedMail struct {
	To       string // the local user
	FromName string
	FromAddr string
	Subject  string
	Lines    []string
	Sent     time.Time
	MsgID    string
	Kludges  []string
	DupeKey  string
}

// ExportPost is a post written here, to export.
type ExportPost struct {
	ID      int64
	Area    string
	Author  string
	Subject string
	Lines   []string
	Posted  time.Time
	// ReplyMsgID is the MSGID of the post it replies to ("" if none, or
	// if that post has none).
	ReplyMsgID string
	// ReplyTo is the author of the post it replies to ("" for a new
	// thread).
	ReplyTo string
}

// ExportNetmail is a netmail written here, to export.
type ExportNetmail struct {
	ID      int64
	From    string
	ToName  string
	ToAddr  string
	Subject string
	Lines   []string
	Written time.Time
	Reply   string
}

// ExportedPost is a post as exported: its MSGID and echo tag.
type ExportedPost struct {
	ID    int64
	Tag   string
	MsgID string
	// DupeKey, if set, is recorded as seen: the post coming back from
	// the network (an echo's loop) is then dropped as a duplicate.
	DupeKey string
}

// StagedPacket is a packet written by the scanner and not yet handed to
// the mailer.
type StagedPacket struct {
	Name   string // file name in the staging folder
	Uplink string // the address it goes to
}

// ExportBatch is one scan's result, marked in one transaction.
type ExportBatch struct {
	Posts     []ExportedPost
	Forwarded []int64 // tossed posts passed on
	Netmail   []int64
	Packets   []StagedPacket
}

// FTNDestination splits a mail recipient written "Name@zone:net/node"
// into its name and address; ok is false for anything else (a local
// user's name). The address is checked by the caller.
func FTNDestination(to string) (name, addr string, ok bool) {
	for i := len(to) - 1; i > 0; i-- {
		if to[i] == '@' {
			name, addr = to[:i], to[i+1:]
			if name == "" || addr == "" {
				return "", "", false
			}
			for j := 0; j < len(addr); j++ {
				c := addr[j]
				if !(c >= '0' && c <= '9' || c == ':' || c == '/' || c == '.') {
					return "", "", false
				}
			}
			return name, addr, true
		}
	}
	return "", "", false
}
