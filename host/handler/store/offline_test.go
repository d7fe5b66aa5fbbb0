package store

import (
	"context"
	"crypto/sha256"
	"errors"
	"reflect"
	"testing"
)

func TestQWKSelection(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	mustRegister(t, s, "ann", "bob")
	if _, err := s.DefineArea(ctx, "tech", ""); err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{"TECH", "general", "tech"} {
		if err := s.SelectQWK(ctx, "ann", a, true); err != nil {
			t.Fatal(err)
		}
	}
	if got, chosen, _ := s.QWKSelection(ctx, "bob"); len(got) != 0 || chosen {
		t.Errorf("bob, who never chose: %q, %v", got, chosen)
	}
	if got, chosen, _ := s.QWKSelection(ctx, "Ann"); !reflect.DeepEqual(got, []string{"general", "tech"}) || !chosen {
		t.Errorf("selection = %q", got)
	}
	if err := s.SelectQWK(ctx, "ann", "general", false); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := s.QWKSelection(ctx, "ann"); !reflect.DeepEqual(got, []string{"tech"}) {
		t.Errorf("selection after removal = %q", got)
	}
	if err := s.SelectQWK(ctx, "ann", "nowhere", true); !errors.Is(err, ErrNoSuchArea) {
		t.Errorf("unknown area: %v", err)
	}
	confs, err := s.Conferences(ctx)
	if err != nil || len(confs) != 2 || confs[0] != (Conference{1, "general"}) || confs[1].Name != "tech" {
		t.Errorf("conferences = %v, %v", confs, err)
	}
}

// TestQWKPointersMoveOnlyWhenFetched: building a packet moves nothing;
// fetching it moves the pointers to the newest post it held, once.
func TestQWKPointersMoveOnlyWhenFetched(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	mustRegister(t, s, "ann", "bob")
	var posted []Post
	for range 3 {
		posted = append(posted, mustPost(t, s, NewPost{Area: "general", Author: "bob", Lines: []string{"x"}}))
	}
	mustPost(t, s, NewPost{Area: "general", Author: "ann", Lines: []string{"mine"}})
	got, err := s.QWKNew(ctx, "ann", []string{"general"}, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Number != 1 || !reflect.DeepEqual(ids(got[0].Posts), ids(posted[:2])) || got[0].Posts[0].Lines == nil {
		t.Fatalf("new = %+v", got)
	}
	pk := QWKPacket{Token: "t1", User: "ann", Data: []byte("zip"), Messages: 2, Pointers: map[int]int64{1: posted[1].ID}}
	if err := s.SaveQWKPacket(ctx, pk); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveQWKPacket(ctx, pk); !errors.Is(err, ErrExists) {
		t.Errorf("token reused: %v", err)
	}
	if n, _ := s.NewCount(ctx, "ann", "general"); n != 3 {
		t.Errorf("building moved the pointer: %d new", n)
	}
	if _, err := s.QWKPacketData(ctx, "bob", "t1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("another user's packet: %v", err)
	}
	if data, err := s.QWKPacketData(ctx, "ann", "t1"); err != nil || string(data) != "zip" {
		t.Errorf("data = %q, %v", data, err)
	}
	if _, err := s.QWKFetched(ctx, "bob", "t1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("bob fetched ann's packet: %v", err)
	}
	for i, want := range []bool{true, false} {
		first, err := s.QWKFetched(ctx, "ann", "t1")
		if err != nil || first != want {
			t.Errorf("fetched #%d = %v, %v", i+1, first, err)
		}
	}
	if n, _ := s.NewCount(ctx, "ann", "general"); n != 1 {
		t.Errorf("after fetching: %d new, want 1", n)
	}
	// An older packet fetched late never moves the pointer back.
	old := QWKPacket{Token: "t0", User: "ann", Data: []byte("z"), Pointers: map[int]int64{1: posted[0].ID}}
	if err := s.SaveQWKPacket(ctx, old); err != nil {
		t.Fatal(err)
	}
	if _, err := s.QWKFetched(ctx, "ann", "t0"); err != nil {
		t.Fatal(err)
	}
	if id, _ := s.LastRead(ctx, "ann", "general"); id != posted[1].ID {
		t.Errorf("pointer = %d, want %d", id, posted[1].ID)
	}
	// Only MaxQWKPackets are kept.
	for _, tok := range []string{"a", "b", "c"} {
		if err := s.SaveQWKPacket(ctx, QWKPacket{Token: tok, User: "ann", Data: []byte("z")}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.QWKPacketData(ctx, "ann", "t1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("a packet past the limit is kept: %v", err)
	}
	if _, err := s.QWKPacketData(ctx, "ann", "a"); err != nil {
		t.Errorf("packet a: %v", err)
	}
}

func TestPostREP(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	mustRegister(t, s, "ann", "bob")
	parent := mustPost(t, s, NewPost{Area: "general", Author: "bob", Subject: "Hello", Lines: []string{"hi"}})
	item := func(area, to, subject string, reply int64, text string) REPItem {
		return REPItem{Area: area, To: to, Subject: subject, ReplyTo: reply, Lines: []string{text},
			Hash: sha256.Sum256([]byte(area + to + subject + text))}
	}
	items := []REPItem{
		item("general", "", "", parent.ID, "a reply"),
		item("", "bob", "psst", 0, "a mail"),
		item("", "nobody", "psst", 0, "lost mail"),
		item("general", "", "Hello", 0, "a reply"),
		item("", "bob", "psst", 0, "a mail"), // the same mail twice
	}
	res, err := s.PostREP(ctx, "ann", items)
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Err != nil || res[0].PostID == 0 || res[0].Subject != "Re: Hello" {
		t.Errorf("reply: %+v", res[0])
	}
	if p, _ := s.ReadPost(ctx, res[0].PostID); p.ParentID != parent.ID || p.Author != "ann" {
		t.Errorf("reply's thread: %+v", p)
	}
	if res[1].Err != nil || res[1].MailID == 0 {
		t.Errorf("mail: %+v", res[1])
	}
	if !errors.Is(res[2].Err, ErrNoSuchUser) || !errors.Is(res[4].Err, ErrAlreadyPosted) || res[3].Err != nil {
		t.Errorf("results: %+v", res)
	}
	if total, _, _ := s.MailCount(ctx, "bob"); total != 1 {
		t.Errorf("bob has %d mails", total)
	}
	// The same REP again: every reply is a duplicate, nothing posted.
	res, err = s.PostREP(ctx, "ann", items[:2])
	if err != nil || !errors.Is(res[0].Err, ErrAlreadyPosted) || !errors.Is(res[1].Err, ErrAlreadyPosted) {
		t.Errorf("again: %+v, %v", res, err)
	}
	if n, _ := s.PostCount(ctx, "general"); n != 3 {
		t.Errorf("general holds %d posts, want 3", n)
	}
	if _, err := s.PostREP(ctx, "nobody", items); !errors.Is(err, ErrNoSuchUser) {
		t.Errorf("unknown poster: %v", err)
	}
}

// TestQWKMailReadOnlyWhenFetched: a packet's unread mail is marked read
// when it is fetched, not when it is built; mail read meanwhile stays as
// it is, and nobody else's mail is touched.
func TestQWKMailReadOnlyWhenFetched(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	mustRegister(t, s, "ann", "bob")
	var sent []MailItem
	for _, to := range []string{"ann", "ann", "bob"} {
		m, err := s.WriteMail(ctx, to, "bob", "hi", []string{"hello"})
		if err != nil {
			t.Fatal(err)
		}
		sent = append(sent, m)
	}
	got, err := s.QWKMail(ctx, "ann", 10)
	if err != nil || len(got) != 2 || got[0].ID != sent[0].ID || got[0].Lines == nil || got[0].From != "bob" {
		t.Fatalf("unread mail = %+v, %v", got, err)
	}
	if one, _ := s.QWKMail(ctx, "ann", 1); len(one) != 1 {
		t.Errorf("max 1 gave %d", len(one))
	}
	pk := QWKPacket{Token: "m1", User: "ann", Data: []byte("z"), Mail: []int64{sent[0].ID, sent[1].ID, sent[2].ID}}
	if err := s.SaveQWKPacket(ctx, pk); err != nil {
		t.Fatal(err)
	}
	if _, unread, _ := s.MailCount(ctx, "ann"); unread != 2 {
		t.Errorf("building read %d of ann's mails", 2-unread)
	}
	if _, err := s.QWKFetched(ctx, "ann", "m1"); err != nil {
		t.Fatal(err)
	}
	if _, unread, _ := s.MailCount(ctx, "ann"); unread != 0 {
		t.Errorf("%d unread after fetching", unread)
	}
	if _, unread, _ := s.MailCount(ctx, "bob"); unread != 1 {
		t.Errorf("bob's mail was marked read by ann's packet")
	}
}

// TestQWKPacketsExpire: a packet past QWKPacketLife is dropped when
// anyone keeps a packet, whoever it was for.
func TestQWKPacketsExpire(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	mustRegister(t, s, "ann", "bob")
	if err := s.SaveQWKPacket(ctx, QWKPacket{Token: "old", User: "ann", Data: []byte("z")}); err != nil {
		t.Fatal(err)
	}
	err := s.with(func(p *pools) error {
		_, err := p.w.ExecContext(ctx, "UPDATE qwk_packets SET created_at = ?", nowMillis()-QWKPacketLife.Milliseconds()-1)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SaveQWKPacket(ctx, QWKPacket{Token: "new", User: "bob", Data: []byte("z")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.QWKPacketData(ctx, "ann", "old"); !errors.Is(err, ErrNotFound) {
		t.Errorf("ann's expired packet is still kept: %v", err)
	}
}
