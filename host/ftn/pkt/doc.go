// Package pkt reads and writes FidoNet-technology (FTN) mail packets: the
// type 2+ packet of FSC-0039/FSC-0048 (a type 2 packet of FTS-0001 with a
// capability word and point numbers), the packed messages in it, and the
// message text's structure (AREA line, kludges, tear and origin lines,
// SEEN-BY and PATH). It works on []byte only and knows nothing of files,
// mailers or the board's storage.
//
// # Packets
//
// A packet is a 58-byte header, packed messages each starting with the
// word 2, and a terminating word 0. All words are little-endian.
// [Parse] decodes a packet into a [Packet]; [Packet.Append] is its
// inverse and always writes a type 2+ header (FSC-0048: a point's
// origin net is written as 0xFFFF and its real net put in AuxNet).
// [Parse] reads type 2 and 2+ headers: the capability word and its
// byte-swapped copy decide whether the zone and point fields are read.
//
// # Message text
//
// A packed message's text is lines ended by CR (LF is ignored).
// [ParseText] splits it into a [Text]: the AREA tag of echomail, the
// kludges (lines starting with ^A: MSGID, REPLY, PID, TZUTC, CHRS, INTL,
// FMPT, TOPT, ...), the body lines, the tear and origin lines, SEEN-BY
// and PATH, and trailing kludges (Via). [Text.Bytes] writes it back.
// Names, subjects and text are kept as the packet's bytes: [Decode] turns
// them into UTF-8 as the CHRS kludge says, [Encode] the other way.
//
// # Limits and errors
//
// [Parse] refuses a packet larger than [MaxPacketBytes], more than
// [MaxMessages] messages, a message text longer than [MaxTextBytes] and
// name, subject and date fields longer than the standard's
// [MaxNameBytes], [MaxSubjectBytes] and [MaxDateBytes]. Every error is a
// *[FormatError] carrying the byte offset; errors.Is(err, [ErrMalformed])
// or errors.Is(err, [ErrTooLarge]) tells the two kinds apart.
package pkt
