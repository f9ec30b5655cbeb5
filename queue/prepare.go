package queue

import (
	"bytes"
	"context"
	"fmt"
	"slices"

	"github.com/jmoiron/sqlx"

	"modbot/mail"
	"modbot/queue/precheck"
)

// prepared is one inbound message with the part of its handling that
// needs nothing from the messages before it: hashing, parsing, classifying
// and, for a submission, the prechecks. The watcher has Prepare do that
// part on its read-ahead goroutine while Handle records earlier messages,
// which keeps a second core busy during a backlog, and in the message's
// turn calls prepared.Handle, which finishes the work on the same value:
// the message is parsed and classified once, and what was worked out
// cannot be taken for another message's. Handle without Prepare starts
// from a prepared holding only the hash.
type prepared struct {
	in   *Ingester
	f    *mail.Fetched // the message
	hash string

	parsed   bool // msg, parseErr and class are set
	msg      *mail.Message
	parseErr error
	class    mail.Classification
	textHash string // bodyHash of a submission's text, when hashed
	hashed   bool

	// The prechecks of a submission to a known post, valid only while the
	// post and its published comments are what they were run against.
	checked bool
	post    Post
	thread  threadVersion
	hits    []precheck.Hit
}

// threadVersion identifies the published comments of a post. Comments are
// only ever inserted (with ids that are never reused) or deleted, so the
// count and the highest id change whenever the thread does.
type threadVersion struct {
	N     int64 `db:"n"`
	MaxID int64 `db:"max_id"`
}

func threadVersionOf(ctx context.Context, q sqlx.QueryerContext, slug string) (threadVersion, error) {
	var v threadVersion
	if err := sqlx.GetContext(ctx, q, &v, sqlThreadVersion, slug); err != nil {
		return v, fmt.Errorf("thread version %s: %w", slug, err)
	}
	return v, nil
}

// Prepare implements mail.Preparer. It runs concurrently with Handle, so
// it reads only committed data through in.Store (never the open batch)
// and writes nothing; the Handle of what it returns checks that what it
// found still holds.
func (in *Ingester) Prepare(ctx context.Context, f *mail.Fetched) mail.Prepared {
	return in.prepare(ctx, f)
}

// prepare is Prepare, returning its own type.
func (in *Ingester) prepare(ctx context.Context, f *mail.Fetched) *prepared {
	p := in.unprepared(f)
	if len(f.Raw) == 0 || f.Oversize {
		return p
	}
	p.parse()
	if p.parseErr != nil || p.class.Kind != mail.KindSubmission || p.msg.From == nil || p.class.PostSlug == "" {
		return p
	}
	// Best effort: any failure leaves the prechecks to Handle.
	post, err := getPost(ctx, in.Store.db, p.class.PostSlug)
	if err != nil || post == nil {
		return p
	}
	before, err := threadVersionOf(ctx, in.Store.db, post.Slug)
	if err != nil {
		return p
	}
	thread, err := in.Store.thread(ctx, post.Slug)
	if err != nil {
		return p
	}
	if after, err := threadVersionOf(ctx, in.Store.db, post.Slug); err != nil || after != before {
		return p // a decision landed meanwhile
	}
	p.hits = in.Prechecks.Run(withPost(submissionInput(p.msg, p.class), post, thread))
	p.post, p.thread, p.checked = *post, before, true
	return p
}

// unprepared is f with nothing worked out yet but its hash, which every
// path needs first.
func (in *Ingester) unprepared(f *mail.Fetched) *prepared {
	return &prepared{in: in, f: f, hash: hashOf(f.Raw)}
}

// Handle implements mail.Prepared: it finishes handling the message as
// Ingester.Handle does, using what Prepare worked out.
func (p *prepared) Handle(ctx context.Context) (mail.Filing, error) {
	return p.in.handle(ctx, p)
}

// parse parses and classifies the whole message and, for a submission,
// hashes its text: the one place either path does so.
func (p *prepared) parse() {
	p.msg, p.parseErr = p.in.parseMessage(p.f.Raw)
	if p.parseErr == nil {
		p.class = mail.Classify(p.msg, mail.SiteAddress{Address: p.in.Site.Address})
	}
	p.parsed = true
	if p.parseErr == nil && p.class.Kind == mail.KindSubmission && p.msg.From != nil {
		p.textHash, p.hashed = bodyHash(p.msg.Text), true
	}
}

// parseMessage parses an inbound message (or, oversize, its header).
func (in *Ingester) parseMessage(raw []byte) (*mail.Message, error) {
	if in.onParse != nil {
		in.onParse()
	}
	return mail.Parse(bytes.NewReader(raw), nil)
}

// submissionInput is what the prechecks of submission m see of it.
func submissionInput(m *mail.Message, c mail.Classification) *precheck.Input {
	return &precheck.Input{Body: m.Text, AuthorName: c.AuthorName, AuthorEmail: m.From.Addr}
}

// withPost adds the post the comment is on, if it is known, to input.
func withPost(input *precheck.Input, post *Post, thread []precheck.Comment) *precheck.Input {
	if post != nil {
		input.PostTitle, input.PostText, input.Thread = post.Title, post.Text, thread
	}
	return input
}

// prechecks runs the prechecks of a comment on post (nil: unknown), or
// reuses the ones Prepare ran if p (nil: none) holds them and the post's
// thread is still the same.
func (in *Ingester) prechecks(ctx context.Context, p *prepared, input *precheck.Input, post *Post) ([]precheck.Hit, error) {
	if p != nil && p.checked && post != nil && p.post == *post {
		v, err := threadVersionOf(ctx, in.st().db, post.Slug)
		if err != nil {
			return nil, err
		}
		if v == p.thread {
			return slices.Clone(p.hits), nil
		}
	}
	var thread []precheck.Comment
	if post != nil {
		var err error
		if thread, err = in.st().thread(ctx, post.Slug); err != nil {
			return nil, err
		}
	}
	return in.Prechecks.Run(withPost(input, post, thread)), nil
}
