package session

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/m2bbs/m2bbs/host/handler/screens"
	"github.com/m2bbs/m2bbs/host/handler/store"
)

// doorBoard is a table running testdata/doors_main.lua (a board whose menu
// is the Doors menu) over the shipped doors and screens, a real database,
// a fake clock and a seeded random source.
type doorBoard struct {
	tbl        *Table
	rec        *recorder
	db         *store.SQLite
	clock      *fakeClock
	logs       *strings.Builder
	transcript strings.Builder
}

// newDoorBoard runs the board with the door module as the host wires it
// (the caller's name is the one their session logged in with, who's
// online lists the table's callers), over a fake clock in UTC and a
// seeded random source.
func newDoorBoard(t *testing.T, scriptsDir string, seed uint64) *doorBoard {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "bbs.db"), store.Options{BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	b := &doorBoard{
		rec:   &recorder{},
		db:    db,
		clock: &fakeClock{t: time.Date(2026, 3, 1, 18, 0, 0, 0, time.UTC)},
		logs:  &strings.Builder{},
	}
	b.tbl, err = New(Config{ScriptsDir: scriptsDir, MainScript: "testdata/doors_main.lua"}, Deps{
		Replier:  b.rec,
		Screens:  screens.NewDir("../../../screens"),
		Store:    db,
		Log:      slog.New(slog.NewTextHandler(b.logs, nil)),
		Now:      b.clock.Now,
		Location: time.UTC,
		Rand:     rand.New(rand.NewPCG(seed, 2026)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.tbl.Close)
	return b
}

// say sends one line as caller connID a second after the last, and returns
// what the caller was sent, "type:text" each.
func (b *doorBoard) say(connID, line string) []string {
	b.clock.Advance(time.Second)
	b.tbl.Handle(msg(connID, line))
	var out []string
	fmt.Fprintf(&b.transcript, "%s< %s\n", connID, line)
	for _, r := range b.rec.take() {
		r = strings.TrimPrefix(r, connID+" ")
		out = append(out, r)
		for _, l := range strings.Split(r, "\n") {
			fmt.Fprintf(&b.transcript, "%s> %s\n", connID, l)
		}
	}
	return out
}

// play says each line in turn and returns the replies to the last one.
func (b *doorBoard) play(connID string, lines ...string) []string {
	var out []string
	for _, line := range lines {
		out = b.say(connID, line)
	}
	return out
}

// last is the last message of replies.
func last(t *testing.T, replies []string) string {
	t.Helper()
	if len(replies) == 0 {
		t.Fatal("no reply")
	}
	return replies[len(replies)-1]
}

func mustContain(t *testing.T, replies []string, want string) {
	t.Helper()
	if !strings.Contains(strings.Join(replies, "\n"), want) {
		t.Fatalf("the caller was not shown %q; they saw:\n%s", want, strings.Join(replies, "\n"))
	}
}

// checkTranscript compares a conversation with testdata/NAME.golden,
// rewritten when UPDATE=1.
func checkTranscript(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if os.Getenv("UPDATE") == "1" {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with UPDATE=1 to create it)", err)
	}
	if string(want) != got {
		t.Errorf("transcript differs from %s (UPDATE=1 rewrites it):\n%s", path, got)
	}
}

// doorValue reads a door's saved value as JSON.
func doorValue(t *testing.T, db *store.SQLite, door, user, key string, into any) {
	t.Helper()
	data, ok, err := db.DoorGet(context.Background(), door, user, key)
	if err != nil || !ok {
		t.Fatalf("%s/%s/%s: saved = %v, %v", door, user, key, ok, err)
	}
	if err := json.Unmarshal(data, into); err != nil {
		t.Fatal(err)
	}
}

var (
	rangeHint = regexp.MustCompile(`\((\d+)-(\d+), try \d+ of 10\)`)
	gotIt     = regexp.MustCompile(`Got it in (\d+)!`)
)

// guessToWin plays one game of Guess the Number by halving the range the
// door's hints leave, and returns how many guesses it took.
func guessToWin(t *testing.T, b *doorBoard, connID string, replies []string) int {
	t.Helper()
	low, high := 1, 100
	for range 10 {
		replies = b.say(connID, strconv.Itoa((low+high)/2))
		text := strings.Join(replies, "\n")
		if m := gotIt.FindStringSubmatch(text); m != nil {
			n, _ := strconv.Atoi(m[1])
			return n
		}
		m := rangeHint.FindStringSubmatch(last(t, replies))
		if m == nil {
			t.Fatalf("no hint in %q", replies)
		}
		low, _ = strconv.Atoi(m[1])
		high, _ = strconv.Atoi(m[2])
	}
	t.Fatal("halving the range did not win in 10 guesses")
	return 0
}

func TestGuessTheNumberHallOfFame(t *testing.T) {
	b := newDoorBoard(t, "../../../scripts", 1)
	replies := b.play("1", "connect", "kim")
	menu := last(t, replies)
	for _, want := range []string{"prompt:---(((DOORS)))---", " 1. Guess the Number", " 2. Star Trader", " Q. Back to the main menu."} {
		if !strings.Contains(menu, want) {
			t.Fatalf("the doors menu lacks %q:\n%s", want, menu)
		}
	}
	replies = b.say("1", "1")
	mustContain(t, replies, "G U E S S")
	mustContain(t, replies, "I'm thinking of a number from 1 to 100")

	// Nonsense costs no try; a wrong guess gets a hint.
	replies = b.say("1", "lots")
	mustContain(t, replies, "A whole number from 1 to 100, please")
	kimTries := guessToWin(t, b, "1", replies)
	replies = b.rec.take()
	hall := b.transcript.String()
	if !strings.Contains(hall, fmt.Sprintf("   1. kim                  %2d", kimTries)) ||
		!strings.Contains(hall, fmt.Sprintf("Your best: %d guesses.", kimTries)) ||
		!strings.Contains(hall, "Games played on this board: 1.") {
		t.Fatalf("kim's win in %d is not in the hall of fame:\n%s", kimTries, hall)
	}
	var best int
	doorValue(t, b.db, "guess", "kim", "best", &best)
	if best != kimTries {
		t.Errorf("saved best = %d; want %d", best, kimTries)
	}

	// Kim plays again and gives up: the best stays.
	b.play("1", "y", "q")
	doorValue(t, b.db, "guess", "kim", "best", &best)
	if best != kimTries {
		t.Errorf("after giving up the saved best = %d; want %d", best, kimTries)
	}
	replies = b.play("1", "n", "Q")
	if last(t, replies) != "prompt:back at the board" {
		t.Fatalf("Q did not leave the doors menu: %q", replies)
	}

	// Lee wins too; the hall of fame lists both, fewest guesses first.
	replies = b.play("2", "connect", "lee", "1")
	leeTries := guessToWin(t, b, "2", replies)
	top, err := b.db.DoorTop(context.Background(), "guess", "best", 10, store.LowestFirst)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"kim", "lee"}
	if leeTries < kimTries {
		want = []string{"lee", "kim"}
	}
	if len(top) != 2 || top[0].User != want[0] || top[1].User != want[1] {
		t.Errorf("top = %+v; want %v (kim %d guesses, lee %d)", top, want, kimTries, leeTries)
	}
	tail := b.transcript.String()
	tail = tail[strings.LastIndex(tail, "HALL OF FAME"):]
	if first := strings.Index(tail, " 1. "+want[0]); first < 0 || strings.Index(tail, " 2. "+want[1]) < first {
		t.Errorf("the hall of fame lee saw is not in order %v:\n%s", want, tail)
	}
	if !strings.Contains(tail, "Games played on this board: 3.") {
		t.Errorf("the shared game count is wrong:\n%s", tail)
	}
	b.play("2", "n", "q")
	if st := b.tbl.Stats(); st.Errored != 0 {
		t.Errorf("a session failed: %+v\n%s", st, b.logs)
	}
	checkTranscript(t, "doors_guess", b.transcript.String())
}

// shipView is the part of a Star Trader ship the test checks.
type shipView struct {
	Credits  int            `json:"credits"`
	Port     string         `json:"port"`
	Turns    int            `json:"turns"`
	Days     int            `json:"days"`
	Day      string         `json:"day"`
	Capacity int            `json:"capacity"`
	Hold     map[string]int `json:"hold"`
}

var (
	pricesLine = regexp.MustCompile(`Prices at (\w+): ore (\d+), food (\d+), tech (\d+)\.`)
	amountMax  = regexp.MustCompile(`\(0-(\d+)\)`)
)

func TestStarTraderOverTwoDays(t *testing.T) {
	// With this seed, pirates strike and a wreck is salvaged on day 1.
	b := newDoorBoard(t, "../../../scripts", 3)
	ctx := context.Background()

	// Day 1: kim's first visit.
	replies := b.play("1", "connect", "kim", "2")
	mustContain(t, replies, "STAR TRADER")
	mustContain(t, replies, "Day 1 of your career. Fuel for 5 jumps.")
	status := last(t, replies)
	mustContain(t, []string{status}, "Day 1 at Terra. Jumps left today: 5. Credits: 1000.")
	terraDay1 := pricesLine.FindString(status)
	if terraDay1 == "" {
		t.Fatalf("no prices in %q", status)
	}

	// Buy as much food as the hold takes.
	replies = b.play("1", "b", "food")
	m := amountMax.FindStringSubmatch(last(t, replies))
	if m == nil {
		t.Fatalf("no amount range in %q", replies)
	}
	replies = b.say("1", m[1])
	mustContain(t, replies, "Loaded "+m[1]+" food for ")
	var ship shipView
	doorValue(t, b.db, "trader", "kim", "ship", &ship)
	if ship.Hold["food"] == 0 || ship.Credits >= 1000 {
		t.Fatalf("after buying, ship = %+v", ship)
	}

	// Five jumps, then the tanks are dry.
	for i, to := range []string{"mars", "t", "2", "1", "mars"} {
		replies = b.play("1", "j", to)
		mustContain(t, replies, "You dock at ")
		mustContain(t, replies, fmt.Sprintf("Jumps left today: %d.", 4-i))
	}
	replies = b.say("1", "J")
	mustContain(t, replies, "Your tanks are dry.")
	doorValue(t, b.db, "trader", "kim", "ship", &ship)
	if day1 := b.transcript.String(); !strings.Contains(day1, "Pirates! They took") || !strings.Contains(day1, "A drifting wreck: you salvage") {
		t.Errorf("no pirates or wreck on day 1:\n%s", day1)
	}
	mustContain(t, replies, fmt.Sprintf("Hold %d/20: food %d\n", ship.Hold["food"], ship.Hold["food"]))
	if ship.Turns != 0 || ship.Days != 1 || ship.Day != "2026-03-01" || ship.Port != "Mars" {
		t.Fatalf("after day 1, ship = %+v", ship)
	}

	// Sell what is left at Mars; rankings show kim.
	if n := ship.Hold["food"]; n > 0 {
		mustContain(t, b.play("1", "s", "f", strconv.Itoa(n)), fmt.Sprintf("Sold %d food for ", n))
	}
	mustContain(t, b.say("1", "r"), "RICHEST TRADERS\n   1. kim")
	mustContain(t, b.say("1", "q"), "Docked at Mars.")
	replies = b.say("1", "q")
	if last(t, replies) != "prompt:back at the board" {
		t.Fatalf("did not leave the doors: %q", replies)
	}
	b.tbl.Disconnect("1")
	doorValue(t, b.db, "trader", "kim", "ship", &ship)
	kimCredits := ship.Credits

	// Lee starts the same day and sees the same market at Terra.
	replies = b.play("2", "connect", "lee", "2")
	if got := pricesLine.FindString(last(t, replies)); got != terraDay1 {
		t.Errorf("lee's market %q differs from kim's %q on the same day", got, terraDay1)
	}
	b.play("2", "j", "titan")
	replies = b.say("2", "r")
	if ranks := strings.Join(replies, "\n"); !strings.Contains(ranks, ". kim ") || !strings.Contains(ranks, ". lee ") || !strings.Contains(ranks, "Online now: lee") {
		t.Errorf("rankings lack a trader or who's online:\n%s", ranks)
	}

	// Day 2: kim has fuel again, and the ship is where it was left.
	b.clock.Advance(24 * time.Hour)
	replies = b.play("1", "connect", "kim", "2")
	mustContain(t, replies, "Day 2 of your career. Fuel for 5 jumps.")
	mustContain(t, replies, fmt.Sprintf("Day 2 at Mars. Jumps left today: 5. Credits: %d.", kimCredits))
	var market struct {
		Day string `json:"day"`
	}
	doorValue(t, b.db, "trader", "", "market", &market)
	if market.Day != "2026-03-02" {
		t.Errorf("the market is of %s; want a new one for 2026-03-02", market.Day)
	}
	replies = b.play("1", "j", "terra")
	mustContain(t, replies, "You dock at Terra.")
	mustContain(t, replies, "Jumps left today: 4.")
	mustContain(t, replies, "(Jump 7 in the galaxy.)")
	mustContain(t, b.say("1", "r"), "Online now: kim, lee")
	b.play("1", "q", "q")

	top, err := b.db.DoorTop(ctx, "trader", "worth", 10, store.HighestFirst)
	if err != nil || len(top) != 2 {
		t.Fatalf("rankings = %+v, %v", top, err)
	}
	if st := b.tbl.Stats(); st.Errored != 0 {
		t.Errorf("a session failed: %+v\n%s", st, b.logs)
	}
	checkTranscript(t, "doors_trader", b.transcript.String())
}

// TestDoorsMenuSurvivesBrokenDoors runs the shipped menu over a scripts
// folder with a door that fails while playing, one that does not compile
// and one that returns the wrong thing.
func TestDoorsMenuSurvivesBrokenDoors(t *testing.T) {
	files := map[string]string{
		"doors/boom.lua": `return { name = 'Boom', description = 'fails', run = function(conn, req, game)
			req = ui.ask(conn, req, 'pull the pin?')
			error('kaboom')
		end }`,
		"doors/broken.lua": `return { name = 'Broken', run = function(`,
		"doors/empty.lua":  `return 42`,
		"doors/whoami.lua": `local door = require 'door'
		return { name = 'Who am I', run = function(conn, req, game)
			return ui.ask(conn, req, 'you are ' .. game.user .. ' (' .. door.user() .. ') in ' .. game.name)
		end }`,
	}
	b := newDoorBoard(t, scriptsWith(t, files), 1)

	// Before login there are no doors to play.
	replies := b.play("1", "connect", "guest")
	mustContain(t, replies, "log in first")
	if last(t, replies) != "prompt:back at the board" {
		t.Fatalf("guest: %q", replies)
	}

	replies = b.play("2", "connect", "kim")
	menu := last(t, replies)
	if !strings.Contains(menu, " 1. Boom") || !strings.Contains(menu, " 2. Who am I") || strings.Contains(menu, "Broken") {
		t.Fatalf("menu should list the two doors that load:\n%s", menu)
	}
	for _, want := range []string{"door broken left out", "door empty left out: it must return a table"} {
		if !strings.Contains(b.logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, b.logs)
		}
	}
	mustContain(t, b.say("2", "9"), "No such door.")
	replies = b.play("2", "1", "yes")
	mustContain(t, replies, "That door jammed")
	if !strings.HasPrefix(last(t, replies), "prompt:---(((DOORS)))---") {
		t.Fatalf("after the crash the caller is not back at the menu: %q", replies)
	}
	if !strings.Contains(b.logs.String(), "door boom failed") || !strings.Contains(b.logs.String(), "kaboom") {
		t.Errorf("the crash is not logged:\n%s", b.logs)
	}
	mustContain(t, b.say("2", "2"), "prompt:you are kim (kim) in whoami")
	replies = b.play("2", "", "q")
	if last(t, replies) != "prompt:back at the board" {
		t.Fatalf("kim: %q\n%s\n%s", replies, b.transcript.String(), b.logs)
	}
	if st := b.tbl.Stats(); st.Errored != 0 {
		t.Errorf("a broken door ended a session: %+v", st)
	}
}

// scriptsWith makes a scripts folder of the shipped doors.lua and
// strict.lua and the given files.
func scriptsWith(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for _, shipped := range []string{"doors.lua", "strict.lua"} {
		src, err := os.ReadFile(filepath.Join("../../../scripts", shipped))
		if err != nil {
			t.Fatal(err)
		}
		files[shipped] = string(src)
	}
	for name, text := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestDoorsDocExamplePlays installs the example door of docs/doors.md
// and plays it.
func TestDoorsDocExamplePlays(t *testing.T) {
	doc, err := os.ReadFile("../../../docs/doors.md")
	if err != nil {
		t.Fatal(err)
	}
	example := regexp.MustCompile("(?s)```lua\n(-- scripts/doors/coins.lua.*?)```").FindSubmatch(doc)
	if example == nil {
		t.Fatal("no door example in docs/doors.md")
	}
	b := newDoorBoard(t, scriptsWith(t, map[string]string{"doors/coins.lua": string(example[1])}), 1)
	mustContain(t, b.play("1", "connect", "kim"), " 1. Coin Flip              How long a streak can you flip?")
	mustContain(t, b.say("1", "1"), "prompt:Streak 0. Heads or tails? (Q quits)")
	var streak int
	for range 20 {
		replies := b.say("1", "h")
		if strings.Contains(strings.Join(replies, "\n"), "Right!") {
			streak++
		} else {
			break
		}
	}
	replies := b.play("1", "q")
	mustContain(t, replies, fmt.Sprintf("screen:1. kim %d", streak))
	if last(t, replies) != "prompt:---(((DOORS)))---\nGames other callers play too. Your progress is saved between calls.\n 1. Coin Flip              How long a streak can you flip?\n Q. Back to the main menu." {
		t.Errorf("after the door: %q", replies)
	}
	var flips int
	doorValue(t, b.db, "coins", "", "flips", &flips)
	if flips != 1 {
		t.Errorf("flips = %d; want 1", flips)
	}
}
