package keylogin

import (
	"encoding/json"
	"strconv"
)

// The members of a "connect" message that carry an Assertion. The host
// removes them from every message before a script, a log or a journal
// sees it.
const (
	FieldName  = "key_login"
	FieldAt    = "key_login_at"
	FieldNonce = "key_login_nonce"
	FieldMAC   = "key_login_mac"
)

// Wire names the members of a "connect" message that carry one kind of
// assertion. Each kind is signed with a key of its own, so an assertion
// made for one can never pass for another.
type Wire struct {
	Name, At, Nonce, MAC string
}

// KeyLoginWire carries the SSH gateway's key logins.
var KeyLoginWire = Wire{Name: FieldName, At: FieldAt, Nonce: FieldNonce, MAC: FieldMAC}

// RemoteCallerWire carries the RLogin gateway's word that a remote
// board vouched for its caller "board:user" (host/gateway/rlogin).
var RemoteCallerWire = Wire{Name: "remote_caller", At: "remote_caller_at", Nonce: "remote_caller_nonce", MAC: "remote_caller_mac"}

// Fields lists the members of w.
func (w Wire) Fields() []string { return []string{w.Name, w.At, w.Nonce, w.MAC} }

// Fields lists the members that carry a key login's Assertion.
func Fields() []string { return KeyLoginWire.Fields() }

// AppendJSONMembers appends a's members under w's names to a JSON object
// being written (each preceded by a comma).
func (w Wire) AppendJSONMembers(dst []byte, a Assertion) []byte {
	name, _ := json.Marshal(a.Name) // a string always marshals
	dst = append(dst, `,"`+w.Name+`":`...)
	dst = append(dst, name...)
	dst = append(dst, `,"`+w.At+`":`...)
	dst = strconv.AppendInt(dst, a.At, 10)
	dst = append(dst, `,"`+w.Nonce+`":"`...)
	dst = append(dst, a.Nonce...) // hex
	dst = append(dst, `","`+w.MAC+`":"`...)
	dst = append(dst, a.MAC...) // hex
	return append(dst, '"')
}

// AppendJSONMembers appends a's members to a JSON object being written
// (each preceded by a comma), as a key login (KeyLoginWire).
func (a Assertion) AppendJSONMembers(dst []byte) []byte {
	return KeyLoginWire.AppendJSONMembers(dst, a)
}
