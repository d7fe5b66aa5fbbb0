package main

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/m2bbs/m2bbs/host/gateway/classic"
	"github.com/m2bbs/m2bbs/host/gateway/mongrel2"
	"github.com/m2bbs/m2bbs/host/handler/session"
)

// parkedBoard is a board behind the built-in front end with three callers
// online, each stopped somewhere else.
type parkedBoard struct {
	*bbs
	dir, db, scripts, screens string
	// writer is typing a message, sender at the "send to" prompt of a
	// private message, newcomer at the message of the day after
	// registering with password.
	writer, sender, newcomer *classic.Client
	ids                      map[string]string // user → conn id
	password                 string
}

// parkCallers starts the board on a copy of the shipped scripts and
// screens and parks three callers on it.
func parkCallers(t *testing.T) *parkedBoard {
	t.Helper()
	return parkCallersOn(t, "")
}

// parkCallersOn is parkCallers with the board's database at db (a
// PostgreSQL URL), or bbs.db in the board's folder when db is "".
func parkCallersOn(t *testing.T, db string) *parkedBoard {
	t.Helper()
	dir := t.TempDir()
	if db == "" {
		db = filepath.Join(dir, "bbs.db")
	}
	p := &parkedBoard{dir: dir, db: db, scripts: filepath.Join(dir, "scripts"),
		screens: filepath.Join(dir, "screens"), password: "tr0ub4dor and 3"}
	copyDir(t, "../../scripts", p.scripts)
	copyDir(t, "../../screens", p.screens)
	port, err := mongrel2.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	logs := startM2BBS(t, "run", "-port", fmt.Sprint(port), "-data", dir, "-db", p.db,
		"-scripts", p.scripts, "-screens", p.screens, "-bcrypt-cost", "4", "-rate", "1000", "-burst", "1000")
	logs.WaitFor(t, 30*time.Second, "host ready")
	p.bbs = &bbs{addr: fmt.Sprintf("127.0.0.1:%d", port), logs: logs}
	p.awaitRoute(t)

	p.writer = p.call(t)
	if out := arrive(t, p.writer, "ann", "pw", "pw", "y", "1", "first line"); !strings.Contains(out, "Type your message") {
		t.Fatalf("ann is not writing:\n%s", out)
	}
	p.sender = p.call(t)
	arrive(t, p.sender, "bob", "pw", "pw", "y", "3")
	p.newcomer = p.call(t)
	arrive(t, p.newcomer, "dan", p.password, p.password)
	p.ids = map[string]string{}
	for _, c := range p.status(t).Online {
		p.ids[c.User] = c.ConnID
	}
	if len(p.ids) != 3 {
		t.Fatalf("callers online: %v", p.ids)
	}
	return p
}

// m2bbs runs the m2bbs command ARGS on the board's files and returns its
// output and exit code.
func (p *parkedBoard) m2bbs(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	files := []string{"-db", p.db, "-screens", p.screens}
	if !strings.Contains(strings.Join(args, " "), "-scripts") {
		files = append(files, "-scripts", p.scripts)
	}
	args = append(append(args[:1:1], files...), args[1:]...)
	return runProcess(t, []string{runMainEnv + "=1"}, "", os.Args[0], args...)
}

// journalRows is every row of the journal tables, as bytes.
func journalRows(t *testing.T, path string) []string {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var rows []string
	for _, q := range []string{
		"SELECT conn_id, hex(entries), count, written FROM journals ORDER BY conn_id",
		"SELECT conn_id, first, next, written, hex(entries) FROM journal_entries ORDER BY conn_id, first",
	} {
		r, err := db.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := r.Columns()
		for r.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := r.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			rows = append(rows, fmt.Sprint(vals...))
		}
		r.Close()
	}
	return rows
}

// TestUpgradeDryRunListsTheCallerWhosePathChanged: three callers online;
// the sysop edits the "send to" prompt, which only one of them has
// passed. m2bbs upgrade -dry-run lists that caller as diverging at that
// prompt and the others as replaying cleanly, exits 1, and leaves
// everyone as they were: no journal row changed, nothing sent, and each
// caller's next line carries on where they were.
func TestUpgradeDryRunListsTheCallerWhosePathChanged(t *testing.T) {
	p := parkCallers(t)
	before := journalRows(t, p.db)
	if len(before) == 0 {
		t.Fatal("no journal stored")
	}
	bbsLua := filepath.Join(p.scripts, "bbs.lua")
	src, err := os.ReadFile(bbsLua)
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(src), "req = ui.prompt(conn, req, 'send_to')", "req = ui.ask(conn, req, 'Send it to whom?')", 1)
	if edited == string(src) {
		t.Fatal("bbs.lua no longer has the send_to prompt this test edits")
	}
	if err := os.WriteFile(bbsLua, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}

	out, errOut, code := p.m2bbs(t, "upgrade", "-dry-run")
	if code != exitDiverged || errOut != "m2bbs: upgrade -dry-run: 1 caller would not replay cleanly\n" {
		t.Errorf("exit status %d, want %d; stderr:\n%s", code, exitDiverged, errOut)
	}
	for _, want := range []string{
		fmt.Sprintf("conn %s (bob): diverges at prompt 2: the caller saw \"[send_to]\", the scripts show \"Send it to whom?\"", p.ids["bob"]),
		fmt.Sprintf("conn %s (ann): replays cleanly: the caller is at prompt 3", p.ids["ann"]),
		fmt.Sprintf("conn %s (dan): replays cleanly: the caller is at prompt 4, \"[motd]\"", p.ids["dan"]),
		"3 journals on " + bbsLua + ": 2 replay cleanly, 1 would diverge\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the dry run does not say %q:\n%s", want, out)
		}
	}

	out, _, code = p.m2bbs(t, "upgrade", "-dry-run", "-json")
	var report dryRunReport
	if err := json.Unmarshal([]byte(out), &report); err != nil || code != exitDiverged {
		t.Fatalf("-json: %v, exit %d:\n%s", err, code, out)
	}
	if report.Clean != 2 || report.Diverged != 1 || len(report.Callers) != 3 {
		t.Errorf("-json report: %+v", report)
	}
	for _, o := range report.Callers {
		if o.ConnID == p.ids["bob"] && (o.Result != session.DryDiverged || o.Prompt != 2 || o.Saw != "[send_to]") {
			t.Errorf("-json, bob: %+v", o)
		}
	}

	if after := journalRows(t, p.db); !reflect.DeepEqual(before, after) {
		t.Errorf("the dry runs changed the journals:\nbefore %q\nafter  %q", before, after)
	}
	if got := visit(t, p.sender, "ann"); strings.Contains(got, "upgraded") || !strings.Contains(got, "Type your message") {
		t.Errorf("bob's next line after the dry run:\n%s", got)
	}
	if got := visit(t, p.writer, "."); strings.Contains(got, "upgraded") || !strings.Contains(got, "Message posted") {
		t.Errorf("ann's next line after the dry run:\n%s", got)
	}
	if got := visit(t, p.newcomer, "y"); !strings.Contains(got, "MAIN MENU") {
		t.Errorf("dan's next line after the dry run:\n%s", got)
	}
}

// TestReplayPrintsWhatTheCallerSaw: m2bbs replay -list lists the journals
// stored; m2bbs replay CONN_ID prints a caller's visit as they saw it,
// their lines included and their password hidden; on an edited copy of
// the scripts (-scripts) it says where the replay diverges.
func TestReplayPrintsWhatTheCallerSaw(t *testing.T) {
	p := parkCallers(t)
	out, errOut, code := p.m2bbs(t, "replay", "-list")
	if code != 0 || strings.Count(out, "\n") != 5 || !strings.Contains(out, "3 journals") {
		t.Fatalf("replay -list, exit %d:\n%s%s", code, out, errOut)
	}
	for _, user := range []string{"ann", "bob", "dan"} {
		if !strings.Contains(out, p.ids[user]+" ") || !strings.Contains(out, " "+user+" ") {
			t.Errorf("replay -list lacks %s (conn %s):\n%s", user, p.ids[user], out)
		}
	}

	out, errOut, code = p.m2bbs(t, "replay", p.ids["dan"])
	if code != 0 {
		t.Errorf("replay of dan: exit %d: %s", code, errOut)
	}
	for _, want := range []string{"(dan): ", "from the start of the call", "What's your name?\n> dan\n", "What's your password?\n> ********\n", "replays cleanly: the caller is at prompt 4, \"[motd]\""} {
		if !strings.Contains(out, want) {
			t.Errorf("replay of dan lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, p.password) || strings.Contains(errOut, p.password) || strings.Count(out, "********") != 2 {
		t.Errorf("replay of dan shows the password:\n%s", out)
	}

	out, _, code = p.m2bbs(t, "replay", "-json", p.ids["dan"])
	var dan session.DryOutcome
	if err := json.Unmarshal([]byte(out), &dan); err != nil || code != 0 || dan.Result != session.DryClean || dan.User != "dan" {
		t.Fatalf("replay -json of dan: %v, exit %d:\n%s", err, code, out)
	}
	hidden := 0
	for _, l := range dan.Transcript {
		if l.Hidden && l.Caller && l.Text == "" {
			hidden++
		}
	}
	if hidden != 2 || strings.Contains(out, p.password) {
		t.Errorf("replay -json of dan: %d hidden lines, password shown: %v\n%s", hidden, strings.Contains(out, p.password), out)
	}
	// The journals themselves hold no password in clear.
	rows := strings.Join(journalRows(t, p.db), " ")
	if strings.Contains(rows, fmt.Sprintf("%X", p.password)) || !strings.Contains(rows, fmt.Sprintf("%X", `"msg":"dan"`)) {
		t.Errorf("the stored journals hold dan's password in clear, or not his name (the search finds nothing)")
	}

	out, _, code = p.m2bbs(t, "replay", p.ids["ann"])
	if code != 0 || !strings.Contains(out, "from the main menu") || !strings.Contains(out, "MAIN MENU") || !strings.Contains(out, "\n> 1\n") || !strings.Contains(out, "\n 1: first line\n") {
		t.Errorf("replay of ann, exit %d:\n%s", code, out)
	}

	older := filepath.Join(p.dir, "older")
	copyDir(t, p.scripts, older)
	src, err := os.ReadFile(filepath.Join(older, "bbs.lua"))
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(src), "req = ui.prompt(conn, req, 'send_to')", "req = ui.ask(conn, req, 'Send it to whom?')", 1)
	if edited == string(src) {
		t.Fatal("bbs.lua no longer has the menu item this test edits")
	}
	if err := os.WriteFile(filepath.Join(older, "bbs.lua"), []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	out, _, code = p.m2bbs(t, "replay", "-scripts", older, "-main", "bbs.lua", p.ids["bob"])
	if code != exitDiverged || !strings.Contains(out, "\n> 3\nSend it to whom?\n> \n") ||
		!strings.Contains(out, "--- diverges at prompt 2: the caller saw \"[send_to]\", the scripts show \"Send it to whom?\"") {
		t.Errorf("replay of bob on other scripts, exit %d:\n%s", code, out)
	}
}

// TestUpgradeDryRunHostileJournals: a journal over -max-journal, a
// damaged one, and scripts that loop where a caller is: each is reported
// (the loop stopped by the resume budget), nothing crashes, the exit
// status says so.
func TestUpgradeDryRunHostileJournals(t *testing.T) {
	p := parkCallers(t)
	out, _, code := p.m2bbs(t, "upgrade", "-dry-run", "-max-journal", "16")
	if code != exitDiverged || strings.Count(out, "cannot be replayed: journal of ") != 3 || !strings.Contains(out, "3 cannot be read") {
		t.Errorf("-max-journal 16, exit %d:\n%s", code, out)
	}

	// A copy of the database with ann's journal damaged.
	copyDB := filepath.Join(p.dir, "copy.db")
	live, err := sql.Open("sqlite3", "file:"+p.db+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	if _, err := live.Exec("VACUUM INTO ?", copyDB); err != nil {
		t.Fatal(err)
	}
	cp, err := sql.Open("sqlite3", copyDB)
	if err != nil {
		t.Fatal(err)
	}
	defer cp.Close()
	if _, err := cp.Exec("DELETE FROM journal_entries WHERE conn_id = ?", p.ids["ann"]); err != nil {
		t.Fatal(err)
	}
	if _, err := cp.Exec("UPDATE journals SET entries = x'05ff' WHERE conn_id = ?", p.ids["ann"]); err != nil {
		t.Fatal(err)
	}
	// Scripts where leaving a message loops for ever.
	looping := filepath.Join(p.dir, "looping")
	copyDir(t, p.scripts, looping)
	src, _ := os.ReadFile(filepath.Join(looping, "bbs.lua"))
	edited := strings.Replace(string(src), "local function send_message(conn, req, user)\n", "local function send_message(conn, req, user)\n    while true do end\n", 1)
	if err := os.WriteFile(filepath.Join(looping, "bbs.lua"), []byte(edited), 0o644); err != nil || edited == string(src) {
		t.Fatalf("edit: %v", err)
	}
	args := []string{"upgrade", "-dry-run", "-resume-budget", "300ms", "-scripts", looping, "-main", "bbs.lua"}
	out, errOut, code := runProcess(t, []string{runMainEnv + "=1"}, "", os.Args[0], append(args, "-db", copyDB, "-screens", p.screens)...)
	for _, want := range []string{
		fmt.Sprintf("conn %s: cannot be replayed: store: journal damaged", p.ids["ann"]),
		fmt.Sprintf("conn %s (bob): fails at prompt 2: the script ran for more than 300ms", p.ids["bob"]),
		fmt.Sprintf("conn %s (dan): replays cleanly", p.ids["dan"]),
	} {
		if !strings.Contains(out, want) {
			t.Errorf("hostile dry run lacks %q (exit %d):\n%s%s", want, code, out, errOut)
		}
	}
	if code != exitDiverged {
		t.Errorf("hostile dry run: exit %d", code)
	}
}

// TestReplayCommandErrors: a wrong use, or no database, exits with 2 and
// says why (1 is for callers who would not replay cleanly).
func TestReplayCommandErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "none.db")
	for _, args := range [][]string{
		{"replay"},
		{"replay", "-list", "7"},
		{"replay", "-db", missing, "7"},
		{"upgrade", "-dry-run", "-db", missing},
		{"upgrade", "-dry-run", "extra"},
	} {
		_, errOut, code := runProcess(t, []string{runMainEnv + "=1"}, "", os.Args[0], args...)
		if code != 2 || errOut == "" {
			t.Errorf("m2bbs %s: exit %d, stderr %q", strings.Join(args, " "), code, errOut)
		}
	}
	if _, err := os.Stat(missing); err == nil {
		t.Errorf("a replay created %s", missing)
	}
}
