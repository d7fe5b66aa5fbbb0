package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want Config
	}{
		{
			name: "plain assignments",
			src: `sender_id = 'bbs-7'
send_spec = 'tcp://127.0.0.1:1001'
recv_spec = 'tcp://127.0.0.1:1002'
db_path = '/var/lib/m2bbs/bbs.db'
raw_frames = true
bcrypt_cost = 12`,
			want: Config{SenderID: "bbs-7", SendSpec: "tcp://127.0.0.1:1001", RecvSpec: "tcp://127.0.0.1:1002",
				DBPath: "/var/lib/m2bbs/bbs.db", ScriptsDir: "scripts", ScreensDir: "screens", MainScript: "bbs.lua", RawFrames: true, BcryptCost: 12},
		},
		{
			name: "the original config.lua",
			src: `module 'config'
sender_id = '558c92aa-1644-4e24-a524-39baad0f8e78'
sub_addr = 'tcp://127.0.0.1:9997'
pub_addr = 'tcp://127.0.0.1:9996'
io_threads = 1`,
			want: Config{SenderID: "558c92aa-1644-4e24-a524-39baad0f8e78", SendSpec: "tcp://127.0.0.1:9997", RecvSpec: "tcp://127.0.0.1:9996",
				DBPath: "data/bbs.db", ScriptsDir: "scripts", ScreensDir: "screens", MainScript: "bbs.lua"},
		},
		{
			name: "limits",
			src: `workers = 4
max_callers = 500
idle_timeout = '10m'
resume_budget = 1.5
max_line = 1024
rate = 2.5
burst = 10
sysop_token = 'tok'
min_password = 12
registrations_per_hour = 0
logins_per_address = 50`,
			want: Config{SenderID: "m2bbs", SendSpec: "tcp://127.0.0.1:9997", RecvSpec: "tcp://127.0.0.1:9996",
				DBPath: "data/bbs.db", ScriptsDir: "scripts", ScreensDir: "screens", MainScript: "bbs.lua",
				Workers: 4, MaxCallers: 500, IdleTimeout: 10 * time.Minute, ResumeBudget: 1500 * time.Millisecond,
				MaxLineBytes: 1024, RatePerSecond: 2.5, RateBurst: 10, SysopToken: "tok", MinPassword: 12, RegistrationsPerHour: -1, LoginsPerAddress: 50},
		},
		{
			name: "computed values and locals",
			src: `local dir = '/srv/bbs'
scripts = dir .. '/scripts'
screens = dir .. '/screens'`,
			want: Config{SenderID: "m2bbs", SendSpec: "tcp://127.0.0.1:9997", RecvSpec: "tcp://127.0.0.1:9996",
				DBPath: "data/bbs.db", ScriptsDir: "/srv/bbs/scripts", ScreensDir: "/srv/bbs/screens", MainScript: "bbs.lua"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse("config.lua", []byte(tt.src), Defaults)
			if err != nil {
				t.Fatal(err)
			}
			// Cases that leave the login limits alone get the defaults; -1
			// stands for a 0 that was set.
			if tt.want.MinPassword == 0 {
				tt.want.MinPassword = Defaults.MinPassword
			}
			switch tt.want.RegistrationsPerHour {
			case 0:
				tt.want.RegistrationsPerHour = Defaults.RegistrationsPerHour
			case -1:
				tt.want.RegistrationsPerHour = 0
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, src, wantErr string
	}{
		{"typo", "sender_di = 'x'", "unknown setting: [sender_di]"},
		{"wrong type", "db_path = 42", "db_path must be a string, not a number"},
		{"wrong bool", "raw_frames = 'yes'", "raw_frames must be true or false"},
		{"fractional cost", "bcrypt_cost = 4.5", "bcrypt_cost must be a whole number"},
		{"cost out of range", "bcrypt_cost = 3", "bcrypt_cost must be between 4 and 31"},
		{"bad duration", "idle_timeout = 'soon'", "not a duration"},
		{"negative", "max_callers = -1", "max_callers must be a whole number"},
		{"syntax", "sender_id = ", "config.lua"},
		{"runtime error", "error('boom')", "boom"},
		{"no files", "dofile('/etc/passwd')", "attempt to call a non-function"},
		{"endless loop", "while true do end", "context deadline exceeded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse("config.lua", []byte(tt.src), Defaults)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.wantErr)
			}
			if !reflect.DeepEqual(got, Defaults) {
				t.Errorf("a failed parse changed the settings: %+v", got)
			}
		})
	}
	if _, err := Parse("config.lua", []byte("sender_di = 'x'"), Defaults); !errors.Is(err, ErrUnknownSetting) {
		t.Errorf("typo error %v does not wrap ErrUnknownSetting", err)
	}
}

func TestLoadFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.lua")
	if err := os.WriteFile(path, []byte("sender_id = 'from-file'\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := LoadFile(path, Defaults)
	if err != nil || got.SenderID != "from-file" {
		t.Fatalf("LoadFile = %+v, %v", got, err)
	}
	if _, err := LoadFile(filepath.Join(t.TempDir(), "missing.lua"), Defaults); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: err = %v, want ErrNotExist", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("sender_id = 'x'\nraw_frames = true"))
	f.Add([]byte("module 'config'\nsub_addr = 'tcp://127.0.0.1:1'"))
	f.Add([]byte("for i = 1, 10 do end"))
	f.Fuzz(func(t *testing.T, src []byte) {
		cfg, err := Parse("fuzz.lua", src, Defaults)
		if err != nil && !reflect.DeepEqual(cfg, Defaults) {
			t.Fatalf("failed parse returned changed settings: %+v", cfg)
		}
	})
}

func TestRLoginBoards(t *testing.T) {
	cfg, err := Parse("config.lua", []byte(`
rlogin_boards = {
    {name = 'alpha', secret = 'env:ALPHA_SECRET', door = 'guess'},
    {name = 'beta', allow = '192.0.2.0/24, 127.0.0.1', door = 'doors'},
}`), Defaults)
	if err != nil {
		t.Fatal(err)
	}
	want := []RemoteBoard{{Name: "alpha", Secret: "env:ALPHA_SECRET", Door: "guess"}, {Name: "beta", Allow: "192.0.2.0/24, 127.0.0.1", Door: "doors"}}
	if cfg.RLoginBoards == nil || len(*cfg.RLoginBoards) != 2 || (*cfg.RLoginBoards)[0] != want[0] || (*cfg.RLoginBoards)[1] != want[1] {
		t.Errorf("rlogin_boards = %+v, want %+v", cfg.RLoginBoards, want)
	}
	for _, bad := range []string{
		`rlogin_boards = 'alpha'`,
		`rlogin_boards = {'alpha'}`,
		`rlogin_boards = {{secret = 'x'}}`,
		`rlogin_boards = {{name = 'alpha', sekret = 'x'}}`,
		`rlogin_boards = {{name = 'alpha', secret = 42}}`,
	} {
		if _, err := Parse("config.lua", []byte(bad), Defaults); err == nil || !strings.Contains(err.Error(), "rlogin_boards") {
			t.Errorf("%s: err = %v, want one naming rlogin_boards", bad, err)
		}
	}
}

func TestDoorServers(t *testing.T) {
	cfg, err := Parse("config.lua", []byte(`
door_servers = {
    {name = 'alpha', address = '127.0.0.1:513', secret = 'env:ALPHA', server_user = 'mybbs:{user}'},
    {name = 'tel', protocol = 'telnet', address = '127.0.0.1:23'},
}`), Defaults)
	if err != nil {
		t.Fatal(err)
	}
	want := []DoorServer{{Name: "alpha", Address: "127.0.0.1:513", Secret: "env:ALPHA", ServerUser: "mybbs:{user}"}, {Name: "tel", Protocol: "telnet", Address: "127.0.0.1:23"}}
	if cfg.DoorServers == nil || len(*cfg.DoorServers) != 2 || (*cfg.DoorServers)[0] != want[0] || (*cfg.DoorServers)[1] != want[1] {
		t.Errorf("door_servers = %+v, want %+v", cfg.DoorServers, want)
	}
	if _, err := Parse("config.lua", []byte(`door_servers = {{name = 'a', password = 'x'}}`), Defaults); err == nil || !strings.Contains(err.Error(), "unknown field password") {
		t.Errorf("an unknown field: %v", err)
	}
}
func TestParseTableSetting(t *testing.T) {
	src := `ftn = { address = '21:1/100', port = 24554, secure = true,
		uplinks = { { address = '21:1/101', password = 'pw' } },
		echoes = { ['M2.TEST'] = 'fido' } }`
	got, err := Parse("t.lua", []byte(src), Defaults)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"address": "21:1/100", "port": float64(24554), "secure": true,
		"uplinks": []any{map[string]any{"address": "21:1/101", "password": "pw"}},
		"echoes":  map[string]any{"M2.TEST": "fido"},
	}
	if !reflect.DeepEqual(got.FTN, want) {
		t.Errorf("ftn = %#v\nwant %#v", got.FTN, want)
	}
	for _, bad := range []string{
		`ftn = 'x'`,
		`ftn = { f = function() end }`,
		`ftn = { 1, x = 2 }`,
		`local t = {} ; for i = 1, 20000 do t[i] = i end ; ftn = { list = t }`,
		`local t = {} ; local c = t ; for i = 1, 20 do c.x = {} ; c = c.x end ; ftn = t`,
	} {
		if _, err := Parse("t.lua", []byte(bad), Defaults); err == nil {
			t.Errorf("%s: accepted", bad)
		}
	}
}
