package qwkmail_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/m2bbs/m2bbs/host/handler/qwkmail"
	"github.com/m2bbs/m2bbs/host/handler/store"
	"github.com/m2bbs/m2bbs/host/qwk"
	"github.com/m2bbs/m2bbs/host/qwk/qwktest"
)

func newBoard(t *testing.T) (*store.SQLite, *qwkmail.Service) { return newBoardB(t) }

func newBoardB(t testing.TB) (*store.SQLite, *qwkmail.Service) {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "bbs.db"), store.Options{BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx := context.Background()
	for _, u := range []string{"ann", "bob", "carol"} {
		if err := db.RegisterUser(ctx, u, "secret-password"); err != nil {
			t.Fatal(err)
		}
	}
	for _, a := range []string{"tech", "sysop"} {
		if _, err := db.DefineArea(ctx, a, ""); err != nil {
			t.Fatal(err)
		}
	}
	return db, &qwkmail.Service{Store: db, Location: time.UTC}
}

func post(t testing.TB, db store.Store, area, author, subject string, lines ...string) store.Post {
	t.Helper()
	p, err := db.Post(context.Background(), store.NewPost{Area: area, Author: author, Subject: subject, Lines: lines})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

var board = qwkmail.Board{BBSID: "TESTBBS", Name: "Test Board", Sysop: "ann"}

// TestBuildFetchPost walks the offline mail round: a packet of new
// posts, read by the independent reader; pointers unmoved until it is
// fetched; a REP with two replies and a mail posted where a caller reads
// them.
func TestBuildFetchPost(t *testing.T) {
	db, svc := newBoard(t)
	ctx := context.Background()
	hello := post(t, db, "general", "bob", "Hello", "hi all")
	modem := post(t, db, "tech", "carol", "A subject well past twenty-five bytes long", "56k", "flex")
	post(t, db, "sysop", "bob", "secret", "not for ann")
	post(t, db, "general", "ann", "mine", "never new to ann")
	if _, err := db.WriteMail(ctx, "ann", "carol", "psst", []string{"for ann"}); err != nil {
		t.Fatal(err)
	}

	built, err := svc.Build(ctx, board, "ann", []string{"general", "tech"})
	if err != nil {
		t.Fatal(err)
	}
	if built.Messages != 3 || built.Mail != 1 || built.FileName != "TESTBBS.QWK" || !qwkmail.ValidToken(built.Token) {
		t.Fatalf("built = %+v", built)
	}
	dir := t.TempDir()
	path, err := svc.PacketFile(ctx, dir, board, "ann", built.Token)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil || filepath.Base(path) != "TESTBBS.QWK" {
		t.Fatalf("packet file %s: %v", path, err)
	}
	p, err := qwktest.Read(data)
	if err != nil {
		t.Fatalf("independent reader: %v", err)
	}
	if p.Control[4] != "00000,TESTBBS" || p.Control[6] != "ANN" || p.Confs[0] != "Mail" || p.Confs[1] != "general" {
		t.Errorf("CONTROL.DAT = %q", p.Control)
	}
	if len(p.Msgs) != 3 {
		t.Fatalf("%d messages", len(p.Msgs))
	}
	mail := p.Msgs[0]
	if mail.Conference != 0 || mail.Status != '+' || mail.From != "carol" || mail.To != "ann" || mail.Subject != "psst" {
		t.Errorf("the mail = %+v", mail)
	}
	p.Msgs = p.Msgs[1:]
	if p.Msgs[0].Number != int(hello.ID) || p.Msgs[0].From != "bob" ||
		p.Msgs[1].Long["Subject"] != modem.Subject || !reflect.DeepEqual(p.Msgs[1].Text, []string{"56k", "flex"}) {
		t.Errorf("messages = %+v", p.Msgs)
	}
	if n, _ := db.NewCount(ctx, "ann", "general"); n != 1 {
		t.Errorf("building moved ann's pointer: %d new", n)
	}
	if _, unread, _ := db.MailCount(ctx, "ann"); unread != 1 {
		t.Errorf("building read ann's mail")
	}
	if first, err := svc.Fetched(ctx, "ann", built.Token); err != nil || !first {
		t.Fatalf("fetched: %v %v", first, err)
	}
	if n, _ := db.NewCount(ctx, "ann", "general"); n != 0 {
		t.Errorf("after fetching: %d new in general", n)
	}
	if _, unread, _ := db.MailCount(ctx, "ann"); unread != 0 {
		t.Errorf("after fetching: %d unread mails", unread)
	}
	if _, err := svc.Build(ctx, board, "ann", []string{"general", "tech"}); err != qwkmail.ErrNothingNew {
		t.Errorf("second build: %v", err)
	}

	rep, err := qwk.BuildREP("TESTBBS", []qwk.Message{
		{Conference: p.Msgs[0].Conference, To: "bob", Subject: "Re: Hello", ReplyTo: int64(p.Msgs[0].Number), Lines: []string{"hi bob"}},
		{Conference: p.Msgs[1].Conference, To: "carol", Subject: "", ReplyTo: int64(p.Msgs[1].Number), Lines: []string{"33.6 here"}},
		{Conference: qwkmail.MailConference, Private: true, To: "bob", Subject: "lunch?", Lines: []string{"noon?"}},
		{Conference: 3, To: "All", Subject: "sneaky", Lines: []string{"into sysop"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	report, err := svc.Post(ctx, board, "ann", rep, []string{"general", "tech"})
	if err != nil {
		t.Fatal(err)
	}
	if report.Refused != "" || report.Posted() != 3 || report.Messages[3].Reason != "no area you may post in" ||
		report.Messages[3].Area != "conference 3" || strings.Contains(strings.Join(report.Lines(), "\n"), "sysop") {
		t.Fatalf("report = %+v\n%s", report, strings.Join(report.Lines(), "\n"))
	}
	thread, _ := db.Thread(ctx, hello.ID)
	if len(thread) != 2 || thread[1].Author != "ann" || thread[1].ID != report.Messages[0].PostID {
		t.Errorf("general's thread = %+v", thread)
	}
	reply, _ := db.ReadPost(ctx, report.Messages[1].PostID)
	if reply.ParentID != modem.ID || reply.Area != "tech" || !strings.HasPrefix(reply.Subject, "Re: A subject") {
		t.Errorf("tech reply = %+v", reply)
	}
	mails, _ := db.ListMail(ctx, "bob", 0, 10)
	if len(mails) != 1 || mails[0].From != "ann" || mails[0].Subject != "lunch?" {
		t.Errorf("bob's mail = %+v", mails)
	}
	if n, _ := db.PostCount(ctx, "sysop"); n != 1 {
		t.Errorf("sysop holds %d posts", n)
	}
	// The same REP again: refused as duplicates, nothing doubled.
	again, err := svc.Post(ctx, board, "ann", rep, []string{"general", "tech"})
	if err != nil || again.Posted() != 0 || again.Messages[0].Reason != "already posted" {
		t.Errorf("again = %+v, %v", again, err)
	}
	if n, _ := db.PostCount(ctx, "general"); n != 3 {
		t.Errorf("general holds %d posts", n)
	}
}

// TestMalformedREPChangesNothing: a REP cut short is refused whole with
// a report; no message of it is posted.
func TestMalformedREPChangesNothing(t *testing.T) {
	db, svc := newBoard(t)
	ctx := context.Background()
	rep, _ := qwk.BuildREP("TESTBBS", []qwk.Message{{Conference: 1, To: "All", Subject: "x", Lines: []string{"y"}}})
	for name, data := range map[string][]byte{
		"cut short":     rep[:len(rep)-30],
		"another board": func() []byte { b, _ := qwk.BuildREP("OTHER", []qwk.Message{{Conference: 1}}); return b }(),
		"not a zip":     []byte("garbage"),
	} {
		report, err := svc.Post(ctx, board, "ann", data, []string{"general"})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if report.Refused == "" || report.Posted() != 0 || !strings.Contains(report.Lines()[0], "refused") {
			t.Errorf("%s: report = %+v", name, report)
		}
	}
	if n, _ := db.PostCount(ctx, "general"); n != 0 {
		t.Errorf("general holds %d posts", n)
	}
}

func TestSelection(t *testing.T) {
	db, svc := newBoard(t)
	ctx := context.Background()
	readable := []string{"general", "tech"}
	if got, _ := svc.Selected(ctx, "ann", readable); !reflect.DeepEqual(got, readable) {
		t.Errorf("default selection = %q", got)
	}
	if err := db.SelectQWK(ctx, "ann", "tech", true); err != nil {
		t.Fatal(err)
	}
	if err := db.SelectQWK(ctx, "ann", "sysop", true); err != nil {
		t.Fatal(err)
	}
	if got, _ := svc.Selected(ctx, "ann", readable); !reflect.DeepEqual(got, []string{"tech"}) {
		t.Errorf("selection = %q (sysop is not readable)", got)
	}
	// Leaving the last area takes none, not all: mail only.
	for _, a := range []string{"tech", "sysop"} {
		if err := db.SelectQWK(ctx, "ann", a, false); err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := svc.Selected(ctx, "ann", readable); len(got) != 0 {
		t.Errorf("after leaving every area: %q", got)
	}
}

func TestReadREPLimit(t *testing.T) {
	svc := &qwkmail.Service{Limits: qwk.Limits{MaxPacketBytes: 10, MaxMessagesBytes: 10, MaxMessages: 1, MaxBlocks: 1}}
	path := filepath.Join(t.TempDir(), "X.REP")
	os.WriteFile(path, make([]byte, 11), 0o600)
	if _, refused, err := svc.ReadREP(path); err != nil || refused == "" {
		t.Errorf("oversized REP: %q, %v", refused, err)
	}
}

// TestPacketLimit: past MaxMessages the rest wait for the next packet,
// and fetching the first moves the pointer only past what it held.
func TestPacketLimit(t *testing.T) {
	db, svc := newBoard(t)
	ctx := context.Background()
	svc.MaxMessages = 2
	var ids []int64
	for i := range 3 {
		ids = append(ids, post(t, db, "general", "bob", "post", strings.Repeat("x", i)).ID)
	}
	first, err := svc.Build(ctx, board, "ann", []string{"general"})
	if err != nil || first.Messages != 2 {
		t.Fatalf("first packet: %+v, %v", first, err)
	}
	if _, err := svc.Fetched(ctx, "ann", first.Token); err != nil {
		t.Fatal(err)
	}
	if id, _ := db.LastRead(ctx, "ann", "general"); id != ids[1] {
		t.Errorf("pointer at %d, want %d", id, ids[1])
	}
	second, err := svc.Build(ctx, board, "ann", []string{"general"})
	if err != nil || second.Messages != 1 || second.Areas[0].Posts != 1 {
		t.Errorf("second packet: %+v, %v", second, err)
	}
}

// builtForAnn is a board with a packet built for ann.
func builtForAnn(t *testing.T) (*qwkmail.Service, qwkmail.Built) {
	t.Helper()
	db, svc := newBoard(t)
	post(t, db, "general", "bob", "Hello", "hi")
	built, err := svc.Build(context.Background(), board, "ann", []string{"general"})
	if err != nil {
		t.Fatal(err)
	}
	return svc, built
}

// TestPacketFolderRefusedWhenShared: a packet folder others may enter
// (or a link planted in its place) is refused, not written into.
func TestPacketFolderRefusedWhenShared(t *testing.T) {
	svc, built := builtForAnn(t)
	ctx := context.Background()
	shared := filepath.Join(t.TempDir(), "shared")
	if err := os.Mkdir(shared, 0o777); err != nil {
		t.Fatal(err)
	}
	os.Chmod(shared, 0o777)
	if _, err := svc.PacketFile(ctx, shared, board, "ann", built.Token); err == nil {
		t.Errorf("a world-writable packet folder was used")
	}
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(t.TempDir(), link); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.PacketFile(ctx, link, board, "ann", built.Token); err == nil {
		t.Errorf("a symbolic link was taken for the packet folder")
	}
}

// TestPacketFolderOfAnotherAccount: a packet folder another account
// owns (planted in a shared /tmp) is refused, and so is a link planted
// where a packet's own folder goes.
func TestPacketFolderOfAnotherAccount(t *testing.T) {
	svc, built := builtForAnn(t)
	ctx := context.Background()
	// A link at TOKEN inside the host's own folder: never written through.
	dir := filepath.Join(t.TempDir(), "own")
	target := t.TempDir()
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, filepath.Join(dir, built.Token)); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.PacketFile(ctx, dir, board, "ann", built.Token); err == nil {
		t.Errorf("a link planted at the packet's folder was written through")
	}
	if entries, _ := os.ReadDir(target); len(entries) != 0 {
		t.Errorf("the packet landed where the link points: %v", entries)
	}
	if os.Geteuid() != 0 {
		t.Skip("giving a folder to another account needs root")
	}
	other := filepath.Join(t.TempDir(), "planted")
	if err := os.Mkdir(other, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(other, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.PacketFile(ctx, other, board, "ann", built.Token); err == nil {
		t.Errorf("a folder another account owns was used")
	}
}

// TestSameReplyToTwoPosts: the same text under the same subject, in
// answer to two posts, is two replies, not a duplicate.
func TestSameReplyToTwoPosts(t *testing.T) {
	db, svc := newBoard(t)
	ctx := context.Background()
	a := post(t, db, "general", "bob", "Hello", "one")
	b := post(t, db, "general", "carol", "Hello", "two")
	rep, err := qwk.BuildREP("TESTBBS", []qwk.Message{
		{Conference: 1, To: "bob", Subject: "Re: Hello", ReplyTo: a.ID, Lines: []string{"Thanks!"}},
		{Conference: 1, To: "carol", Subject: "Re: Hello", ReplyTo: b.ID, Lines: []string{"Thanks!"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	report, err := svc.Post(ctx, board, "ann", rep, []string{"general"})
	if err != nil || report.Posted() != 2 {
		t.Errorf("report = %+v, %v", report, err)
	}
}

// TestREPLineLimit: a REP message longer than the board's bound on posts
// is refused, the others posted.
func TestREPLineLimit(t *testing.T) {
	_, svc := newBoard(t)
	ctx := context.Background()
	rep, err := qwk.BuildREP("TESTBBS", []qwk.Message{
		{Conference: 1, To: "All", Subject: "long", Lines: strings.Split(strings.Repeat("line\n", 900), "\n")},
		{Conference: 1, To: "All", Subject: "short", Lines: []string{"ok"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	parsed := svc.Parse(board, rep)
	report, err := svc.Apply(ctx, "ann", parsed, []string{"general"}, 24)
	if err != nil || report.Posted() != 1 || report.Messages[0].Reason != "longer than 24 lines" {
		t.Errorf("report = %+v, %v", report, err)
	}
}

// TestNumbersPastQWK: a post numbered past what QWK's 7 digits hold is
// passed over (the pointer moves past it) instead of failing every
// packet that would hold it.
func TestNumbersPastQWK(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bbs.db")
	db, err := store.Open(path, store.Options{BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx := context.Background()
	for _, u := range []string{"ann", "bob"} {
		if err := db.RegisterUser(ctx, u, "secret-password"); err != nil {
			t.Fatal(err)
		}
	}
	small := post(t, db, "general", "bob", "small", "x")
	raw, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec("UPDATE sqlite_sequence SET seq = 10000000 WHERE name = 'messages'"); err != nil {
		t.Fatal(err)
	}
	big := post(t, db, "general", "bob", "big", "y")
	if big.ID <= qwk.MaxNumber {
		t.Fatalf("post id %d", big.ID)
	}
	svc := &qwkmail.Service{Store: db}
	built, err := svc.Build(ctx, board, "ann", []string{"general"})
	if err != nil || built.Messages != 1 {
		t.Fatalf("built %+v, %v", built, err)
	}
	if _, err := svc.Fetched(ctx, "ann", built.Token); err != nil {
		t.Fatal(err)
	}
	if id, _ := db.LastRead(ctx, "ann", "general"); id != big.ID || small.ID >= big.ID {
		t.Errorf("pointer at %d, want past %d", id, big.ID)
	}
}
