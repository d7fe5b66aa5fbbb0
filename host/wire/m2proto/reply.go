package m2proto

import (
	"bytes"
	"strconv"
)

// MaxReplyTargets is how many connection ids Mongrel2 accepts in one reply.
// Mongrel2 reads it from the setting limits.handler_targets, default 128
// (src/handler.c, Handler_task: Setting_get_int("limits.handler_targets",
// 128)); a reply with more ids is refused whole ("Request contains too many
// target listeners", src/handler_parser.rl). Use SplitTargets to stay under
// it.
const MaxReplyTargets = 128

// AppendReply appends a reply for Mongrel2 to dst:
//
//	SENDER LEN:ID ID ID, BODY
//
// sender must hold only letters, digits and '-' (Mongrel2's parser accepts
// nothing else), connIDs must be 1 to MaxReplyTargets decimal ids, and an
// empty body tells Mongrel2 to close those connections.
func AppendReply(dst []byte, sender string, connIDs []string, body []byte) []byte {
	dst = append(dst, sender...)
	dst = append(dst, ' ')
	n := 0
	for i, id := range connIDs {
		if i > 0 {
			n++
		}
		n += len(id)
	}
	dst = strconv.AppendInt(dst, int64(n), 10)
	dst = append(dst, ':')
	for i, id := range connIDs {
		if i > 0 {
			dst = append(dst, ' ')
		}
		dst = append(dst, id...)
	}
	dst = append(dst, ',', ' ')
	return append(dst, body...)
}

// SplitTargets cuts connIDs into consecutive groups of at most
// MaxReplyTargets ids, one group per reply. The groups share connIDs'
// backing array.
func SplitTargets(connIDs []string) [][]string {
	var groups [][]string
	for len(connIDs) > MaxReplyTargets {
		groups = append(groups, connIDs[:MaxReplyTargets:MaxReplyTargets])
		connIDs = connIDs[MaxReplyTargets:]
	}
	if len(connIDs) > 0 {
		groups = append(groups, connIDs)
	}
	return groups
}

// ParseReply decodes a reply the way Mongrel2 does (src/handler_parser.rl):
// a sender of letters, digits and '-', one space, a netstring of 1 to
// MaxReplyTargets decimal ids each followed by at most one space, one space,
// then the body (the rest of the message, possibly empty). Mongrel2's
// extended replies (ids list starting "X ") are refused. The message may be
// at most MaxMessageBytes long. body is a sub-slice of msg. Errors are
// *ProtocolError with Op "reply".
func ParseReply(msg []byte) (sender string, connIDs []string, body []byte, err error) {
	const op = "reply"
	if len(msg) > MaxMessageBytes {
		return "", nil, nil, tooLarge(op, MaxMessageBytes, "message of %d bytes exceeds %d", len(msg), MaxMessageBytes)
	}
	i := 0
	for i < len(msg) && isSenderByte(msg[i]) {
		i++
	}
	switch {
	case i == len(msg):
		return "", nil, nil, malformed(op, i, "truncated: missing space after sender")
	case msg[i] != ' ':
		return "", nil, nil, malformed(op, i, "sender may hold only letters, digits and '-', got %q", msg[i])
	case i == 0:
		return "", nil, nil, malformed(op, 0, "empty sender")
	}
	sender = string(msg[:i])

	ids, err := splitTNet(op, msg, i+1)
	if err != nil {
		return "", nil, nil, err
	}
	if ids.tag != ',' {
		return "", nil, nil, malformed(op, ids.end, "want ',' after the conn ids, got %q", ids.tag)
	}
	if connIDs, err = parseTargets(msg, ids.start, ids.end); err != nil {
		return "", nil, nil, err
	}
	if ids.next() == len(msg) {
		return "", nil, nil, malformed(op, ids.next(), "truncated: missing space before body")
	}
	if msg[ids.next()] != ' ' {
		return "", nil, nil, malformed(op, ids.next(), "want ' ' before body, got %q", msg[ids.next()])
	}
	start := ids.next() + 1
	return sender, connIDs, msg[start:len(msg):len(msg)], nil
}

// parseTargets splits msg[start:end] into ids: digit runs each followed by
// at most one space.
func parseTargets(msg []byte, start, end int) ([]string, error) {
	const op = "reply"
	list := msg[start:end]
	if bytes.HasPrefix(list, []byte("X ")) {
		return nil, malformed(op, start, "extended (X) replies are not supported")
	}
	var ids []string
	for i := 0; i < len(list); {
		j := i
		for j < len(list) && list[j] >= '0' && list[j] <= '9' {
			j++
		}
		if j == i {
			return nil, malformed(op, start+i, "want a decimal conn id, got %q", list[i])
		}
		if len(ids) == MaxReplyTargets {
			return nil, tooLarge(op, start+i, "more than %d conn ids", MaxReplyTargets)
		}
		ids = append(ids, string(list[i:j]))
		if j < len(list) && list[j] == ' ' {
			j++
		}
		i = j
	}
	if len(ids) == 0 {
		return nil, malformed(op, start, "no conn ids")
	}
	return ids, nil
}

func isSenderByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-'
}
