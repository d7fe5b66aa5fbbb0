package loadgen

import (
	"github.com/m2bbs/m2bbs/host/message"
)

// Action is what a caller does after a message from the board.
type Action int

const (
	// Read: the message asked nothing; wait for the next one.
	Read Action = iota
	// Answer: the message was a prompt; send the line.
	Answer
	// Leave: the board said goodbye (an exit message); the visit is over
	// once the board hangs up.
	Leave
	// HangUp: the caller is done and hangs up without waiting.
	HangUp
	// Park: the caller stays connected and answers nothing more (an idle
	// caller sitting at a prompt).
	Park
)

// String names the action for error messages.
func (a Action) String() string {
	switch a {
	case Read:
		return "read"
	case Answer:
		return "answer"
	case Leave:
		return "leave"
	case HangUp:
		return "hang up"
	case Park:
		return "park"
	}
	return "unknown action"
}

// Script plays one caller's side of one visit. The driver connects and
// sends "connect" (as the classic client does), then hands every message
// from the board to Handle, in order. A Script is used by one goroutine.
type Script interface {
	// Handle is told the board's next message and says what the caller
	// does: with Answer, line is what they type. Every action but Read
	// ends a prompt round trip. An error ends the visit as failed.
	Handle(m message.Message) (act Action, line string, err error)
}

// ScriptFactory makes the script of each visit: caller is the caller's
// number (0 to N-1), visit counts that caller's visits from 0.
type ScriptFactory func(caller, visit int) Script

// Stepper is a Script that names the steps of its visit; Run then reports
// round-trip times per step too (Result.ByStep).
type Stepper interface {
	// Step names what the caller last sent.
	Step() string
}
