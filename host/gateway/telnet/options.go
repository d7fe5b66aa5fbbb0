package telnet

// optionState is one side of one option.
type optionState struct {
	on      bool // the option is in effect
	asked   bool // we sent a request and await the answer
	refused bool // we refused a request for it once: stay silent after
}

// options tracks option negotiation with one client, in the spirit of RFC
// 1143 kept simple: a request is answered only when it changes the
// state, an answer to our own request is not answered, and an option we do
// not support is refused once and then ignored, so no pair of programs
// can loop. It knows nothing of sockets: it appends the bytes to send.
type options struct {
	us  [256]optionState // options on our side (WILL/WONT, asked with DO/DONT)
	him [256]optionState // options on the client's side
}

// weSupport reports whether we will enable option on our side.
func weSupport(option byte) bool {
	return option == OptEcho || option == OptSuppressGoAhead || option == OptBinary
}

// heMaySupport reports whether we let the client enable option.
func heMaySupport(option byte) bool {
	return option == OptSuppressGoAhead || option == OptNAWS || option == OptTerminalType || option == OptBinary
}

// offer asks to enable option on our side (verb WILL) or the client's
// (verb DO), unless it is on or asked already.
func (o *options) offer(dst []byte, verb, option byte) []byte {
	st := &o.us[option]
	if verb == DO {
		st = &o.him[option]
	}
	if st.on || st.asked {
		return dst
	}
	st.asked = true
	return AppendNegotiation(dst, verb, option)
}

// receive handles the client's verb for option and appends the reply, if
// any, to dst. changed says whether the option's state changed.
func (o *options) receive(dst []byte, verb, option byte) (_ []byte, changed bool) {
	switch verb {
	case WILL:
		return request(dst, &o.him[option], heMaySupport(option), DO, DONT, option)
	case DO:
		return request(dst, &o.us[option], weSupport(option), WILL, WONT, option)
	case WONT:
		return refusal(dst, &o.him[option], DONT, option)
	case DONT:
		return refusal(dst, &o.us[option], WONT, option)
	}
	return dst, false
}

// request handles WILL or DO: the client wants the option on.
func request(dst []byte, st *optionState, supported bool, yes, no, option byte) ([]byte, bool) {
	asked := st.asked
	st.asked = false
	switch {
	case st.on:
		return dst, false // already on: no answer, or we would loop
	case supported:
		st.on = true
		if asked {
			return dst, true // the answer to our request
		}
		return AppendNegotiation(dst, yes, option), true
	case st.refused:
		return dst, false
	default:
		st.refused = true
		return AppendNegotiation(dst, no, option), false
	}
}

// refusal handles WONT or DONT: the client wants the option off.
func refusal(dst []byte, st *optionState, ack, option byte) ([]byte, bool) {
	asked := st.asked
	st.asked = false
	if !st.on {
		return dst, false // already off, or our request refused
	}
	st.on = false
	if asked {
		return dst, true
	}
	return AppendNegotiation(dst, ack, option), true
}

// ours reports whether option is on on our side.
func (o *options) ours(option byte) bool { return o.us[option].on }

// his reports whether option is on on the client's side.
func (o *options) his(option byte) bool { return o.him[option].on }

// ourAsked reports whether we offered option on our side and await the
// answer.
func (o *options) ourAsked(option byte) bool { return o.us[option].asked }

// asked reports whether we asked the client to enable option and await
// the answer.
func (o *options) asked(option byte) bool { return o.him[option].asked }
