package luaapi

import (
	"github.com/m2bbs/m2bbs/host/message"
	"github.com/m2bbs/m2bbs/host/shared/binstream"
)

// Binary stream mode (docs/clients.md#binary-stream-mode): a message of
// type "bin" carries raw bytes (base64) that the caller's gateway writes
// as they are, and puts it in binary stream mode, in which what the
// caller sends comes back as requests of type "bin". A file transfer
// (transfer.send, transfer.receive) runs in it. Any other message ends
// the mode at the gateway, so while it is on, screens the caller's own
// script sends are dropped (a time warning would break the transfer);
// the transfer's end (EndBinary) lets them through again.

// SendBinary sends p to the caller as one binary message (the host's
// transfers send pieces of at most termbridge.MaxPiece bytes), putting
// their gateway in binary stream mode. label is what the status
// page shows.
func (c *Conn) SendBinary(p []byte, label string) error {
	return c.Send(c.Sender, c.ID, message.Binary(binstream.Encode(p)), label)
}

// BinaryMode reports whether a binary message was sent to the caller
// since the last prompt, exit or keys message, and EndBinary was not
// called since.
func (c *Conn) BinaryMode() bool { return c.binMode }

// EndBinary says binary stream mode is over on the host's side (the
// transfer ended): screens are sent again, and the first one ends the
// mode at the caller's gateway.
func (c *Conn) EndBinary() { c.binMode = false }
