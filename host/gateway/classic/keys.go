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
