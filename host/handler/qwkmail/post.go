package qwkmail

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/m2bbs/m2bbs/host/handler/store"
	"github.com/m2bbs/m2bbs/host/qwk"
)

// Report is what became of a REP: refused whole (Refused set, nothing
// posted), or each message posted or refused.
type Report struct {
	// Refused says why the whole packet was refused ("" if it was read).
	Refused string
	// Messages is one entry per message of the REP, in its order.
	Messages []Outcome
}

// Outcome is what became of one message of a REP.
type Outcome struct {
	Area    string // "" for mail
	To      string // mail's recipient
	Subject string
	// PostID or MailID is set when it was posted; Reason says why not.
	PostID, MailID int64
	Reason         string
}

// Posted counts the messages posted.
func (r Report) Posted() int {
	n := 0
	for _, m := range r.Messages {
		if m.Reason == "" {
			n++
		}
	}
	return n
}

// Lines is the report as a caller reads it, one line a message.
func (r Report) Lines() []string {
	if r.Refused != "" {
		return []string{"The reply packet was refused, nothing was posted: " + r.Refused}
	}
	out := make([]string, 0, len(r.Messages)+1)
	for i, m := range r.Messages {
		what := "mail to " + m.To
		if m.Area != "" {
			what = "in " + m.Area
		}
		line := fmt.Sprintf("%d. %s, %q: ", i+1, what, m.Subject)
		switch {
		case m.Reason != "":
			line += "refused: " + m.Reason
		case m.PostID != 0:
			line += "posted as #" + strconv.FormatInt(m.PostID, 10)
		default:
			line += "sent"
		}
		out = append(out, line)
	}
	out = append(out, fmt.Sprintf("%d posted, %d refused.", r.Posted(), len(r.Messages)-r.Posted()))
	return out
}

// Post posts the REP data for user: writable are the areas they may post
// in. A REP that cannot be read is refused whole; otherwise each message
// is posted or refused (an area they may not post in or that does not
// exist, mail to nobody, a reply to a post elsewhere, a duplicate), all
// in one transaction. The error is for a failure of the store: then
// nothing was posted. It is Parse then Apply.
func (s *Service) Post(ctx context.Context, b Board, user string, data []byte, writable []string) (Report, error) {
	return s.Apply(ctx, user, s.Parse(b, data), writable, 0)
}

// Parsed is a REP read (or refused) and not posted yet.
type Parsed struct {
	refused string
	msgs    []qwk.Message
}

// Parse reads a REP for the board b; it touches nothing else, so it may
// run away from the caller's Lua state. A REP refused whole is posted as
// nothing by Apply, whose report says why.
func (s *Service) Parse(b Board, data []byte) *Parsed {
	b = b.withDefaults()
	msgs, err := qwk.ParseREP(data, b.BBSID, s.limits())
	switch {
	case err != nil:
		return &Parsed{refused: strings.TrimPrefix(err.Error(), "qwk: ")}
	case len(msgs) == 0:
		return &Parsed{refused: "it holds no messages"}
	}
	return &Parsed{msgs: msgs}
}

// Refuse is a REP refused whole before it was read (too large, say).
func Refuse(why string) *Parsed { return &Parsed{refused: why} }

// Apply posts what Parse read, as Post describes; a message of more than
// maxLines lines is refused (0: the store's limit only), as the board's
// own editor bounds posts.
func (s *Service) Apply(ctx context.Context, user string, parsed *Parsed, writable []string, maxLines int) (Report, error) {
	if parsed.refused != "" {
		return Report{Refused: parsed.refused}, nil
	}
	msgs := parsed.msgs
	confs, err := s.Store.Conferences(ctx)
	if err != nil {
		return Report{}, err
	}
	areaOf := map[int]string{}
	for _, c := range confs {
		areaOf[c.Number] = c.Name
	}
	may := map[string]bool{}
	for _, a := range writable {
		may[strings.ToLower(a)] = true
	}
	rep := Report{Messages: make([]Outcome, len(msgs))}
	var items []store.REPItem
	var itemOf []int // the message of each item
	for i, m := range msgs {
		out, item, ok := check(m, areaOf, may)
		if ok && maxLines > 0 && len(m.Lines) > maxLines {
			out.Reason, ok = fmt.Sprintf("longer than %d lines", maxLines), false
		}
		rep.Messages[i] = out
		if ok {
			items = append(items, item)
			itemOf = append(itemOf, i)
		}
	}
	results, err := s.Store.PostREP(ctx, user, items)
	if err != nil {
		return Report{}, err
	}
	for j, r := range results {
		out := &rep.Messages[itemOf[j]]
		out.PostID, out.MailID = r.PostID, r.MailID
		if r.Subject != "" {
			out.Subject = r.Subject
		}
		if r.Err != nil {
			out.Reason = reason(r.Err)
		}
	}
	return rep, nil
}

// limits are the REP limits: Limits, or qwk.DefaultLimits.
func (s *Service) limits() qwk.Limits {
	if s.Limits == (qwk.Limits{}) {
		return qwk.DefaultLimits
	}
	return s.Limits
}

// check validates one message of a REP: where it goes, and the item to
// post if it may.
func check(m qwk.Message, areaOf map[int]string, may map[string]bool) (Outcome, store.REPItem, bool) {
	subject := clipSubject(m.Subject)
	out := Outcome{Subject: subject}
	item := store.REPItem{Subject: subject, Lines: m.Lines, ReplyTo: m.ReplyTo}
	if m.Conference == MailConference || m.Private {
		out.To, item.To = m.To, m.To
		switch {
		case strings.TrimSpace(m.To) == "" || strings.EqualFold(strings.TrimSpace(m.To), "all"):
			out.Reason = "mail needs one recipient"
		case strings.Contains(m.To, "@"):
			out.Reason = "netmail is not taken from reply packets"
		}
		item.ReplyTo = 0 // mail has no thread
	} else {
		// An area the caller may not post in is named by its number
		// only, as one that does not exist: its name may be hidden
		// from them.
		area, ok := areaOf[m.Conference]
		out.Area, item.Area = area, area
		if !ok || !may[strings.ToLower(area)] {
			out.Area = "conference " + strconv.Itoa(m.Conference)
			out.Reason = "no area you may post in"
		}
	}
	if out.Reason != "" {
		return out, store.REPItem{}, false
	}
	item.Hash = hashOf(m.Conference, item.To, item.ReplyTo, subject, m.Lines)
	return out, item, true
}

// hashOf identifies a reply's content: where it goes (and what it
// answers), its subject and its text.
func hashOf(conference int, to string, replyTo int64, subject string, lines []string) [32]byte {
	h := sha256.New()
	fmt.Fprintf(h, "%d\x00%s\x00%d\x00%s\x00", conference, strings.ToLower(strings.TrimSpace(to)), replyTo, subject)
	for _, l := range lines {
		h.Write([]byte(l))
		h.Write([]byte{'\n'})
	}
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// clipSubject shortens a subject to the store's limit at a rune
// boundary.
func clipSubject(s string) string {
	s = strings.TrimSpace(s)
	if len(s) <= store.MaxSubjectLen {
		return s
	}
	s = s[:store.MaxSubjectLen]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return strings.TrimSpace(s)
}

// reason words a refused reply's error for the caller.
func reason(err error) string {
	switch {
	case errors.Is(err, store.ErrAlreadyPosted):
		return "already posted"
	case errors.Is(err, store.ErrNoSuchUser):
		return "no such user"
	case errors.Is(err, store.ErrNotFound):
		return "the message it answers is not in that area"
	case errors.Is(err, store.ErrTooLarge):
		return fmt.Sprintf("too long (at most %d lines, %d KiB)", store.MaxLines, store.MaxBodyBytes>>10)
	case errors.Is(err, store.ErrBadSubject):
		return "the subject holds characters that are not allowed"
	case errors.Is(err, store.ErrNoSuchArea), errors.Is(err, store.ErrBadArea):
		return "no such area"
	}
	return strings.TrimPrefix(err.Error(), "store: ")
}
