package m2proto

import (
	"bytes"
	"errors"
	"testing"
)

func FuzzParseWebSocketFlags(f *testing.F) {
	for _, seed := range []string{"0x81", "0x82", "0x88", "0x89", "0x8a", "0x1", "0X0", "", "0x", "0x181"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		flags, err := ParseWebSocketFlags(s)
		if err != nil {
			var pe *ProtocolError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is %T, want *ProtocolError", err, err)
			}
			return
		}
		// Mongrel2's spelling of the same byte parses to the same flags.
		again, err := ParseWebSocketFlags("0x" + string("0123456789abcdef"[flags>>4]) + string("0123456789abcdef"[flags&0xF]))
		if err != nil || again != flags {
			t.Fatalf("%q -> %#x, re-spelt -> %#x %v", s, byte(flags), byte(again), err)
		}
	})
}

func FuzzParseWebSocketClose(f *testing.F) {
	for _, seed := range []string{"", "\x03\xe8bye", "\x03\xe8", "\x03", "\x03\xed", "\x03\xe8\xff"} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		code, reason, err := ParseWebSocketClose(payload)
		if err != nil {
			var pe *ProtocolError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is %T, want *ProtocolError", err, err)
			}
			return
		}
		if code == CloseNoStatus {
			return
		}
		frame := AppendWebSocketClose(nil, code, reason)
		fr, _, err := ParseWebSocketFrame(frame)
		if err != nil || !bytes.Equal(fr.Payload, payload) {
			t.Fatalf("close %d %q re-encoded to %q (%v), want payload %q", code, reason, frame, err, payload)
		}
	})
}

// FuzzParseWebSocketFrame reads a stream of frames delivered in two reads
// split at an arbitrary point, as TCP may deliver it: the frames read
// must not depend on where the split fell.
func FuzzParseWebSocketFrame(f *testing.F) {
	for _, seed := range []string{
		capturedWorld + capturedPong + capturedClose,
		"\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58",
		"\x81\x7e\x00\x7e" + string(bytes.Repeat([]byte{'x'}, 126)),
		"\x81\x7e\x00\x05hello",
		"\x09\x00",
	} {
		f.Add([]byte(seed), uint(3))
	}
	f.Fuzz(func(t *testing.T, stream []byte, split uint) {
		whole, wholeErr := readFrames(stream, len(stream))
		cut := 0
		if len(stream) > 0 {
			cut = int(split % uint(len(stream)+1))
		}
		parts, partsErr := readFrames(stream, cut)
		if (wholeErr == nil) != (partsErr == nil) || len(whole) != len(parts) {
			t.Fatalf("split at %d: %d frames (%v), whole: %d frames (%v)", cut, len(parts), partsErr, len(whole), wholeErr)
		}
		for i := range whole {
			if whole[i].Flags != parts[i].Flags || !bytes.Equal(whole[i].Payload, parts[i].Payload) {
				t.Fatalf("frame %d differs when split at %d", i, cut)
			}
			re := AppendWebSocketFrame(nil, whole[i].Flags.Opcode(), whole[i].Payload)
			back, n, err := ParseWebSocketFrame(re)
			if err != nil || n != len(re) || !bytes.Equal(back.Payload, whole[i].Payload) {
				t.Fatalf("frame %d does not survive re-encoding: %v", i, err)
			}
		}
	})
}

// readFrames parses stream as it arrives in two reads, stream[:cut] then
// the rest, and returns the frames read until the end or the first error
// (ErrShortFrame at the end is not an error).
func readFrames(stream []byte, cut int) ([]WebSocketFrame, error) {
	var frames []WebSocketFrame
	var buf []byte
	for _, chunk := range [][]byte{stream[:cut], stream[cut:]} {
		buf = append(buf, chunk...)
		for {
			fr, n, err := ParseWebSocketFrame(buf)
			if errors.Is(err, ErrShortFrame) {
				break
			}
			if err != nil {
				var pe *ProtocolError
				if !errors.As(err, &pe) {
					return frames, errors.New("error is not a *ProtocolError")
				}
				return frames, err
			}
			if n <= 0 || n > len(buf) {
				return frames, errors.New("bad length consumed")
			}
			frames = append(frames, fr)
			buf = buf[n:]
		}
	}
	return frames, nil
}
