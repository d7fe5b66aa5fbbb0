// Package qwkmail is the board's QWK offline mail: it builds a caller's
// packet of new posts from the store (host/qwk writes the bytes), keeps
// it until the caller's transfer reports it fetched, then moves their
// last-read pointers, and posts the replies and mail of a REP they
// upload, checked against the areas they may post in, with a report of
// each message posted or refused.
//
// Access rules live in the board's scripts: the caller of Build and Post
// passes the areas the caller may read and post in.
package qwkmail

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/m2bbs/m2bbs/host/handler/store"
	"github.com/m2bbs/m2bbs/host/qwk"
)

// Limits of offline mail.
const (
	// DefaultMaxMessages is the most posts one packet holds; the rest
	// wait for the next packet (the pointers move only past what was
	// sent).
	DefaultMaxMessages = 500
	// MaxTextBytes bounds the text of the posts of one packet (before
	// compression): past it the rest wait for the next packet.
	MaxTextBytes = 8 << 20
	// MailConference is the conference of private mail in a packet and
	// a REP.
	MailConference = 0
)

// Board describes the board in a packet's CONTROL.DAT and names its
// packets (BBSID.QWK, BBSID.REP).
type Board struct {
	BBSID, Name, Location, Phone, Sysop string
}

// DefaultBoard is used for what a script leaves out.
var DefaultBoard = Board{BBSID: "M2BBS", Name: "m2bbs", Location: "The Internet", Phone: "telnet", Sysop: "Sysop"}

// Service builds packets and posts replies for one board.
type Service struct {
	Store store.OfflineMail
	// MaxMessages bounds a packet (DefaultMaxMessages when 0); Limits
	// bound a REP (qwk.DefaultLimits when zero).
	MaxMessages int
	Limits      qwk.Limits
	// Now is the clock (time.Now when nil); Location the board's time
	// zone, in which QWK's dates are written (time.Local when nil).
	Now      func() time.Time
	Location *time.Location
}

// Built is a packet built and kept until fetched.
type Built struct {
	Token    string
	FileName string // BBSID.QWK
	Bytes    int
	// Messages is how many messages it holds: Mail of them the caller's
	// unread mail, and Areas how many posts it took from each area, in
	// the order built.
	Messages int
	Mail     int
	Areas    []AreaCount
}

// AreaCount is how many posts a packet took from one area.
type AreaCount struct {
	Area  string
	Posts int
}

// ErrNothingNew means no area the caller takes has posts new to them:
// no packet is built.
var ErrNothingNew = errors.New("no new messages in your areas")

func (s *Service) now() time.Time {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	loc := s.Location
	if loc == nil {
		loc = time.Local
	}
	return now().In(loc)
}

// Selected returns the areas of readable user takes in packets: those
// they chose (maybe none: mail only), or every readable one until they
// first choose.
func (s *Service) Selected(ctx context.Context, user string, readable []string) ([]string, error) {
	chosen, ever, err := s.Store.QWKSelection(ctx, user)
	if err != nil {
		return nil, err
	}
	if !ever {
		return readable, nil
	}
	on := map[string]bool{}
	for _, a := range chosen {
		on[strings.ToLower(a)] = true
	}
	var out []string
	for _, a := range readable {
		if on[strings.ToLower(a)] {
			out = append(out, a)
		}
	}
	return out, nil
}

// Build makes user's packet of the posts new to them in the areas of
// readable they take (Selected), keeps it and returns its token.
// ErrNothingNew if there is nothing to send. It is Pack then Keep.
func (s *Service) Build(ctx context.Context, b Board, user string, readable []string) (Built, error) {
	p, err := s.Pack(ctx, b, user, readable)
	if err != nil {
		return Built{}, err
	}
	return s.Keep(ctx, p)
}

// Packed is a packet made and not kept yet.
type Packed struct {
	built    Built
	user     string
	data     []byte
	pointers map[int]int64
	mail     []int64
}

// Pack makes user's packet as Build does, without keeping it: it only
// reads the store, so it may run away from the caller's Lua state.
func (s *Service) Pack(ctx context.Context, b Board, user string, readable []string) (*Packed, error) {
	b = b.withDefaults()
	if !qwk.ValidBBSID(b.BBSID) {
		return nil, fmt.Errorf("qwk: BBSID %q: 1 to %d letters and digits, starting with a letter", b.BBSID, qwk.MaxBBSIDLen)
	}
	areas, err := s.Selected(ctx, user, readable)
	if err != nil {
		return nil, err
	}
	limit := s.MaxMessages
	if limit <= 0 {
		limit = DefaultMaxMessages
	}
	mails, err := s.Store.QWKMail(ctx, user, limit)
	if err != nil {
		return nil, err
	}
	news, err := s.Store.QWKNew(ctx, user, areas, limit-len(mails))
	if err != nil {
		return nil, err
	}
	now := s.now()
	pk := &packing{
		Packet: qwk.Packet{
			BBSID: b.BBSID, BoardName: b.Name, Location: b.Location, Phone: b.Phone, Sysop: b.Sysop,
			User: user, Created: now, Door: "m2bbs", Version: "1",
			Conferences: []qwk.Conference{{Number: MailConference, Name: "Mail"}},
		},
		packed: Packed{built: Built{FileName: strings.ToUpper(b.BBSID) + ".QWK"}, user: user, pointers: map[int]int64{}},
	}
	pk.addMail(mails, user, now.Location())
	pk.addPosts(news, now.Location())
	built := &pk.packed.built
	built.Messages = len(pk.Messages)
	if built.Messages == 0 {
		return nil, ErrNothingNew
	}
	if pk.packed.data, err = pk.Zip(); err != nil {
		return nil, err
	}
	built.Bytes = len(pk.packed.data)
	return &pk.packed, nil
}

// packing is a packet being made: the QWK packet, and what keeping it
// needs.
type packing struct {
	qwk.Packet
	packed Packed
	text   int // bytes of text so far (see MaxTextBytes)
}

// fits counts n more bytes of text and reports whether they fit: the
// first message always does.
func (pk *packing) fits(n int) bool {
	pk.text += n
	return pk.text <= MaxTextBytes || len(pk.Messages) == 0
}

// addMail adds user's unread mail, as private messages of the mail
// conference.
func (pk *packing) addMail(mails []store.MailItem, user string, loc *time.Location) {
	for _, m := range mails {
		if m.ID > qwk.MaxNumber {
			continue // QWK cannot number it; it stays unread on the board
		}
		if !pk.fits(textSize(m.Lines)) {
			return
		}
		pk.Messages = append(pk.Messages, qwk.Message{
			Conference: MailConference, Number: m.ID, Private: true, To: user, From: m.From,
			Subject: m.Subject, Written: m.Sent.In(loc), Lines: m.Lines,
		})
		pk.packed.mail = append(pk.packed.mail, m.ID)
	}
	pk.packed.built.Mail = len(pk.packed.mail)
}

// addPosts adds the new posts of each area, and the pointer fetching the
// packet moves in it.
func (pk *packing) addPosts(news []store.ConferencePosts, loc *time.Location) {
	for _, cp := range news {
		if cp.Number > qwk.MaxConference {
			continue // QWK cannot number the area: it is not offered offline
		}
		pk.Conferences = append(pk.Conferences, qwk.Conference{Number: cp.Number, Name: cp.Name})
		n := 0
		for _, post := range cp.Posts {
			if post.ID > qwk.MaxNumber {
				// QWK cannot number it: it is passed over (the pointer
				// moves past it), so that it never blocks a packet.
				pk.packed.pointers[cp.Number] = max(pk.packed.pointers[cp.Number], post.ID)
				continue
			}
			if !pk.fits(textSize(post.Lines)) {
				break
			}
			replyTo := post.ParentID
			if replyTo > qwk.MaxNumber {
				replyTo = 0
			}
			pk.Messages = append(pk.Messages, qwk.Message{
				Conference: cp.Number, Number: post.ID, To: "All", From: post.Author,
				Subject: post.Subject, Written: post.Posted.In(loc), ReplyTo: replyTo,
				Lines: post.Lines,
			})
			pk.packed.pointers[cp.Number] = max(pk.packed.pointers[cp.Number], post.ID)
			n++
		}
		pk.packed.built.Areas = append(pk.packed.built.Areas, AreaCount{Area: cp.Name, Posts: n})
	}
}

// Keep keeps a packet Pack made until it is fetched, under a new token.
func (s *Service) Keep(ctx context.Context, p *Packed) (Built, error) {
	built := p.built
	var err error
	if built.Token, err = newToken(); err != nil {
		return Built{}, err
	}
	err = s.Store.SaveQWKPacket(ctx, store.QWKPacket{
		Token: built.Token, User: p.user, Data: p.data, Messages: built.Messages, Pointers: p.pointers, Mail: p.mail,
	})
	if err != nil {
		return Built{}, err
	}
	return built, nil
}

// textSize is about what a message of lines takes in MESSAGES.DAT.
func textSize(lines []string) int {
	n := qwk.BlockSize
	for _, l := range lines {
		n += len(l) + 1
	}
	return n
}

// newToken is a packet's token: 128 random bits in hexadecimal.
func newToken() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("qwk token: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// ValidToken reports whether s has the form of a packet's token.
func ValidToken(s string) bool {
	if len(s) != 32 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// Fetched moves user's pointers as packet token says, once; first is
// false if it was already done.
func (s *Service) Fetched(ctx context.Context, user, token string) (bool, error) {
	return s.Store.QWKFetched(ctx, user, token)
}

// withDefaults fills what b leaves empty from DefaultBoard.
func (b Board) withDefaults() Board {
	d := DefaultBoard
	for _, f := range []struct{ dst, def *string }{
		{&b.BBSID, &d.BBSID}, {&b.Name, &d.Name}, {&b.Location, &d.Location}, {&b.Phone, &d.Phone}, {&b.Sysop, &d.Sysop},
	} {
		if *f.dst == "" {
			*f.dst = *f.def
		}
	}
	return b
}
