// Package postfixtest starts a real Postfix for tests: an SMTP listener on
// a free loopback port that accepts mail for a few test domains and
// delivers it over LMTP to a test Dovecot (dovecottest), so that what a
// program sends by SMTP goes through a real MTA's queue and lands in real
// mailboxes. Nothing is relayed anywhere else.
//
// The configuration, queue and log live in a temporary directory; the
// system's Postfix configuration and service are never touched. A test
// can stop the MTA (as a crash would: mail it accepted stays queued and is
// delivered after Start) and make it refuse recipients with any 4xx or 5xx
// reply, through a policy service the package runs in process.
//
// Postfix's master must run as root. A test that calls Start is skipped
// when Postfix is not installed or the test is not root, unless
// MODBOT_REQUIRE_DOVECOT=1 is set (CI sets it), in which case it fails.
package postfixtest
