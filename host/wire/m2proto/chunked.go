package m2proto

import "strconv"

// A streamed HTTP answer (the host's watch stream) goes to its caller as
// several replies: AppendChunkedHead's first, then one AppendChunk per
// piece, then AppendLastChunk, then an empty reply, which closes the
// connection. Mongrel2 and the built-in front end write each reply's body
// to the caller as it is.

// AppendChunkedHead appends the head of a 200 response whose body follows
// in chunks (Transfer-Encoding: chunked), with Content-Type contentType
// (CR and LF removed) and Cache-Control: no-store.
func AppendChunkedHead(dst []byte, contentType string) []byte {
	dst = append(dst, "HTTP/1.1 200 OK\r\nContent-Type: "...)
	for i := 0; i < len(contentType); i++ {
		if c := contentType[i]; c != '\r' && c != '\n' {
			dst = append(dst, c)
		}
	}
	return append(dst, "\r\nTransfer-Encoding: chunked\r\nCache-Control: no-store\r\n\r\n"...)
}

// AppendChunk appends data as one chunk: its length in hex, CRLF, data,
// CRLF. An empty data appends nothing (an empty chunk would end the body).
func AppendChunk(dst, data []byte) []byte {
	if len(data) == 0 {
		return dst
	}
	dst = strconv.AppendInt(dst, int64(len(data)), 16)
	dst = append(dst, "\r\n"...)
	dst = append(dst, data...)
	return append(dst, "\r\n"...)
}

// AppendLastChunk appends the chunk that ends a chunked body.
func AppendLastChunk(dst []byte) []byte { return append(dst, "0\r\n\r\n"...) }
