package ftn

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/m2bbs/m2bbs/host/ftn/pkt"
	"github.com/m2bbs/m2bbs/host/handler/store"
)

// FuzzTossPacket feeds packets from the uplink to the tosser, into a real
// store: nothing a packet holds may panic it, and it either tosses the
// packet or says it is bad; the database never fails.
func FuzzTossPacket(f *testing.F) {
	dir := f.TempDir()
	st, err := store.Open(filepath.Join(dir, "bbs.db"), store.Options{BcryptCost: bcrypt.MinCost})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	ctx := context.Background()
	if err := st.RegisterUser(ctx, "bob", "password1"); err != nil {
		f.Fatal(err)
	}
	if _, err := st.DefineArea(ctx, "fido", ""); err != nil {
		f.Fatal(err)
	}
	set, err := ParseSettings(map[string]any{"address": "21:1/101",
		"uplinks": []any{map[string]any{"address": "21:1/100", "host": "x", "packet_password": "PW"}},
		"echoes":  map[string]any{"M2.TEST": "fido"}}, filepath.Join(dir, "bbs.db"))
	if err != nil {
		f.Fatal(err)
	}
	tosser := &Tosser{Settings: &set, Store: st, Log: slog.New(slog.DiscardHandler)}
	hdr := pkt.Header{Orig: pkt.Addr{Zone: 21, Net: 1, Node: 100}, Dest: pkt.Addr{Zone: 21, Net: 1, Node: 101}, Created: time.Now(), Password: "PW"}
	echo := pkt.Text{Area: "M2.TEST", Lines: []string{"caf\x82", "\x1b[2J"}, HasTear: true, Origin: "A (21:1/100)"}
	echo.SetKludge("MSGID", "21:1/100 00000001")
	echo.SetKludge("REPLY", "21:1/100 00000000")
	echo.SetKludge("TZUTC", "-0130")
	net := pkt.Text{Lines: []string{"hi"}}
	net.SetKludge("INTL", "21:1/101 21:1/100")
	net.SetKludge("CHRS", "CP866 2")
	for _, text := range []pkt.Text{echo, net} {
		p := pkt.Packet{Header: hdr, Messages: []pkt.Message{{OrigNet: 1, OrigNode: 100, DestNet: 1, DestNode: 101,
			Date: pkt.FormatDate(time.Now()), To: "bob", From: "Ann", Subject: "s", Text: text.Bytes()}}}
		f.Add(p.Bytes())
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, err := tosser.TossPacket(ctx, "fuzz.pkt", b); err != nil && !errors.Is(err, errBadPacket) {
			t.Fatalf("toss: %v", err)
		}
	})
}
