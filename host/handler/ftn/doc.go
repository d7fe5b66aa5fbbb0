// Package ftn connects the board to FidoNet-technology networks: the
// sysop's FTN settings, the tosser (inbound packets and ZIP bundles into
// areas and mailboxes), the scanner (new local posts and netmail out into
// packets for each uplink, exported once even across a crash), the
// Binkley-style outbound (BSO) that the mailer reads, and the supervised
// binkd mailer itself. The packet format is package host/ftn/pkt; the
// storage is store.FTN. See docs/fidonet.md.
package ftn
