package queue

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"modbot/mail"
	"modbot/queue/precheck"
	"modbot/templates"
)

// Outcomes for mail that manages subscriptions.
const (
	OutcomeSubscription = "subscription" // subscribe, confirm, unsubscribe
	OutcomeRevised      = "revised"      // a commenter's corrected comment replaced the pending one
)

// sentNotice is a notice modbot sent, found by its Message-ID.
type sentNotice struct {
	MessageID    string `db:"message_id"`
	Notice       string `db:"notice"`
	Rcpt         string `db:"rcpt_to"`
	SubmissionID *int64 `db:"submission_id"`
	CommentID    *int64 `db:"comment_id"`
}

// answeredIDs are the message IDs m answers that modbot could have
// written, In-Reply-To first, then References newest first: the ones
// worth a look-up in the store.
func answeredIDs(m *mail.Message) []string {
	var ids []string
	add := func(id string) {
		if mail.IsOwnMessageID(id, "") {
			ids = append(ids, id)
		}
	}
	for _, id := range m.InReplyTo {
		add(id)
	}
	for i := len(m.References) - 1; i >= 0; i-- {
		add(m.References[i])
	}
	return ids
}

// answeredNotice returns the notice m answers, or nil.
func (s *Store) answeredNotice(ctx context.Context, q sqlx.QueryerContext, m *mail.Message) (*sentNotice, error) {
	for _, id := range answeredIDs(m) {
		var n sentNotice
		err := sqlx.GetContext(ctx, q, &n, `SELECT message_id, notice, rcpt_to, submission_id, comment_id FROM outbox
			WHERE message_id = ? AND kind = 'notice'`, id)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("answered notice: %w", err)
		}
		return &n, nil
	}
	return nil, nil
}

// firstWord is the first word of the sender's own text, lower-cased.
func firstWord(own string) string {
	f := strings.Fields(strings.ToLower(own))
	if len(f) == 0 {
		return ""
	}
	return strings.Trim(f[0], ".!,:;\"'")
}

// replyToNotice handles a person's answer to one of modbot's mails:
// "unsubscribe", "subscribe", "confirm"; a reply to a published comment
// joins its thread; the rest (questions about a waiting comment and
// appeals against a rejection among them) is feedback.
func (in *Ingester) replyToNotice(ctx context.Context, row *inboundRow, m *mail.Message, c mail.Classification) (mail.Filing, error) {
	n, err := in.st().answeredNotice(ctx, in.st().db, m)
	if err != nil {
		return mail.Filing{}, err
	}
	own := mail.ExtractReply(m).Text
	from := strings.ToLower(m.From.Addr)
	if n != nil && mail.SameAddress(n.Rcpt, from) && mail.AuthFailure(m, in.TrustedAuthServID) == "" {
		// It answers a notice sent to it: the address is real.
		row.proven = from
	}
	switch word := firstWord(own); {
	case word == "unsubscribe" || word == "stop":
		// Only the address a notice went to can stop its mail by
		// answering it: a From is easy to forge, a notice's Message-ID
		// is known only to its recipient.
		if n == nil || !mail.SameAddress(n.Rcpt, m.From.Addr) {
			return in.feedback(ctx, row, m, "unsubscribe ignored: it does not answer a notice sent to this address")
		}
		row.Kind, row.Outcome, row.Reason = string(mail.KindUnsubscribe), OutcomeSubscription, "unsubscribe by reply"
		return in.record(ctx, row, func(tx *sqlx.Tx, _ int64) error { return in.st().unsubscribeAddress(ctx, tx, n.Rcpt) })
	case word == "confirm" || word == "yes":
		if sub, err := in.st().subscriptionByConfirmMessage(ctx, m); err != nil {
			return mail.Filing{}, err
		} else if sub != nil && mail.SameAddress(sub.Email, m.From.Addr) {
			row.Outcome, row.Reason = OutcomeSubscription, "subscription confirmed by reply"
			row.proven = from
			return in.record(ctx, row, func(tx *sqlx.Tx, _ int64) error {
				_, err := in.st().confirmSubscription(ctx, tx, sub.ID)
				return err
			})
		}
	case word == "subscribe" && n != nil && mail.SameAddress(n.Rcpt, m.From.Addr):
		// Like unsubscribing: only the address the notice went to.
		slug, err := in.st().noticePost(ctx, n)
		if err != nil {
			return mail.Filing{}, err
		}
		if slug != "" {
			scope := "replies"
			if strings.Contains(strings.ToLower(strings.SplitN(own, "\n", 2)[0]), "all") {
				scope = "all"
			}
			row.Outcome, row.Reason = OutcomeSubscription, "subscription requested by reply ("+scope+")"
			return in.record(ctx, row, func(tx *sqlx.Tx, _ int64) error { return in.subscribe(ctx, tx, from, slug, scope, m.MessageID) })
		}
	}
	if n == nil {
		return in.feedback(ctx, row, m, c.Reason)
	}
	switch n.Notice {
	case templates.NoticeApproved, templates.NoticeNewComment, templates.NoticeNewReply:
		if n.CommentID != nil && strings.TrimSpace(own) != "" {
			return in.threadReply(ctx, row, m, *n.CommentID, own)
		}
	case templates.NoticeReceived:
		// Never a revision: a question must not replace the comment.
		// Changing it takes mail to its revision address.
		if n.SubmissionID != nil {
			return in.replyAboutComment(ctx, row, m, n, *n.SubmissionID)
		}
	case templates.NoticeRejected:
		return in.feedback(ctx, row, m, "appeal: a reply to a rejection notice")
	}
	return in.feedback(ctx, row, m, c.Reason)
}

// noticePost is the post a notice was about.
func (s *Store) noticePost(ctx context.Context, n *sentNotice) (string, error) {
	var slug string
	var err error
	switch {
	case n.CommentID != nil:
		err = s.db.GetContext(ctx, &slug, `SELECT post_slug FROM comments WHERE id = ?`, *n.CommentID)
	case n.SubmissionID != nil:
		err = s.db.GetContext(ctx, &slug, `SELECT post_slug FROM submissions WHERE id = ?`, *n.SubmissionID)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return slug, err
}

// threadReply turns an answer to a comment's notice into a submission
// whose parent is that comment.
func (in *Ingester) threadReply(ctx context.Context, row *inboundRow, m *mail.Message, commentID int64, own string) (mail.Filing, error) {
	var slug string
	if err := in.st().db.GetContext(ctx, &slug, `SELECT post_slug FROM comments WHERE id = ?`, commentID); err != nil {
		return mail.Filing{}, fmt.Errorf("thread of comment %d: %w", commentID, err)
	}
	m.Text = own // the quoted notice is not part of the comment
	c := mail.Classification{Kind: mail.KindSubmission, Reason: fmt.Sprintf("reply by mail to comment %d", commentID),
		PostSlug: slug, PostVia: "reply", ParentID: fmt.Sprint(commentID), AuthorName: m.From.Name}
	if c.AuthorName == "" {
		c.AuthorName, _, _ = strings.Cut(m.From.Addr, "@")
	}
	row.Kind = string(mail.KindSubmission)
	row.Reason = c.Reason
	return in.submission(ctx, row, m, c, nil) // m.Text changed: nothing prepared holds
}

// replyAboutComment files a reply to a comment's "received" notice as
// feedback, and tells the commenter (when it is from them) that their
// comment did not change and how to change it.
func (in *Ingester) replyAboutComment(ctx context.Context, row *inboundRow, m *mail.Message, n *sentNotice, id int64) (mail.Filing, error) {
	sub, err := loadSubmission(ctx, in.st().db, id)
	if err != nil {
		return mail.Filing{}, err
	}
	reason := fmt.Sprintf("reply to the received notice of comment #%d (a reply never changes a comment)", id)
	if m.From == nil || !mail.SameAddress(m.From.Addr, n.Rcpt) {
		return in.feedback(ctx, row, m, reason)
	}
	return in.notRevised(ctx, row, m, sub, reason)
}

// reviseByToken handles mail to moderator+r-<token>@, the revision
// address a comment's "received" notice gave its author: the comment
// takes the mail's text only if the token is a comment's, the mail is
// from that comment's author, and the comment still waits. Anything else
// is feedback; the author is told what became of their mail either way.
func (in *Ingester) reviseByToken(ctx context.Context, row *inboundRow, m *mail.Message, token string) (mail.Filing, error) {
	var id int64
	err := in.st().db.GetContext(ctx, &id, `SELECT id FROM submissions WHERE revise_token = ? AND revise_token <> ''`, token)
	if errors.Is(err, sql.ErrNoRows) {
		return in.feedback(ctx, row, m, "mail to a revision address with an unknown token")
	}
	if err != nil {
		return mail.Filing{}, fmt.Errorf("revision token: %w", err)
	}
	sub, err := loadSubmission(ctx, in.st().db, id)
	if err != nil {
		return mail.Filing{}, err
	}
	if m.From == nil || !mail.SameAddress(m.From.Addr, sub.AuthorEmail) {
		// Nobody is mailed: the sender is not the author, and the
		// author did not write.
		return in.feedback(ctx, row, m, fmt.Sprintf("mail to the revision address of comment #%d from someone other than its author", id))
	}
	if mail.AuthFailure(m, in.TrustedAuthServID) == "" {
		// The token went only to the author's address in a notice:
		// knowing it shows the address is real (see markProven).
		row.proven = m.From.Addr
	}
	if sub.State != "pending" && sub.State != "held" {
		return in.notRevised(ctx, row, m, sub, fmt.Sprintf("correction to comment #%d, which was already %s", id, sub.State))
	}
	own := mail.ExtractReply(m).Text
	if strings.TrimSpace(own) == "" {
		return in.notRevised(ctx, row, m, sub, fmt.Sprintf("mail to the revision address of comment #%d without text", id))
	}
	return in.revise(ctx, row, m, sub, own)
}

// notRevised files m as feedback and tells the comment's author that it
// reached the moderators and did not change the comment.
func (in *Ingester) notRevised(ctx context.Context, row *inboundRow, m *mail.Message, sub *submissionRow, reason string) (mail.Filing, error) {
	return in.feedbackThen(ctx, row, m, reason, func(tx *sqlx.Tx) error {
		return in.tellAuthor(ctx, tx, templates.NoticeNotRevised, sub, m.MessageID)
	})
}

// tellAuthor sends the author of sub a notice of kind about mail of
// theirs (the Message-ID inReplyTo) concerning the comment. It carries
// nothing of that mail, not even a display name: only the comment's id,
// and its revision address while the comment may still change.
func (in *Ingester) tellAuthor(ctx context.Context, tx *sqlx.Tx, kind string, sub *submissionRow, inReplyTo string) error {
	var token, state string
	if err := tx.QueryRowxContext(ctx, `SELECT revise_token, state FROM submissions WHERE id = ?`, sub.ID).Scan(&token, &state); err != nil {
		return fmt.Errorf("revision token of #%d: %w", sub.ID, err)
	}
	n := &templates.Notice{Kind: kind, SiteName: in.Site.Name, BaseURL: in.Site.BaseURL,
		PostTitle: sub.PostTitle, PostURL: sub.PostURL, CommentID: sub.ID}
	if token != "" && (state == "pending" || state == "held") {
		n.ReviseAddress = in.Site.plus("r-" + token)
	}
	id := sub.ID
	return in.enqueueNotice(ctx, tx, n, noticeTo{Addr: sub.AuthorEmail, PostSlug: sub.PostSlug, SubmissionID: &id, InReplyTo: inReplyTo})
}

// revise gives a waiting comment its author's new text: a new version
// (the old ones are kept), same id, same place in the queue, prechecks
// run again. The digest shows the new text with a note that it was
// revised, and a decision from a digest that showed an older version is
// not applied.
func (in *Ingester) revise(ctx context.Context, row *inboundRow, m *mail.Message, sub *submissionRow, own string) (mail.Filing, error) {
	id := sub.ID
	post, err := getPost(ctx, in.st().db, sub.PostSlug)
	if err != nil {
		return mail.Filing{}, err
	}
	hits, err := in.prechecks(ctx, nil, &precheck.Input{Body: own, AuthorName: sub.AuthorName, AuthorEmail: sub.AuthorEmail}, post)
	if err != nil {
		return mail.Filing{}, err
	}
	hash := bodyHash(own)
	row.Kind, row.Outcome, row.Reason = string(mail.KindSubmission), OutcomeRevised, fmt.Sprintf("corrected text of comment #%d", id)
	return in.record(ctx, row, func(tx *sqlx.Tx, inboundID int64) error {
		now := in.st().now()
		var version int
		err := tx.GetContext(ctx, &version, `UPDATE submissions SET body = ?, body_hash = ?, revised_at = ?, version = version + 1
			WHERE id = ? AND state IN ('pending', 'held') RETURNING version`, own, hash, now, id)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("revise #%d: decided meanwhile", id)
		}
		if err != nil {
			return fmt.Errorf("revise #%d: %w", id, err)
		}
		if err := insertVersion(ctx, tx, id, version, own, hash, inboundID, now); err != nil {
			return err
		}
		// The new text gets the rules' hits of its own; why the comment
		// was held (the rate limit) still holds.
		if _, err := tx.ExecContext(ctx, `DELETE FROM precheck_hits WHERE submission_id = ? AND NOT (rule = ? AND title = ?)`,
			id, RuleRateLimit, rateLimitTitle); err != nil {
			return err
		}
		if err := insertHits(ctx, tx, id, hits); err != nil {
			return err
		}
		return in.tellAuthor(ctx, tx, templates.NoticeRevised, sub, m.MessageID)
	})
}

// insertVersion keeps one text of a comment.
func insertVersion(ctx context.Context, tx *sqlx.Tx, id int64, version int, body, hash string, inboundID int64, at time.Time) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO submission_versions (submission_id, version, body, body_hash, inbound_id, created_at)
		VALUES (?, ?, ?, ?, ?, ?)`, id, version, body, hash, inboundID, at); err != nil {
		return fmt.Errorf("keep version %d of #%d: %w", version, id, err)
	}
	return nil
}

// subscribe records a pending subscription and mails the confirmation
// that activates it.
func (in *Ingester) subscribe(ctx context.Context, tx *sqlx.Tx, email, slug, scope, inReplyTo string) error {
	now := in.st().now()
	token, err := in.st().requestSubscription(ctx, tx, email, slug, scope, now)
	if err != nil || token == "" {
		return err
	}
	post, err := getPost(ctx, tx, slug)
	if err != nil {
		return err
	}
	n := &templates.Notice{Kind: templates.NoticeSubscribe, SiteName: in.Site.Name, BaseURL: in.Site.BaseURL, Scope: scope,
		ConfirmURL: in.Site.BaseURL + "/subscriptions/confirm/" + token}
	if post != nil {
		n.PostTitle, n.PostURL = post.Title, post.URL
	}
	var queued string
	if err := in.enqueueNotice(ctx, tx, n, noticeTo{Addr: email, PostSlug: slug, InReplyTo: inReplyTo, Queued: &queued}); err != nil {
		return err
	}
	// The confirmation's Message-ID lets a reply "confirm" find it; a
	// confirmation withheld by a cap has none.
	_, err = tx.ExecContext(ctx, `UPDATE subscriptions SET confirm_message_id = ? WHERE confirm_token = ?`, queued, token)
	return err
}

// subscriptionByConfirmMessage finds the pending subscription whose
// confirmation m answers.
func (s *Store) subscriptionByConfirmMessage(ctx context.Context, m *mail.Message) (*Subscription, error) {
	for _, id := range answeredIDs(m) {
		var sub Subscription
		err := s.db.GetContext(ctx, &sub, `SELECT id, email, post_slug, scope, state FROM subscriptions
			WHERE confirm_message_id = ? AND confirm_message_id <> '' AND state = 'pending'`, id)
		if err == nil {
			return &sub, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("subscription by confirmation: %w", err)
		}
	}
	return nil, nil
}

// unsubscribeAddress ends every subscription of an address and stops
// optional mail to it.
func (s *Store) unsubscribeAddress(ctx context.Context, tx *sqlx.Tx, email string) error {
	now := s.now()
	if _, err := recipientToken(ctx, tx, email); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE recipients SET unsubscribed_at = COALESCE(unsubscribed_at, ?) WHERE email_key = ?`, now, mail.AddressKey(email)); err != nil {
		return fmt.Errorf("unsubscribe: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE subscriptions SET state = 'unsubscribed', unsubscribed_at = ?
		WHERE email_key = ? AND state <> 'unsubscribed'`, now, mail.AddressKey(email)); err != nil {
		return fmt.Errorf("unsubscribe: %w", err)
	}
	return nil
}

// unsubscribeByToken handles mail to moderator+u-<token>@.
func (in *Ingester) unsubscribeByToken(ctx context.Context, row *inboundRow, token string) (mail.Filing, error) {
	row.Outcome = OutcomeSubscription
	return in.record(ctx, row, func(tx *sqlx.Tx, _ int64) error {
		var email string
		err := tx.GetContext(ctx, &email, `SELECT email FROM recipients WHERE token = ?`, token)
		if errors.Is(err, sql.ErrNoRows) {
			row.Reason = "unsubscribe with an unknown token"
			return nil
		}
		if err != nil {
			return fmt.Errorf("unsubscribe: %w", err)
		}
		return in.st().unsubscribeAddress(ctx, tx, email)
	})
}

// notifySubscribers tells readers who follow the post, or the parent's
// author who asked for replies, about a newly approved comment. Never the
// comment's own author; only confirmed subscriptions; held back like the
// author's own notice, so an undo withdraws them all.
func (in *Ingester) notifySubscribers(ctx context.Context, tx *sqlx.Tx, sub *submissionRow, commentID int64, body string, notBefore time.Time) error {
	var parentAuthor string
	if sub.ParentID != nil {
		err := tx.GetContext(ctx, &parentAuthor, `SELECT s.author_email FROM comments c JOIN submissions s ON s.id = c.submission_id
			WHERE c.id = ?`, *sub.ParentID)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("parent's author: %w", err)
		}
	}
	var subs []Subscription
	if err := tx.SelectContext(ctx, &subs, `SELECT s.id, s.email, s.post_slug, s.scope, s.state FROM subscriptions s
		WHERE s.post_slug = ? AND s.state = 'active' AND s.email_key <> ?
		AND NOT EXISTS (SELECT 1 FROM recipients r WHERE r.email_key = s.email_key AND r.unsubscribed_at IS NOT NULL)
		AND (s.scope = 'all' OR (s.scope = 'replies' AND s.email_key = ?))`,
		sub.PostSlug, mail.AddressKey(sub.AuthorEmail), mail.AddressKey(parentAuthor)); err != nil {
		return fmt.Errorf("subscribers of %s: %w", sub.PostSlug, err)
	}
	for _, s := range subs {
		kind := templates.NoticeNewComment
		if mail.SameAddress(s.Email, parentAuthor) {
			kind = templates.NoticeNewReply
		}
		n := &templates.Notice{Kind: kind, SiteName: in.Site.Name, BaseURL: in.Site.BaseURL, PostTitle: sub.PostTitle,
			PostURL: sub.PostURL, CommenterName: sub.AuthorName, Body: cutForReader(body, "this comment; the whole of it is on its page"), CommentID: commentID,
			CommentURL: in.Site.commentURL(sub.PostSlug, commentID)}
		id := sub.ID
		if err := in.enqueueNotice(ctx, tx, n, noticeTo{Addr: s.Email, PostSlug: sub.PostSlug, SubmissionID: &id,
			CommentID: &commentID, NotBefore: notBefore}); err != nil {
			return err
		}
	}
	return nil
}
