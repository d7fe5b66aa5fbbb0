// Package qwk reads and writes QWK offline mail: the packet a caller
// downloads (BBSID.QWK) and the reply packet they upload (BBSID.REP). It
// works on []byte only and knows nothing of the board's storage, its
// callers or how a packet travels.
//
// # Packets
//
// A QWK packet is a zip archive ([Packet.Zip]) holding:
//
//   - MESSAGES.DAT: 128-byte blocks. The first block is the producer's
//     line; each message is a header block (status, number, date, time,
//     to, from, subject, password, reference, block count, alive flag,
//     conference, logical number, net tag) and its text, lines ended by
//     0xE3, padded with spaces to a whole block.
//   - CONTROL.DAT: the board, the caller, the packet's date and the
//     conferences, one item a line (CR LF).
//   - NNN.NDX, one per conference holding messages: 5-byte records, the
//     message's header block number (the first block is 1) as a
//     Microsoft Binary Format single ([MSBIN]) and the conference's
//     low byte.
//   - DOOR.ID: who made the packet.
//   - HEADERS.DAT: for each message whose to, from or subject does not
//     fit QWK's 25 bytes, a section named by the message's header offset
//     in MESSAGES.DAT in hexadecimal ("[80]") with "To:", "Sender:" and
//     "Subject:" lines holding the whole field, as Synchronet writes it.
//
// Text is written in code page 437, what offline readers expect; a rune
// it lacks becomes '?'. 'π' (0xE3 in CP437, QWK's line end) also
// becomes '?'.
//
// # Reply packets
//
// A REP is a zip archive holding BBSID.MSG: a first block starting with
// the board's BBSID, then messages laid out as in MESSAGES.DAT, each
// header's number field holding the conference it is posted in. A
// HEADERS.DAT beside it may carry a longer To or Subject. [ParseREP]
// reads one into [Message]s; [BuildREP] writes one (for tests and
// tools).
//
// # Limits and errors
//
// [ParseREP] refuses, within the [Limits] it is given: an archive larger
// than MaxPacketBytes or holding more than [MaxZipEntries] files, a
// BBSID.MSG larger than MaxMessagesBytes (read through a limit, whatever
// the archive claims), more than MaxMessages messages, a message of more
// than MaxBlocks blocks, a HEADERS.DAT larger than [MaxHeadersBytes], a
// first block naming another board, a block count that is not a number
// or runs past the end. Every such error is a *[FormatError] carrying the
// byte offset in BBSID.MSG; errors.Is(err, [ErrMalformed]) or
// errors.Is(err, [ErrTooLarge]) tells the two kinds apart. A REP is
// accepted or refused whole: no message of a refused REP is returned.
package qwk
