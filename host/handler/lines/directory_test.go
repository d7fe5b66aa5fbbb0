package lines

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/m2bbs/m2bbs/host/handler/store"
	"github.com/m2bbs/m2bbs/host/wire/m2proto"
)

// logBuffer collects log lines; safe for concurrent use.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// failingLines is a directory whose reads fail with a revealing error.
type failingLines struct{ store.Lines }

func (failingLines) LineList(context.Context) ([]store.LineInfo, error) {
	return nil, errors.New("open /home/sysop/bbs/data/bbs.db: disk I/O error")
}

// TestLinesErrorNotShown: when the directory cannot be read, anyone
// asking for /lines gets 503 and a plain message; the error is logged.
func TestLinesErrorNotShown(t *testing.T) {
	logs := &logBuffer{}
	d := Directory{Lines: failingLines{}, Log: slog.New(slog.NewTextHandler(logs, nil))}
	code, body := d.Answer(t.Context(), "GET")
	if code != http.StatusServiceUnavailable || strings.Contains(string(body), "/home/sysop") || strings.Contains(string(body), "disk") {
		t.Errorf("answered %d %q", code, body)
	}
	if !strings.Contains(logs.String(), "disk I/O error") {
		t.Errorf("the error was not logged: %s", logs)
	}
}

// TestDirectoryPage: the /lines page lists every line by number, a line
// that is down with nobody online; it answers GET and HEAD only, and a
// host without a directory lists no line.
func TestDirectoryPage(t *testing.T) {
	ctx := t.Context()
	db := openDirectory(t)
	lineOf(2, db, newFakeBoard(), false).beat(ctx)
	l1 := lineOf(1, db, newFakeBoard(ann, bob), false)
	l1.beat(ctx)
	d := Directory{Lines: db}
	want := `[{"line":1,"route":"@bbs.1","online":2,"capacity":2,"up":true},{"line":2,"route":"@bbs.2","online":0,"capacity":2,"up":true}]` + "\n"
	if code, body := d.Answer(ctx, http.MethodGet); code != http.StatusOK || string(body) != want {
		t.Errorf("GET /lines = %d %s, want 200 %s", code, body, want)
	}
	if err := db.LeaveLine(ctx, 1, l1.instance); err != nil {
		t.Fatal(err)
	}
	want = `[{"line":1,"route":"@bbs.1","online":0,"capacity":2,"up":false},{"line":2,"route":"@bbs.2","online":0,"capacity":2,"up":true}]` + "\n"
	if code, body := d.Answer(ctx, http.MethodHead); code != http.StatusOK || string(body) != want {
		t.Errorf("HEAD /lines with line 1 down = %d %s, want 200 %s", code, body, want)
	}
	if code, body := d.Answer(ctx, http.MethodPost); code != http.StatusMethodNotAllowed || string(body) != "use GET\n" {
		t.Errorf("POST /lines = %d %q", code, body)
	}
	if code, body := (Directory{}).Answer(ctx, http.MethodGet); code != http.StatusOK || string(body) != "[]\n" {
		t.Errorf("GET /lines without a directory = %d %q, want 200 []", code, body)
	}
}

// TestDirectoryHandler: the directory handler's HTTP requests are served
// in order, a message that does not parse is counted and skipped, other
// requests are dropped, and Run ends when its messages end.
func TestDirectoryHandler(t *testing.T) {
	var (
		served []string
		bad    int
	)
	d := DirectoryHandler{
		Serve: func(_ context.Context, req *m2proto.Request) { served = append(served, req.ConnID) },
		Bad:   func() { bad++ },
	}
	httpReq := func(connID string) []byte {
		return m2proto.AppendRequest(nil, &m2proto.Request{Sender: "s", ConnID: connID, Path: Path,
			Headers: []m2proto.Header{{Name: "METHOD", Value: "GET"}, {Name: "PATH", Value: Path}}}, m2proto.JSONHeaders)
	}
	msgs := make(chan []byte, 4)
	msgs <- httpReq("1")
	msgs <- []byte("not a handler message")
	msgs <- m2proto.AppendRequest(nil, &m2proto.Request{Sender: "s", ConnID: "2", Path: "@*",
		Headers: []m2proto.Header{{Name: "METHOD", Value: "JSON"}}, Body: []byte(`{"type":"disconnect"}`)}, m2proto.JSONHeaders)
	msgs <- httpReq("3")
	close(msgs)
	done := make(chan struct{})
	go func() { d.Run(t.Context(), msgs); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not end when its messages ended")
	}
	if len(served) != 2 || served[0] != "1" || served[1] != "3" || bad != 1 {
		t.Errorf("served %v with %d bad; want [1 3] and 1", served, bad)
	}
}
