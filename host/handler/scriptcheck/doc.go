// Package scriptcheck checks a BBS's scripts and screens before a deploy,
// without running any script: every Lua file under the scripts folder must
// compile, every screen a script names literally (ui.screen, ui.prompt, ui.secret,
// ui.exit, ui.text) must exist, every screen file must be readable and
// within [screens.MaxScreenBytes], and the main script must provide the
// entry function the host calls.
//
// It is what "m2bbs check" runs. Problems are reported as [Problem]s,
// printed "FILE:LINE: message" like a compiler's, so editors can jump to
// them.
//
// The check is static and therefore conservative: a screen name built at
// run time ('menu_' .. n) cannot be known and is not checked, and an entry
// function defined in some way other than those [Check] recognises is
// reported as missing.
package scriptcheck
