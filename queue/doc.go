// Package queue holds the moderation domain and its storage (SQLite, with
// the migrations in migrations/): inbound messages and their outcomes,
// submissions with their versions and states, precheck results, digests
// and their reply tokens, decisions, the published comments, the outbox,
// notices and subscriptions, bounces and rate limits, admin commands,
// escalations and reports, WordPress import, export and status.
//
// It owns every state change and all SQL; web and the command line reach
// the store through its exported methods. It asks package mail to parse,
// classify, read replies and compose mail, and never speaks a mail
// protocol itself: the outbox hands finished messages to a Sender.
package queue
