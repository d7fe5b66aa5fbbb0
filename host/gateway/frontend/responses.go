package frontend

import "strconv"

// What Mongrel2 1.12.2 itself writes to callers, captured byte for byte
// (src/response.c). Error responses are HTTP even for JSON-socket callers,
// and Mongrel2 closes the connection after each.

// serverToken is the Server header of Mongrel2's own responses. The
// built-in front end sends the same, so that callers cannot tell the two
// apart.
const serverToken = "Mongrel2/1.12.2"

func errorResponse(status, reason, body string) []byte {
	return []byte("HTTP/1.1 " + status + " " + reason + "\r\n" +
		"Content-Type: text/plain\r\n" +
		"Connection: close\r\n" +
		"Content-Length: " + strconv.Itoa(len(body)) + "\r\n" +
		"Server: " + serverToken + "\r\n\r\n" + body)
}

var (
	// respBadRequest answers a frame Mongrel2 cannot parse or that is too
	// large.
	respBadRequest = errorResponse("400", "Bad Request", "Bad Request")
	// respNotFound answers a frame or request for a path with no route.
	respNotFound = errorResponse("404", "Not Found", "Not Found")
	// respTooLarge answers an HTTP body above the limit, or a chunked one.
	respTooLarge = errorResponse("413", "Request Entity Too Large", "Entity Too Large")
	// respExpectationFailed answers an Expect header other than
	// "100-continue".
	respExpectationFailed = errorResponse("417", "Expectation Failed", "Expectation Failed")
	// respContinue is sent before reading a body announced with
	// "Expect: 100-continue".
	respContinue = []byte("HTTP/1.1 100 Continue\r\n\r\n")
	// respPolicy answers Flash's "<policy-file-request/>\x00" (with the
	// NUL); the connection is closed after it.
	respPolicy = []byte(`<?xml version="1.0"?><!DOCTYPE cross-domain-policy SYSTEM "http://www.macromedia.com/xml/dtds/cross-domain-policy.dtd"><cross-domain-policy> <allow-access-from domain="*" to-ports="*" /></cross-domain-policy>` + "\x00")
)
