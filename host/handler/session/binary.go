package session

import (
	lua "github.com/yuin/gopher-lua"

	"github.com/m2bbs/m2bbs/host/message"
	"github.com/m2bbs/m2bbs/host/shared/binstream"
	"github.com/m2bbs/m2bbs/host/wire/m2proto"
)

// Binary streams on the host's side (docs/clients.md#binary-stream-mode):
// a stream call with binary set (a file transfer, transfer.go) joins the
// caller in binary stream mode. A request of type "bin" is taken only
// from a caller in such a stream, at most binstream.MaxRequestBytes of
// bytes and binstream.HostRequestsPerSecond requests a second (burst
// binstream.HostBurst); anything else is dropped and counted with the
// dropped keys (Stats.KeysDropped), and binstream.FloodCutOff requests
// past the rate, before the caller pauses long enough to earn a whole
// burst back, end the call as a flood. Binary pieces are not
// journaled: the stream's result is.

// transferNeedsTerminal is what a caller whose gateway cannot do binary
// stream mode is told (the classic client, the browser page).
const transferNeedsTerminal = "File transfers need telnet or SSH with a terminal: the browser page offers downloads instead."

// isBinary reports whether msg is a binary stream mode request.
func isBinary(msg *lua.LTable) bool {
	return msg.RawGetString("type") == lua.LString(message.TypeBinary)
}

// binaryInput hands the bytes of req, a bin request, to its caller's
// binary stream, within the limits above.
func (t *Table) binaryInput(req *m2proto.Request, msg *lua.LTable) {
	s := t.sessions[req.ConnID]
	if s != nil && !t.admitBinary(s) {
		return
	}
	if s == nil || s.stream == nil || !s.stream.call.binary {
		t.dropKeys(req.ConnID, "binary piece while no transfer runs")
		return
	}
	text, _ := msg.RawGetString("msg").(lua.LString)
	p, err := binstream.Decode(string(text), binstream.MaxRequestBytes)
	if err != nil {
		t.dropKeys(req.ConnID, "bad binary piece: "+err.Error())
		return
	}
	s.lastInput = t.now()
	if s.stream.call.cancelOnCAN && cancelled(s.stream, p) {
		s.log.Info("the caller cancelled the transfer (Ctrl-X five times)")
		s.stream.bridge.Close() // kills the program's process group
		return
	}
	if !s.stream.bridge.Keys(string(p)) {
		t.noisy.Warn("binary piece for a transfer dropped: the program does not read fast enough", "conn_id", s.connID)
	}
}

// admitBinary charges a binary piece from s's caller, in a transfer or
// not, to their binary rate; past it the piece is dropped, and
// binstream.FloodCutOff of those before a pause (tokenBucket.refused)
// end the call.
func (t *Table) admitBinary(s *Session) bool {
	if !s.binRate.take(t.now(), binstream.HostRequestsPerSecond, binstream.HostBurst) {
		t.counts.keysDropped.Add(1)
		if s.binRate.refused == 1 {
			s.log.Warn("binary pieces too fast: dropped", "max_per_second", binstream.HostRequestsPerSecond)
		}
		if s.binRate.refused > binstream.FloodCutOff {
			s.log.Warn("caller flooded the board with binary pieces: disconnecting", "refused", s.binRate.refused)
			t.end(s, t.cfg.FloodScreen, fallbackFloodText)
		}
		return false
	}
	return true
}

// CancelCANs is how many Ctrl-X (CAN, 0x18) in a row cancel a ZMODEM
// transfer, as the protocol says. ZMODEM escapes CAN in data (it is its
// ZDLE), so a file never holds two in a row on the wire; XMODEM and
// YMODEM do not, so only a ZMODEM transfer is cancelled by the host.
const CancelCANs = 5

// cancelled counts the CANs in a row at the end of the caller's pieces
// and reports whether CancelCANs came in a row.
func cancelled(j *joined, p []byte) bool {
	for _, b := range p {
		if b != 0x18 {
			j.cans = 0
			continue
		}
		if j.cans++; j.cans >= CancelCANs {
			return true
		}
	}
	return false
}

// endBinary ends binary stream mode for s's caller, at their gateway
// (which then shows what it held) and for their script's screens.
func (t *Table) endBinary(s *Session) {
	s.conn.EndBinary()
	if err := s.conn.Send(s.conn.Sender, s.conn.ID, message.Message{Type: message.TypeBinaryEnd}, ""); err != nil {
		s.log.Warn("end binary stream mode", "err", err)
	}
}

// sendStream sends the caller a piece of j's output (or, with "", just
// the mode): a binary message for a transfer, else a keys message.
func (t *Table) sendStream(s *Session, j *joined, out string) error {
	if !j.call.binary {
		return s.conn.SendKeys(out, streamLabel(j.call))
	}
	return s.conn.SendBinary([]byte(out), transferLabel(j))
}
