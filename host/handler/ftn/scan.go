package ftn

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/m2bbs/m2bbs/host/ftn/pkt"
	"github.com/m2bbs/m2bbs/host/handler/store"
)

// Limits of one scan; what does not fit goes with the next.
const (
	// MaxScanBatch is the most posts, and the most netmails, one scan
	// exports.
	MaxScanBatch = 500
	// MaxForwardBatch is the most tossed posts one scan passes on (each
	// is held in memory as the packet it came in, up to a message's 256
	// KiB).
	MaxForwardBatch = 100
	// MaxScanBytes bounds the message texts one scan writes, summed over
	// every uplink's copy: it bounds the scan's memory, and keeps each
	// packet well under what a tosser reads (pkt.MaxPacketBytes; a
	// larger packet is set aside whole by the uplink). A single message
	// larger than it still goes, alone.
	MaxScanBytes = 8 << 20
)

// productCode is the packet header's product code: 0xFE, "not
// registered with the FTSC".
const productCode = 0xFE

// ScanResult counts what one scan did.
type ScanResult struct {
	Posts, Netmail int // exported
	Forwarded      int // tossed posts passed on to other uplinks
	Packets        int // packets handed to the mailer
}

// Scanner exports new local posts in echo areas, and netmail written to
// FTN addresses, into packets in the mailer's outbound.
//
// A scan is crash-safe in three steps: the packets are written to the
// staging folder; one transaction marks their messages exported and
// records the packets as staged; each staged packet is moved into the
// outbound and listed in its uplink's flo file, then forgotten. At the
// start of each scan, staged files the store does not know (a crash
// before the transaction) are deleted, their messages being still
// unexported, and packets the store lists as staged are handed over (or
// forgotten, if they already were). No message is lost or sent twice.
type Scanner struct {
	Settings *Settings
	Store    store.FTN
	Log      *slog.Logger
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// now returns the scanner's clock.
func (sc *Scanner) now() time.Time {
	if sc.Now != nil {
		return sc.Now()
	}
	return time.Now()
}

// Scan exports what is new and hands staged packets to the mailer.
func (sc *Scanner) Scan(ctx context.Context) (ScanResult, error) {
	var res ScanResult
	if err := sc.recover(ctx); err != nil {
		return res, err
	}
	var areas []string
	for _, e := range sc.Settings.Echoes {
		areas = append(areas, e.Area)
	}
	if err := sc.Store.LinkEchoes(ctx, areas); err != nil {
		return res, fmt.Errorf("ftn scan: %w", err)
	}
	posts, err := sc.Store.UnexportedPosts(ctx, areas, MaxScanBatch)
	if err != nil {
		return res, fmt.Errorf("ftn scan: %w", err)
	}
	netmail, err := sc.Store.UnexportedNetmail(ctx, MaxScanBatch)
	if err != nil {
		return res, fmt.Errorf("ftn scan: %w", err)
	}
	forwards, err := sc.Store.UnforwardedPosts(ctx, MaxForwardBatch)
	if err != nil {
		return res, fmt.Errorf("ftn scan: %w", err)
	}
	if len(posts) == 0 && len(netmail) == 0 && len(forwards) == 0 {
		return res, nil
	}
	if len(sc.Settings.Uplinks) == 0 {
		return res, errors.New("ftn scan: mail to export but no uplinks in the settings")
	}
	serial, err := sc.Store.NextSerials(ctx, len(posts)+len(netmail)+len(sc.Settings.Uplinks))
	if err != nil {
		return res, fmt.Errorf("ftn scan: %w", err)
	}
	next := func() uint32 { serial++; return serial - 1 }
	batch, files, err := sc.build(posts, netmail, forwards, next)
	if err != nil {
		return res, err
	}
	if err := os.MkdirAll(sc.Settings.StagingDir(), 0o700); err != nil {
		return res, fmt.Errorf("ftn scan: %w", err)
	}
	for name, data := range files {
		if err := writeFileSync(filepath.Join(sc.Settings.StagingDir(), name), data); err != nil {
			sc.dropStaged(files)
			return res, fmt.Errorf("ftn scan: staging a packet: %w", err)
		}
	}
	if err := sc.Store.MarkExported(ctx, batch); err != nil {
		sc.dropStaged(files)
		return res, fmt.Errorf("ftn scan: %w", err)
	}
	res.Posts, res.Netmail, res.Forwarded = len(batch.Posts), len(batch.Netmail), len(batch.Forwarded)
	sc.Log.Info("ftn: exported", "posts", res.Posts, "netmail", res.Netmail, "forwarded", res.Forwarded, "packets", len(files))
	handed, err := sc.handOver(ctx)
	res.Packets = handed
	return res, err
}

// dropStaged removes packets written to the staging folder whose
// messages were not marked exported.
func (sc *Scanner) dropStaged(files map[string][]byte) {
	for name := range files {
		os.Remove(filepath.Join(sc.Settings.StagingDir(), name))
	}
}

// recover deletes staged files the store does not list, then hands over
// the ones it does.
func (sc *Scanner) recover(ctx context.Context) error {
	staged, err := sc.Store.StagedPackets(ctx)
	if err != nil {
		return fmt.Errorf("ftn scan: %w", err)
	}
	known := make(map[string]bool, len(staged))
	for _, p := range staged {
		known[p.Name] = true
	}
	entries, err := os.ReadDir(sc.Settings.StagingDir())
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("ftn scan: %w", err)
	}
	for _, e := range entries {
		if !known[e.Name()] {
			sc.Log.Info("ftn: removing a packet staged before a crash; its messages go out with the next one", "file", e.Name())
			os.Remove(filepath.Join(sc.Settings.StagingDir(), e.Name()))
		}
	}
	if len(staged) == 0 {
		return nil
	}
	_, err = sc.handOver(ctx)
	return err
}

// handOver moves each staged packet into the outbound and its uplink's
// flo file, then forgets it. A node busy with the mailer waits for the
// next scan.
func (sc *Scanner) handOver(ctx context.Context) (int, error) {
	staged, err := sc.Store.StagedPackets(ctx)
	if err != nil {
		return 0, fmt.Errorf("ftn scan: %w", err)
	}
	if err := os.MkdirAll(sc.Settings.SentDir(), 0o700); err != nil {
		return 0, fmt.Errorf("ftn scan: %w", err)
	}
	sentDir, err := filepath.Abs(sc.Settings.SentDir())
	if err != nil {
		return 0, fmt.Errorf("ftn scan: %w", err)
	}
	n := 0
	for _, p := range staged {
		up, err := pkt.ParseAddr(p.Uplink)
		if err != nil {
			return n, fmt.Errorf("ftn scan: staged packet %s: %w", p.Name, err)
		}
		src := filepath.Join(sc.Settings.StagingDir(), p.Name)
		dst := filepath.Join(sentDir, p.Name)
		err = sc.Settings.withBusy(up, func() error {
			if _, err := os.Stat(src); err == nil {
				if err := os.Rename(src, dst); err != nil {
					return err
				}
				if err := syncDir(sentDir); err != nil {
					return err
				}
			}
			if _, err := os.Stat(dst); err != nil {
				return nil // sent and deleted by the mailer already
			}
			return sc.Settings.addToFlo(up, dst)
		})
		if errors.Is(err, errBusy) {
			continue
		}
		if err != nil {
			return n, fmt.Errorf("ftn scan: handing %s over: %w", p.Name, err)
		}
		if err := sc.Store.UnstagePacket(ctx, p.Name); err != nil {
			return n, fmt.Errorf("ftn scan: %w", err)
		}
		n++
	}
	return n, nil
}

// build makes one packet per uplink that has mail: every echo post goes
// to every uplink, each netmail to the uplink it is routed through.
func (sc *Scanner) build(posts []store.ExportPost, netmail []store.ExportNetmail, forwards []store.ForwardPost, serial func() uint32) (store.ExportBatch, map[string][]byte, error) {
	s := sc.Settings
	var batch store.ExportBatch
	msgs := make(map[pkt.Addr][]pkt.Message)
	now := sc.now().UTC()
	// fits adds one item's messages to the batch unless they would take
	// it past MaxScanBytes (the first item always fits); false ends the
	// list, whose rest waits for the next scan, in order.
	size := 0
	fits := func(out map[pkt.Addr]pkt.Message) bool {
		cost := 0
		for _, m := range out {
			cost += len(m.Text) + 256 // its text, and a header at most
		}
		if size > 0 && size+cost > MaxScanBytes {
			return false
		}
		size += cost
		for up, m := range out {
			msgs[up] = append(msgs[up], m)
		}
		return true
	}
	for _, f := range forwards {
		if !fits(sc.forwardMessages(f)) {
			break
		}
		batch.Forwarded = append(batch.Forwarded, f.ID)
	}
	for _, p := range posts {
		echo, ok := s.EchoByArea(p.Area)
		if !ok {
			continue
		}
		ups := s.EchoUplinks(echo)
		from := s.Addresses[0]
		if len(ups) > 0 {
			from = s.addressFor(ups[0].Addr)
		}
		msgid := fmt.Sprintf("%s %08x", from, serial())
		out := make(map[pkt.Addr]pkt.Message, len(ups))
		for _, up := range ups {
			out[up.Addr] = sc.echoMessage(p, echo, msgid, up)
		}
		if !fits(out) {
			break // later posts too: the scan exports posts in order
		}
		batch.Posts = append(batch.Posts, store.ExportedPost{ID: p.ID, Tag: echo.Tag, MsgID: msgid,
			DupeKey: msgidKey("echo:"+strings.ToUpper(echo.Tag), msgid)})
	}
	for _, n := range netmail {
		to, err := pkt.ParseAddr(n.ToAddr)
		if err != nil {
			sc.Log.Warn("ftn: netmail to a bad address is not exported", "to", n.ToAddr, "id", n.ID)
			batch.Netmail = append(batch.Netmail, n.ID)
			continue
		}
		up, _ := s.RouteNetmail(to)
		msgid := fmt.Sprintf("%s %08x", s.Addresses[0], serial())
		if !fits(map[pkt.Addr]pkt.Message{up.Addr: sc.netmailMessage(n, to, msgid)}) {
			break
		}
		batch.Netmail = append(batch.Netmail, n.ID)
	}
	files := make(map[string][]byte)
	var ups []pkt.Addr
	for a := range msgs {
		ups = append(ups, a)
	}
	sort.Slice(ups, func(i, j int) bool { return ups[i].String() < ups[j].String() })
	for _, a := range ups {
		up, _ := s.Uplink(a)
		p := pkt.Packet{
			Header: pkt.Header{
				Orig: s.addressFor(a), Dest: a, Created: now,
				Password: up.PacketPassword.Reveal(), ProductCode: productCode, RevMajor: 1,
			},
			Messages: msgs[a],
		}
		name := fmt.Sprintf("%08x.pkt", serial())
		files[name] = p.Bytes()
		batch.Packets = append(batch.Packets, store.StagedPacket{Name: name, Uplink: a.String()})
	}
	return batch, files, nil
}

// forwardMessages passes a tossed echomail message on to the echo's
// uplinks it has not reached: the same text, with this board and those
// uplinks added to its SEEN-BY and this board to its PATH. A packet that
// no longer parses, or an echo no longer linked, yields none.
func (sc *Scanner) forwardMessages(f store.ForwardPost) map[pkt.Addr]pkt.Message {
	p, err := pkt.Parse(f.Packet)
	if err != nil || len(p.Messages) != 1 {
		sc.Log.Warn("ftn: a post to pass on has no readable packet; dropped", "post", f.ID)
		return nil
	}
	m := p.Messages[0]
	text := pkt.ParseText(m.Text)
	echo, ok := sc.Settings.EchoByTag(text.Area)
	if !ok {
		return nil
	}
	targets := forwardTargets(sc.Settings, echo, p.Header.Orig, text.SeenBy)
	out := make(map[pkt.Addr]pkt.Message, len(targets))
	for _, up := range targets {
		me := sc.Settings.addressFor(up.Addr)
		t := text
		t.SeenBy = append([]pkt.NetNode{me.Node2D()}, text.SeenBy...)
		for _, u := range targets {
			t.SeenBy = append(t.SeenBy, u.Addr.Node2D())
		}
		t.SeenBy = sortNetNodes(t.SeenBy)
		t.Path = append(append([]pkt.NetNode(nil), text.Path...), me.Node2D())
		fm := m
		fm.OrigNet, fm.OrigNode, fm.DestNet, fm.DestNode = me.Net, me.Node, up.Addr.Net, up.Addr.Node
		fm.Text = t.Bytes()
		out[up.Addr] = fm
	}
	return out
}

// sortNetNodes sorts a SEEN-BY list by net and node and drops repeats.
func sortNetNodes(list []pkt.NetNode) []pkt.NetNode {
	sort.Slice(list, func(i, j int) bool {
		if list[i].Net != list[j].Net {
			return list[i].Net < list[j].Net
		}
		return list[i].Node < list[j].Node
	})
	var out []pkt.NetNode
	for _, n := range list {
		if len(out) == 0 || n != out[len(out)-1] {
			out = append(out, n)
		}
	}
	return out
}

// addressFor is the board's address to use towards a: the first in a's
// zone, else the main one.
func (s *Settings) addressFor(a pkt.Addr) pkt.Addr {
	for _, o := range s.Addresses {
		if o.Zone == a.Zone {
			return o
		}
	}
	return s.Addresses[0]
}

// echoMessage is a post as an echomail message to uplink up.
func (sc *Scanner) echoMessage(p store.ExportPost, echo Echo, msgid string, up Uplink) pkt.Message {
	s := sc.Settings
	me := s.addressFor(up.Addr)
	chrs := s.Charset
	enc := func(v string) string { return pkt.Encode(chrs, v) }
	t := pkt.Text{Area: echo.Tag}
	setText(&t, msgid, p.ReplyMsgID, chrs, p.Lines)
	t.Origin = enc(s.Origin) + " (" + me.String() + ")"
	seen := []pkt.NetNode{me.Node2D()}
	for _, u := range s.EchoUplinks(echo) {
		if u.Addr.Point == 0 {
			seen = append(seen, u.Addr.Node2D())
		}
	}
	t.SeenBy = sortNetNodes(seen)
	if me.Point == 0 {
		t.Path = []pkt.NetNode{me.Node2D()}
	}
	to := "All"
	if p.ReplyTo != "" {
		to = p.ReplyTo
	}
	return pkt.Message{
		OrigNet: me.Net, OrigNode: me.Node, DestNet: up.Addr.Net, DestNode: up.Addr.Node,
		Date: pkt.FormatDate(p.Posted.UTC()),
		To:   pkt.EncodeField(chrs, to, pkt.MaxNameBytes), From: pkt.EncodeField(chrs, p.Author, pkt.MaxNameBytes),
		Subject: pkt.EncodeField(chrs, p.Subject, pkt.MaxSubjectBytes),
		Text:    t.Bytes(),
	}
}

// netmailMessage is a netmail written here, to address to.
func (sc *Scanner) netmailMessage(n store.ExportNetmail, to pkt.Addr, msgid string) pkt.Message {
	s := sc.Settings
	me := s.addressFor(to)
	chrs := s.Charset
	var t pkt.Text
	t.SetKludge("INTL", to.Boss().String()+" "+me.Boss().String())
	if me.Point != 0 {
		t.SetKludge("FMPT", fmt.Sprint(me.Point))
	}
	if to.Point != 0 {
		t.SetKludge("TOPT", fmt.Sprint(to.Point))
	}
	setText(&t, msgid, n.Reply, chrs, n.Lines)
	t.Via = []pkt.Kludge{{Name: "Via", Value: me.String() + " @" + sc.now().UTC().Format("20060102.150405") + " m2bbs"}}
	return pkt.Message{
		OrigNet: me.Net, OrigNode: me.Node, DestNet: to.Net, DestNode: to.Node,
		Attr: pkt.AttrPrivate,
		Date: pkt.FormatDate(n.Written.UTC()),
		To:   pkt.EncodeField(chrs, n.ToName, pkt.MaxNameBytes), From: pkt.EncodeField(chrs, n.From, pkt.MaxNameBytes),
		Subject: pkt.EncodeField(chrs, n.Subject, pkt.MaxSubjectBytes),
		Text:    t.Bytes(),
	}
}

// setText adds the kludges every exported message carries (MSGID, REPLY
// when it answers one, PID, TZUTC, CHRS), its body lines encoded in chrs
// and the tear line.
func setText(t *pkt.Text, msgid, reply, chrs string, lines []string) {
	t.SetKludge("MSGID", msgid)
	if reply != "" {
		t.SetKludge("REPLY", reply)
	}
	t.SetKludge("PID", "m2bbs")
	t.SetKludge("TZUTC", "0000")
	t.SetKludge("CHRS", chrs)
	t.Lines = bodyLines(lines, func(v string) string { return pkt.Encode(chrs, v) })
	t.Tear, t.HasTear = "m2bbs", true
}

// bodyLines encodes a local message's lines, keeping lines that would
// read as a kludge, a tear, an origin or a SEEN-BY line from doing so.
func bodyLines(lines []string, enc func(string) string) []string {
	out := make([]string, 0, len(lines))
	for _, l := range lines {
		l = strings.Map(func(r rune) rune {
			if r < ' ' && r != '\t' {
				return -1
			}
			return r
		}, l)
		switch {
		case strings.HasPrefix(l, " * Origin:"), strings.HasPrefix(l, "SEEN-BY:"), strings.HasPrefix(l, "AREA:"):
			l = " " + l
		case l == "---" || strings.HasPrefix(l, "--- "):
			l = "-" + l
		}
		out = append(out, enc(l))
	}
	return out
}
