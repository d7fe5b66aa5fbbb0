package mongrel2

import (
	"errors"
	"strings"
	"testing"
)

func TestRenderSeveralHandlers(t *testing.T) {
	cfg := Config{
		Route: "@bbs.1", ExtraRoutes: []string{"@bbs"},
		Handlers: []Handler{{Name: "line2", SenderID: "l2", SendSpec: "tcp://127.0.0.1:1", RecvSpec: "tcp://127.0.0.1:2", Routes: []string{"@bbs.2", "/lines"}}},
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	conf := string(Render(cfg))
	for _, want := range []string{"line2 = Handler(send_spec='tcp://127.0.0.1:1'", "'@bbs': bbs", "'@bbs.2': line2", "'/lines': line2", RawPayloadFix} {
		if !strings.Contains(conf, want) {
			t.Errorf("config lacks %q:\n%s", want, conf)
		}
	}
	if strings.Contains(conf, "raw_payload=1,") {
		t.Errorf("several handlers rendered with raw_payload=1 (m2sh crashes):\n%s", conf)
	}
	bad := cfg
	bad.Handlers = []Handler{{Name: "main", Routes: []string{"@x"}}}
	if err := bad.Validate(); !errors.Is(err, ErrBadConfig) {
		t.Errorf("handler named main: %v", err)
	}
}

// TestEveryEmptySpecGetsAPortOfItsOwn: Start's free ports for a server
// of three lines are all different, and none is the port a spec given
// already names (two lines given one spec would fight over it).
func TestEveryEmptySpecGetsAPortOfItsOwn(t *testing.T) {
	cfg := Config{SendSpec: "tcp://127.0.0.1:10007", Handlers: make([]Handler, 3)}
	if err := fillPorts(&cfg); err != nil {
		t.Fatal(err)
	}
	specs := []string{cfg.SendSpec, cfg.RecvSpec}
	for _, h := range cfg.Handlers {
		specs = append(specs, h.SendSpec, h.RecvSpec)
	}
	seen := map[int]string{cfg.Port: "the caller port"}
	for _, spec := range specs {
		port, ok := specPort(spec)
		if !ok {
			t.Fatalf("spec %q has no port", spec)
		}
		if other, dup := seen[port]; dup {
			t.Errorf("port %d is both %s and %s", port, other, spec)
		}
		seen[port] = spec
	}
	if cfg.SendSpec != "tcp://127.0.0.1:10007" {
		t.Errorf("the given send spec became %q", cfg.SendSpec)
	}
}
