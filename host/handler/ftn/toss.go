package ftn

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/m2bbs/m2bbs/host/ftn/pkt"
	"github.com/m2bbs/m2bbs/host/handler/store"
)

// Limits of the tosser.
const (
	// MaxBundleEntries is the most files one ZIP bundle may hold.
	MaxBundleEntries = 1000
	// MaxBundleBytes bounds a bundle's size, packed and unpacked. The
	// tosser holds a bundle and one of its packets in memory at a time, in
	// the host's heap, under its memory limit (-memory-limit).
	MaxBundleBytes = 32 << 20
	// MaxInboundFiles is the most inbound files one toss takes; the rest
	// wait for the next.
	MaxInboundFiles = 500
)

// TossResult counts what one toss did.
type TossResult struct {
	Files   int // packets and bundles read
	Tossed  int // messages stored
	Dupes   int // messages dropped as duplicates
	Bad     int // packets set aside, and messages that could not be stored
	Refused int // bundles of an archive kind other than ZIP, set aside
}

// add adds o to r.
func (r *TossResult) add(o TossResult) {
	r.Files += o.Files
	r.Tossed += o.Tossed
	r.Dupes += o.Dupes
	r.Bad += o.Bad
	r.Refused += o.Refused
}

// Tosser reads inbound packets and bundles into the board.
type Tosser struct {
	Settings *Settings
	Store    store.FTN
	Log      *slog.Logger
}

// InboundDir is where the mailer puts files received in password
// protected sessions; BadDir where packets that could not be tossed go.
func (s *Settings) InboundDir() string { return filepath.Join(s.Dir, "inbound") }

// BadDir is where the tosser sets aside what it could not toss.
func (s *Settings) BadDir() string { return filepath.Join(s.Dir, "bad") }

// bundleExt matches ARCmail bundle names' extensions: .mo0 to .su9 and
// .moa to .suz.
func bundleExt(name string) bool {
	ext := strings.ToLower(filepath.Ext(name))
	if len(ext) != 4 {
		return false
	}
	switch ext[1:3] {
	case "mo", "tu", "we", "th", "fr", "sa", "su":
		c := ext[3]
		return c >= '0' && c <= '9' || c >= 'a' && c <= 'z'
	}
	return false
}

// Toss tosses the inbound folder: each .pkt file and each bundle, oldest
// first. A packet that cannot be parsed, or comes from no uplink or with
// the wrong password, is moved to the bad folder with a log line and the
// toss goes on; so is a bundle that is not a ZIP archive.
func (t *Tosser) Toss(ctx context.Context) (TossResult, error) {
	var res TossResult
	dir := t.Settings.InboundDir()
	entries, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return res, nil
		}
		return res, fmt.Errorf("ftn toss: %w", err)
	}
	type file struct {
		name string
		mod  time.Time
	}
	var files []file
	for _, e := range entries {
		name := e.Name()
		if !e.Type().IsRegular() || !(strings.EqualFold(filepath.Ext(name), ".pkt") || bundleExt(name)) {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		files = append(files, file{name, info.ModTime()})
	}
	sort.Slice(files, func(i, j int) bool {
		if !files[i].mod.Equal(files[j].mod) {
			return files[i].mod.Before(files[j].mod)
		}
		return files[i].name < files[j].name
	})
	if len(files) > MaxInboundFiles {
		files = files[:MaxInboundFiles]
	}
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		r, err := t.tossFile(ctx, filepath.Join(dir, f.name))
		res.add(r)
		if err != nil {
			return res, err
		}
	}
	return res, nil
}

// tossFile tosses one inbound file and removes it, or sets it aside.
// Only a storage failure is returned (the file then stays for the next
// toss, which drops what this one stored as duplicates).
func (t *Tosser) tossFile(ctx context.Context, path string) (TossResult, error) {
	res := TossResult{Files: 1}
	name := filepath.Base(path)
	limit := int64(pkt.MaxPacketBytes)
	if bundleExt(name) {
		limit = MaxBundleBytes
	}
	b, err := readLimited(path, limit)
	if err != nil {
		t.setAside(path, "unreadable: "+err.Error())
		res.Bad++
		return res, nil
	}
	switch {
	case bytes.HasPrefix(b, []byte("PK\x03\x04")) || bytes.HasPrefix(b, []byte("PK\x05\x06")):
		r, asideWhy, err := t.tossBundle(ctx, path, b)
		res.add(r)
		if err != nil {
			return res, err
		}
		if asideWhy != "" {
			t.setAside(path, asideWhy)
			res.Bad++
			return res, nil
		}
	case bundleExt(name):
		t.setAside(path, "an ARCmail bundle of a kind other than ZIP (only ZIP bundles are unpacked)")
		res.Refused++
		return res, nil
	default:
		r, err := t.TossPacket(ctx, name, b)
		res.add(r)
		if errors.Is(err, errBadPacket) {
			t.setAside(path, err.Error())
			return res, nil
		}
		if err != nil {
			return res, err
		}
	}
	if err := t.done(path); err != nil {
		return res, fmt.Errorf("ftn toss: %w", err)
	}
	return res, nil
}

// done removes a tossed file, or moves it to the tossed folder with
// KeepTossed.
func (t *Tosser) done(path string) error {
	if !t.Settings.KeepTossed {
		return os.Remove(path)
	}
	dir := t.Settings.TossedDir()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	return os.Rename(path, freeName(filepath.Join(dir, filepath.Base(path))))
}

// freeName is path, or path with a suffix if a file of that name exists.
func freeName(path string) string {
	if _, err := os.Stat(path); err == nil {
		return path + "." + strconv.FormatInt(time.Now().UnixNano(), 36)
	}
	return path
}

// TossedDir is where tossed files are kept with KeepTossed.
func (s *Settings) TossedDir() string { return filepath.Join(s.Dir, "tossed") }

// errBadPacket marks a packet to set aside.
var errBadPacket = errors.New("bad packet")

// tossBundle tosses each .pkt of a ZIP bundle; a packet in it that is bad
// is written to the bad folder on its own. A bundle that is not a
// readable ZIP archive, holds too many files or unpacks to more than
// MaxBundleBytes (a ZIP bomb) returns why, and the caller sets the whole
// bundle aside: its packets are unpacked no further, and what reaches the
// bad folder stays within MaxBundleBytes per bundle.
func (t *Tosser) tossBundle(ctx context.Context, path string, b []byte) (TossResult, string, error) {
	var res TossResult
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return res, "not a readable ZIP bundle: " + err.Error(), nil
	}
	if len(zr.File) > MaxBundleEntries {
		return res, fmt.Sprintf("a bundle of more than %d files", MaxBundleEntries), nil
	}
	declared := uint64(0)
	for _, f := range zr.File {
		if strings.EqualFold(filepath.Ext(f.Name), ".pkt") {
			declared += f.UncompressedSize64
		}
	}
	if declared > MaxBundleBytes {
		return res, fmt.Sprintf("a bundle that unpacks to more than %d bytes", MaxBundleBytes), nil
	}
	total := int64(0)
	for _, f := range zr.File {
		if !strings.EqualFold(filepath.Ext(f.Name), ".pkt") {
			continue
		}
		// archive/zip fails an entry that unpacks to more than it
		// declares; the limit reader is the second bound.
		limit := min(int64(pkt.MaxPacketBytes), MaxBundleBytes-total)
		rc, err := f.Open()
		var data []byte
		if err == nil {
			data, err = io.ReadAll(io.LimitReader(rc, limit+1))
			rc.Close()
		}
		total += int64(len(data))
		if total > MaxBundleBytes {
			return res, fmt.Sprintf("a bundle that unpacks to more than %d bytes", MaxBundleBytes), nil
		}
		if err == nil && len(data) > pkt.MaxPacketBytes {
			err = fmt.Errorf("unpacks to more than %d bytes", pkt.MaxPacketBytes)
		}
		entry := filepath.Base(path) + "." + filepath.Base(f.Name)
		if err != nil {
			t.writeBad(entry, data, "bundle entry unreadable: "+err.Error())
			res.Bad++
			continue
		}
		r, err := t.TossPacket(ctx, entry, data)
		res.add(r)
		if errors.Is(err, errBadPacket) {
			t.writeBad(entry, data, err.Error())
			continue
		}
		if err != nil {
			return res, "", err
		}
	}
	return res, "", nil
}

// TossPacket tosses one packet's bytes (name is for the log). It returns
// an error wrapping errBadPacket when the packet is to be set aside; its
// messages are then not stored.
func (t *Tosser) TossPacket(ctx context.Context, name string, b []byte) (TossResult, error) {
	var res TossResult
	p, err := pkt.Parse(b)
	if err != nil {
		res.Bad++
		return res, fmt.Errorf("%w: %v", errBadPacket, err)
	}
	up, ok := t.Settings.Uplink(p.Header.Orig)
	switch {
	case !ok:
		res.Bad++
		return res, fmt.Errorf("%w: from %s, which is not an uplink", errBadPacket, p.Header.Orig)
	case !t.Settings.Ours(p.Header.Dest):
		res.Bad++
		return res, fmt.Errorf("%w: to %s, which is not this board", errBadPacket, p.Header.Dest)
	case !up.PacketPassword.MatchesFold(p.Header.Password):
		res.Bad++
		return res, fmt.Errorf("%w: wrong packet password from %s", errBadPacket, p.Header.Orig)
	}
	firstBad := ""
	for i := range p.Messages {
		r, why, err := t.tossMessage(ctx, p.Header, &p.Messages[i])
		res.add(r)
		if err != nil {
			return res, err
		}
		if firstBad == "" {
			firstBad = why
		}
	}
	if res.Bad > 0 {
		// One line and one count per packet, however many of its
		// messages were bad: a hostile packet cannot flood the log.
		t.Log.Warn("ftn: messages not tossed", "packet", name, "count", res.Bad, "first_reason", firstBad)
		if err := t.Store.CountFTN(ctx, "bad", res.Bad); err != nil {
			return res, fmt.Errorf("ftn toss: %w", err)
		}
	}
	t.Log.Info("ftn: packet tossed", "packet", name, "from", p.Header.Orig.String(), "messages", len(p.Messages),
		"tossed", res.Tossed, "dupes", res.Dupes, "bad", res.Bad)
	return res, nil
}

// tossMessage stores one message. A message that cannot be stored for
// what it is (an unknown echo, a recipient who is not here) is counted
// bad, with why; only a storage failure is returned.
func (t *Tosser) tossMessage(ctx context.Context, h pkt.Header, m *pkt.Message) (TossResult, string, error) {
	var res TossResult
	text := pkt.ParseText(m.Text)
	chrs, _ := text.Kludge("CHRS")
	dec := func(s string) string { return pkt.Decode(chrs, s) }
	var kludges []string
	for _, k := range text.Kludges {
		kludges = append(kludges, dec(k.String()))
	}
	msgid, _ := text.Kludge("MSGID")
	reply, _ := text.Kludge("REPLY")
	msgid, reply = dec(msgid), dec(reply)
	posted := messageTime(m.Date, text)
	var lines []string
	for _, l := range text.Lines {
		lines = append(lines, dec(l))
	}
	for len(lines) > 0 && strings.TrimSpace(lines[len(lines)-1]) == "" {
		lines = lines[:len(lines)-1]
	}
	var tail []string
	if text.HasTear {
		tail = append(tail, strings.TrimSpace("--- "+dec(text.Tear)))
	}
	if text.Origin != "" {
		tail = append(tail, " * Origin: "+dec(text.Origin))
	}
	lines = fitLines(lines, tail)
	var err error
	var dupe bool
	if text.Area != "" {
		dupe, err = t.tossEcho(ctx, h, m, &text, echoFields{msgid, reply, kludges, lines, posted, dec})
	} else {
		dupe, err = t.tossNetmail(ctx, h, m, &text, echoFields{msgid, reply, kludges, lines, posted, dec})
	}
	var bad *badMessage
	switch {
	case errors.As(err, &bad):
		res.Bad++
		return res, fmt.Sprintf("%s (from %q, subject %q)", bad.why, dec(m.From), dec(m.Subject)), nil
	case err != nil:
		return res, "", fmt.Errorf("ftn toss: %w", err)
	case dupe:
		res.Dupes++
	default:
		res.Tossed++
	}
	return res, "", nil
}

// fitLines is a tossed message's body and tail (tear and origin lines)
// within the board's limits for a post (store.MaxLines, MaxBodyBytes):
// a body too long is cut, with a line saying so, and the tail kept. A
// post written on a board at its limits, with a tear and origin line
// added on the way, was otherwise counted bad on arrival.
func fitLines(body, tail []string) []string {
	const markerRoom = 128 // the cut line below, and its newline
	size, count := 0, len(body)+len(tail)
	for _, l := range body {
		size += len(l) + 1
	}
	for _, l := range tail {
		size += len(l) + 1
	}
	if count <= store.MaxLines && size-1 <= store.MaxBodyBytes {
		return append(body, tail...)
	}
	budget := store.MaxBodyBytes - markerRoom
	for _, l := range tail {
		budget -= len(l) + 1
	}
	maxLines := store.MaxLines - len(tail) - 1
	out := make([]string, 0, min(len(body), maxLines)+len(tail)+1)
	for _, l := range body {
		if len(out) == maxLines || budget <= 0 {
			break
		}
		if len(l)+1 > budget {
			l = strings.ToValidUTF8(l[:budget-1], "")
		}
		budget -= len(l) + 1
		out = append(out, l)
	}
	out = append(out, fmt.Sprintf("[cut here: the message was longer than this board keeps, %d lines]", len(body)))
	return append(out, tail...)
}

// echoFields are a message's decoded parts.
type echoFields struct {
	msgid, reply string
	kludges      []string
	lines        []string
	posted       time.Time
	dec          func(string) string
}

// badMessage is a message that cannot be stored for what it is.
type badMessage struct{ why string }

// Error implements error.
func (b *badMessage) Error() string { return b.why }

// tossEcho stores an echomail message in its area.
func (t *Tosser) tossEcho(ctx context.Context, h pkt.Header, m *pkt.Message, text *pkt.Text, f echoFields) (bool, error) {
	echo, ok := t.Settings.EchoByTag(text.Area)
	if !ok {
		return false, &badMessage{fmt.Sprintf("echo %q is not linked to a local area", text.Area)}
	}
	if !echo.Carries(h.Orig) {
		return false, &badMessage{fmt.Sprintf("echo %q does not come from %s", text.Area, h.Orig)}
	}
	area := echo.Area
	from := pkt.Addr{Zone: h.Orig.Zone, Net: m.OrigNet, Node: m.OrigNode}
	if a, ok := pkt.OriginAddr(text.Origin); ok {
		from = a
	} else if a, ok := pkt.MsgIDAddr(f.msgid); ok {
		from = a
	}
	tag := strings.ToUpper(text.Area)
	key := dupeKey("echo:"+tag, f.msgid, m, text)
	if t.Settings.Ours(from) {
		// This board's own posts come back only as duplicates (their
		// MSGIDs are remembered when they are exported); any other
		// message from its address is someone writing as this board.
		seen, err := t.Store.SeenFTN(ctx, key)
		if err != nil || seen {
			return seen, err
		}
		return false, &badMessage{fmt.Sprintf("echomail claiming to come from this board (%s)", from)}
	}
	_, dupe, err := t.Store.TossPost(ctx, store.TossedPost{
		Area: area, Tag: tag,
		FromName: f.dec(m.From), FromAddr: from.String(), ToName: f.dec(m.To), Subject: f.dec(m.Subject),
		Lines: f.lines, Posted: f.posted, MsgID: f.msgid, Reply: f.reply, Kludges: f.kludges,
		SeenBy: joinNetNodes(text.SeenBy), Path: joinNetNodes(text.Path),
		DupeKey: key,
		Forward: t.forwardPacket(echo, h, m, text),
	})
	return dupe, storeErr(err)
}

// forwardPacket is what the scanner needs to pass an echomail message on
// to the echo's other uplinks (those not in its SEEN-BY, the sender
// excluded): the packet it came in, without its password; nil when no
// uplink is left to pass it to.
func (t *Tosser) forwardPacket(echo Echo, h pkt.Header, m *pkt.Message, text *pkt.Text) []byte {
	if len(forwardTargets(t.Settings, echo, h.Orig, text.SeenBy)) == 0 {
		return nil
	}
	h.Password = ""
	p := pkt.Packet{Header: h, Messages: []pkt.Message{*m}}
	return p.Bytes()
}

// forwardTargets are the uplinks of echo, other than from, that a message
// with that SEEN-BY has not reached.
func forwardTargets(s *Settings, echo Echo, from pkt.Addr, seenBy []pkt.NetNode) []Uplink {
	seen := make(map[pkt.NetNode]bool, len(seenBy))
	for _, n := range seenBy {
		seen[n] = true
	}
	var out []Uplink
	for _, u := range s.EchoUplinks(echo) {
		if u.Addr != from && !seen[u.Addr.Node2D()] {
			out = append(out, u)
		}
	}
	return out
}

// tossNetmail stores a netmail to one of this board's addresses in its
// recipient's mailbox.
func (t *Tosser) tossNetmail(ctx context.Context, h pkt.Header, m *pkt.Message, text *pkt.Text, f echoFields) (bool, error) {
	dest := pkt.Addr{Zone: h.Dest.Zone, Net: m.DestNet, Node: m.DestNode}
	orig := pkt.Addr{Zone: h.Orig.Zone, Net: m.OrigNet, Node: m.OrigNode}
	if intl, ok := text.Kludge("INTL"); ok {
		if d, o, ok := strings.Cut(strings.TrimSpace(intl), " "); ok {
			if a, err := pkt.ParseAddr(d); err == nil {
				dest = a
			}
			if a, err := pkt.ParseAddr(strings.TrimSpace(o)); err == nil {
				orig = a
			}
		}
	}
	dest.Point = kludgePoint(text, "TOPT")
	orig.Point = kludgePoint(text, "FMPT")
	if !t.Settings.Ours(dest) {
		return false, &badMessage{fmt.Sprintf("netmail to %s, which is not this board (m2bbs routes no netmail)", dest)}
	}
	if t.Settings.Ours(orig) {
		return false, &badMessage{fmt.Sprintf("netmail claiming to come from this board (%s)", orig)}
	}
	to := f.dec(m.To)
	key := dupeKey("net", f.msgid, m, text)
	for _, name := range localNames(to) {
		_, dupe, err := t.Store.TossMail(ctx, store.TossedMail{
			To: name, FromName: f.dec(m.From), FromAddr: orig.String(), Subject: f.dec(m.Subject),
			Lines: f.lines, Sent: f.posted, MsgID: f.msgid, Kludges: f.kludges, DupeKey: key,
		})
		if !errors.Is(err, store.ErrNoSuchUser) {
			return dupe, storeErr(err)
		}
	}
	return false, &badMessage{fmt.Sprintf("netmail to %q: no such user here", to)}
}

// storeErr turns the store's errors about the message itself into a
// badMessage; others (the database failing) stay.
func storeErr(err error) error {
	for _, e := range []error{store.ErrNoSuchArea, store.ErrBadArea, store.ErrBadSubject, store.ErrTooLarge, store.ErrNoSuchUser} {
		if errors.Is(err, e) {
			return &badMessage{err.Error()}
		}
	}
	return err
}

// localNames are the user names an FTN name may be registered as here:
// as written, then with its spaces as '_' and as '.'.
func localNames(name string) []string {
	name = strings.TrimSpace(name)
	out := []string{name}
	if strings.Contains(name, " ") {
		out = append(out, strings.ReplaceAll(name, " ", "_"), strings.ReplaceAll(name, " ", "."))
	}
	return out
}

// kludgePoint reads a FMPT or TOPT kludge's point number (0 if none).
func kludgePoint(text *pkt.Text, name string) uint16 {
	v, ok := text.Kludge(name)
	if !ok {
		return 0
	}
	n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 16)
	if err != nil {
		return 0
	}
	return uint16(n)
}

// dupeKey is a message's duplicate key: its MSGID under prefix
// (msgidKey), or a hash of its header and what every copy of it carries
// when it has none: names, subject, date, body, tear and origin; not the
// kludges, SEEN-BY, PATH and Via lines, which tossers on the way add to.
func dupeKey(prefix, msgid string, m *pkt.Message, text *pkt.Text) string {
	if msgid != "" {
		return msgidKey(prefix, msgid)
	}
	h := sha256.New()
	field := func(s string) {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	for _, s := range []string{m.From, m.To, m.Subject, m.Date} {
		field(s)
	}
	for _, l := range text.Lines {
		field(l)
	}
	field(strconv.FormatBool(text.HasTear) + text.Tear)
	field(text.Origin)
	return prefix + ":#" + hex.EncodeToString(h.Sum(nil)[:16])
}

// msgidKey is the duplicate key of a MSGID under prefix. The MSGID is
// read as FTS-0009 writes it, an address and a hexadecimal serial: case
// and runs of white space do not make another message, so they are
// folded.
func msgidKey(prefix, msgid string) string {
	return prefix + ":" + strings.ToLower(strings.Join(strings.Fields(msgid), " "))
}

// messageTime is when a message was written, in UTC: its date field read
// in the writer's zone as its TZUTC kludge gives it (UTC without one).
func messageTime(date string, text pkt.Text) time.Time {
	t, ok := pkt.ParseDate(date)
	if !ok {
		return time.Time{}
	}
	if tz, ok := text.Kludge("TZUTC"); ok {
		tz = strings.TrimSpace(tz)
		sign := 1
		if strings.HasPrefix(tz, "-") {
			sign, tz = -1, tz[1:]
		} else {
			tz = strings.TrimPrefix(tz, "+")
		}
		if len(tz) == 4 {
			h, err1 := strconv.Atoi(tz[:2])
			m, err2 := strconv.Atoi(tz[2:])
			if err1 == nil && err2 == nil && h < 24 && m < 60 {
				t = t.Add(-time.Duration(sign) * (time.Duration(h)*time.Hour + time.Duration(m)*time.Minute))
			}
		}
	}
	return t
}

// joinNetNodes writes a SEEN-BY or PATH list as "net/node" words.
func joinNetNodes(list []pkt.NetNode) string {
	var b strings.Builder
	for i, n := range list {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(n.String())
	}
	return b.String()
}

// setAside moves an inbound file to the bad folder, with a log line.
func (t *Tosser) setAside(path, why string) {
	bad := t.Settings.BadDir()
	dst := freeName(filepath.Join(bad, filepath.Base(path)))
	err := os.MkdirAll(bad, 0o700)
	if err == nil {
		err = os.Rename(path, dst)
	}
	if err != nil {
		t.Log.Error("ftn: could not set a bad packet aside; removing it", "file", path, "err", err)
		os.Remove(path)
	}
	t.Log.Warn("ftn: packet set aside", "file", filepath.Base(path), "moved_to", dst, "reason", why)
	if err := t.Store.CountFTN(context.Background(), "bad", 1); err != nil {
		t.Log.Error("ftn: counting a bad packet", "err", err)
	}
}

// writeBad writes a bad packet from a bundle to the bad folder.
func (t *Tosser) writeBad(name string, data []byte, why string) {
	bad := t.Settings.BadDir()
	if err := os.MkdirAll(bad, 0o700); err == nil {
		err = os.WriteFile(freeName(filepath.Join(bad, name)), data, 0o600)
		if err != nil {
			t.Log.Error("ftn: writing a bad packet", "file", name, "err", err)
		}
	}
	t.Log.Warn("ftn: packet from a bundle set aside", "file", name, "reason", why)
	if err := t.Store.CountFTN(context.Background(), "bad", 1); err != nil {
		t.Log.Error("ftn: counting a bad packet", "err", err)
	}
}

// readLimited reads a file of at most max bytes.
func readLimited(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err == nil && int64(len(b)) > max {
		err = fmt.Errorf("larger than %d bytes", max)
	}
	return b, err
}
