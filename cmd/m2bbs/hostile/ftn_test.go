package hostile

import (
	"archive/zip"
	"bytes"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"

	"github.com/m2bbs/m2bbs/host/ftn/pkt"
	"github.com/m2bbs/m2bbs/host/handler/ftn"
)

// TestHostileUplinkFloodsTheTosser: an uplink (or whoever got files into
// the inbound) sends a packet of thousands of messages, a ZIP bundle that
// unpacks to far more than its limit, a packet over the size limit and
// garbage. The board tosses the flood, sets the rest aside, and the
// bystander's menu stays quick all along.
func TestHostileUplinkFloodsTheTosser(t *testing.T) {
	dir := t.TempDir()
	ftnDir := filepath.Join(dir, "ftn")
	conf := filepath.Join(dir, "config.lua")
	src := fmt.Sprintf(`ftn = {
		address = '21:1/100', binkd_port = %d, interval = 0.2, poll = false, dir = %q,
		uplinks = { { address = '21:1/101', host = '127.0.0.1', port = %d, password = 'x', packet_password = 'PW' } },
		echoes = { ['FLOOD'] = 'flood' },
	}`, freePort(t), ftnDir, freePort(t))
	if err := os.WriteFile(conf, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	b := startBoard(t, boardOptions{extra: []string{"-config", conf}})
	by := b.bystander(t, "ann")

	const floodSize = 3000
	hdr := pkt.Header{Orig: pkt.Addr{Zone: 21, Net: 1, Node: 101}, Dest: pkt.Addr{Zone: 21, Net: 1, Node: 100}, Created: time.Now(), Password: "PW"}
	flood := pkt.Packet{Header: hdr}
	for i := 0; i < floodSize; i++ {
		text := pkt.Text{Area: "FLOOD", Lines: []string{"\x1b[2J spam \x07"}}
		text.SetKludge("MSGID", fmt.Sprintf("21:1/101 %08x", i))
		flood.Messages = append(flood.Messages, pkt.Message{OrigNet: 1, OrigNode: 101, DestNet: 1, DestNode: 100,
			Date: pkt.FormatDate(time.Now()), To: "All", From: "Spammer", Subject: "spam", Text: text.Bytes()})
	}
	var bomb bytes.Buffer
	zw := zip.NewWriter(&bomb)
	w, _ := zw.Create("00000001.pkt")
	zeros := make([]byte, 1<<20)
	for i := 0; i < 100; i++ { // 100 MiB of zeros, a few hundred KiB packed
		w.Write(zeros)
	}
	zw.Close()
	files := map[string][]byte{
		"00000001.pkt": flood.Bytes(),
		"0000bomb.su0": bomb.Bytes(),
		"00000002.pkt": append(append([]byte{}, flood.Bytes()[:pkt.HeaderSize]...), make([]byte, pkt.MaxPacketBytes)...),
		"00000003.pkt": []byte("garbage"),
	}
	inbound := filepath.Join(ftnDir, "inbound")
	assertResponsive(t, by, func() {
		for name, data := range files {
			if err := os.WriteFile(filepath.Join(inbound, name+".tmp"), data, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(filepath.Join(inbound, name+".tmp"), filepath.Join(inbound, name)); err != nil {
				t.Fatal(err)
			}
		}
		deadline := time.Now().Add(2 * time.Minute)
		for {
			left, _ := os.ReadDir(inbound)
			if len(left) == 0 && ftnCounter(t, b.db, "tossed") == floodSize {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("the toss did not end: %d files left, %d tossed", len(left), ftnCounter(t, b.db, "tossed"))
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	bad, _ := os.ReadDir(filepath.Join(ftnDir, "bad"))
	if len(bad) != 3 || ftnCounter(t, b.db, "bad") != 3 {
		t.Errorf("bad folder holds %d files, bad counter %d; want the bomb, the oversized packet and the garbage", len(bad), ftnCounter(t, b.db, "bad"))
	}
}

// ftnCounter reads one of the FTN counters from the board's database.
func ftnCounter(t *testing.T, path, name string) int {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow("SELECT value FROM ftn_state WHERE name = ?", name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestFTNBoardKilledLeavesNoBinkd: the board is killed outright (SIGKILL,
// as a crash or the OOM killer would) while its binkd runs. binkd goes
// with it (it is told when its parent dies), and the board started again
// runs a binkd of its own on the same port.
func TestFTNBoardKilledLeavesNoBinkd(t *testing.T) {
	dir := t.TempDir()
	ftnDir := filepath.Join(dir, "ftn")
	conf := filepath.Join(dir, "config.lua")
	src := fmt.Sprintf(`ftn = {
		address = '21:1/100', binkd_port = %d, poll = false, dir = %q,
		uplinks = { { address = '21:1/101', host = '127.0.0.1', port = %d } },
	}`, freePort(t), ftnDir, freePort(t))
	if err := os.WriteFile(conf, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	set, err := ftn.ParseSettings(map[string]any{"address": "21:1/100", "dir": ftnDir}, filepath.Join(dir, "bbs.db"))
	if err != nil {
		t.Fatal(err)
	}
	b := startBoard(t, boardOptions{extra: []string{"-config", conf}})
	first := awaitBinkd(t, &set, 0)
	b.restart(t, syscall.SIGKILL)
	second := awaitBinkd(t, &set, first)
	if live := liveInGroup(t, first); len(live) > 0 {
		t.Errorf("the killed board's binkd (group %d) still runs: %v", first, live)
	}
	if second == first {
		t.Errorf("the same binkd %d after the restart", first)
	}
}

// awaitBinkd waits until the FTN folder's pid file names a running binkd
// other than not, and returns its pid.
func awaitBinkd(t *testing.T, set *ftn.Settings, not int) int {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if st := ftn.BinkdFromPIDFile(set); st.Running && st.PID != not {
			return st.PID
		}
		if time.Now().After(deadline) {
			t.Fatalf("no binkd running (other than %d)", not)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// liveInGroup lists the running (not zombie) processes of group pgid.
func liveInGroup(t *testing.T, pgid int) []string {
	t.Helper()
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		t.Fatal(err)
	}
	var live []string
	for _, path := range stats {
		b, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
		if len(f) > 2 && f[0] != "Z" && f[2] == strconv.Itoa(pgid) {
			live = append(live, path)
		}
	}
	return live
}
