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

// Fields lists the members that carry an Assertion.
func Fields() []string { return []string{FieldName, FieldAt, FieldNonce, FieldMAC} }

// AppendJSONMembers appends a's members to a JSON object being written
// (each preceded by a comma).
func (a Assertion) AppendJSONMembers(dst []byte) []byte {
	name, _ := json.Marshal(a.Name) // a string always marshals
	dst = append(dst, `,"`+FieldName+`":`...)
	dst = append(dst, name...)
	dst = append(dst, `,"`+FieldAt+`":`...)
	dst = strconv.AppendInt(dst, a.At, 10)
	dst = append(dst, `,"`+FieldNonce+`":"`...)
	dst = append(dst, a.Nonce...) // hex
	dst = append(dst, `","`+FieldMAC+`":"`...)
	dst = append(dst, a.MAC...) // hex
	return append(dst, '"')
}
