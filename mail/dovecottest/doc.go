// Package dovecottest starts a real Dovecot (IMAP and LMTP on loopback) for
// tests, with its own configuration, users and mail under a temporary
// directory, plus an in-process SMTP server that relays to Dovecot's LMTP,
// so that mail sent over SMTP lands in real Dovecot mailboxes.
//
// A test that calls Start is skipped when Dovecot is not installed, unless
// MODBOT_REQUIRE_DOVECOT=1 is set (CI sets it), in which case it fails. It
// never touches the system's Dovecot configuration or its service.
package dovecottest
