package m2proto

import (
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// This file holds the two header encodings: a JSON object carried in a
// tnetstring string (Mongrel2's default), and a tnetstring dict
// (protocol='tnetstring').
//
// Mongrel2 writes the JSON itself (src/request.c, Request_to_payload): keys
// as they are, values escaped by putting a backslash before '\' and '"' and
// nothing else, so control bytes and invalid UTF-8 go through raw. The parser
// here is therefore lenient in the same way: raw bytes below 0x20 and
// invalid UTF-8 inside JSON strings are accepted and kept. A header repeated
// by the caller arrives as a JSON array (or tnetstring list) of strings.

// parseJSONHeaders decodes the JSON object in b[start:end] into headers in
// wire order. String values are decoded; any other value (a number, true,
// false, null, an array or an object) is kept as its JSON text.
func parseJSONHeaders(b []byte, start, end int) ([]Header, error) {
	p := jsonParser{b: b[:end]}
	i := p.skipSpace(start)
	if i == end || b[i] != '{' {
		return nil, malformed("request", i, "headers are not a JSON object")
	}
	i = p.skipSpace(i + 1)
	var headers []Header
	if i < end && b[i] == '}' {
		return p.finish(headers, i+1)
	}
	for {
		if i == end || b[i] != '"' {
			return nil, p.want(i, "'\"' to start a header name")
		}
		name, next, err := p.parseString(i)
		if err != nil {
			return nil, err
		}
		i = p.skipSpace(next)
		if i == end || b[i] != ':' {
			return nil, p.want(i, "':' after a header name")
		}
		i = p.skipSpace(i + 1)
		var value string
		if i < end && b[i] == '"' {
			value, next, err = p.parseString(i)
		} else {
			next, err = p.skipValue(i, 0)
			if err == nil {
				value = string(b[i:next])
			}
		}
		if err != nil {
			return nil, err
		}
		if len(headers) == MaxHeaders {
			return nil, tooLarge("request", i, "more than %d headers", MaxHeaders)
		}
		headers = append(headers, Header{Name: name, Value: value})
		i = p.skipSpace(next)
		if i < end && b[i] == '}' {
			return p.finish(headers, i+1)
		}
		if i == end || b[i] != ',' {
			return nil, p.want(i, "',' or '}' after a header value")
		}
		i = p.skipSpace(i + 1)
	}
}

type jsonParser struct {
	b []byte // ends where the JSON text ends
}

func (p *jsonParser) finish(headers []Header, i int) ([]Header, error) {
	i = p.skipSpace(i)
	if i != len(p.b) {
		return nil, malformed("request", i, "trailing data after the headers object")
	}
	if headers == nil {
		headers = []Header{}
	}
	return headers, nil
}

func (p *jsonParser) want(i int, what string) error {
	if i == len(p.b) {
		return malformed("request", i, "headers JSON ends early: want %s", what)
	}
	return malformed("request", i, "bad headers JSON: want %s, got %q", what, p.b[i])
}

func (p *jsonParser) skipSpace(i int) int {
	for i < len(p.b) {
		switch p.b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// parseString decodes the JSON string whose opening quote is at b[i] and
// returns it with the offset after its closing quote.
func (p *jsonParser) parseString(i int) (string, int, error) {
	b := p.b
	start := i + 1
	j := start
	for j < len(b) && b[j] != '"' && b[j] != '\\' {
		j++
	}
	if j < len(b) && b[j] == '"' {
		return string(b[start:j]), j + 1, nil
	}
	out := make([]byte, 0, j-start+16)
	out = append(out, b[start:j]...)
	for j < len(b) {
		c := b[j]
		switch c {
		case '"':
			return string(out), j + 1, nil
		case '\\':
			if j+1 == len(b) {
				return "", 0, malformed("request", j, "headers JSON ends inside an escape")
			}
			esc := b[j+1]
			j += 2
			switch esc {
			case '"', '\\', '/':
				out = append(out, esc)
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				r, next, err := p.parseUnicodeEscape(j - 2)
				if err != nil {
					return "", 0, err
				}
				out = utf8.AppendRune(out, r)
				j = next
			default:
				return "", 0, malformed("request", j-2, "bad escape %q in headers JSON", esc)
			}
		default:
			out = append(out, c)
			j++
		}
	}
	return "", 0, malformed("request", i, "headers JSON ends inside a string")
}

// parseUnicodeEscape decodes the \uXXXX escape at b[i], joining a UTF-16
// surrogate pair when one follows. A lone surrogate becomes U+FFFD.
func (p *jsonParser) parseUnicodeEscape(i int) (rune, int, error) {
	r, ok := p.hex4(i + 2)
	if !ok {
		return 0, 0, malformed("request", i, "bad \\u escape in headers JSON")
	}
	next := i + 6
	if utf16.IsSurrogate(r) {
		if next+6 <= len(p.b) && p.b[next] == '\\' && p.b[next+1] == 'u' {
			if r2, ok := p.hex4(next + 2); ok {
				if pair := utf16.DecodeRune(r, r2); pair != utf8.RuneError {
					return pair, next + 6, nil
				}
			}
		}
		return utf8.RuneError, next, nil
	}
	return r, next, nil
}

func (p *jsonParser) hex4(i int) (rune, bool) {
	if i+4 > len(p.b) {
		return 0, false
	}
	var r rune
	for _, c := range p.b[i : i+4] {
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(d)
	}
	return r, true
}

// skipValue checks the JSON value at b[i] and returns the offset after it.
func (p *jsonParser) skipValue(i, depth int) (int, error) {
	b := p.b
	if i == len(b) {
		return 0, p.want(i, "a header value")
	}
	switch c := b[i]; {
	case c == '"':
		_, next, err := p.parseString(i)
		return next, err
	case c == '{' || c == '[':
		return p.skipContainer(i, depth)
	case c == '-' || (c >= '0' && c <= '9'):
		return p.skipNumber(i)
	default:
		for _, lit := range []string{"true", "false", "null"} {
			if len(b)-i >= len(lit) && string(b[i:i+len(lit)]) == lit {
				return i + len(lit), nil
			}
		}
		return 0, p.want(i, "a JSON value")
	}
}

func (p *jsonParser) skipContainer(i, depth int) (int, error) {
	b := p.b
	if depth >= MaxNestingDepth {
		return 0, tooLarge("request", i, "header value nests deeper than %d", MaxNestingDepth)
	}
	closer := byte(']')
	if b[i] == '{' {
		closer = '}'
	}
	i = p.skipSpace(i + 1)
	if i < len(b) && b[i] == closer {
		return i + 1, nil
	}
	for {
		if closer == '}' {
			if i == len(b) || b[i] != '"' {
				return 0, p.want(i, "'\"' to start an object key")
			}
			_, next, err := p.parseString(i)
			if err != nil {
				return 0, err
			}
			i = p.skipSpace(next)
			if i == len(b) || b[i] != ':' {
				return 0, p.want(i, "':' after an object key")
			}
			i = p.skipSpace(i + 1)
		}
		next, err := p.skipValue(i, depth+1)
		if err != nil {
			return 0, err
		}
		i = p.skipSpace(next)
		if i < len(b) && b[i] == closer {
			return i + 1, nil
		}
		if i == len(b) || b[i] != ',' {
			return 0, p.want(i, "',' or '"+string(closer)+"'")
		}
		i = p.skipSpace(i + 1)
	}
}

// skipNumber checks -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?.
func (p *jsonParser) skipNumber(i int) (int, error) {
	b := p.b
	start := i
	digits := func(i int) int {
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		return i
	}
	bad := func() (int, error) { return 0, malformed("request", start, "bad number in headers JSON") }
	if b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		i = digits(i)
	default:
		return bad()
	}
	if i < len(b) && b[i] == '.' {
		j := digits(i + 1)
		if j == i+1 {
			return bad()
		}
		i = j
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := digits(i)
		if j == i {
			return bad()
		}
		i = j
	}
	return i, nil
}

// parseTNetHeaders decodes the tnetstring dict e into headers in wire order.
// String values are taken as they are; other values are rendered as JSON
// text (a repeated header's list of strings becomes ["a","b"], as in the
// JSON encoding).
func parseTNetHeaders(b []byte, e tnetElem) ([]Header, error) {
	const op = "request"
	headers := []Header{}
	for off := e.start; off < e.end; {
		key, err := splitTNet(op, b[:e.end], off)
		if err != nil {
			return nil, err
		}
		if key.tag != tagString {
			return nil, malformed(op, key.end, "header name must be a string, got type %q", key.tag)
		}
		if key.next() == e.end {
			return nil, malformed(op, key.next(), "header %q has no value", b[key.start:key.end])
		}
		val, err := splitTNet(op, b[:e.end], key.next())
		if err != nil {
			return nil, err
		}
		var value string
		if val.tag == tagString {
			value = string(b[val.start:val.end])
		} else {
			text, err := appendTNetAsJSON(nil, b, val, 0)
			if err != nil {
				return nil, err
			}
			value = string(text)
		}
		if len(headers) == MaxHeaders {
			return nil, tooLarge(op, key.start, "more than %d headers", MaxHeaders)
		}
		headers = append(headers, Header{Name: string(b[key.start:key.end]), Value: value})
		off = val.next()
	}
	return headers, nil
}

// appendTNetAsJSON renders the tnetstring element e as JSON text, escaping
// strings the way Mongrel2 does and keeping dict order.
func appendTNetAsJSON(dst, b []byte, e tnetElem, depth int) ([]byte, error) {
	const op = "request"
	payload := b[e.start:e.end]
	switch e.tag {
	case tagString:
		return appendJSONString(dst, payload), nil
	case tagInt:
		n, err := parseTNetInt(op, payload, e.start)
		if err != nil {
			return nil, err
		}
		return strconv.AppendInt(dst, n, 10), nil
	case tagFloat:
		if _, err := parseTNetFloat(op, payload, e.start); err != nil {
			return nil, err
		}
		return append(dst, payload...), nil
	case tagBool:
		if _, err := parseTNetBool(op, payload, e.start); err != nil {
			return nil, err
		}
		return append(dst, payload...), nil
	case tagNull:
		if len(payload) != 0 {
			return nil, malformed(op, e.start, "null must be empty")
		}
		return append(dst, "null"...), nil
	case tagList, tagDict:
		if depth >= MaxNestingDepth {
			return nil, tooLarge(op, e.start, "header value nests deeper than %d", MaxNestingDepth)
		}
		open, closer := byte('['), byte(']')
		if e.tag == tagDict {
			open, closer = '{', '}'
		}
		dst = append(dst, open)
		for off, first := e.start, true; off < e.end; first = false {
			if !first {
				dst = append(dst, ',')
			}
			item, err := splitTNet(op, b[:e.end], off)
			if err != nil {
				return nil, err
			}
			if e.tag == tagDict {
				if item.tag != tagString {
					return nil, malformed(op, item.end, "dict key must be a string, got type %q", item.tag)
				}
				if item.next() == e.end {
					return nil, malformed(op, item.next(), "dict key without a value")
				}
				dst = appendJSONString(dst, b[item.start:item.end])
				dst = append(dst, ':')
				if item, err = splitTNet(op, b[:e.end], item.next()); err != nil {
					return nil, err
				}
			}
			if dst, err = appendTNetAsJSON(dst, b, item, depth+1); err != nil {
				return nil, err
			}
			off = item.next()
		}
		return append(dst, closer), nil
	default:
		return nil, malformed(op, e.end, "unknown type tag %q", e.tag)
	}
}

// appendJSONString writes s as a JSON string the way Mongrel2 does: a
// backslash before '\' and '"', every other byte as it is.
func appendJSONString[S string | []byte](dst []byte, s S) []byte {
	dst = append(dst, '"')
	last := 0
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '"' || c == '\\' {
			dst = append(dst, s[last:i]...)
			dst = append(dst, '\\', c)
			last = i + 1
		}
	}
	dst = append(dst, s[last:]...)
	return append(dst, '"')
}

// appendJSONHeaders writes headers as Mongrel2's compact JSON object.
func appendJSONHeaders(dst []byte, headers []Header) []byte {
	dst = append(dst, '{')
	for i, h := range headers {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, h.Name)
		dst = append(dst, ':')
		dst = appendJSONString(dst, h.Value)
	}
	return append(dst, '}')
}

// appendTNetHeaders writes headers as a tnetstring dict of strings.
func appendTNetHeaders(dst []byte, headers []Header) []byte {
	start := len(dst)
	for _, h := range headers {
		dst = appendTNetString(dst, h.Name)
		dst = appendTNetString(dst, h.Value)
	}
	return wrapTNet(dst, start, tagDict)
}
