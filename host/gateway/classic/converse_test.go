package classic

import (
	"errors"
	"strings"
	"testing"
)

func TestConverseAsksAndPrints(t *testing.T) {
	srv := serveScript(t, "@bbs", false, loginScript)
	c := dialT(t, srv.addr, "@bbs", false)
	if err := c.Connect(); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	var asked []string
	answers := []string{"zed", `s3cr"t é`}
	err := c.Converse(&out, func(pchar string) (string, error) {
		asked = append(asked, pchar)
		line := answers[0]
		answers = answers[1:]
		return line, nil
	}, wait)
	want := "Welcome to the test BBS.\nWhat's your name?\nBye, zed.\n"
	if err != nil || out.String() != want || strings.Join(asked, "|") != "> |password: " {
		t.Errorf("Converse printed %q, asked %q, err %v; want %q, asked \"> \" then \"password: \"", out.String(), asked, err, want)
	}
	c.Close()
	if res := srv.result(t); res.err != nil {
		t.Errorf("server: %v", res.err)
	}
}

func TestConverseReturnsAnswerError(t *testing.T) {
	srv := serveScript(t, "@bbs", false, loginScript[:1])
	c := dialT(t, srv.addr, "@bbs", false)
	if err := c.Connect(); err != nil {
		t.Fatal(err)
	}
	errTired := errors.New("tired of typing")
	err := c.Converse(new(strings.Builder), func(string) (string, error) { return "", errTired }, wait)
	if !errors.Is(err, errTired) {
		t.Errorf("Converse = %v, want the answer's error", err)
	}
	c.Close()
	if res := srv.result(t); len(res.requests) != 1 {
		t.Errorf("sent %q, want only connect", res.requests)
	}
}
