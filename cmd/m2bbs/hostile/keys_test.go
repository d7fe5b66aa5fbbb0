package hostile

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/m2bbs/m2bbs/host/message"
	"github.com/m2bbs/m2bbs/host/shared/keystroke"
	"github.com/m2bbs/m2bbs/host/shared/termprofile"
)

// TestHostileKeystrokeFlood: a caller who says their terminal can do
// keystroke mode, straight on the classic port (no gateway to pace
// them), opens the full-screen editor and floods it with keys requests,
// oversized ones among them. The host resumes the editor for at most
// its keys burst and rate of them (each answered with the editor's
// screen changes) and drops the rest unanswered, until it cuts the
// attacker off as a flooder (or the front end does, as a slow reader of
// the answers); the bystander's menu stays quick throughout.
func TestHostileKeystrokeFlood(t *testing.T) {
	b := startBoard(t, boardOptions{})
	by := b.bystander(t, "ann")
	a := b.call(t, attackerIP)
	a.c.Terminal = func() termprofile.Profile { return termprofile.Profile{Width: 80, Height: 24, Keys: true} }
	if out := a.answer(t, "mallory", bystanderPassword, bystanderPassword, "y"); !strings.Contains(out, "MAIN MENU") {
		t.Fatalf("the attacker did not reach the main menu:\n%s", a.seen.String())
	}
	if err := a.c.Send("1"); err != nil {
		t.Fatal(err)
	}
	m, err := a.c.Next(readTimeout)
	if err != nil || m.Type != message.TypeKeys || !strings.Contains(m.Msg, "^Z Save") {
		t.Fatalf("the editor did not open: %v %s %q", err, m.Type, m.Msg)
	}

	// Count the editor's answers while the flood goes out.
	var (
		mu      sync.Mutex
		answers int
		other   []string
	)
	reading := make(chan struct{})
	go func() {
		defer close(reading)
		for {
			m, err := a.c.Next(2 * time.Second)
			if err != nil {
				return
			}
			mu.Lock()
			if m.Type == message.TypeKeys {
				answers++
			} else {
				other = append(other, m.Type+": "+m.Msg)
			}
			mu.Unlock()
		}
	}()
	const flood = 5000
	var (
		took time.Duration
		sent int
	)
	assertResponsive(t, by, func() {
		began := time.Now()
		big := strings.Repeat("y", keystroke.MaxRequestBytes+1)
		for i := range flood {
			keys := "x"
			if i%100 == 0 {
				keys = big
			}
			if a.c.SendKeys(keys) != nil {
				break // cut off
			}
			sent++
		}
		took = time.Since(began)
	})
	<-reading // 2 s without an answer, or cut off
	most := keystroke.HostKeysBurst + int((took+time.Second).Seconds()*keystroke.HostKeysPerSecond)
	if answers > most {
		t.Errorf("the host answered %d of %d keys requests sent in %v; want at most %d", answers, sent, took, most)
	}
	// Nothing but the editor's output, and the flood's goodbye: no
	// refusal ended keystroke mode.
	for _, o := range other {
		if !strings.HasPrefix(o, "exit: Whoa, too many lines too fast.") {
			t.Errorf("the attacker got other messages than keys and the flood's goodbye: %q", other)
			break
		}
	}
	t.Logf("%d keys requests sent in %v, %d answered, then %q", sent, took, answers, other)
}
