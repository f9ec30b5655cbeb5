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

// prepared is the part of handling a message that needs nothing from the
// messages before it: hashing, parsing, classifying and, for a submission,
// the prechecks. The watcher has it done (Prepare) on its reader
// goroutine while Handle records earlier messages, which keeps a second
// core busy during a backlog.
type prepared struct {
	raw  []byte // the message it was prepared from
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
// and writes nothing; Handle checks that what it found still holds.
func (in *Ingester) Prepare(ctx context.Context, f *mail.Fetched) any {
	p := &prepared{raw: f.Raw, hash: hashOf(f.Raw)}
	if len(f.Raw) == 0 || f.Oversize {
		return p
	}
	p.msg, p.parseErr = mail.Parse(bytes.NewReader(f.Raw), nil)
	if p.parseErr == nil {
		p.class = mail.Classify(p.msg, mail.SiteAddress{Address: in.Site.Address})
	}
	p.parsed = true
	if p.parseErr != nil || p.class.Kind != mail.KindSubmission || p.msg.From == nil {
		return p
	}
	p.textHash, p.hashed = bodyHash(p.msg.Text), true
	if p.class.PostSlug == "" {
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

// preparedFor returns what Prepare made of f, if it was made of f.
func preparedFor(f *mail.Fetched) *prepared {
	p, ok := f.Prepared.(*prepared)
	if !ok || len(p.raw) != len(f.Raw) || (len(f.Raw) > 0 && &p.raw[0] != &f.Raw[0]) {
		return nil
	}
	return p
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
// reuses the ones Prepare ran if p holds them and the post's thread is
// still the same.
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
