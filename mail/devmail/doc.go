// Package devmail runs a complete mail system for one machine inside one
// process: an IMAP server (go-imap's in-memory server) and an SMTP server
// whose accepted mail lands in those IMAP mailboxes, both on loopback.
//
// `modbot demo` points a person's mail client at it, and end-to-end tests
// use it to send mail to modbot and read what modbot filed or sent. It is
// not a mail server for production: it has no TLS, no persistence and no
// outbound delivery; mail for unknown recipients is refused, never relayed.
//
// Account is a small IMAP client helper that works against any server
// without TLS (devmail or Dovecot) for appending, reading and waiting on a
// mailbox in tests.
package devmail
