package store

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestFTNAccountIsNeitherSysopNorListed(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	mustRegister(t, s, "zed", "ann")
	a, err := s.Account(ctx, "zed")
	if err != nil || a.Level != "sysop" {
		t.Fatalf("first registered user = %+v, %v; want the sysop", a, err)
	}
	list, _ := s.Accounts(ctx, 0, 100)
	if len(list) != 2 {
		t.Errorf("accounts listed = %+v, want zed and ann only", list)
	}
	if ok, _ := s.AuthUser(ctx, FTNAccount, "!"); ok {
		t.Error("the FTN account logs in")
	}
	if err := s.RegisterUser(ctx, FTNAccount, "password1"); err == nil {
		t.Error("the FTN account's name can be registered")
	}
}

func TestTossPostThreadsAndDropsDuplicates(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	mustRegister(t, s, "zed")
	if _, err := s.DefineArea(ctx, "fido", "an echo"); err != nil {
		t.Fatal(err)
	}
	first := TossedPost{Area: "fido", Tag: "M2.TEST", FromName: "Ann Example", FromAddr: "21:1/100", ToName: "All",
		Subject: "hello", Lines: []string{"hi", "--- x", " * Origin: A (21:1/100)"}, MsgID: "21:1/100 00000001",
		Kludges: []string{"MSGID: 21:1/100 00000001"}, DupeKey: "msgid:M2.TEST:21:1/100 00000001",
		Posted: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	id1, dupe, err := s.TossPost(ctx, first)
	if err != nil || dupe {
		t.Fatalf("toss = %d %v %v", id1, dupe, err)
	}
	if _, dupe, err := s.TossPost(ctx, first); err != nil || !dupe {
		t.Fatalf("second toss: dupe %v err %v", dupe, err)
	}
	if n, err := s.PruneFTNDupes(ctx, time.Now().Add(-time.Hour)); err != nil || n != 0 {
		t.Errorf("pruned %d fresh keys, %v", n, err)
	}
	reply := first
	reply.FromName, reply.MsgID, reply.Reply, reply.DupeKey, reply.Subject = "Bob", "21:1/101 00000002", first.MsgID, "k2", "Re: hello"
	id2, _, err := s.TossPost(ctx, reply)
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.ReadPost(ctx, id2)
	if err != nil || p.ParentID != id1 || p.RootID != id1 || p.Author != "Bob@21:1/100" {
		t.Errorf("reply = %+v, %v; want Bob's reply under %d", p, err, id1)
	}
	if p, _ := s.ReadPost(ctx, id1); p.Author != "Ann Example@21:1/100" || !p.Posted.Equal(first.Posted) || len(p.Lines) != 3 {
		t.Errorf("first = %+v", p)
	}
	c, _ := s.FTNCounters(ctx)
	if c["tossed"] != 2 || c["dupes"] != 1 {
		t.Errorf("counters %v", c)
	}
	// Tossed posts are never exported; a local reply is, with REPLY.
	if err := s.LinkEchoes(ctx, []string{"fido"}); err != nil {
		t.Fatal(err)
	}
	local := mustPost(t, s, NewPost{Author: "zed", Lines: []string{"local"}, ReplyTo: id2})
	mustPost(t, s, NewPost{Area: "general", Author: "zed", Lines: []string{"not an echo"}})
	out, err := s.UnexportedPosts(ctx, []string{"fido"}, 10)
	if err != nil || len(out) != 1 || out[0].ID != local.ID || out[0].ReplyMsgID != reply.MsgID || out[0].ReplyTo != "Bob" {
		t.Fatalf("unexported = %+v, %v", out, err)
	}
	serial, err := s.NextSerials(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if next, _ := s.NextSerials(ctx, 1); next != serial+2 {
		t.Errorf("serials %d then %d", serial, next)
	}
	batch := ExportBatch{Posts: []ExportedPost{{ID: local.ID, Tag: "M2.TEST", MsgID: "21:1/100 0000abcd"}}, Packets: []StagedPacket{{Name: "a.pkt", Uplink: "21:1/101"}}}
	if err := s.MarkExported(ctx, batch); err != nil {
		t.Fatal(err)
	}
	if out, _ := s.UnexportedPosts(ctx, []string{"fido"}, 10); len(out) != 0 {
		t.Errorf("exported post listed again: %+v", out)
	}
	if err := s.MarkExported(ctx, batch); err == nil {
		t.Error("a post marked exported twice")
	}
	staged, _ := s.StagedPackets(ctx)
	if !reflect.DeepEqual(staged, batch.Packets) {
		t.Errorf("staged %+v", staged)
	}
	if err := s.UnstagePacket(ctx, "a.pkt"); err != nil {
		t.Fatal(err)
	}
	if staged, _ := s.StagedPackets(ctx); len(staged) != 0 {
		t.Errorf("staged after unstaging: %+v", staged)
	}
}

func TestNetmailInAndOut(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	mustRegister(t, s, "zed", "bob")
	in := TossedMail{To: "bob", FromName: "Ann Example", FromAddr: "21:1/100", Subject: "hi", Lines: []string{"x"}, MsgID: "21:1/100 1", DupeKey: "k"}
	id, _, err := s.TossMail(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if _, dupe, _ := s.TossMail(ctx, in); !dupe {
		t.Error("netmail tossed twice")
	}
	m, err := s.ReadMail(ctx, "bob", id)
	if err != nil || m.From != "Ann Example@21:1/100" {
		t.Fatalf("mail = %+v, %v", m, err)
	}
	// bob answers to the From he was shown: netmail out, with REPLY.
	out, err := s.WriteMail(ctx, m.From, "bob", "Re: hi", []string{"back"})
	if err != nil || out.To != "Ann Example@21:1/100" {
		t.Fatalf("reply = %+v, %v", out, err)
	}
	list, err := s.UnexportedNetmail(ctx, 10)
	if err != nil || len(list) != 1 || list[0].ToName != "Ann Example" || list[0].ToAddr != "21:1/100" || list[0].Reply != "21:1/100 1" || list[0].From != "bob" {
		t.Fatalf("unexported netmail = %+v, %v", list, err)
	}
	if err := s.MarkExported(ctx, ExportBatch{Netmail: []int64{list[0].ID}}); err != nil {
		t.Fatal(err)
	}
	if list, _ := s.UnexportedNetmail(ctx, 10); len(list) != 0 {
		t.Errorf("netmail listed after export: %+v", list)
	}
	if _, err := s.WriteMail(ctx, "Someone With A Very Long Name Indeed Yes@1:2/3", "bob", "", nil); !errors.Is(err, ErrNoSuchUser) {
		t.Errorf("long FTN name: %v", err)
	}
	if _, err := s.WriteMail(ctx, "nobody", "bob", "", nil); !errors.Is(err, ErrNoSuchUser) {
		t.Errorf("unknown local user: %v", err)
	}
}

// TestLinkingAnEchoSendsNoHistory: posts written in an area before it
// became an echo stay home; those written after go out.
func TestLinkingAnEchoSendsNoHistory(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	mustRegister(t, s, "zed")
	old := mustPost(t, s, NewPost{Area: "general", Author: "zed", Lines: []string{"history"}})
	if err := s.LinkEchoes(ctx, []string{"general"}); err != nil {
		t.Fatal(err)
	}
	if err := s.LinkEchoes(ctx, []string{"general"}); err != nil { // linked once
		t.Fatal(err)
	}
	fresh := mustPost(t, s, NewPost{Area: "general", Author: "zed", Lines: []string{"new"}})
	out, err := s.UnexportedPosts(ctx, []string{"general"}, 10)
	if err != nil || len(out) != 1 || out[0].ID != fresh.ID {
		t.Errorf("unexported = %+v, %v; want only %d, not %d", out, err, fresh.ID, old.ID)
	}
	if err := s.LinkEchoes(ctx, []string{"nowhere"}); !errors.Is(err, ErrNoSuchArea) {
		t.Errorf("linking a missing area: %v", err)
	}
}

// TestTossReplyBeforeItsParent: a reply that arrives before the post it
// answers (with a reply of its own) is threaded under it when it comes.
func TestTossReplyBeforeItsParent(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	mustRegister(t, s, "zed")
	if _, err := s.DefineArea(ctx, "fido", ""); err != nil {
		t.Fatal(err)
	}
	toss := func(msgid, reply string) int64 {
		t.Helper()
		id, _, err := s.TossPost(ctx, TossedPost{Area: "fido", Tag: "T", FromName: "x", FromAddr: "1:2/3",
			Lines: []string{msgid}, MsgID: msgid, Reply: reply, DupeKey: msgid})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	reply := toss("1:2/3 2", "1:2/3 1")
	replyToReply := toss("1:2/3 3", "1:2/3 2")
	parent := toss("1:2/3 1", "")
	thread, err := s.Thread(ctx, reply)
	if err != nil {
		t.Fatal(err)
	}
	var got []int64
	for _, p := range thread {
		got = append(got, p.ID, int64(p.Depth))
	}
	want := []int64{parent, 0, reply, 1, replyToReply, 2}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("thread (id, depth) = %v, want %v", got, want)
	}
}

// TestFTNSearchesUseAnIndex: a toss's two searches for its post's thread
// read an index of ftn_posts, not every post of the echo's area (230 ms a
// tossed message in an echo of 200,000 posts, inside the toss's write
// transaction); so does each scan's question for the newest export.
func TestFTNSearchesUseAnIndex(t *testing.T) {
	_, path := newStore(t)
	db := rawDB(t, path)
	for query, index := range map[string]string{replyParentQuery: "ftn_posts_msgid", orphanRepliesQuery: "ftn_posts_reply",
		lastExportedQuery: "ftn_posts_exported"} {
		rows, err := db.Query("EXPLAIN QUERY PLAN "+query, "M2.TEST", "21:1/100 00000001", 1, 2)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		if len(plan) == 0 || !strings.HasPrefix(plan[0], "SEARCH ") || !strings.Contains(plan[0], "INDEX "+index) {
			t.Errorf("plan %q; want it to start from %s", plan, index)
		}
	}
}

// TestTossedRepliesMakeNoCycle: messages that reply to each other in a
// ring (crafted, or broken software) stay one thread whose every post the
// thread view shows; none is adopted under its own reply.
func TestTossedRepliesMakeNoCycle(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	if _, err := s.DefineArea(ctx, "fido", "an echo"); err != nil {
		t.Fatal(err)
	}
	ring := [][2]string{{"21:1/100 0000000a", "21:1/100 0000000c"}, {"21:1/100 0000000b", "21:1/100 0000000a"}, {"21:1/100 0000000c", "21:1/100 0000000b"}}
	var first int64
	for i, r := range ring {
		id, _, err := s.TossPost(ctx, TossedPost{Area: "fido", Tag: "M2.TEST", FromName: "Eve", FromAddr: "21:1/100",
			Subject: "ring", Lines: []string{"x"}, MsgID: r[0], Reply: r[1], DupeKey: r[0]})
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = id
		}
	}
	thread, err := s.Thread(ctx, first)
	if err != nil {
		t.Fatal(err)
	}
	if len(thread) != 3 {
		t.Fatalf("the thread view shows %d of 3 posts: %+v", len(thread), thread)
	}
	if thread[0].ID != first || thread[0].ParentID != 0 {
		t.Errorf("thread starts with %+v; want the first post, with no parent", thread[0])
	}
}

// TestTossedNamesHoldNoColourCodes: a tossed author named "sysop|00" is
// not shown as "sysop" with its address hidden in black on black: the
// bar that starts a pipe colour code is not kept.
func TestTossedNamesHoldNoColourCodes(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	mustRegister(t, s, "bob")
	if _, err := s.DefineArea(ctx, "fido", "an echo"); err != nil {
		t.Fatal(err)
	}
	id, _, err := s.TossPost(ctx, TossedPost{Area: "fido", Tag: "M2.TEST", FromName: "sysop|00", FromAddr: "21:1/100",
		ToName: "All|15", Subject: "hi", Lines: []string{"x"}, DupeKey: "k1"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.ReadPost(ctx, id)
	if err != nil || strings.Contains(p.Author, "|") {
		t.Errorf("author %q, %v; want no bar", p.Author, err)
	}
	if _, _, err := s.TossMail(ctx, TossedMail{To: "bob", FromName: "sysop|00", FromAddr: "21:1/100", Subject: "hi", Lines: []string{"x"}, DupeKey: "k2"}); err != nil {
		t.Fatal(err)
	}
	if list, _ := s.ListMail(ctx, "bob", 0, 10); len(list) != 1 || strings.Contains(list[0].From, "|") {
		t.Errorf("mail %+v; want one, from a name with no bar", list)
	}
}
