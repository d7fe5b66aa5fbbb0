package m2proto

// This file builds requests whose headers may repeat, as a front end that
// stands in for Mongrel2 must: Mongrel2 keeps up to five values of a
// header the caller sent more than once and writes them as a list.

// HeaderValues is one header with every value it carries: one for most
// headers, several for a header the caller repeated.
type HeaderValues struct {
	Name   string
	Values []string
}

// AppendRequestValues is [AppendRequest] for headers that may repeat: a
// header with one value is written as AppendRequest writes it, one with
// any other number of values as a list of strings (a JSON array, or a
// tnetstring list), as Mongrel2 writes a repeated header. [ParseRequest]
// reads such a header back with the list's JSON text as its Value. The
// fields must meet ParseRequest's rules (no spaces in sender, connID and
// path; a numeric connID) for the result to parse.
func AppendRequestValues(dst []byte, sender, connID, path string, headers []HeaderValues, body []byte, f HeaderFormat) []byte {
	dst = appendRequestStart(dst, sender, connID, path)
	start := len(dst)
	if f == TNetstringHeaders {
		for _, h := range headers {
			dst = appendTNetString(dst, h.Name)
			dst = appendTNetValues(dst, h.Values)
		}
		dst = wrapTNet(dst, start, tagDict)
	} else {
		dst = append(dst, '{')
		for i, h := range headers {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSONString(dst, h.Name)
			dst = append(dst, ':')
			dst = appendJSONValues(dst, h.Values)
		}
		dst = append(dst, '}')
		dst = wrapTNet(dst, start, tagString)
	}
	return appendTNetString(dst, body)
}

// appendRequestStart writes "SENDER CONN_ID PATH ".
func appendRequestStart(dst []byte, sender, connID, path string) []byte {
	dst = append(dst, sender...)
	dst = append(dst, ' ')
	dst = append(dst, connID...)
	dst = append(dst, ' ')
	dst = append(dst, path...)
	return append(dst, ' ')
}

// appendJSONValues writes one value as a JSON string, others as an array.
func appendJSONValues(dst []byte, values []string) []byte {
	if len(values) == 1 {
		return appendJSONString(dst, values[0])
	}
	dst = append(dst, '[')
	for i, v := range values {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, v)
	}
	return append(dst, ']')
}

// appendTNetValues writes one value as a tnetstring string, others as a
// list.
func appendTNetValues(dst []byte, values []string) []byte {
	if len(values) == 1 {
		return appendTNetString(dst, values[0])
	}
	start := len(dst)
	for _, v := range values {
		dst = appendTNetString(dst, v)
	}
	return wrapTNet(dst, start, tagList)
}
