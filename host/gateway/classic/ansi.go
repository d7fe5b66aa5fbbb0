package classic

import "bytes"

// WithANSI adds "ansi": true to a request frame built by this package
// (AppendConnect, AppendRequest, AppendGatewayRequest, ...): the gateway
// renders for a terminal that shows ANSI, so the board sends its screens'
// ANSI art (screens/NAME.ans) to this caller. Gateways add it to every
// line, so that a session rebuilt from a journal that starts after the
// connect (a checkpoint) knows it too. A frame not ending in "}" and a NUL
// is returned as it is.
func WithANSI(frame []byte) []byte {
	if !bytes.HasSuffix(frame, []byte("}\x00")) {
		return frame
	}
	frame = frame[:len(frame)-2]
	return append(frame, `,"ansi":true}`+"\x00"...)
}
