package classic

// AppendMember adds the member "key": value (value already JSON) to the
// request req that one of the Append*Request or Append*Connect functions
// just built: it goes in before the closing brace and NUL. A request that
// does not end that way is returned unchanged.
func AppendMember(req []byte, key string, value []byte) []byte {
	n := len(req)
	if n < 2 || req[n-1] != 0 || req[n-2] != '}' {
		return req
	}
	req = req[:n-2]
	req = append(req, ',')
	req = appendJSONString(req, key)
	req = append(req, ':')
	req = append(req, value...)
	return append(req, '}', 0)
}
