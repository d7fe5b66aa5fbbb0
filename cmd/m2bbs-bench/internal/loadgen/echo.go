package loadgen

import (
	"fmt"

	"github.com/m2bbs/m2bbs/host/message"
)

// EchoScript is a visit to an echo handler, which answers every line with a
// prompt repeating it: the transport floor. It makes RoundTrips round
// trips ("connect" and then numbered lines), checks each echo, and hangs
// up.
type EchoScript struct {
	RoundTrips int
	sent       string
	done       int
}

// NewEchoScript returns a visit of n round trips (at least one).
func NewEchoScript(n int) *EchoScript {
	return &EchoScript{RoundTrips: max(n, 1), sent: "connect"}
}

// Handle implements Script.
func (e *EchoScript) Handle(m message.Message) (Action, string, error) {
	if m.Type != message.TypePrompt {
		return Read, "", fmt.Errorf("echo: got a %s message, want a prompt", m.Type)
	}
	if m.Msg != e.sent {
		return Read, "", fmt.Errorf("echo: got %q, want the echo of %q", m.Msg, e.sent)
	}
	e.done++
	if e.done >= e.RoundTrips {
		return HangUp, "", nil
	}
	e.sent = fmt.Sprintf("line %d of the visit", e.done)
	return Answer, e.sent, nil
}
