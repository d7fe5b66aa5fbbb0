package classic

// AppendKeys appends a keystroke-mode request, `ROUTE
// {"type":"keys","msg":KEYS}` and a NUL, to dst: the keys a caller typed
// while the board had their gateway in keystroke mode (message.TypeKeys).
// KEYS is escaped as AppendRequest escapes a line.
func AppendKeys(dst []byte, route, keys string) []byte {
	dst = append(dst, route...)
	dst = append(dst, ` {"type":"keys","msg":`...)
	dst = appendJSONString(dst, keys)
	return append(dst, '}', 0)
}

// AppendGatewayKeys appends a gateway's keystroke-mode request for a
// caller at address peer, with the address and key as
// AppendGatewayRequest adds them to a line.
func AppendGatewayKeys(dst []byte, route, keys, peer, key string) []byte {
	dst = AppendKeys(dst, route, keys)
	dst = AppendMember(dst, "peer", appendJSONString(nil, peer))
	return AppendMember(dst, "peer_key", appendJSONString(nil, key))
}

// SendKeys sends a keystroke-mode request: keys the caller typed while
// the BBS had them in keystroke mode (a test's caller; the gateways send
// their own).
func (c *Client) SendKeys(keys string) error {
	return c.send(c.withTerminal(AppendKeys(c.req[:0], c.route, keys)))
}

// AppendBinary appends a binary stream mode request, `ROUTE
// {"type":"bin","msg":B64}` and a NUL, to dst: bytes the caller sent while
// the board had their gateway in binary stream mode (message.TypeBinary),
// b64 being them in standard base64 (no character needs escaping).
func AppendBinary(dst []byte, route, b64 string) []byte {
	dst = append(dst, route...)
	dst = append(dst, ` {"type":"bin","msg":"`...)
	dst = append(dst, b64...)
	return append(dst, '"', '}', 0)
}

// AppendGatewayBinary appends a gateway's binary stream mode request for a
// caller at address peer, with the address and key as
// AppendGatewayRequest adds them to a line.
func AppendGatewayBinary(dst []byte, route, b64, peer, key string) []byte {
	dst = AppendBinary(dst, route, b64)
	dst = AppendMember(dst, "peer", appendJSONString(nil, peer))
	return AppendMember(dst, "peer_key", appendJSONString(nil, key))
}
