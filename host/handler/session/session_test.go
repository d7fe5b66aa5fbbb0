package session

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/m2bbs/m2bbs/host/message"
	"github.com/m2bbs/m2bbs/host/wire/m2proto"
)

// reply is one message the table sent.
type reply struct {
	connID string
	msg    map[string]any // nil for a hang-up
}

// recorder is a fake front end: it records what the table sends.
type recorder struct{ replies []reply }

func (r *recorder) Reply(sender string, connIDs []string, body []byte) error {
	for _, id := range connIDs {
		var msg map[string]any
		if len(body) > 0 {
			raw, err := base64.StdEncoding.DecodeString(strings.TrimSuffix(string(body), "\x00"))
			if err != nil {
				return fmt.Errorf("not base64: %q", body)
			}
			if err := json.Unmarshal(raw, &msg); err != nil {
				return err
			}
		}
		r.replies = append(r.replies, reply{id, msg})
	}
	return nil
}

// SendMessage records a message as Reply records the classic client's
// frame of it.
func (r *recorder) SendMessage(sender string, connIDs []string, m message.Message) error {
	return r.Reply(sender, connIDs, m2proto.AppendClientFrame(nil, m.AppendJSON(nil), false))
}

// take returns and forgets the replies so far, as "type:msg" strings, with
// "hangup" for a closed connection.
func (r *recorder) take() []string {
	var out []string
	for _, rep := range r.replies {
		if rep.msg == nil {
			out = append(out, rep.connID+" hangup")
			continue
		}
		out = append(out, fmt.Sprintf("%s %s:%s", rep.connID, rep.msg["type"], rep.msg["msg"]))
	}
	r.replies = nil
	return out
}

type screenMap map[string]string

func (s screenMap) Screen(name string) (string, error) {
	if text, ok := s[name]; ok {
		return text, nil
	}
	return "", fmt.Errorf("no screen %q", name)
}

func newTable(t *testing.T, script string, logs *strings.Builder) (*Table, *recorder) {
	t.Helper()
	rec := &recorder{}
	log := slog.New(slog.DiscardHandler)
	if logs != nil {
		log = slog.New(slog.NewTextHandler(logs, nil))
	}
	tbl, err := New(Config{
		ScriptsDir: filepath.Dir(script),
		MainScript: script,
	}, Deps{
		Replier: rec,
		Screens: screenMap{"error": "Sorry, we broke.", "bye": "Bye."},
		Log:     log,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tbl.Close)
	return tbl, rec
}

func msg(connID, text string) *m2proto.Request {
	body, _ := json.Marshal(map[string]string{"type": "msg", "msg": text})
	return jsonReq(connID, string(body))
}

func jsonReq(connID, body string) *m2proto.Request {
	return &m2proto.Request{
		Sender: "sender-1", ConnID: connID, Path: "@bbs",
		Headers: []m2proto.Header{{Name: "METHOD", Value: "JSON"}, {Name: "PATH", Value: "@bbs"}},
		Body:    []byte(body),
	}
}

func expect(t *testing.T, got []string, want ...string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("replies:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

func TestPostEntryConvention(t *testing.T) {
	tbl, rec := newTable(t, "testdata/post_style.lua", nil)
	tbl.Handle(msg("1", "connect"))
	expect(t, rec.take(), "1 prompt:name?")
	tbl.Handle(msg("1", "Zed"))
	expect(t, rec.take(), "1 prompt:colour?")
	if tbl.Len() != 1 {
		t.Fatalf("Len = %d mid-conversation, want 1", tbl.Len())
	}
	tbl.Handle(msg("1", "green"))
	expect(t, rec.take(), "1 screen:Zed likes green", "1 exit:", "1 hangup")
	if tbl.Len() != 0 || tbl.Has("1") {
		t.Fatal("session kept after its script returned")
	}
	st := tbl.Stats()
	if st.Started != 1 || st.Ended != 1 || st.Active != 0 {
		t.Errorf("stats = %+v", st)
	}
}

func TestExampleEntryConvention(t *testing.T) {
	tbl, rec := newTable(t, "testdata/example_style.lua", nil)
	tbl.Handle(msg("5", "connect"))
	expect(t, rec.take(), "5 screen:first message was connect", "5 prompt:name?")
	tbl.Handle(msg("5", "Ann"))
	// The script said goodbye itself: no second exit message.
	expect(t, rec.take(), "5 exit:Bye.", "5 hangup")
}

func TestScriptSideUI(t *testing.T) {
	tbl, rec := newTable(t, "testdata/scriptside/main.lua", nil)
	tbl.Handle(msg("9", "connect"))
	expect(t, rec.take(), "9 prompt:script-side name?")
	tbl.Handle(msg("9", "Kim"))
	expect(t, rec.take(), "9 exit:bye Kim", "9 hangup")
}

func TestCallersAreIndependent(t *testing.T) {
	tbl, rec := newTable(t, "testdata/post_style.lua", nil)
	tbl.Handle(msg("1", "connect"))
	tbl.Handle(msg("2", "connect"))
	tbl.Handle(msg("1", "Ann"))
	tbl.Handle(msg("2", "Bob"))
	tbl.Handle(msg("2", "red"))
	tbl.Handle(msg("1", "blue"))
	expect(t, rec.take(),
		"1 prompt:name?", "2 prompt:name?", "1 prompt:colour?", "2 prompt:colour?",
		"2 screen:Bob likes red", "2 exit:", "2 hangup",
		"1 screen:Ann likes blue", "1 exit:", "1 hangup")
}

func TestScriptErrorEndsOnlyThatCaller(t *testing.T) {
	var logs strings.Builder
	tbl, rec := newTable(t, "testdata/failing.lua", &logs)
	tbl.Handle(msg("1", "connect"))
	tbl.Handle(msg("2", "connect"))
	rec.take()
	tbl.Handle(msg("1", "crash"))
	expect(t, rec.take(), "1 exit:Sorry, we broke.", "1 hangup")
	tbl.Handle(msg("2", "still here"))
	expect(t, rec.take(), "2 screen:echo: still here", "2 prompt:say something")
	if tbl.Has("1") || !tbl.Has("2") {
		t.Fatal("wrong sessions left after an error")
	}
	log := logs.String()
	for _, want := range []string{"script error", "conn_id=1", "failing.lua:9"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	if st := tbl.Stats(); st.Errored != 1 || st.Active != 1 {
		t.Errorf("stats = %+v", st)
	}
}

func TestDisconnectDropsTheCoroutine(t *testing.T) {
	tbl, rec := newTable(t, "testdata/post_style.lua", nil)
	tbl.Handle(msg("1", "connect"))
	tbl.Handle(jsonReq("1", `{"type":"disconnect"}`))
	if tbl.Has("1") {
		t.Fatal("session kept after disconnect")
	}
	rec.take()
	// A later message from the same conn id starts afresh.
	tbl.Handle(msg("1", "connect"))
	expect(t, rec.take(), "1 prompt:name?")
	if st := tbl.Stats(); st.Disconnected != 1 || st.Started != 2 {
		t.Errorf("stats = %+v", st)
	}
}

func TestBadMessagesAreCountedNotFatal(t *testing.T) {
	var logs strings.Builder
	tbl, rec := newTable(t, "testdata/post_style.lua", &logs)
	for _, body := range []string{
		`not json`, `[1,2]`, `{"type":"chat","msg":"hi"}`, `{"type":"msg","msg":42}`, `{"type":"msg"}`, "{\"type\":\"msg\",\"msg\":\"\xff\"",
	} {
		tbl.Handle(jsonReq("3", body))
	}
	if got := rec.take(); len(got) != 0 {
		t.Fatalf("bad messages got replies: %v", got)
	}
	st := tbl.Stats()
	if st.Malformed != 5 || st.UnknownType != 1 || st.Started != 0 {
		t.Errorf("stats = %+v", st)
	}
	if !strings.Contains(logs.String(), "conn_id=3") {
		t.Errorf("log lacks the conn_id:\n%s", logs.String())
	}
	// Invalid UTF-8 inside a valid message reaches the script as U+FFFD.
	tbl.Handle(jsonReq("3", "{\"type\":\"msg\",\"msg\":\"\xff\"}"))
	expect(t, rec.take(), "3 prompt:name?")
}

func TestRepliesToVanishedCallersAreCounted(t *testing.T) {
	tbl, rec := newTable(t, "testdata/post_style.lua", nil)
	if err := tbl.Reply("sender-1", []string{"404"}, []byte("x")); err != nil {
		t.Fatal(err)
	}
	if len(rec.replies) != 0 || tbl.Stats().Vanished != 1 {
		t.Errorf("reply to a vanished caller: replies=%v stats=%+v", rec.replies, tbl.Stats())
	}
}

func TestLoadErrors(t *testing.T) {
	for script, want := range map[string]string{
		"testdata/no_entry.lua":     "no entry function",
		"testdata/syntax_error.lua": "syntax_error.lua",
		"testdata/missing.lua":      "missing.lua",
	} {
		_, err := New(Config{MainScript: script}, Deps{Replier: &recorder{}, Screens: screenMap{}})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want %q", script, err, want)
		}
	}
}

func TestRequestTable(t *testing.T) {
	tbl, rec := newTable(t, "testdata/echo_request.lua", nil)
	body := `{"type":"msg","msg":"hi","extra":{"n":3}}`
	tbl.Handle(jsonReq("12", body))
	expect(t, rec.take(), "12 screen:12|sender-1|@bbs|JSON|@bbs|"+body+"|msg|hi|3", "12 exit:", "12 hangup")
}

func TestColourFollowsTheClient(t *testing.T) {
	tbl, rec := newTable(t, "testdata/failing.lua", nil)
	tbl.Handle(jsonReq("1", `{"type":"msg","msg":"connect","color":false}`))
	tbl.Handle(msg("1", "|12red"))
	tbl.Handle(msg("2", "connect"))
	tbl.Handle(msg("2", "|12red"))
	expect(t, rec.take(),
		"1 prompt:say something", "1 screen:echo: red", "1 prompt:say something",
		"2 prompt:say something", "2 screen:echo: \x1b[1;31mred", "2 prompt:say something")
}
