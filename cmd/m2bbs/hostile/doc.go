// Package hostile is the hostile-caller suite: each test attacks a real
// m2bbs binary, built once for the suite, the way a stranger on the
// internet would (floods, silent sockets, forged requests, takeovers,
// control sequences, password guessing, runaway scripts), while a
// well-behaved caller, the bystander, uses the board from another address.
// A test asserts what each of them sees: the attacker gets a clear refusal
// or nothing, and the bystander's menu round trip stays under a second
// during the attack and after it.
//
// The suite runs in `make test`. It builds cmd/m2bbs with the test
// binary's build tags, or uses the binary named by $M2BBS_BIN.
package hostile
