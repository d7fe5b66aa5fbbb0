// Package luasyntax places a Lua script's syntax error at the line of the
// mistake.
//
// gopher-lua's parser reports a syntax error at the token where it could
// not go on, often a line or more past the mistake: an unclosed '(' on line
// 118 is reported at the first token of line 119, a function missing its
// 'end' at the end of the file. Explain reads the script's tokens again
// and names the line a sysop should look at:
//
//   - an unfinished string, long string or long comment: the line where it
//     starts;
//   - a '(', '{' or '[' still open where the parser stopped and never
//     closed in the rest of the file: the line of that bracket ("unclosed
//     '('");
//   - a function, if, do, while or for without its 'end', or a repeat
//     without its 'until', still open where the parser stopped: the line
//     of that keyword ("'function' has no 'end'"), or, when an 'end' inside
//     it is indented less than the line of the block it closes, the line
//     of that block (the 'end' more likely belongs to an outer one);
//   - an 'end', 'else' or 'elseif' with nothing open to close or go on
//     (an 'end' too many closed a block early): the first 'end' indented
//     more than the line of the block it closes, or else the 'end' just
//     before that 'else';
//   - the first token of a line that cannot go on from the line before
//     ("x = {" / "a = 1" / "b = 2"): the line before, whose end is where
//     something is missing ("syntax error after '1'");
//   - anything else: the line of the token where the parser stopped.
//
// A chunk over MaxExplained bytes is not read again: its error is given at
// the line where the parser stopped.
//
// When the line of the mistake is not where the parser stopped, the
// message says where it stopped too, so nothing gopher-lua reported is
// lost: "bbs.lua:118: unclosed '(' (noticed at 'local' on line 119)".
package luasyntax
