// Package mail holds everything that speaks or parses email for modbot: the
// IMAP watcher and filer (with the flag changes and notes it makes for the
// store), the SMTP sender, MIME parsing, classification of inbound mail,
// reply extraction and the moderator and admin command grammars,
// Authentication-Results and DKIM checks, delivery reports, address
// identity (AddressKey) and composition of outgoing mail.
//
// It must not import queue: the watcher hands each raw message to a Handler,
// and reads its progress from a State and the flag changes to make from a
// FlagQueue; cmd/modbot/internal/daemon wires all three to the moderation domain, and
// queue calls into this package to parse, classify, read replies and
// compose. It stores nothing itself: outcomes, progress and pending flag
// changes live in the store, behind those interfaces.
package mail

import (
	// Registering the charset package lets go-message decode bodies and
	// headers in ISO-8859-*, Windows-125x, KOI8, Shift-JIS and the rest;
	// without it only UTF-8 and US-ASCII decode.
	_ "github.com/emersion/go-message/charset"
)
