package ftn

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/m2bbs/m2bbs/host/ftn/pkt"
)

func TestParseSettings(t *testing.T) {
	s, err := ParseSettings(map[string]any{
		"address":  []any{"21:1/100", "2:5020/9999.1"},
		"interval": "5s", "poll": false, "binkd_port": float64(-1),
		"uplinks": []any{map[string]any{"address": "21:1/1", "host": "hub.example", "password": "topsecret", "packet_password": "PKTPW"}},
		"echoes":  map[string]any{"FSX_GEN": "general", "FSX_BBS": "bbs"},
	}, "data/bbs.db")
	if err != nil {
		t.Fatal(err)
	}
	if s.Dir != "data/ftn" || s.Interval != 5*time.Second || s.PollEvery != 0 || s.BinkdPort != -1 || s.Charset != "UTF-8 4" || len(s.Addresses) != 2 {
		t.Errorf("settings %+v", s)
	}
	if e, ok := s.EchoByTag("fsx_gen"); !ok || e.Area != "general" || !e.Carries(pkt.Addr{Zone: 21, Net: 1, Node: 1}) {
		t.Errorf("EchoByTag = %+v %v", e, ok)
	}
	if u, ok := s.RouteNetmail(pkt.Addr{Zone: 21, Net: 3, Node: 4}); !ok || u.Host != "hub.example" {
		t.Errorf("route %+v", u)
	}
	// The passwords never show: not in %v or %+v, not in a log line.
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("settings", "uplink", s.Uplinks[0], "pw", s.Uplinks[0].SessionPassword)
	for _, out := range []string{fmt.Sprintf("%v %+v %#v", s, s, s.Uplinks[0]), logged.String()} {
		if strings.Contains(out, "topsecret") || strings.Contains(out, "PKTPW") {
			t.Errorf("a password shows: %s", out)
		}
	}
	conf, err := s.BinkdConfig()
	if err != nil || !strings.Contains(conf, "node 21:1/1@fidonet hub.example:24554 topsecret") || strings.Contains(conf, "iport") {
		t.Errorf("binkd config:\n%s", conf)
	}
}

func TestParseSettingsErrors(t *testing.T) {
	for name, table := range map[string]map[string]any{
		"no table":              nil,
		"no address":            {"uplinks": []any{}},
		"bad address":           {"address": "1/2"},
		"unknown key":           {"address": "1:2/3", "adress": "x"},
		"long pkt password":     {"address": "1:2/3", "uplinks": []any{map[string]any{"address": "1:2/4", "host": "h", "packet_password": "123456789"}}},
		"space in password":     {"address": "1:2/3", "uplinks": []any{map[string]any{"address": "1:2/4", "host": "h", "password": "a b"}}},
		"uplink no host":        {"address": "1:2/3", "uplinks": []any{map[string]any{"address": "1:2/4"}}},
		"echo with space":       {"address": "1:2/3", "echoes": map[string]any{"A B": "x"}},
		"bad charset":           {"address": "1:2/3", "charset": "EBCDIC"},
		"bad interval":          {"address": "1:2/3", "interval": "soon"},
		"echo's unknown uplink": {"address": "1:2/3", "echoes": map[string]any{"A": map[string]any{"area": "a", "uplinks": []any{"1:2/9"}}}},
		"echo's unknown key":    {"address": "1:2/3", "echoes": map[string]any{"A": map[string]any{"area": "a", "uplink": "1:2/9"}}},
		"busy interval":         {"address": "1:2/3", "interval": 0.001},
		// Two echoes in one area: a caller's reply to the second's post
		// would go out to the first (another network, maybe).
		"two echoes, one area": {"address": "1:2/3", "echoes": map[string]any{"FSX_GEN": "general", "FIDO_GEN": "General"}},
		"an echo twice": {"address": "1:2/3", "echoes": []any{map[string]any{"tag": "FSX_GEN", "area": "a"},
			map[string]any{"tag": "fsx_gen", "area": "b"}}},
		// With two uplinks, the packet password is all that tells whose a
		// packet is: without one each, either could post as the other.
		"two uplinks, one packet password": {"address": "1:2/3", "uplinks": []any{
			map[string]any{"address": "1:2/4", "host": "h", "packet_password": "PKTA"},
			map[string]any{"address": "2:5/6", "host": "g"}}},
		"two uplinks, the same packet password": {"address": "1:2/3", "uplinks": []any{
			map[string]any{"address": "1:2/4", "host": "h", "packet_password": "PKTA"},
			map[string]any{"address": "2:5/6", "host": "g", "packet_password": "pkta"}}},
	} {
		if _, err := ParseSettings(table, "bbs.db"); err == nil {
			t.Errorf("%s: accepted", name)
		} else if strings.Contains(err.Error(), "123456789") {
			t.Errorf("%s: the error shows the password: %v", name, err)
		}
	}
}

func TestSecretMatchesFold(t *testing.T) {
	s := Secret("PktPw")
	for got, want := range map[string]bool{"PKTPW": true, "pktpw": true, "PktPw": true, "PKTP": false, "PKTPWX": false, "": false, "PKTPW\x00": false} {
		if s.MatchesFold(got) != want {
			t.Errorf("MatchesFold(%q) = %v", got, !want)
		}
	}
	if !Secret("").MatchesFold("") || Secret("").MatchesFold("x") {
		t.Error("an empty password matches only an empty one")
	}
}

// Two uplinks with packet passwords of their own are taken; the error
// for two that share one names the uplinks, never the password.
func TestTwoUplinksNeedPacketPasswordsOfTheirOwn(t *testing.T) {
	up := func(addr, pw string) map[string]any {
		return map[string]any{"address": addr, "host": "h", "packet_password": pw}
	}
	if _, err := ParseSettings(map[string]any{"address": "1:2/3", "uplinks": []any{up("1:2/4", "PKTA"), up("2:5/6", "PKTB")}}, "bbs.db"); err != nil {
		t.Errorf("two uplinks with passwords of their own: %v", err)
	}
	_, err := ParseSettings(map[string]any{"address": "1:2/3", "uplinks": []any{up("1:2/4", "SAMEPW"), up("2:5/6", "SAMEPW")}}, "bbs.db")
	if err == nil || !strings.Contains(err.Error(), "1:2/4") || !strings.Contains(err.Error(), "2:5/6") || strings.Contains(err.Error(), "SAMEPW") {
		t.Errorf("two uplinks with one password: %v", err)
	}
}
