package m2proto

import (
	"net/http"
	"strconv"
)

// AppendHTTPResponse appends a complete HTTP/1.1 response to dst, the BODY a
// handler replies with for an HTTP request:
//
//	HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello
//
// The reason phrase is Go's http.StatusText(status) (empty for unknown
// codes). The Content-Type line is left out when contentType is empty; CR
// and LF are removed from it so it cannot inject headers.
func AppendHTTPResponse(dst []byte, status int, contentType string, body []byte) []byte {
	dst = append(dst, "HTTP/1.1 "...)
	dst = strconv.AppendInt(dst, int64(status), 10)
	dst = append(dst, ' ')
	dst = append(dst, http.StatusText(status)...)
	dst = append(dst, "\r\n"...)
	if contentType != "" {
		dst = append(dst, "Content-Type: "...)
		for i := 0; i < len(contentType); i++ {
			if c := contentType[i]; c != '\r' && c != '\n' {
				dst = append(dst, c)
			}
		}
		dst = append(dst, "\r\n"...)
	}
	dst = append(dst, "Content-Length: "...)
	dst = strconv.AppendInt(dst, int64(len(body)), 10)
	dst = append(dst, "\r\n\r\n"...)
	return append(dst, body...)
}
