package session

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/m2bbs/m2bbs/host/handler/screens"
	"github.com/m2bbs/m2bbs/host/handler/store"
)

// boardsMain is a small main script around scripts/boards.lua: the first
// line a caller sends is their name, then B opens the boards, M the
// mailbox. "X id" tries to delete mail id directly, as a crafted script
// call would.
const boardsMain = `
local ui = require 'ui'
return function(conn, req)
    local boards = require 'boards'
    local mail = require 'mail'
    local user = req.data.msg
    while true do
        req = ui.ask(conn, req, 'MAIN: B)oards, M)ail, Q)uit', '> ')
        local choice = req.data.msg:upper()
        if choice == 'B' then
            boards.menu(conn, req, user)
        elseif choice == 'M' then
            boards.mail_menu(conn, req, user)
        elseif choice:match('^X %d+$') then
            local ok, err = mail.delete(user, tonumber(choice:sub(3)))
            ui.display(conn, req, ok and 'deleted' or ('refused: ' .. err))
        elseif choice == 'Q' then
            ui.exit(conn, req, 'bye')
            return
        end
    end
end
`

// boardsTable runs boardsMain over the shipped scripts and screens and a
// fresh database with users ann, bob and cy, with the board and mail
// modules added the way the host wires them.
func boardsTable(t *testing.T) (*Table, *recorder, *store.SQLite) {
	t.Helper()
	return boardsTableWith(t, boardsMain)
}

// boardsTableWith is boardsTable running main instead of boardsMain.
func boardsTableWith(t *testing.T, boardsMain string) (*Table, *recorder, *store.SQLite) {
	t.Helper()
	dir := t.TempDir()
	db, err := store.Open(filepath.Join(dir, "bbs.db"), store.Options{BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for _, name := range []string{"ann", "bob", "cy"} {
		if err := db.RegisterUser(context.Background(), name, "pw"); err != nil {
			t.Fatal(err)
		}
	}
	main := filepath.Join(dir, "main.lua")
	if err := os.WriteFile(main, []byte(boardsMain), 0o600); err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	var logs strings.Builder
	tbl, err := New(Config{
		ScriptsDir: "../../../scripts", MainScript: main,
		// The conversations below type faster than a person.
		RatePerSecond: 1e6, RateBurst: 1e6,
	}, Deps{
		Replier: rec,
		Screens: screens.NewDir("../../../screens"),
		Store:   db,
		Log:     slog.New(slog.NewTextHandler(&logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		tbl.Close()
		if t.Failed() {
			t.Logf("log:\n%s", logs.String())
		}
	})
	return tbl, rec, db
}

// caller is one side of a conversation in a boards test.
type caller struct {
	t    *testing.T
	tbl  *Table
	rec  *recorder
	conn string
}

// call connects a caller who says their name.
func call(t *testing.T, tbl *Table, rec *recorder, conn, name string) *caller {
	c := &caller{t, tbl, rec, conn}
	c.say(name).shows("MAIN: B)oards")
	return c
}

// shown is what the caller saw after one line: each message's text, with
// its prompt character, in order.
type shown struct {
	t    *testing.T
	line string
	msgs []string
}

// say sends line and returns what the caller was shown.
func (c *caller) say(line string) *shown {
	c.t.Helper()
	c.rec.replies = nil
	c.tbl.Handle(msg(c.conn, line))
	s := &shown{t: c.t, line: line}
	for _, r := range c.rec.replies {
		if r.msg == nil {
			s.msgs = append(s.msgs, "(hangup)")
			continue
		}
		text := fmt.Sprint(r.msg["msg"])
		if p, ok := r.msg["pchar"]; ok {
			text += "\n" + fmt.Sprint(p)
		}
		s.msgs = append(s.msgs, text)
	}
	c.rec.replies = nil
	return s
}

// all is everything shown, one message after another.
func (s *shown) all() string { return strings.Join(s.msgs, "\n") }

// shows fails the test unless every want appears, in this order.
func (s *shown) shows(want ...string) *shown {
	s.t.Helper()
	text := s.all()
	at := 0
	for _, w := range want {
		i := strings.Index(text[at:], w)
		if i < 0 {
			s.t.Fatalf("after %q the caller did not see %q (in order) in:\n%s", s.line, w, text)
		}
		at += i + len(w)
	}
	return s
}

// hides fails the test if any of text appears.
func (s *shown) hides(text ...string) *shown {
	s.t.Helper()
	for _, w := range text {
		if strings.Contains(s.all(), w) {
			s.t.Fatalf("after %q the caller saw %q in:\n%s", s.line, w, s.all())
		}
	}
	return s
}

// sayAll sends lines and returns what the last one showed.
func (c *caller) sayAll(lines ...string) *shown {
	c.t.Helper()
	var s *shown
	for _, l := range lines {
		s = c.say(l)
	}
	return s
}

func TestBoardsPostInTwoAreasAndReply(t *testing.T) {
	tbl, rec, db := boardsTable(t)
	ctx := context.Background()
	ann := call(t, tbl, rec, "1", "ann")
	ann.say("B").shows("---(((MESSAGE AREAS)))---", " 1. general", "0 posts", " 2. tech", " 3. games", "[#, N)ew scan, Q)uit]")
	ann.say("1").shows("Nobody has posted here yet", "[W)rite, Q)uit]")
	ann.say("W").shows("Subject of your post?")
	ann.say("Hello").shows("at most 24 lines", " 1: ")
	ann.say("hi all").shows(" 2: ")
	ann.say(".").shows("Posted.", "--- general: Anything goes (1-1 of 1, newest first) ---", " 1. Hello", "ann")
	ann.say("Q").shows(" 1. general", "1 post")
	ann.sayAll("2", "W", "Modems", "2400 baud")
	ann.say(".").shows("Posted.", "--- tech:", " 1. Modems")
	ann.sayAll("Q", "Q").shows("MAIN:")

	bob := call(t, tbl, rec, "2", "bob")
	bob.say("B").shows(" 1. general", "1 post, 1 new", " 2. tech", "1 post, 1 new")
	bob.say("1").shows("* 1. Hello")
	bob.say("1").shows("#1 in general", "From: ann", "Subject: Hello", "hi all", "[R)eply, T)hread, Enter]")
	bob.say("R").shows("Replying to #1: Hello", `Enter keeps "Re: ...")`)
	bob.sayAll("", "hi ann")
	bob.say(".").shows("Posted.", " 1. Re: Hello", "bob", " 2. Hello", "ann", "(1)")
	bob.say("2").shows("#1 in general, 1 reply", "Subject: Hello")
	bob.say("T").shows("--- Thread: 2 posts ---", " 1. #1 Hello - ann", " 2.   #3 Re: Hello - bob", "[#, Enter]")
	bob.say("2").shows("#3 in general, a reply to #1", "From: bob", "Subject: Re: Hello", "hi ann")
	bob.say("").shows("--- general:")

	// The store agrees, and the original board's view is the general area.
	thread, err := db.Thread(ctx, 3)
	if err != nil || len(thread) != 2 || thread[1].ParentID != 1 || thread[1].Depth != 1 {
		t.Errorf("Thread(3) = %+v, %v", thread, err)
	}
	if n, _ := db.MessageCount(ctx); n != 2 {
		t.Errorf("MessageCount = %d; want the 2 posts of general", n)
	}
	if n, _ := db.PostCount(ctx, "tech"); n != 1 {
		t.Errorf("tech has %d posts; want 1", n)
	}
	if st := tbl.Stats(); st.Errored != 0 {
		t.Errorf("stats = %+v", st)
	}
}

func TestBoardsPagingThrough25Posts(t *testing.T) {
	tbl, rec, db := boardsTable(t)
	ctx := context.Background()
	if _, err := db.DefineArea(ctx, "tech", "Computers"); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 25; i++ {
		if _, err := db.Post(ctx, store.NewPost{Area: "tech", Author: "ann", Subject: fmt.Sprintf("post %02d", i), Lines: []string{fmt.Sprint("body ", i)}}); err != nil {
			t.Fatal(err)
		}
	}
	bob := call(t, tbl, rec, "1", "bob")
	bob.say("B").shows(" 2. tech", "25 posts, 25 new")
	bob.say("2").shows("(1-10 of 25, newest first)", " 1. post 25", "10. post 16").hides("post 15")
	bob.say("N").shows("(11-20 of 25", " 1. post 15", "10. post 06").hides("post 16", "post 05")
	bob.say("N").shows("(21-25 of 25", " 1. post 05", " 5. post 01").hides("post 06")
	bob.say("N").shows("No more pages that way.", "(21-25 of 25")
	bob.say("P").shows("(11-20 of 25")
	bob.say("P").shows("(1-10 of 25")
	bob.say("P").shows("No more pages that way.", "(1-10 of 25")
	bob.say("7").shows("#19 in tech", "Subject: post 19", "body 19")
	bob.say("").shows("(1-10 of 25")
	bob.say("11").shows("That is not one of the choices here.", "(1-10 of 25")
	bob.say("Q").shows("25 posts, 25 new") // reading from a listing leaves the pointer alone
}

func TestBoardsNewMessageScanWithPointersPerUser(t *testing.T) {
	tbl, rec, db := boardsTable(t)
	ctx := context.Background()
	post := func(area, subject string) {
		t.Helper()
		if _, err := db.Post(ctx, store.NewPost{Area: area, Author: "ann", Subject: subject, Lines: []string{"text of " + subject}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.DefineArea(ctx, "tech", ""); err != nil {
		t.Fatal(err)
	}
	post("general", "g1")
	post("general", "g2")
	post("tech", "t1")

	bob := call(t, tbl, rec, "1", "bob")
	bob.say("B")
	bob.say("N").shows("=== New in general: 1 of 2 ===", "Subject: g1", "text of g1", "[Enter, R)eply, S)kip area, Q)uit]")
	bob.say("").shows("=== New in general: 2 of 2 ===", "Subject: g2")
	bob.say("").shows("=== New in tech: 1 of 1 ===", "Subject: t1")
	bob.say("").shows("That was the last new message.", " 1. general", " 2. tech").hides("posts, ", "post, ")
	bob.say("N").shows("Nothing new anywhere")

	cy := call(t, tbl, rec, "2", "cy")
	cy.say("B").shows("2 posts, 2 new")
	cy.say("N").shows("New in general: 1 of 2", "Subject: g1")
	cy.say("S").shows("New in tech: 1 of 1", "Subject: t1").hides("g2")
	cy.say("Q").shows(" 1. general").hides("posts, ", "post, ")

	post("general", "g3")
	for _, who := range []*caller{bob, cy} {
		who.say("N").shows("New in general: 1 of 1", "Subject: g3").hides("g1", "g2")
		who.say("").shows("That was the last new message.")
	}
	for _, user := range []string{"ann", "bob", "cy"} {
		n, err := db.NewCount(ctx, user, "general")
		want := map[string]int{"ann": 0, "bob": 0, "cy": 0}[user] // ann wrote them: never new to her
		if n != want || err != nil {
			t.Errorf("NewCount(%s, general) = %d, %v; want %d", user, n, err, want)
		}
	}
	// Replying from the scan posts into the thread and goes on.
	post("general", "g4")
	bob.say("N").shows("Subject: g4")
	bob.say("R").shows("Replying to #")
	bob.sayAll("", "me too")
	bob.say(".").shows("Posted.", "That was the last new message.", " 1. general").hides("posts, ", "post, ")
	newest, err := db.Posts(ctx, "general", 0, 2, store.NewestFirst)
	if err != nil || len(newest) != 2 || newest[0].Author != "bob" || newest[0].Subject != "Re: g4" || newest[0].ParentID != newest[1].ID {
		t.Errorf("the reply from the scan: newest posts = %+v, %v; want bob's reply to g4", newest, err)
	}
}

func TestBoardsMailKeepsReadsAndDeletes(t *testing.T) {
	tbl, rec, db := boardsTable(t)
	ctx := context.Background()
	ann := call(t, tbl, rec, "1", "ann")
	ann.say("M").shows("Your mailbox is empty.", "[S)end, Q)uit]")
	ann.say("S").shows("Who is this mail for?")
	ann.say("nobody").shows("Nobody on this board goes by that name.", "Your mailbox is empty.")
	ann.say("S")
	ann.say("bob").shows("Subject?")
	ann.sayAll("Lunch?", "noon?")
	ann.say(".").shows("Mail sent.", "Your mailbox is empty.")
	ann.say("Q").shows("MAIN:")
	if _, err := db.SendMail(ctx, "bob", "cy", []string{"sent with db.send_to"}); err != nil {
		t.Fatal(err)
	}

	bob := call(t, tbl, rec, "2", "bob")
	bob.say("M").shows("---(((YOUR MAILBOX)))---", "2 mails, 2 unread", "* 1. (no subject)", "from cy", "* 2. Lunch?", "from ann")
	bob.say("2").shows("From: ann", "Subject: Lunch?", "noon?", "[R)eply, D)elete, Enter]")
	bob.say("").shows("2 mails, 1 unread", "* 1. (no subject)", "  2. Lunch?")
	bob.say("1").shows("From: cy", "sent with db.send_to")
	bob.say("R").shows("Subject?")
	bob.sayAll("", "thanks cy")
	bob.say(".").shows("Mail sent.", "2 mails, 0 unread", "  1. (no subject)", "  2. Lunch?")
	bob.say("D 2").shows("Mail deleted.", "1 mail, 0 unread").hides("Lunch?")
	bob.say("D").shows("Delete which one?")
	bob.say("5").shows("That is not one of the choices here.", "1 mail,")
	bob.say("Q").shows("MAIN:")

	// cy got bob's reply, unread, with a Re: subject.
	cyMail, err := db.ListMail(ctx, "cy", 0, 10)
	if err != nil || len(cyMail) != 1 || cyMail[0].From != "bob" || cyMail[0].Subject != "Re:" || cyMail[0].Read {
		t.Fatalf("cy's mail = %+v, %v", cyMail, err)
	}
	// Nobody deletes mail that is not theirs, even by id.
	ann.say(fmt.Sprintf("X %d", cyMail[0].ID)).shows("refused: no such mail")
	cy := call(t, tbl, rec, "3", "cy")
	cy.say("M").shows("1 mail, 1 unread", "* 1. Re:", "from bob")
	cy.say("Q")
	cy.say(fmt.Sprintf("X %d", cyMail[0].ID)).shows("deleted")
	if total, _, _ := db.MailCount(ctx, "cy"); total != 0 {
		t.Errorf("cy still has %d mails after deleting hers", total)
	}
}
