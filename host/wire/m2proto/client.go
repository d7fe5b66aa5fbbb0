package m2proto

import "encoding/base64"

// AppendClientFrame appends one message for a JSON-socket caller to dst:
// base64.StdEncoding(json) followed by "\x00", which is what the classic
// client expects when the Handler runs with raw_payload=1; or, when raw is
// true, json itself followed by "\x00", for clients that don't want base64.
// The result is the BODY of a reply (see AppendReply).
func AppendClientFrame(dst, json []byte, raw bool) []byte {
	if raw {
		dst = append(dst, json...)
	} else {
		dst = base64.StdEncoding.AppendEncode(dst, json)
	}
	return append(dst, 0)
}
