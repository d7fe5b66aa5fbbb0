// Package scriptcheck checks a BBS's scripts and screens before a deploy,
// without running any script: every Lua file under the scripts folder must
// compile; every require with a literal name must find a file of the
// scripts folder or a built-in module of the host (luaapi's list); the
// main script must provide the entry function the host calls (a global
// m2bbs, a returned function, or engine.run(conn, entry) at its top
// level); every global a script reads must be defined somewhere (a Lua
// 5.1-style lint, see checkGlobals); every screen a script names
// literally (ui.screen, ui.prompt, ui.secret, ui.exit, ui.art, ui.text) must
// exist when ui is the host's, or be a key of the text table of the
// scripts' own ui.lua (a NAME.txt or a NAME.ans); every screen file must be
// readable and within [screens.MaxScreenBytes], and every ANSI art file
// (NAME.ans) within [screens.MaxArtBytes], with a valid SAUCE record of
// character art if it has one.
//
// It also warns, as a [Problem] with Warning set, of code reachable from
// the entry that writes into a table held in a top-level variable: each
// worker's Lua state has its own copy (see checkSharedWrites).
//
// It is what "m2bbs check" runs. Problems are reported as [Problem]s,
// printed "FILE:LINE: message" like a compiler's, so editors can jump to
// them.
//
// The check is static and therefore conservative where it cannot know: a
// screen or module name built at run time ('menu_' .. n) is not checked,
// an entry function defined in some way other than those [Check]
// recognises is reported as missing, and globals are taken as defined
// wherever a script assigns them, whatever the order at run time.
package scriptcheck
