// Package mail holds everything that speaks or parses email for modbot: the
// IMAP watcher and filer, the SMTP sender, MIME parsing, classification of
// inbound mail and composition of outgoing mail.
//
// It must not import queue: the watcher hands each raw message to a Handler
// that cmd/modbot wires to the moderation domain, and queue calls into this
// package to parse, classify and compose.
package mail

import (
	// Registering the charset package lets go-message decode bodies and
	// headers in ISO-8859-*, Windows-125x, KOI8, Shift-JIS and the rest;
	// without it only UTF-8 and US-ASCII decode.
	_ "github.com/emersion/go-message/charset"
)
