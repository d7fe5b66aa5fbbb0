package main

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/m2bbs/m2bbs/host/ftn/pkt"
	"github.com/m2bbs/m2bbs/host/handler/dispatch"
	"github.com/m2bbs/m2bbs/host/handler/ftn"
	"github.com/m2bbs/m2bbs/host/shared/freeport"
)

// ftnBoard is one board of the FidoNet test: its settings and database.
type ftnBoard struct {
	*bbs
	addr   string // its FTN address
	dir    string // its FTN folder
	dbPath string
	conf   string // its settings file
}

// startFTNBoard starts a board at FTN address addr, its binkd on port,
// linked to the board at up (whose binkd listens on upPort); poll is its
// poll setting (false, or seconds).
func startFTNBoard(t *testing.T, addr string, port int, up string, upPort int, origin, poll string) *ftnBoard {
	t.Helper()
	dir := t.TempDir()
	conf := filepath.Join(dir, "config.lua")
	src := fmt.Sprintf(`ftn = {
		address = %q, binkd_port = %d, interval = 1, poll = %s, keep_tossed = true,
		dir = %q, origin = %q, system = %q,
		uplinks = { { address = %q, host = '127.0.0.1', port = %d, password = 'sesspw', packet_password = 'PKTPW' } },
		echoes = { ['M2BBS.TEST'] = 'fido' },
	}
	`, addr, port, poll, filepath.Join(dir, "ftn"), origin, origin, up, upPort)
	if err := os.WriteFile(conf, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "bbs.db")
	b := startBBS(t, viaBuiltIn, "", "-config", conf, "-db", db, "-bcrypt-cost", "4", "-rate", "1000", "-burst", "1000",
		"-web-port", "-1", "-telnet-port", "-1")
	fb := &ftnBoard{bbs: b, addr: addr, dir: filepath.Join(dir, "ftn"), dbPath: db, conf: conf}
	fb.await(t, "binkd running and a first scan done", func(st ftn.Status) bool {
		return st.Binkd != nil && st.Binkd.Running && st.LastScan != nil
	})
	return fb
}

// ftnStatus reads the FTN part of the sysop's status page.
func (b *ftnBoard) ftnStatus(t *testing.T) ftn.Status {
	t.Helper()
	raw, err := json.Marshal(b.status(t).FTN)
	if err != nil {
		t.Fatal(err)
	}
	var st ftn.Status
	if err := json.Unmarshal(raw, &st); err != nil {
		t.Fatal(err)
	}
	return st
}

// await polls the status page until ok holds, at most a minute.
func (b *ftnBoard) await(t *testing.T, what string, ok func(ftn.Status) bool) ftn.Status {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		st := b.ftnStatus(t)
		if ok(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("board %s: never %s; status %+v, binkd log:\n%s", b.addr, what, st, tail(filepath.Join(b.dir, "binkd.log")))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// tail is the end of a file, for failure messages.
func tail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 3000 {
		b = b[len(b)-3000:]
	}
	return string(b)
}

// query runs a query on a board's database (read only) and returns the
// first row's columns as strings.
func (b *ftnBoard) query(t *testing.T, q string, args ...any) []string {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+b.dbPath+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	if !rows.Next() {
		t.Fatalf("no row for %s", q)
	}
	vals := make([]sql.NullString, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(cols))
	for i, v := range vals {
		out[i] = v.String
	}
	return out
}

// sendRaw has board b's binkd send files to its uplink, as if its mailer
// delivered them again: they are listed in a direct-flavour flo file of
// the test's own.
func (b *ftnBoard) sendRaw(t *testing.T, up pkt.Addr, files map[string][]byte) {
	t.Helper()
	dir := filepath.Join(b.dir, "test-out")
	os.MkdirAll(dir, 0o700)
	var flo strings.Builder
	for name, data := range files {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		flo.WriteString("^" + path + "\n")
	}
	name := filepath.Join(b.dir, "outbound", fmt.Sprintf("%04x%04x.dlo", up.Net, up.Node))
	if err := os.WriteFile(name, []byte(flo.String()), 0o600); err != nil {
		t.Fatal(err)
	}
}

// tossedPacketWith returns the packet b tossed (and kept) that holds the
// message of that MSGID.
func (b *ftnBoard) tossedPacketWith(t *testing.T, msgid string) []byte {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(b.dir, "tossed", "*.pkt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		p, err := pkt.Parse(raw)
		if err != nil {
			continue
		}
		for _, m := range p.Messages {
			text := pkt.ParseText(m.Text)
			if id, _ := text.Kludge("MSGID"); id == msgid {
				return raw
			}
		}
	}
	t.Fatalf("board %s kept no tossed packet with MSGID %q (of %v)", b.addr, msgid, files)
	return nil
}

// TestFidoNetBetweenTwoBoards links two boards, each with its own
// supervised binkd, over binkp on 127.0.0.1 (issue 19's end-to-end test).
func TestFidoNetBetweenTwoBoards(t *testing.T) {
	if _, err := exec.LookPath("binkd"); err != nil {
		t.Fatalf("binkd is not installed (make deps installs it): %v", err)
	}
	ports := freePorts(t, 2)
	portA, portB := ports[0], ports[1]
	a := startFTNBoard(t, "21:1/100", portA, "21:1/101", portB, "Board A", "false")
	b := startFTNBoard(t, "21:1/101", portB, "21:1/100", portA, "Board B", "2") // B polls A every 2 s

	// A post on A's echo arrives on B with its kludges.
	zed := a.call(t)
	arrive(t, zed, "zed", "pw", "pw", "y")
	if out := visit(t, zed, "B"); !strings.Contains(out, "fido") {
		t.Fatalf("A's areas lack the echo's:\n%s", out)
	}
	if out := visit(t, zed, "2", "W", "Hello from A", "Posted on board A.", "."); !strings.Contains(out, "Hello from A") {
		t.Fatalf("posting on A:\n%s", out)
	}
	b.await(t, "tossed A's post", func(st ftn.Status) bool { return st.Counters["tossed"] >= 1 })
	row := b.query(t, `SELECT f.from_name, f.from_addr, f.msgid, f.kludges, f.seen_by, f.path, m.subject
		FROM ftn_posts f JOIN messages m ON m.id = f.message_id WHERE f.inbound = 1`)
	if row[0] != "zed" || row[1] != "21:1/100" || !strings.HasPrefix(row[2], "21:1/100 ") || row[6] != "Hello from A" {
		t.Errorf("B's copy of the post: %q", row)
	}
	for _, k := range []string{"MSGID: 21:1/100 ", "PID: m2bbs", "TZUTC: 0000", "CHRS: UTF-8 4"} {
		if !strings.Contains(row[3], k) {
			t.Errorf("B's kludges %q lack %q", row[3], k)
		}
	}
	if row[4] != "1/100 1/101" || row[5] != "1/100" {
		t.Errorf("SEEN-BY %q, PATH %q", row[4], row[5])
	}
	origMsgID := row[2]

	// bob on B sees it as a post of the echo, origin shown, and replies.
	bob := b.call(t)
	arrive(t, bob, "bob", "pw", "pw", "y")
	visit(t, bob, "B")
	if out := visit(t, bob, "2"); !strings.Contains(out, "Hello from A") || !strings.Contains(out, "zed") {
		t.Fatalf("B's echo listing:\n%s", out)
	}
	out := visit(t, bob, "1")
	if !strings.Contains(out, "From: zed@21:1/100") || !strings.Contains(out, "Posted on board A.") || !strings.Contains(out, " * Origin: Board A (21:1/100)") {
		t.Errorf("bob reads:\n%s", out)
	}
	if out := visit(t, bob, "R", "", "Thanks, A!", "."); !strings.Contains(out, "Re: Hello from A") {
		t.Errorf("bob's reply:\n%s", out)
	}
	// The reply reaches A, with REPLY, threaded under zed's post.
	a.await(t, "tossed B's reply", func(st ftn.Status) bool { return st.Counters["tossed"] >= 1 })
	reply := a.query(t, `SELECT f.reply, m.parent_id, (SELECT id FROM messages WHERE subject = 'Hello from A'), m.subject
		FROM ftn_posts f JOIN messages m ON m.id = f.message_id WHERE f.inbound = 1 AND f.from_name = 'bob'`)
	if reply[0] != origMsgID || reply[1] != reply[2] || reply[3] != "Re: Hello from A" {
		t.Errorf("A's copy of the reply (REPLY, parent, original, subject) = %q; want REPLY %q under the original", reply, origMsgID)
	}
	// Newest first: bob's reply is the first of the listing.
	if out := visit(t, zed, "Q", "2", "1"); !strings.Contains(out, "a reply to #") || !strings.Contains(out, "Thanks, A!") {
		t.Errorf("zed reads bob's reply:\n%s", out)
	}

	// A's sysop sees the FidoNet side from the sysop menu and polls.
	out = visit(t, zed, "", "Q", "Q", "S", "E")
	if !strings.Contains(out, "FidoNet address: 21:1/100") || !strings.Contains(out, "binkd: running") ||
		!strings.Contains(out, "Uplink 21:1/101 at 127.0.0.1:") || !strings.Contains(out, "Tossed 1,") {
		t.Errorf("the sysop's FidoNet screen:\n%s", out)
	}
	if out := visit(t, zed, "P"); !strings.Contains(out, "Polling the uplinks.") {
		t.Errorf("the sysop's poll:\n%s", out)
	}

	// Netmail from ann on A reaches bob's mailbox on B.
	ann := a.call(t)
	arrive(t, ann, "ann", "pw", "pw", "y")
	if out := visit(t, ann, "M", "S", "bob@21:1/101", "Netmail test", "Hello bob, from A.", "."); !strings.Contains(out, "sent") {
		t.Fatalf("ann's netmail:\n%s", out)
	}
	b.await(t, "tossed ann's netmail", func(st ftn.Status) bool { return st.Counters["tossed"] >= 2 })
	if out := visit(t, bob, "", "Q", "Q", "M"); !strings.Contains(out, "Netmail test") || !strings.Contains(out, "ann@21:1/100") {
		t.Errorf("bob's mailbox:\n%s", out)
	}
	if out := visit(t, bob, "1"); !strings.Contains(out, "Hello bob, from A.") {
		t.Errorf("bob reads the netmail:\n%s", out)
	}

	// A's first packet, as B received it (B keeps what it tossed),
	// delivered again is dropped as a duplicate; a corrupt packet is set
	// aside while a good one beside it tosses.
	first := b.tossedPacketWith(t, origMsgID)
	up := pkt.Addr{Zone: 21, Net: 1, Node: 101}
	me := pkt.Addr{Zone: 21, Net: 1, Node: 100}
	echo := func(msgid, subject string) pkt.Message {
		text := pkt.Text{Area: "M2BBS.TEST", Lines: []string{"again"}, HasTear: true, Origin: "Board A (21:1/100)"}
		text.SetKludge("MSGID", msgid)
		return pkt.Message{OrigNet: 1, OrigNode: 100, DestNet: 1, DestNode: 101, Date: pkt.FormatDate(time.Now().UTC()),
			To: "All", From: "zed", Subject: subject, Text: text.Bytes()}
	}
	packet := func(m pkt.Message) []byte {
		p := pkt.Packet{Header: pkt.Header{Orig: me, Dest: up, Created: time.Now().UTC(), Password: "PKTPW"}, Messages: []pkt.Message{m}}
		return p.Bytes()
	}
	before := b.ftnStatus(t).Counters
	a.sendRaw(t, up, map[string][]byte{
		"dd000001.pkt": first,
		"dd000002.pkt": packet(echo("21:1/100 feedf00d", "A good one")),
		"dd000003.pkt": []byte("this is no packet"),
	})
	after := b.await(t, "tossed the re-delivery", func(st ftn.Status) bool {
		return st.Counters["dupes"] > before["dupes"] && st.Counters["bad"] > before["bad"] && st.Counters["tossed"] > before["tossed"]
	})
	if after.Counters["tossed"] != before["tossed"]+1 || after.Counters["dupes"] != before["dupes"]+1 {
		t.Errorf("counters before %v, after %v: want one tossed, one duplicate", before, after.Counters)
	}
	if _, err := os.Stat(filepath.Join(b.dir, "bad", "dd000003.pkt")); err != nil {
		t.Errorf("the corrupt packet is not in B's bad folder: %v", err)
	}
	if n := b.query(t, "SELECT count(*) FROM messages WHERE subject = 'Hello from A'")[0]; n != "1" {
		t.Errorf("B holds %s copies of the first post", n)
	}

	// The sysop polls B's uplink on demand, beside the running board.
	poll := exec.Command(os.Args[0], "ftn", "-config", b.conf, "-db", b.dbPath, "poll", "21:1/100")
	poll.Env = append(os.Environ(), runMainEnv+"=1")
	if out, err := poll.CombinedOutput(); err != nil || !strings.Contains(string(out), "polled 21:1/100") {
		t.Errorf("m2bbs ftn poll (%v):\n%s", err, out)
	}

	// The FTN section is the sysop's: the public status page has none.
	resp, err := http.Get("http://" + b.bbs.addr + dispatch.StatusPath)
	if err != nil {
		t.Fatal(err)
	}
	public, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.Contains(string(public), `"ftn"`) || strings.Contains(string(public), "21:1/100") {
		t.Errorf("the public status page shows the FTN section:\n%s", public)
	}

	// B has polled A on its schedule.
	b.await(t, "polled on schedule", func(s ftn.Status) bool { return !s.Uplinks[0].LastPoll.IsZero() })

	// binkd dies: the board starts it again.
	st := b.ftnStatus(t)
	if err := syscall.Kill(st.Binkd.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	b.await(t, "restarted binkd", func(s ftn.Status) bool {
		return s.Binkd.Running && s.Binkd.Restarts >= 1 && s.Binkd.PID != st.Binkd.PID
	})
}

// TestFTNCommands runs the sysop's tools with no board running: status,
// a toss of a packet from the uplink, a scan, and a poll of an uplink that
// does not answer (reported, not hung).
func TestFTNCommands(t *testing.T) {
	if _, err := exec.LookPath("binkd"); err != nil {
		t.Fatalf("binkd is not installed (make deps installs it): %v", err)
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "config.lua")
	deadPort, err := freeport.Pick()
	if err != nil {
		t.Fatal(err)
	}
	src := fmt.Sprintf(`db_path = %q
	ftn = { address = '21:1/100', dir = %q, echoes = { ['M2BBS.TEST'] = 'fido' },
		uplinks = { { address = '21:1/101', host = '127.0.0.1', port = %d, password = 'sesspw', packet_password = 'PKTPW' } } }`,
		filepath.Join(dir, "bbs.db"), filepath.Join(dir, "ftn"), deadPort)
	if err := os.WriteFile(conf, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(os.Args[0], append([]string{"ftn", "-config", conf}, args...)...)
		cmd.Env = append(os.Environ(), runMainEnv+"=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("m2bbs ftn %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	if out := run("status"); !regexp.MustCompile(`addresses: +21:1/100`).MatchString(out) || !regexp.MustCompile(`binkd: +not running`).MatchString(out) ||
		!strings.Contains(out, "uplink 21:1/101:") || strings.Contains(out, "sesspw") || strings.Contains(out, "PKTPW") {
		t.Errorf("status:\n%s", out)
	}
	text := pkt.Text{Area: "M2BBS.TEST", Lines: []string{"hi"}}
	text.SetKludge("MSGID", "21:1/101 00000001")
	p := pkt.Packet{
		Header: pkt.Header{Orig: pkt.Addr{Zone: 21, Net: 1, Node: 101}, Dest: pkt.Addr{Zone: 21, Net: 1, Node: 100}, Password: "PKTPW"},
		Messages: []pkt.Message{{OrigNet: 1, OrigNode: 101, DestNet: 1, DestNode: 100, Date: pkt.FormatDate(time.Now()),
			To: "All", From: "Bob", Subject: "hello", Text: text.Bytes()}},
	}
	inbound := filepath.Join(dir, "ftn", "inbound")
	os.MkdirAll(inbound, 0o700)
	if err := os.WriteFile(filepath.Join(inbound, "00000001.pkt"), p.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if out := run("toss"); !strings.Contains(out, "tossed: 1 files, 1 messages, 0 duplicates, 0 bad") {
		t.Errorf("toss:\n%s", out)
	}
	if out := run("scan"); !strings.Contains(out, "scanned: 0 posts, 0 netmail") {
		t.Errorf("scan:\n%s", out)
	}
	if out := run("status", "-json"); !strings.Contains(out, `"tossed": 1`) {
		t.Errorf("status -json:\n%s", out)
	}
	start := time.Now()
	cmd := exec.Command(os.Args[0], "ftn", "-config", conf, "poll", "21:1/101")
	cmd.Env = append(os.Environ(), runMainEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "connection to 21:1/101@fidonet failed") {
		t.Errorf("polling an uplink that does not answer (%v):\n%s", err, out)
	}
	if took := time.Since(start); took > time.Minute {
		t.Errorf("polling an uplink that does not answer took %v", took)
	}
}
