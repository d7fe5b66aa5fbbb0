// Package classic is the caller side of the classic m2bbs client: the
// JSON-socket protocol the 2010 BBS client spoke to Mongrel2 over plain TCP.
//
// A caller sends requests `@ROUTE {"type":"msg","msg":"..."}` each ended
// by a NUL byte (AppendRequest). The BBS answers with frames ended by a
// NUL byte, each the base64 of a JSON object (or the bare JSON with raw
// frames): {"type":"screen"|"prompt"|"exit","msg":"...","pchar":"> "}.
// FrameReader parses that stream into message.Message values (read with
// message.Decode, so Extra stays empty); Client dials, sends and reads;
// Client.Converse plays a caller whose answers come from a function (a
// terminal, a script), and Client.Run a scripted caller for tests.
package classic

import (
	"bufio"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/m2bbs/m2bbs/host/message"
)

// MaxFrameBytes is the largest frame FrameReader accepts, NUL excluded and
// before base64 decoding. A longer frame fails with ErrFrameTooLarge.
const MaxFrameBytes = 1 << 20

// Errors FrameReader returns, for errors.Is. ErrBadBase64 and ErrBadJSON
// concern one frame: the next call to Next reads the next frame.
// ErrFrameTooLarge, io.EOF and io.ErrUnexpectedEOF end the stream.
var (
	ErrFrameTooLarge = errors.New("frame larger than MaxFrameBytes")
	ErrBadBase64     = errors.New("frame is not base64")
	ErrBadJSON       = errors.New("frame is not a JSON message")
)

// FrameReader reads NUL-terminated frames and decodes them into Messages.
type FrameReader struct {
	r     *bufio.Reader
	raw   bool
	limit int
	frame []byte // bytes of the frame being read, kept across read errors
	dec   []byte // base64 decoding buffer
	err   error  // sticky: the stream is over
}

// NewFrameReader reads frames from r: base64 of JSON, or bare JSON if raw.
func NewFrameReader(r io.Reader, raw bool) *FrameReader {
	return &FrameReader{r: bufio.NewReader(r), raw: raw, limit: MaxFrameBytes}
}

// Next returns the next message. At a clean end of stream it returns
// io.EOF; if the stream ends inside a frame, io.ErrUnexpectedEOF. Any other
// read error (a deadline, say) is returned as is and the partial frame is
// kept, so a later call picks up where this one stopped.
func (fr *FrameReader) Next() (message.Message, error) {
	if fr.err != nil {
		return message.Message{}, fr.err
	}
	for {
		chunk, err := fr.r.ReadSlice(0)
		body := len(fr.frame) + len(chunk)
		if err == nil {
			body-- // the NUL
		}
		if body > fr.limit {
			fr.frame = nil
			fr.err = fmt.Errorf("classic: %w (%d bytes)", ErrFrameTooLarge, fr.limit)
			return message.Message{}, fr.err
		}
		fr.frame = append(fr.frame, chunk...)
		switch {
		case err == nil:
			frame := fr.frame[:len(fr.frame)-1]
			fr.frame = fr.frame[:0]
			return fr.decode(frame)
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF) && len(fr.frame) == 0:
			fr.err = io.EOF
		case errors.Is(err, io.EOF):
			fr.err = fmt.Errorf("classic: stream ended inside a %d-byte frame: %w", len(fr.frame), io.ErrUnexpectedEOF)
		default:
			return message.Message{}, fmt.Errorf("classic: read: %w", err)
		}
		return message.Message{}, fr.err
	}
}

// decode turns one frame (NUL removed) into a Message.
func (fr *FrameReader) decode(frame []byte) (message.Message, error) {
	data := frame
	if !fr.raw {
		fr.dec = fr.dec[:0]
		var err error
		if fr.dec, err = base64.StdEncoding.AppendDecode(fr.dec, frame); err != nil {
			return message.Message{}, fmt.Errorf("classic: %w: %v: %q", ErrBadBase64, err, quote(frame))
		}
		data = fr.dec
	}
	m, err := message.Decode(data)
	if err != nil {
		return message.Message{}, fmt.Errorf("classic: %w: %v: %q", ErrBadJSON, err, quote(data))
	}
	return m, nil
}

// quote shortens a frame for an error message.
func quote(b []byte) []byte {
	const max = 64
	if len(b) > max {
		return append(b[:max:max], "..."...)
	}
	return b
}

// AppendRequest appends a caller's request, `ROUTE {"type":"msg","msg":MSG}`
// and a NUL, to dst. MSG is escaped as a JSON string, so a NUL or invalid
// UTF-8 in msg can never end the frame early (invalid bytes become
// U+FFFD). route must be a valid route such as "@bbs"; Dial checks it.
func AppendRequest(dst []byte, route string, msg string) []byte {
	dst = append(dst, route...)
	dst = append(dst, ` {"type":"msg","msg":`...)
	dst = appendJSONString(dst, msg)
	return append(dst, '}', 0)
}

// AppendConnect appends the first message of a call, "connect"; with
// colour false it also tells the BBS that this client shows no colour
// ("color": false), so colour codes are left out of what it sends.
func AppendConnect(dst []byte, route string, colour bool) []byte {
	if colour {
		return AppendRequest(dst, route, "connect")
	}
	dst = append(dst, route...)
	return append(dst, ` {"type":"msg","msg":"connect","color":false}`+"\x00"...)
}

// appendJSONString appends s as a JSON string literal.
func appendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				dst = append(dst, `\ufffd`...)
			} else {
				dst = append(dst, s[i:i+size]...)
			}
			i += size
			continue
		}
		switch {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c == '\n':
			dst = append(dst, `\n`...)
		case c == '\r':
			dst = append(dst, `\r`...)
		case c == '\t':
			dst = append(dst, `\t`...)
		case c < 0x20:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			dst = append(dst, c)
		}
		i++
	}
	return append(dst, '"')
}

// AppendGatewayConnect appends a gateway's "connect" for a caller at
// address peer (AppendGatewayRequest).
func AppendGatewayConnect(dst []byte, route, peer, key string) []byte {
	return AppendGatewayRequest(dst, route, "connect", peer, key)
}

// AppendGatewayRequest appends a gateway's request for a caller at
// address peer: besides the line, it carries the address and the key the
// board gave its gateways ("peer", "peer_key"), so a host behind Mongrel2
// counts the caller's address, not the gateway's (see host/handler/session,
// peer.go). A gateway sends them with every line, not only "connect": a
// host that restarted mid-call checks each line's address against the
// one the call's journal began with.
func AppendGatewayRequest(dst []byte, route, msg, peer, key string) []byte {
	dst = append(dst, route...)
	dst = append(dst, ` {"type":"msg","msg":`...)
	dst = appendJSONString(dst, msg)
	dst = append(dst, `,"peer":`...)
	dst = appendJSONString(dst, peer)
	dst = append(dst, `,"peer_key":`...)
	dst = appendJSONString(dst, key)
	return append(dst, '}', 0)
}
