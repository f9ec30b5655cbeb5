package mail

import (
	"context"
	"time"
)

// Fetched is one message read from the watched mailbox.
type Fetched struct {
	Mailbox      string
	UIDValidity  uint32
	UID          uint32
	Size         int64
	InternalDate time.Time
	// Raw is the whole message. When Oversize is set it holds only the
	// header section: the body was never downloaded.
	Raw      []byte
	Oversize bool
}

// Filing says where a handled message goes and how it is tagged.
type Filing struct {
	Folder  string // e.g. "Modbot/Submissions"
	Keyword string // e.g. "$Pending"; "" for none
}

// Handler records the outcome of one inbound message. It returns the
// Filing only after the outcome is committed (for a Batcher: recorded in
// the batch that EndBatch commits); the watcher files the message
// afterwards. An error means the outcome was not recorded (a storage
// failure, say): the watcher stops the batch there, files the messages
// handled before it, and offers this one again after a back-off.
// Handle must be idempotent: after a crash the same message is offered
// again and must get the filing recorded the first time.
type Handler interface {
	Handle(ctx context.Context, msg *Fetched) (Filing, error)
}

// Batcher is implemented by a Handler that can commit the outcomes of a
// run of messages together, which is far cheaper than one commit each.
// The watcher calls BeginBatch before it hands over a fetched batch and
// EndBatch after the last message, before it files any of them. Until
// EndBatch returns nil, an outcome Handle returned may still be lost; so
// when EndBatch fails the watcher files none of the batch and offers it
// again (Handle's idempotence then gives the committed ones their filing).
type Batcher interface {
	BeginBatch(ctx context.Context) error
	EndBatch(ctx context.Context) error
}

// Preparer is implemented by a Handler that can do part of its work on a
// message before the message's turn: parsing, say, which needs nothing
// from earlier messages. The watcher calls Prepare on its read-ahead
// goroutine, concurrently with the handling of earlier messages, and in
// the message's turn calls the Handle of what Prepare returned instead of
// the Handler's own: the work done ahead travels with the message it was
// done on, in the Handler's own type, and is never done again. Prepare
// must not change any state. It returns nil to leave the message to the
// Handler's Handle, which is also what a panic in Prepare does. (So a
// Handler that wraps a Preparer and overrides Handle must wrap what
// Prepare returns as well, or hide Prepare.)
type Preparer interface {
	Prepare(ctx context.Context, msg *Fetched) Prepared
}

// Prepared is one message with part of its handling done ahead. Its
// Handle finishes that handling under the contract of Handler.Handle, and
// must check that what was worked out ahead (from data committed then)
// still holds.
type Prepared interface {
	Handle(ctx context.Context) (Filing, error)
}

// Standard folders and keywords.
const (
	FolderSubmissions = "Modbot/Submissions"
	FolderReplies     = "Modbot/Replies"
	FolderFeedback    = "Modbot/Feedback"
	FolderIgnored     = "Modbot/Ignored"
	FolderQuarantine  = "Modbot/Quarantine"
)
