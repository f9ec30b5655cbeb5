// Package queue holds the moderation domain and its storage: inbound
// messages and their outcomes, submissions and their states, precheck
// results, digests, decisions, the published comments and the outbox.
//
// It owns every state change. It asks package mail to parse, classify and
// compose mail, and never speaks a mail protocol itself: the outbox hands
// finished messages to a Sender.
package queue
