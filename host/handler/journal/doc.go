// Package journal encodes the entries of a session journal: what entered
// one caller's session from outside, in order — the request that started
// it, each request it was resumed with, and the result of every host call
// whose answer the script cannot know in advance (the database, the clock,
// random numbers, who is online). A host that has the journal but not the
// coroutine re-runs the script and feeds it these entries instead of
// calling out, until the session stands where it stood; see
// host/handler/session for the replay itself.
//
// An entry is a kind byte followed by length-prefixed fields (uvarint
// lengths). Requests are kept in the journal's compact form
// (EncodeRequest); the wire format that journals written by earlier
// versions hold is still read (Request.Decode). Lua values (call results and raised errors) are encoded by
// AppendValues: nil, booleans, numbers, strings and tables of those,
// nested at most MaxDepth deep; functions, userdata and threads cannot be
// journaled (ErrNotJournalable).
package journal
