package frontend

import (
	"fmt"
	"io"
)

// initialReadBuffer is the size a FrameReader's buffer starts at; it grows
// up to the frame limit.
const initialReadBuffer = 1024

// FrameReader reads frames from a caller's byte stream, however the stream
// is cut into reads. It buffers at most max bytes (one frame, plus the
// start of the next ones).
//
// A read error (a timeout, say) is returned as it is and leaves the reader
// usable: the next call resumes the frame in progress. A *FrameError is
// final.
type FrameReader struct {
	r          io.Reader
	max        int
	buf        []byte
	start, end int // buffered bytes are buf[start:end]
	sc         scanner
	err        error // a *FrameError, final
}

// NewFrameReader reads frames from r. A frame (or HTTP head) longer than
// max bytes is refused with ErrFrameTooLarge.
func NewFrameReader(r io.Reader, max int) *FrameReader {
	return &FrameReader{r: r, max: max}
}

// Next returns the next frame. The frame's Body is valid until the next
// call. For an HTTP frame, call ReadBody before Next to consume the
// request's body.
func (fr *FrameReader) Next() (Frame, error) {
	if fr.err != nil {
		return Frame{}, fr.err
	}
	for {
		if fr.end > fr.start {
			n, err := fr.sc.feed(fr.buf[fr.start:fr.end])
			if err != nil {
				fr.err = err
				return Frame{}, err
			}
			if n > 0 {
				f := fr.sc.frame(fr.buf[fr.start : fr.start+n])
				fr.start += n
				fr.sc = scanner{}
				return f, nil
			}
			if fr.end-fr.start >= fr.max {
				fr.err = &FrameError{Offset: fr.max, Reason: fmt.Sprintf("no end within %d bytes", fr.max), Kind: ErrFrameTooLarge}
				return Frame{}, fr.err
			}
		}
		if err := fr.fill(); err != nil {
			return Frame{}, err
		}
	}
}

// fill reads more bytes after the buffered ones, making room first.
func (fr *FrameReader) fill() error {
	if fr.start == fr.end {
		fr.start, fr.end = 0, 0
	}
	if fr.end == len(fr.buf) {
		if fr.start > 0 {
			fr.end = copy(fr.buf, fr.buf[fr.start:fr.end])
			fr.start = 0
		} else {
			size := max(initialReadBuffer, 2*len(fr.buf))
			grown := make([]byte, min(size, fr.max))
			fr.end = copy(grown, fr.buf[fr.start:fr.end])
			fr.start, fr.buf = 0, grown
		}
	}
	n, err := fr.r.Read(fr.buf[fr.end:])
	fr.end += n
	if n > 0 {
		return nil
	}
	if err == nil {
		err = io.ErrNoProgress
	}
	return err
}

// Buffered returns how many bytes are read but not yet returned in a frame.
func (fr *FrameReader) Buffered() int { return fr.end - fr.start }

// ReadBody returns the n bytes that follow the last frame: an HTTP
// request's body. The caller bounds n (Mongrel2: 20 KiB). On a read error
// the bytes read so far are lost and the reader should not be used again.
func (fr *FrameReader) ReadBody(n int) ([]byte, error) {
	body := make([]byte, n)
	got := copy(body, fr.buf[fr.start:fr.end])
	fr.start += got
	if got < n {
		if _, err := io.ReadFull(fr.r, body[got:]); err != nil {
			return nil, err
		}
	}
	return body, nil
}
