package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/m2bbs/m2bbs/cmd/internal/proctest"
	"github.com/m2bbs/m2bbs/host/gateway/classic"
	"github.com/m2bbs/m2bbs/host/gateway/mongrel2"
	"github.com/m2bbs/m2bbs/host/message"
	"github.com/m2bbs/m2bbs/host/shared/pgtest"
)

// TestBenchSmoke runs the whole suite with tiny settings against the
// shipped board and checks that it completes and prints one table with no
// errors.
func TestBenchSmoke(t *testing.T) {
	withMongrel2 := mongrel2.Available() == nil
	var progress bytes.Buffer
	o, err := parseBenchFlags([]string{
		"-callers", "5", "-latency-callers", "5", "-think", "10ms",
		"-runs", "1", "-warmup", "100ms", "-latency-warmup", "100ms", "-duration", "500ms",
		"-idle", "20,40", "-active", "200ms", "-hibernate-after", "100ms", "-hibernate-wait", "10s", "-wake-sample", "5",
		"-original-callers", "4", "-original-reads", "5",
		"-hash-callers", "2", "-hash-window", "500ms", "-hash-think", "10ms",
		"-gateway-callers", "3",
		fmt.Sprintf("-mongrel2=%v", withMongrel2),
		"-scripts", "../../scripts", "-screens", "../../screens", "-main", "bbs.lua",
	}, &progress)
	if err != nil {
		t.Fatal(err)
	}
	table := runBenchTable(t, o, &progress)
	rows := []string{
		"load: 5 callers without think time, behind built-in front end",
		"m2bbs prompt round trips/s", "echo floor prompt round trips/s",
		"latency: 5 callers, each pausing 10ms",
		"20 idle: host RSS per idle caller", "40 idle: active caller latency p99",
		"sustained login rate", "paced: p99 of non-login prompts",
		"3 callers of one kind parked at the board's name prompt", "telnet: RSS per idle caller", "SSH: RSS per idle caller", "gateways: errors",
		"issue 14's targets", "1. host CPU per prompt round trip, hashing excluded", "3. p99 of non-login prompts",
		"5. host RSS per idle caller at 40", "6. journaling's share of a prompt's host CPU",
	}
	if _, err := os.Stat(originalDir); err == nil {
		rows = append(rows, "returning users (log in once, then read messages), 4 caller(s), cost 4: round trips/s",
			"new-user visits, 1 caller(s), cost 10: ÷ original")
	}
	if withMongrel2 {
		rows = append(rows, "behind Mongrel2 1.12")
	}
	for _, want := range rows {
		if !strings.Contains(table, want) {
			t.Errorf("the table lacks %q", want)
		}
	}
	// Every parked caller hibernated (the board's -hibernate-after is
	// 100 ms here), and the sample of them woke.
	if !regexp.MustCompile(`(?m)^  40 idle: sessions hibernated +40 `).MatchString(table) ||
		!regexp.MustCompile(`(?m)^  40 idle: wake-up p50 +\d+\.\d\d ms`).MatchString(table) {
		t.Errorf("the table lacks 40 callers hibernated and their wake-ups")
	}
	errorRows := regexp.MustCompile(`(?m)^  (.*errors.*?)  +(\S+)`)
	found := errorRows.FindAllStringSubmatch(table, -1)
	if len(found) < 6 {
		t.Errorf("%d error rows, want one per configuration and idle step", len(found))
	}
	for _, m := range found {
		if m[2] != "0" {
			t.Errorf("%s: %s, want 0", m[1], m[2])
		}
	}
	if strings.Contains(table, "MISSED") && strings.Contains(table, "errors") {
		for line := range strings.SplitSeq(table, "\n") {
			if strings.Contains(line, "errors") && strings.Contains(line, "MISSED") {
				t.Errorf("an error target was missed: %s", line)
			}
		}
	}
}

// runBenchTable runs the bench o (two minutes at most), its progress in
// progress, and returns its table.
func runBenchTable(t *testing.T, o *benchOptions, progress *bytes.Buffer) string {
	t.Helper()
	var out bytes.Buffer
	testOptions(t, o)
	o.stdout, o.log = &out, progress
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	if err := o.bench(ctx); err != nil {
		t.Fatalf("%v\nprogress:\n%s", err, progress)
	}
	table := out.String()
	t.Logf("table:\n%s", table)
	return table
}

// TestFrontendAndEcho starts `m2bbs frontend` and `m2bbs-bench echo` as
// processes of their own and calls through them.
func TestFrontendAndEcho(t *testing.T) {
	port, err := mongrel2.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	send, err := freeSpec()
	if err != nil {
		t.Fatal(err)
	}
	recv, err := freeSpec()
	if err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	fe := startProcess(t, boardBinary(t), nil, "frontend", "-addr", addr, "-send-spec", send, "-recv-spec", recv, "-sender-id", "floor")
	fe.WaitFor(t, 10*time.Second, "front end listening", addr)
	echo := startProcess(t, os.Args[0], []string{runMainEnv + "=1"}, "echo", "-send-spec", send, "-recv-spec", recv, "-sender-id", "floor")
	echo.WaitFor(t, 10*time.Second, "echo ready")

	c, err := classic.Dial(t.Context(), addr, "@bbs", false)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Connect(); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"connect", "hello", `quotes " and \ backslash`, ""} {
		if line != "connect" {
			if err := c.Send(line); err != nil {
				t.Fatal(err)
			}
		}
		m, err := c.Next(readTimeout)
		if err != nil {
			t.Fatal(err)
		}
		if m.Type != message.TypePrompt || m.Msg != line || m.PChar != "> " {
			t.Errorf("echo of %q: %+v", line, m)
		}
	}
}

func TestBenchFlags(t *testing.T) {
	var stderr bytes.Buffer
	o, err := parseBenchFlags([]string{"-idle", "10_000, 100000", "-steps", "original, hashing"}, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	if len(o.idle) != 2 || o.idle[0] != 10000 || o.idle[1] != 100000 {
		t.Errorf("idle steps %v", o.idle)
	}
	if !o.step(stepOriginal) || !o.step(stepHashing) || o.step(stepThroughput) || o.step(stepScale) {
		t.Errorf("-steps original,hashing: %v", o.steps)
	}
	if o, err := parseBenchFlags(nil, &stderr); err != nil {
		t.Error(err)
	} else if len(o.steps) != len(allSteps) {
		t.Errorf("default steps %v, want all of %v", o.steps, allSteps)
	}
	for _, bad := range [][]string{{"-idle", "ten"}, {"-callers", "0"}, {"extra"}, {"-steps", "throughput,fast"}, {"-gateway-callers", "0"}} {
		if _, err := parseBenchFlags(bad, &stderr); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// TestBenchReadsTheSysopStatusWithAToken: a bench board run with a
// sysop token in its environment still shows the bench its heap.
func TestBenchReadsTheSysopStatusWithAToken(t *testing.T) {
	scripts, screens := proctest.Abs(t, "../../scripts"), proctest.Abs(t, "../../screens")
	t.Chdir(t.TempDir()) // no config.lua
	o, err := parseBenchFlags([]string{"-scripts", scripts, "-screens", screens, "-main", "bbs.lua"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	testOptions(t, o, "M2BBS_SYSOP_TOKEN=bench-0123456789-abcdef-token")
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	s, err := o.startSystem(ctx, frontBuiltIn, handlerBoard, o.shipped(), t.TempDir(), "")
	if err != nil {
		t.Fatal(err)
	}
	defer s.stop()
	body, err := s.status(ctx)
	if err != nil || !strings.Contains(string(body), "heap_bytes") {
		t.Errorf("status: %v %s", err, body)
	}
}

// TestBenchOnPostgres runs the throughput step with the boards' database
// on PostgreSQL (-postgres): the table says so, and the load ran with no
// errors; the bench's databases are gone afterwards.
func TestBenchOnPostgres(t *testing.T) {
	admin := pgtest.NewDatabase(t)
	var progress bytes.Buffer
	o, err := parseBenchFlags([]string{
		"-steps", "throughput", "-callers", "5", "-runs", "1", "-warmup", "100ms", "-duration", "500ms",
		"-mongrel2=false", "-postgres", admin,
		"-scripts", "../../scripts", "-screens", "../../screens", "-main", "bbs.lua",
	}, &progress)
	if err != nil {
		t.Fatal(err)
	}
	table := runBenchTable(t, o, &progress)
	if !strings.Contains(table, "load: 5 callers without think time, behind built-in front end (`m2bbs frontend`, own process), database on PostgreSQL") {
		t.Error("the table does not say the database was PostgreSQL")
	}
	for _, m := range regexp.MustCompile(`(?m)^  (.*errors.*?)  +(\S+)`).FindAllStringSubmatch(table, -1) {
		if m[2] != "0" {
			t.Errorf("%s: %s, want 0", m[1], m[2])
		}
	}
	if len(o.pg.created) != 0 {
		t.Errorf("databases left: %v", o.pg.created)
	}
}

// -logs keeps the whole output of each process the bench starts, standard
// output and error together, in a file named after it, in a folder it
// makes if need be.
func TestLogsKeepTheWholeOutputOfEachProcess(t *testing.T) {
	o := &benchOptions{logs: filepath.Join(t.TempDir(), "logs")}
	c, err := o.startChild("m2bbs host", "/bin/sh", nil, "-c", "echo gc 1 @0.064s; echo gc 2 @1.845s >&2")
	if err != nil {
		t.Fatal(err)
	}
	<-c.exited
	if c.err != nil {
		t.Fatal(c.err)
	}
	kept, err := filepath.Glob(filepath.Join(o.logs, "m2bbs-host-*.log"))
	if err != nil || len(kept) != 1 {
		t.Fatalf("kept %v (%v), want one file for the process", kept, err)
	}
	got, err := os.ReadFile(kept[0])
	if err != nil {
		t.Fatal(err)
	}
	if want := "gc 1 @0.064s\ngc 2 @1.845s\n"; string(got) != want {
		t.Errorf("kept %q, want %q", got, want)
	}
}
