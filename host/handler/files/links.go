package files

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// A link is a path the board hands a caller for one HTTP download or
// upload: LinksPath, then "d/" or "u/", then a token that carries what
// it allows, whose session asked for it and until when, signed with the
// board's key (store.FileStore.FileLinkKey):
//
//	/files/d/BASE64URL(d|FILE-ID|USER|CONN-ID|EXPIRES|NONCE).BASE64URL(HMAC-SHA256[:16])
//	/files/u/BASE64URL(u|AREA|USER|CONN-ID|EXPIRES|NONCE).BASE64URL(HMAC-SHA256[:16])
//	/files/q/BASE64URL(q|PACKET-TOKEN|USER|CONN-ID|EXPIRES|NONCE).BASE64URL(HMAC-SHA256[:16])
//	/files/r/BASE64URL(r|-|USER|CONN-ID|EXPIRES|NONCE).BASE64URL(HMAC-SHA256[:16])
//
// "q" downloads the caller's QWK packet (host/handler/qwkmail) and "r"
// uploads a QWK reply packet (REP), kept as ReplyPath for the caller's
// script to post (docs/qwk.md).
//
// EXPIRES is in Unix seconds. A link works until it expires and while the
// session that asked for it is online as the same user (the host checks
// that); anyone holding it may use it meanwhile, as with any download
// link. The key never leaves the host and is never logged.

// LinksPath is the HTTP path below which file links are served.
const LinksPath = "/files/"

// Kinds of link.
const (
	KindDownload = 'd'
	KindUpload   = 'u'
	KindPacket   = 'q'
	KindReply    = 'r'
)

// MaxTokenBytes bounds a token.
const MaxTokenBytes = 300

// macBytes is how much of the HMAC a token carries.
const macBytes = 16

// Link is what a signed link allows.
type Link struct {
	// Kind is KindDownload, KindUpload, KindPacket or KindReply.
	Kind byte
	// FileID is the file a download fetches; Area the area an upload
	// goes to; Packet the token of the QWK packet a KindPacket link
	// fetches.
	FileID int64
	Area   string
	Packet string
	// User and ConnID are the caller and the session that asked for it.
	User, ConnID string
	// Expires is when it stops working (whole seconds).
	Expires time.Time
	// Nonce tells links apart (an upload's pieces are kept under it).
	Nonce string
}

// Errors of links.
var (
	// ErrBadLink means a token is malformed or its signature is wrong.
	ErrBadLink = errors.New("files: invalid link")
	// ErrExpired means a link's time is over.
	ErrExpired = errors.New("files: link expired")
)

// Signer signs and checks links with the board's key.
type Signer struct {
	Key []byte
}

// NewNonce returns a fresh random nonce for a link.
func NewNonce() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Path returns the HTTP path of l, signed.
func (s Signer) Path(l Link) string {
	var subject string
	switch l.Kind {
	case KindDownload:
		subject = strconv.FormatInt(l.FileID, 10)
	case KindPacket:
		subject = l.Packet
	case KindReply:
		subject = replySubject
	default:
		subject = l.Area
	}
	payload := strings.Join([]string{string(l.Kind), subject, l.User, l.ConnID, strconv.FormatInt(l.Expires.Unix(), 10), l.Nonce}, "|")
	enc := base64.RawURLEncoding
	return LinksPath + string(l.Kind) + "/" + enc.EncodeToString([]byte(payload)) + "." + enc.EncodeToString(s.mac([]byte(payload)))
}

// mac is the truncated HMAC of payload.
func (s Signer) mac(payload []byte) []byte {
	m := hmac.New(sha256.New, s.Key)
	m.Write(payload)
	return m.Sum(nil)[:macBytes]
}

// Check reads the link at path (LinksPath + kind + "/" + token), checks
// its signature and that it has not expired at now. Errors wrap
// ErrBadLink or ErrExpired and never say more about the key.
func (s Signer) Check(path string, now time.Time) (Link, error) {
	l, payload, mac, err := ParseLink(path)
	if err != nil {
		return Link{}, err
	}
	if len(s.Key) == 0 || !hmac.Equal(mac, s.mac(payload)) {
		return Link{}, fmt.Errorf("%w: bad signature", ErrBadLink)
	}
	if !now.Before(l.Expires) {
		return Link{}, ErrExpired
	}
	return l, nil
}

// ParseLink splits the link at path into what it claims, its signed
// payload and its signature, without checking the signature (Check
// does). Every field is checked for its form; errors wrap ErrBadLink.
func ParseLink(path string) (l Link, payload, mac []byte, err error) {
	bad := func(why string) (Link, []byte, []byte, error) {
		return Link{}, nil, nil, fmt.Errorf("%w: %s", ErrBadLink, why)
	}
	rest, ok := strings.CutPrefix(path, LinksPath)
	if !ok || len(rest) < 3 || rest[1] != '/' || len(rest) > MaxTokenBytes {
		return bad("not a file link")
	}
	kind := rest[0]
	p64, m64, ok := strings.Cut(rest[2:], ".")
	if !ok {
		return bad("no signature")
	}
	enc := base64.RawURLEncoding
	payload, err1 := enc.DecodeString(p64)
	mac, err2 := enc.DecodeString(m64)
	if err1 != nil || err2 != nil || len(mac) != macBytes {
		return bad("not base64")
	}
	f := strings.Split(string(payload), "|")
	if len(f) != 6 || len(f[0]) != 1 || f[0][0] != kind {
		return bad("wrong fields")
	}
	l = Link{Kind: kind, User: f[2], ConnID: f[3], Nonce: f[5]}
	switch kind {
	case KindDownload:
		l.FileID, err = strconv.ParseInt(f[1], 10, 64)
		if err != nil || l.FileID <= 0 || strconv.FormatInt(l.FileID, 10) != f[1] {
			return bad("bad file id")
		}
	case KindUpload:
		if !validAreaName(f[1]) {
			return bad("bad area")
		}
		l.Area = f[1]
	case KindPacket:
		if !packetToken(f[1]) {
			return bad("bad packet")
		}
		l.Packet = f[1]
	case KindReply:
		if f[1] != replySubject {
			return bad("bad reply")
		}
	default:
		return bad("unknown kind")
	}
	exp, err := strconv.ParseInt(f[4], 10, 64)
	if err != nil || exp <= 0 || exp > 1<<40 {
		return bad("bad expiry")
	}
	l.Expires = time.Unix(exp, 0)
	if !plainField(l.User, 32) || !plainField(l.ConnID, 20) || !plainField(l.Nonce, 32) || l.User == "" || l.Nonce == "" {
		return bad("bad field")
	}
	return l, payload, mac, nil
}

// replySubject is what a KindReply link's subject field holds.
const replySubject = "-"

// packetToken reports whether s has the form of a QWK packet's token
// (32 lower-case hexadecimal digits, as qwkmail makes them).
func packetToken(s string) bool {
	if len(s) != 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// plainField reports whether s is at most max bytes of letters, digits,
// '_', '-' and '.' (user names, conn ids, nonces).
func plainField(s string, max int) bool {
	if len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// keyCache keeps the board's link key once read.
type keyCache struct {
	mu  sync.Mutex
	key []byte
}

// Signer returns the signer of the board's links, its key read from the
// store once.
func (l *Library) Signer(ctx context.Context) (Signer, error) {
	l.keys.mu.Lock()
	defer l.keys.mu.Unlock()
	if l.keys.key == nil {
		key, err := l.Store.FileLinkKey(ctx)
		if err != nil {
			return Signer{}, err
		}
		l.keys.key = key
	}
	return Signer{Key: l.keys.key}, nil
}
