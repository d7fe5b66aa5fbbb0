package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
)

// mustPost posts or fails the test.
func mustPost(t testing.TB, s *SQLite, np NewPost) Post {
	t.Helper()
	p, err := s.Post(context.Background(), np)
	if err != nil {
		t.Fatalf("Post(%+v): %v", np, err)
	}
	return p
}

// ids lists the posts' ids.
func ids(posts []Post) []int64 {
	out := make([]int64, len(posts))
	for i, p := range posts {
		out[i] = p.ID
	}
	return out
}

func TestMigrationMovesTheOriginalBoardAndMail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	initSQL, err := fs.ReadFile(migrationFiles, "migrations/001_init.sql")
	if err != nil {
		t.Fatal(err)
	}
	old, err := openWith(path, testOptions, fstest.MapFS{"migrations/001_init.sql": {Data: initSQL}})
	if err != nil {
		t.Fatal(err)
	}
	old.Close()
	// A board written by the original schema: two messages (ids 5 and 9),
	// one mail read and one unread.
	raw := rawDB(t, path)
	for _, q := range []string{
		`INSERT INTO users (id, name, password_hash, created_at) VALUES (1, 'Ann', 'x', 0), (2, 'bob', 'x', 0)`,
		`INSERT INTO messages (id, seq, author_id, body, line_count, posted_at) VALUES
		 (5, 0, 1, 'first' || char(10) || '', 2, 1000), (9, 1, 2, '', 0, 2000)`,
		`INSERT INTO mail (id, to_id, from_id, body, line_count, sent_at, read_at) VALUES
		 (3, 2, 1, 'old news', 1, 3000, 3500), (4, 2, 1, 'unread', 1, 4000, NULL)`,
	} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	raw.Close()

	s, err := Open(path, testOptions)
	if err != nil {
		t.Fatalf("migrating: %v", err)
	}
	defer s.Close()
	ctx := context.Background()
	if n, err := s.MessageCount(ctx); n != 2 || err != nil {
		t.Fatalf("MessageCount after migration = %d, %v; want 2", n, err)
	}
	m, err := s.MessageAt(ctx, 0)
	if err != nil || m.ID != 5 || m.Author != "Ann" || !reflect.DeepEqual(m.Lines, []string{"first", ""}) {
		t.Errorf("MessageAt(0) = %+v, %v", m, err)
	}
	posts, err := s.Posts(ctx, DefaultArea, 0, 10, OldestFirst)
	if err != nil || !reflect.DeepEqual(ids(posts), []int64{5, 9}) {
		t.Fatalf("general area after migration = %v, %v; want posts 5 and 9", ids(posts), err)
	}
	if posts[1].Author != "bob" || posts[1].Subject != "" || posts[1].RootID != 9 || posts[1].ParentID != 0 {
		t.Errorf("migrated post = %+v", posts[1])
	}
	p, err := s.ReadPost(ctx, 9)
	if err != nil || len(p.Lines) != 0 || p.Lines == nil || !p.Posted.Equal(fromMillis(2000)) {
		t.Errorf("ReadPost(9) = %+v, %v; want no lines, posted at 2000 ms", p, err)
	}
	if n := mustPost(t, s, NewPost{Area: "general", Author: "ann", Subject: "new", Lines: []string{"x"}}); n.ID <= 9 {
		t.Errorf("a new post got id %d, not above the migrated ones", n.ID)
	}
	if m, err := s.MessageAt(ctx, 2); err != nil || m.Lines[0] != "x" {
		t.Errorf("the new post is not message 2: %+v, %v", m, err)
	}

	total, unread, err := s.MailCount(ctx, "bob")
	if total != 2 || unread != 1 || err != nil {
		t.Errorf("MailCount(bob) = %d, %d, %v; want 2, 1", total, unread, err)
	}
	next, err := s.ReadNextMail(ctx, "bob")
	if err != nil || next.ID != 4 || next.Lines[0] != "unread" {
		t.Errorf("ReadNextMail = %+v, %v; want mail 4", next, err)
	}
	list, err := s.ListMail(ctx, "bob", 0, 10)
	if err != nil || len(list) != 2 || !list[0].Read || !list[1].Read || list[1].Sent != fromMillis(3000) {
		t.Errorf("ListMail(bob) = %+v, %v; want both mails kept, read", list, err)
	}
}

func TestAreas(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	areas, err := s.Areas(ctx)
	if err != nil || len(areas) != 1 || areas[0].Name != DefaultArea || areas[0].Posts != 0 {
		t.Fatalf("Areas of a new board = %+v, %v; want only %q", areas, err, DefaultArea)
	}
	if _, err := s.DefineArea(ctx, "Tech", "  Computers, old and new "); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DefineArea(ctx, "games", "Play"); err != nil {
		t.Fatal(err)
	}
	a, err := s.DefineArea(ctx, "TECH", "Computers")
	if err != nil || a.Name != "Tech" || a.Description != "Computers" {
		t.Errorf("redefining Tech = %+v, %v; want the first spelling and the new description", a, err)
	}
	areas, _ = s.Areas(ctx)
	var names []string
	for _, a := range areas {
		names = append(names, a.Name)
	}
	if strings.Join(names, ",") != "general,Tech,games" {
		t.Errorf("areas = %v; want general first, then in the order defined", names)
	}
	if a, err := s.Area(ctx, " tech "); err != nil || a.Description != "Computers" {
		t.Errorf("Area(tech) = %+v, %v", a, err)
	}
	for _, tc := range []struct {
		name, description string
		want              error
	}{
		{"", "x", ErrBadArea},
		{"two words", "x", ErrBadArea},
		{strings.Repeat("a", MaxAreaNameLen+1), "x", ErrBadArea},
		{"ok", "line\nbreak", ErrBadSubject},
		{"ok", strings.Repeat("d", MaxDescriptionLen+1), ErrBadSubject},
	} {
		if _, err := s.DefineArea(ctx, tc.name, tc.description); !errors.Is(err, tc.want) {
			t.Errorf("DefineArea(%q, %q) = %v; want %v", tc.name, tc.description, err, tc.want)
		}
	}
	if _, err := s.Area(ctx, "nowhere"); !errors.Is(err, ErrNoSuchArea) {
		t.Errorf("Area(nowhere) = %v; want ErrNoSuchArea", err)
	}
	if _, err := s.Posts(ctx, "nowhere", 0, 10, NewestFirst); !errors.Is(err, ErrNoSuchArea) {
		t.Errorf("Posts(nowhere) = %v; want ErrNoSuchArea", err)
	}
}

func TestPostsInTwoAreasWithThreads(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	mustRegister(t, s, "Ann", "Bob")
	if _, err := s.DefineArea(ctx, "tech", "Computers"); err != nil {
		t.Fatal(err)
	}
	hello := mustPost(t, s, NewPost{Area: "general", Author: "ann", Subject: " Hello ", Lines: []string{"hi all"}})
	modem := mustPost(t, s, NewPost{Area: "TECH", Author: "bob", Subject: "Modems", Lines: []string{"2400 baud"}})
	if hello.Area != "general" || hello.Author != "Ann" || hello.Subject != "Hello" || hello.RootID != hello.ID || hello.ParentID != 0 {
		t.Errorf("first post = %+v", hello)
	}
	if modem.Area != "tech" {
		t.Errorf("post to TECH is in area %q; want tech", modem.Area)
	}
	// Replies: "Re: " once, the parent's area, the thread's root.
	r1 := mustPost(t, s, NewPost{Author: "bob", Lines: []string{"hi ann"}, ReplyTo: hello.ID})
	r2 := mustPost(t, s, NewPost{Area: "general", Author: "ann", Lines: []string{"hi bob"}, ReplyTo: r1.ID})
	r3 := mustPost(t, s, NewPost{Author: "ann", Subject: "Also", Lines: []string{"p.s."}, ReplyTo: hello.ID})
	fast := mustPost(t, s, NewPost{Author: "ann", Lines: []string{"9600!"}, ReplyTo: modem.ID})
	if r1.Subject != "Re: Hello" || r2.Subject != "Re: Hello" || r3.Subject != "Also" {
		t.Errorf("subjects %q, %q, %q; want Re: Hello twice, then Also", r1.Subject, r2.Subject, r3.Subject)
	}
	if r2.ParentID != r1.ID || r2.RootID != hello.ID || r2.Area != "general" {
		t.Errorf("reply to a reply = %+v", r2)
	}
	if _, err := s.Post(ctx, NewPost{Area: "tech", Author: "ann", Lines: []string{"x"}, ReplyTo: hello.ID}); !errors.Is(err, ErrNotFound) {
		t.Errorf("reply naming another area = %v; want ErrNotFound", err)
	}
	if _, err := s.Post(ctx, NewPost{Author: "ann", Lines: []string{"x"}, ReplyTo: 999}); !errors.Is(err, ErrNotFound) {
		t.Errorf("reply to no post = %v; want ErrNotFound", err)
	}

	for area, want := range map[string][]int64{
		"general": {r3.ID, r2.ID, r1.ID, hello.ID},
		"tech":    {fast.ID, modem.ID},
	} {
		posts, err := s.Posts(ctx, area, 0, 0, NewestFirst)
		if err != nil || !reflect.DeepEqual(ids(posts), want) {
			t.Errorf("Posts(%s) = %v, %v; want %v", area, ids(posts), err, want)
		}
		for _, p := range posts {
			if p.Lines != nil {
				t.Errorf("listing carries lines: %+v", p)
			}
		}
	}
	if n, _ := s.PostCount(ctx, "general"); n != 4 {
		t.Errorf("PostCount(general) = %d; want 4", n)
	}
	if n, _ := s.MessageCount(ctx); n != 4 {
		t.Errorf("MessageCount = %d; want 4 (general only)", n)
	}
	got, err := s.ReadPost(ctx, hello.ID)
	if err != nil || got.Replies != 2 || !reflect.DeepEqual(got.Lines, []string{"hi all"}) {
		t.Errorf("ReadPost(hello) = %+v, %v; want 2 replies and its line", got, err)
	}
	if _, err := s.ReadPost(ctx, 12345); !errors.Is(err, ErrNotFound) {
		t.Errorf("ReadPost(12345) = %v; want ErrNotFound", err)
	}

	// The thread in reading order, whichever post it is asked from.
	for _, from := range []int64{hello.ID, r2.ID} {
		thread, err := s.Thread(ctx, from)
		if err != nil {
			t.Fatal(err)
		}
		var shape []string
		for _, p := range thread {
			shape = append(shape, fmt.Sprintf("%d@%d", p.ID, p.Depth))
		}
		want := fmt.Sprintf("%d@0 %d@1 %d@2 %d@1", hello.ID, r1.ID, r2.ID, r3.ID)
		if strings.Join(shape, " ") != want {
			t.Errorf("Thread(%d) = %v; want %s", from, shape, want)
		}
	}
	if _, err := s.Thread(ctx, 999); !errors.Is(err, ErrNotFound) {
		t.Errorf("Thread(999) = %v; want ErrNotFound", err)
	}
}

func TestPostErrors(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	mustRegister(t, s, "ann")
	for _, tc := range []struct {
		name string
		post NewPost
		want error
	}{
		{"unknown author", NewPost{Area: "general", Author: "zed", Lines: []string{"x"}}, ErrNoSuchUser},
		{"unknown area", NewPost{Area: "nowhere", Author: "ann", Lines: []string{"x"}}, ErrNoSuchArea},
		{"no area", NewPost{Author: "ann", Lines: []string{"x"}}, ErrBadArea},
		{"subject with a newline", NewPost{Area: "general", Author: "ann", Subject: "a\nb", Lines: []string{"x"}}, ErrBadSubject},
		{"subject with an escape", NewPost{Area: "general", Author: "ann", Subject: "\x1b[2J", Lines: []string{"x"}}, ErrBadSubject},
		{"subject too long", NewPost{Area: "general", Author: "ann", Subject: strings.Repeat("s", MaxSubjectLen+1), Lines: []string{"x"}}, ErrBadSubject},
		{"subject not UTF-8", NewPost{Area: "general", Author: "ann", Subject: "\xff", Lines: []string{"x"}}, ErrBadSubject},
		{"too many lines", NewPost{Area: "general", Author: "ann", Lines: make([]string, MaxLines+1)}, ErrTooLarge},
	} {
		if _, err := s.Post(ctx, tc.post); !errors.Is(err, tc.want) {
			t.Errorf("%s: Post = %v; want %v", tc.name, err, tc.want)
		}
	}
	if n, _ := s.PostCount(ctx, "general"); n != 0 {
		t.Errorf("refused posts were stored: %d", n)
	}
	long := mustPost(t, s, NewPost{Area: "general", Author: "ann", Subject: strings.Repeat("é", MaxSubjectLen/2), Lines: []string{"x"}})
	reply := mustPost(t, s, NewPost{Author: "ann", Lines: []string{"y"}, ReplyTo: long.ID})
	if len(reply.Subject) > MaxSubjectLen || !strings.HasPrefix(reply.Subject, "Re: é") || !strings.HasSuffix(reply.Subject, "é") {
		t.Errorf("reply to a long subject has subject %q (%d bytes)", reply.Subject, len(reply.Subject))
	}
}

func TestPagingThroughAnArea(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	mustRegister(t, s, "ann")
	var all []int64
	for i := range 25 {
		all = append(all, mustPost(t, s, NewPost{Area: "general", Author: "ann", Subject: fmt.Sprintf("post %d", i+1), Lines: []string{"x"}}).ID)
	}
	reversed := make([]int64, len(all))
	for i, id := range all {
		reversed[len(all)-1-i] = id
	}
	for _, tc := range []struct {
		offset, limit int
		order         Order
		want          []int64
	}{
		{0, 10, NewestFirst, reversed[:10]},
		{10, 10, NewestFirst, reversed[10:20]},
		{20, 10, NewestFirst, reversed[20:]},
		{25, 10, NewestFirst, nil},
		{0, 10, OldestFirst, all[:10]},
		{20, 10, OldestFirst, all[20:]},
		{-5, 3, OldestFirst, all[:3]},
		{0, 0, OldestFirst, all},
		{0, MaxPage + 1, NewestFirst, reversed},
	} {
		posts, err := s.Posts(ctx, "general", tc.offset, tc.limit, tc.order)
		if err != nil {
			t.Fatal(err)
		}
		if got := ids(posts); len(got) != len(tc.want) || (len(got) > 0 && !reflect.DeepEqual(got, tc.want)) {
			t.Errorf("Posts(offset %d, limit %d, order %d) = %v; want %v", tc.offset, tc.limit, tc.order, got, tc.want)
		}
	}
}

func TestNewMessageScanPerUserAndArea(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	mustRegister(t, s, "ann", "bob", "cy")
	if _, err := s.DefineArea(ctx, "tech", ""); err != nil {
		t.Fatal(err)
	}
	g1 := mustPost(t, s, NewPost{Area: "general", Author: "cy", Subject: "g1", Lines: []string{"1"}})
	g2 := mustPost(t, s, NewPost{Area: "general", Author: "cy", Subject: "g2", Lines: []string{"2"}})
	t1 := mustPost(t, s, NewPost{Area: "tech", Author: "cy", Subject: "t1", Lines: []string{"3"}})

	newCount := func(user, area string) int {
		t.Helper()
		n, err := s.NewCount(ctx, user, area)
		if err != nil {
			t.Fatalf("NewCount(%s, %s): %v", user, area, err)
		}
		return n
	}
	if newCount("bob", "general") != 2 || newCount("bob", "tech") != 1 {
		t.Fatal("a user who never read anything does not see every post as new")
	}
	p, err := s.NextNew(ctx, "Bob", "general")
	if err != nil || p.ID != g1.ID || !reflect.DeepEqual(p.Lines, []string{"1"}) {
		t.Fatalf("NextNew = %+v, %v; want g1 with its lines", p, err)
	}
	if newCount("bob", "general") != 1 || newCount("ann", "general") != 2 || newCount("bob", "tech") != 1 {
		t.Error("reading g1 moved someone else's pointer or another area's")
	}
	if p, _ := s.NextNew(ctx, "bob", "general"); p.ID != g2.ID {
		t.Errorf("second NextNew = %d; want g2", p.ID)
	}
	if _, err := s.NextNew(ctx, "bob", "general"); !errors.Is(err, ErrNotFound) {
		t.Errorf("NextNew past the end = %v; want ErrNotFound", err)
	}
	// One's own posts are never new; others' after them are.
	mustPost(t, s, NewPost{Area: "general", Author: "bob", Subject: "mine", Lines: []string{"4"}})
	g3 := mustPost(t, s, NewPost{Area: "general", Author: "cy", Subject: "g3", Lines: []string{"5"}})
	if newCount("bob", "general") != 1 || newCount("cy", "general") != 1 {
		t.Errorf("new counts after bob's and cy's posts: bob %d, cy %d; want 1 each (the other's post)",
			newCount("bob", "general"), newCount("cy", "general"))
	}
	if p, _ := s.NextNew(ctx, "bob", "general"); p.ID != g3.ID {
		t.Errorf("after new posts NextNew = %d; want g3 (bob's own post skipped)", p.ID)
	}

	if id, err := s.LastRead(ctx, "bob", "general"); id != g3.ID || err != nil {
		t.Errorf("LastRead(bob, general) = %d, %v; want g3", id, err)
	}
	if id, err := s.LastRead(ctx, "ann", "general"); id != 0 || err != nil {
		t.Errorf("LastRead(ann, general) = %d, %v; want 0 (never read)", id, err)
	}
	if _, err := s.LastRead(ctx, "ann", "nowhere"); !errors.Is(err, ErrNoSuchArea) {
		t.Errorf("LastRead(nowhere) = %v; want ErrNoSuchArea", err)
	}
	// MarkRead: to a post, to the newest, never backwards.
	if err := s.MarkRead(ctx, "ann", "general", g2.ID); err != nil {
		t.Fatal(err)
	}
	if newCount("ann", "general") != 2 {
		t.Errorf("after marking g2 read ann has %d new; want 2", newCount("ann", "general"))
	}
	if err := s.MarkRead(ctx, "ann", "general", g1.ID); err != nil {
		t.Fatal(err)
	}
	if newCount("ann", "general") != 2 {
		t.Error("MarkRead moved the pointer backwards")
	}
	if err := s.MarkRead(ctx, "ann", "tech", 0); err != nil {
		t.Fatal(err)
	}
	if newCount("ann", "tech") != 0 || newCount("ann", "general") != 2 {
		t.Error("MarkRead(tech, 0) did not catch up tech only")
	}
	for _, tc := range []struct {
		user, area string
		upTo       int64
		want       error
	}{
		{"ann", "tech", g1.ID, ErrNotFound}, // a post of another area
		{"ann", "tech", 999, ErrNotFound},
		{"zed", "tech", 0, ErrNoSuchUser},
		{"ann", "nowhere", 0, ErrNoSuchArea},
	} {
		if err := s.MarkRead(ctx, tc.user, tc.area, tc.upTo); !errors.Is(err, tc.want) {
			t.Errorf("MarkRead(%s, %s, %d) = %v; want %v", tc.user, tc.area, tc.upTo, err, tc.want)
		}
	}
	if _, err := s.NewCount(ctx, "zed", "general"); !errors.Is(err, ErrNoSuchUser) {
		t.Errorf("NewCount(zed) = %v; want ErrNoSuchUser", err)
	}
	if _, err := s.NextNew(ctx, "ann", "nowhere"); !errors.Is(err, ErrNoSuchArea) {
		t.Errorf("NextNew(nowhere) = %v; want ErrNoSuchArea", err)
	}
	if p, err := s.NextNew(ctx, "bob", "tech"); err != nil || p.ID != t1.ID {
		t.Errorf("NextNew(bob, tech) = %+v, %v; want t1 (reading general leaves tech alone)", p, err)
	}
}

func TestDeletePost(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	mustRegister(t, s, "ann")
	root := mustPost(t, s, NewPost{Area: "general", Author: "ann", Subject: "root", Lines: []string{"0"}})
	mid := mustPost(t, s, NewPost{Author: "ann", Lines: []string{"1"}, ReplyTo: root.ID})
	leaf := mustPost(t, s, NewPost{Author: "ann", Lines: []string{"2"}, ReplyTo: mid.ID})
	last := mustPost(t, s, NewPost{Area: "general", Author: "ann", Subject: "last", Lines: []string{"3"}})

	if err := s.DeletePost(ctx, mid.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.DeletePost(ctx, mid.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleting twice = %v; want ErrNotFound", err)
	}
	// The original board's view stays dense.
	if n, _ := s.MessageCount(ctx); n != 3 {
		t.Fatalf("MessageCount = %d; want 3", n)
	}
	for i, want := range []string{"0", "2", "3"} {
		if m, err := s.MessageAt(ctx, i); err != nil || m.Lines[0] != want {
			t.Errorf("MessageAt(%d) = %+v, %v; want line %q", i, m, err, want)
		}
	}
	thread, err := s.Thread(ctx, leaf.ID)
	if err != nil || len(thread) != 2 || thread[1].ID != leaf.ID || thread[1].ParentID != 0 || thread[1].Depth != 1 {
		t.Errorf("thread after deleting the middle post = %+v, %v; want root and the orphan below it", thread, err)
	}
	if err := s.DeletePost(ctx, root.ID); err != nil {
		t.Fatal(err)
	}
	if thread, err := s.Thread(ctx, leaf.ID); err != nil || len(thread) != 1 || thread[0].ID != leaf.ID {
		t.Errorf("thread without its first post = %+v, %v", thread, err)
	}
	if err := s.DeletePost(ctx, last.ID); err != nil {
		t.Fatal(err)
	}
	again := mustPost(t, s, NewPost{Area: "general", Author: "ann", Subject: "again", Lines: []string{"4"}})
	if again.ID <= last.ID {
		t.Errorf("a new post reused id %d (last was %d)", again.ID, last.ID)
	}
	if m, err := s.MessageAt(ctx, 1); err != nil || m.ID != again.ID {
		t.Errorf("MessageAt(1) = %+v, %v; want the new post", m, err)
	}
}

func TestMailboxKeepsMail(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	mustRegister(t, s, "Ann", "Bob", "Cy")
	a, err := s.WriteMail(ctx, "bob", "ann", " Lunch? ", []string{"noon?"})
	if err != nil || a.Subject != "Lunch?" || a.To != "Bob" || a.From != "Ann" || a.Read {
		t.Fatalf("WriteMail = %+v, %v", a, err)
	}
	b, err := s.SendMail(ctx, "bob", "cy", []string{"no subject"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.WriteMail(ctx, "bob", "ann", "", []string{"third"})
	if err != nil {
		t.Fatal(err)
	}
	cyMail, err := s.WriteMail(ctx, "cy", "ann", "for cy", []string{"secret"})
	if err != nil {
		t.Fatal(err)
	}

	list, err := s.ListMail(ctx, "BOB", 0, 10)
	if err != nil || !reflect.DeepEqual([]int64{list[0].ID, list[1].ID, list[2].ID}, []int64{c.ID, b.ID, a.ID}) || len(list) != 3 {
		t.Fatalf("ListMail = %+v, %v; want c, b, a", list, err)
	}
	if list[1].From != "Cy" || list[1].Subject != "" || list[0].Lines != nil {
		t.Errorf("listing = %+v", list)
	}
	if page, _ := s.ListMail(ctx, "bob", 2, 2); len(page) != 1 || page[0].ID != a.ID {
		t.Errorf("second page = %+v; want only a", page)
	}
	if total, unread, _ := s.MailCount(ctx, "bob"); total != 3 || unread != 3 {
		t.Errorf("MailCount = %d, %d; want 3, 3", total, unread)
	}

	// Reading by id marks read and keeps the mail.
	got, err := s.ReadMail(ctx, "bob", b.ID)
	if err != nil || !got.Read || got.From != "Cy" || !reflect.DeepEqual(got.Lines, []string{"no subject"}) {
		t.Errorf("ReadMail = %+v, %v", got, err)
	}
	if _, err := s.ReadMail(ctx, "bob", b.ID); err != nil {
		t.Errorf("reading a read mail again = %v", err)
	}
	if n, _ := s.UnreadMailCount(ctx, "bob"); n != 2 {
		t.Errorf("UnreadMailCount = %d; want 2", n)
	}
	// ReadNextMail: the oldest unread, skipping the one already read.
	if next, err := s.ReadNextMail(ctx, "bob"); err != nil || next.ID != a.ID {
		t.Errorf("ReadNextMail = %+v, %v; want a", next, err)
	}
	if next, err := s.ReadNextMail(ctx, "bob"); err != nil || next.ID != c.ID {
		t.Errorf("ReadNextMail = %+v, %v; want c", next, err)
	}
	list, _ = s.ListMail(ctx, "bob", 0, 10)
	if total, unread, _ := s.MailCount(ctx, "bob"); len(list) != 3 || total != 3 || unread != 0 || !list[0].Read {
		t.Errorf("after reading all: %d listed, MailCount %d, %d; want all 3 kept, none unread", len(list), total, unread)
	}

	// Only the recipient reads or deletes.
	if _, err := s.ReadMail(ctx, "bob", cyMail.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("bob reading cy's mail = %v; want ErrNotFound", err)
	}
	if err := s.DeleteMail(ctx, "ann", cyMail.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("the sender deleting delivered mail = %v; want ErrNotFound", err)
	}
	if err := s.DeleteMail(ctx, "bob", cyMail.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("bob deleting cy's mail = %v; want ErrNotFound", err)
	}
	if total, unread, _ := s.MailCount(ctx, "cy"); total != 1 || unread != 1 {
		t.Errorf("cy's mail after refused reads and deletes: %d, %d; want 1 unread", total, unread)
	}
	if err := s.DeleteMail(ctx, "Bob", b.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteMail(ctx, "bob", b.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleting twice = %v; want ErrNotFound", err)
	}
	if list, _ := s.ListMail(ctx, "bob", 0, 10); len(list) != 2 {
		t.Errorf("after a delete %d mails listed; want 2", len(list))
	}
	if err := s.DeleteMail(ctx, "bob", c.ID); err != nil {
		t.Fatal(err)
	}
	d, err := s.WriteMail(ctx, "bob", "ann", "new", []string{"x"})
	if err != nil || d.ID <= cyMail.ID {
		t.Errorf("new mail got id %d; ids must not be reused (highest so far %d)", d.ID, cyMail.ID)
	}

	for _, name := range []string{"nobody", "bad name", ""} {
		if list, err := s.ListMail(ctx, name, 0, 10); len(list) != 0 || err != nil {
			t.Errorf("ListMail(%q) = %v, %v", name, list, err)
		}
		if total, unread, err := s.MailCount(ctx, name); total != 0 || unread != 0 || err != nil {
			t.Errorf("MailCount(%q) = %d, %d, %v", name, total, unread, err)
		}
		if _, err := s.ReadMail(ctx, name, a.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("ReadMail(%q) = %v; want ErrNotFound", name, err)
		}
		if err := s.DeleteMail(ctx, name, a.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("DeleteMail(%q) = %v; want ErrNotFound", name, err)
		}
	}
	for _, tc := range []struct {
		to, subject string
		want        error
	}{
		{"nobody", "x", ErrNoSuchUser},
		{"bob", "two\nlines", ErrBadSubject},
		{"bob", strings.Repeat("s", MaxSubjectLen+1), ErrBadSubject},
	} {
		if _, err := s.WriteMail(ctx, tc.to, "ann", tc.subject, []string{"x"}); !errors.Is(err, tc.want) {
			t.Errorf("WriteMail(%q, subject %q) = %v; want %v", tc.to, tc.subject, err, tc.want)
		}
	}
}

func BenchmarkPostsPage(b *testing.B) {
	const n = 10_000
	s, _ := newStore(b)
	fillBoard(b, s, n)
	ctx := context.Background()
	offset := 0
	for b.Loop() {
		if posts, err := s.Posts(ctx, DefaultArea, offset%n, 10, NewestFirst); err != nil || len(posts) == 0 {
			b.Fatal(len(posts), err)
		}
		offset += 997
	}
}

func BenchmarkNewCountAndNextNew(b *testing.B) {
	const n = 10_000
	s, _ := newStore(b)
	fillBoard(b, s, n) // by "bench"
	mustRegister(b, s, "reader")
	ctx := context.Background()
	for b.Loop() {
		if _, err := s.NewCount(ctx, "reader", DefaultArea); err != nil {
			b.Fatal(err)
		}
		if _, err := s.NextNew(ctx, "reader", DefaultArea); err != nil {
			b.Fatal(err)
		}
	}
}
