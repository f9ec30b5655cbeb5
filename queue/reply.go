package queue

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"

	"modbot/mail"
	"modbot/templates"
)

// Decision actions, as recorded in decisions.action.
const (
	ActionApprove = "approve"
	ActionReject  = "reject"
	ActionEdit    = "edit"
	ActionHold    = "hold"
	ActionSpam    = "spam"
	ActionUndo    = "undo"
)

var actionState = map[string]string{
	ActionApprove: "approved", ActionReject: "rejected", ActionEdit: "approved", ActionHold: "held", ActionSpam: "spam",
}

// digestItem is one numbered entry of a digest.
type digestItem struct {
	Number       int    `db:"number"`
	SubmissionID *int64 `db:"submission_id"`
	FeedbackID   *int64 `db:"feedback_id"`
	Version      int    `db:"version"` // of the comment, as the digest showed it
}

// replyRun is the work of one authenticated moderator reply: it applies
// the commands inside the transaction that records the reply, and
// collects what the confirmation will say.
type replyRun struct {
	in        *Ingester
	ctx       context.Context
	tx        *sqlx.Tx
	now       time.Time
	moderator string
	msg       *mail.Message
	digestID  int64
	digestMsg string
	items     map[int]digestItem
	conf      templates.Confirmation

	// replyToMsg is the Message-ID of the mail the reply answers: the
	// digest, or a confirmation. digestID and digestMsg are always the
	// digest's, whose numbering the reply uses.
	replyToMsg string
	// confirms is, for an answer to a confirmation, the Message-ID of the
	// reply it confirmed: what a bare "undo" takes back.
	confirms string
}

// applyReply reads the moderator's commands from m and applies them. It
// runs inside the reply's inbound transaction: the decisions, the
// published comments, the notices and the confirmation commit with the
// reply's outcome or not at all.
//
// tok is the reply's token: a digest's, or a confirmation's, whose
// replies use the numbering of the digest it came through.
func (in *Ingester) applyReply(ctx context.Context, tx *sqlx.Tx, m *mail.Message, tok replyToken) error {
	// The moderator is the address the token was sent to, which
	// authenticate found the same identity as From: decisions and undo
	// are theirs however From spells it.
	r := &replyRun{in: in, ctx: ctx, tx: tx, now: in.st().now(), moderator: strings.ToLower(tok.Moderator), msg: m, items: map[int]digestItem{},
		digestID: tok.Digest, replyToMsg: tok.MessageID, confirms: tok.Confirms}
	if err := tx.GetContext(ctx, &r.digestMsg, `SELECT message_id FROM digests WHERE id = ?`, r.digestID); err != nil {
		return fmt.Errorf("digest of token: %w", err)
	}
	var items []digestItem
	if err := tx.SelectContext(ctx, &items, `SELECT number, submission_id, feedback_id, version FROM digest_items WHERE digest_id = ?`, r.digestID); err != nil {
		return fmt.Errorf("digest items: %w", err)
	}
	for _, it := range items {
		r.items[it.Number] = it
	}
	r.conf = templates.Confirmation{SiteName: in.Site.Name, Moderator: r.moderator, Subject: m.Subject}

	cmds, errs := mail.ParseCommands(mail.ExtractReply(m))
	for _, e := range errs {
		r.conf.Errors = append(r.conf.Errors, templates.ReplyError{Line: e.Raw, Reason: e.Reason})
	}
	for _, c := range cmds {
		if err := r.apply(c); err != nil {
			return err
		}
	}
	if len(r.conf.Applied) > 0 && in.UndoGrace > 0 {
		r.conf.GraceUntil = r.now.Add(in.UndoGrace)
	}
	return r.confirm()
}

// apply runs one command, possibly for several items.
func (r *replyRun) apply(c mail.Command) error {
	switch c.Verb {
	case mail.VerbUndo:
		return r.undo(c)
	case mail.VerbReply:
		for _, t := range c.Targets {
			if err := r.answerFeedback(c, t); err != nil {
				return err
			}
		}
		return nil
	}
	targets := c.Targets
	if c.All {
		targets = nil
		for n := 1; n <= len(r.items); n++ {
			if it, ok := r.items[n]; ok && it.SubmissionID != nil {
				targets = append(targets, mail.Target{Number: n})
			}
		}
	}
	for _, t := range targets {
		id, number, why, err := r.resolve(t)
		if err != nil {
			return err
		}
		if why != "" {
			r.conf.Errors = append(r.conf.Errors, templates.ReplyError{Line: c.Raw, Reason: why})
			continue
		}
		if err := r.decide(c, id, number); err != nil {
			return err
		}
	}
	return nil
}

// resolve turns a target into a submission id: a number of this digest,
// or a stable id. why says why it names no comment; err is a storage
// error, which must not become a verdict.
func (r *replyRun) resolve(t mail.Target) (id int64, number int, why string, err error) {
	if t.ID != 0 && t.Number != 0 {
		// A number with the #id the moderator saw printed with it (the
		// quoted item header above a bare command, or "3 (#1042)"):
		// both must name the same comment, or nothing is applied.
		it, ok := r.items[t.Number]
		switch {
		case !ok || it.SubmissionID == nil:
			return 0, 0, fmt.Sprintf("item %d of this digest is not comment #%d: nothing was applied; write the number again", t.Number, t.ID), nil
		case *it.SubmissionID != t.ID:
			return 0, 0, fmt.Sprintf("item %d of this digest is #%d, not #%d: nothing was applied; write the number again", t.Number, *it.SubmissionID, t.ID), nil
		}
		return t.ID, t.Number, "", nil
	}
	if t.ID != 0 {
		var n int
		if err := r.tx.GetContext(r.ctx, &n, `SELECT COUNT(*) FROM submissions WHERE id = ?`, t.ID); err != nil {
			return 0, 0, "", fmt.Errorf("comment #%d: %w", t.ID, err)
		}
		if n == 0 {
			return 0, 0, fmt.Sprintf("there is no comment #%d", t.ID), nil
		}
		for num, it := range r.items {
			if it.SubmissionID != nil && *it.SubmissionID == t.ID {
				number = num
			}
		}
		return t.ID, number, "", nil
	}
	it, ok := r.items[t.Number]
	switch {
	case !ok:
		return 0, 0, fmt.Sprintf("this digest has no item %d (it has 1 to %d)", t.Number, len(r.items)), nil
	case it.SubmissionID == nil:
		return 0, 0, fmt.Sprintf("item %d is feedback, not a comment: answer it with \"reply %d: …\"", t.Number, t.Number), nil
	}
	return *it.SubmissionID, t.Number, "", nil
}

// decide applies one decision to one submission by compare-and-set: it
// takes effect only if nobody decided the item first, and only on the
// version of the comment the moderator was shown.
func (r *replyRun) decide(c mail.Command, id int64, number int) error {
	action := string(c.Verb)
	to := actionState[action]
	from := []any{"pending", "held"}
	if action == ActionHold {
		from = []any{"pending", "pending"}
	}
	sub, err := loadSubmission(r.ctx, r.tx, id)
	if err != nil {
		return err
	}
	var version int
	if err := r.tx.GetContext(r.ctx, &version, `SELECT version FROM submissions WHERE id = ?`, id); err != nil {
		return fmt.Errorf("version of #%d: %w", id, err)
	}
	if sub.State == from[0] || sub.State == from[1] {
		seen, shown, err := r.seenVersion(id, number)
		if err != nil {
			return err
		}
		if !shown {
			r.conf.Errors = append(r.conf.Errors, templates.ReplyError{Line: fmt.Sprintf("%s #%d", action, id),
				Reason: fmt.Sprintf("#%d was never in a digest sent to you; it is in your next digest", id)})
			return nil
		}
		if seen < version {
			return r.revised(action, id, number, version)
		}
	}
	res, err := r.tx.ExecContext(r.ctx, `UPDATE submissions SET state = ?, decided_at = ? WHERE id = ? AND state IN (?, ?) AND version = ?`,
		to, r.now, id, from[0], from[1], version)
	if err != nil {
		return fmt.Errorf("decide #%d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return r.conflict(action, id, number, sub.State)
	}
	rules := make([]string, len(c.Rules))
	for i, n := range c.Rules {
		rules[i] = fmt.Sprint(n)
	}
	original := ""
	if action == ActionEdit {
		original = sub.Body
	}
	if _, err := r.tx.ExecContext(r.ctx, `INSERT INTO decisions
		(submission_id, moderator, action, from_state, to_state, rules, reason, original_body, reply_message_id, created_at, digest_id, item_number, version)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		id, r.moderator, action, sub.State, to, strings.Join(rules, ","), c.Reason, original, r.msg.MessageID, r.now, r.digestID, number, version); err != nil {
		return fmt.Errorf("record decision on #%d: %w", id, err)
	}
	if err := tagDecision(r.ctx, r.tx, sub.MessageID, decisionKeyword[action], r.now); err != nil {
		return err
	}
	done := templates.ConfirmedItem{Number: number, ID: id, Action: pastTense[action], AuthorName: sub.AuthorName,
		PostTitle: sub.PostTitle, Rules: c.Rules, Reason: c.Reason}
	r.conf.Applied = append(r.conf.Applied, done)
	applied := &r.conf.Applied[len(r.conf.Applied)-1]

	notBefore := r.now.Add(r.in.UndoGrace)
	switch action {
	case ActionApprove, ActionEdit:
		body := sub.Body
		if action == ActionEdit {
			body = c.Text
		}
		res, err := r.tx.ExecContext(r.ctx, `INSERT INTO comments (submission_id, post_slug, parent_id, author_name, body, published_at)
			VALUES (?, ?, ?, ?, ?, ?)`, id, sub.PostSlug, sub.ParentID, sub.AuthorName, body, r.now)
		if err != nil {
			return fmt.Errorf("publish #%d: %w", id, err)
		}
		commentID, err := res.LastInsertId()
		if err != nil {
			return err
		}
		applied.Text, applied.Cut = quoteCut(body, confirmQuoteMax)
		applied.CommentURL = r.in.Site.commentURL(sub.PostSlug, commentID)
		n := r.in.noticeView("approved", sub)
		n.Body, n.Edited = cutForCommenter(body, id), action == ActionEdit
		n.CommentURL = r.in.Site.commentURL(sub.PostSlug, commentID)
		if err := r.in.enqueueNotice(r.ctx, r.tx, n, noticeTo{Addr: sub.AuthorEmail, PostSlug: sub.PostSlug, SubmissionID: &id,
			CommentID: &commentID, InReplyTo: sub.MessageID, NotBefore: notBefore}); err != nil {
			return err
		}
		return r.in.notifySubscribers(r.ctx, r.tx, sub, commentID, body, notBefore)
	case ActionReject:
		n := r.in.noticeView("rejected", sub)
		n.Reason = c.Reason
		for _, rule := range c.Rules {
			if text, ok := r.in.Rules[rule]; ok {
				n.Rules = append(n.Rules, templates.Rule{Number: rule, Title: text.Title, Text: text.Text})
			} else {
				n.Rules = append(n.Rules, templates.Rule{Number: rule})
			}
		}
		return r.in.enqueueNotice(r.ctx, r.tx, n, noticeTo{Addr: sub.AuthorEmail, PostSlug: sub.PostSlug, SubmissionID: &id,
			InReplyTo: sub.MessageID, NotBefore: notBefore})
	}
	// hold: nothing to tell yet; spam: never answered.
	return nil
}

// seenVersion is the version of comment id the moderator was shown: as
// item number of this digest, or else in the latest digest sent to them
// that listed it. shown is false when no digest sent to them did.
func (r *replyRun) seenVersion(id int64, number int) (seen int, shown bool, err error) {
	if it, ok := r.items[number]; ok && number != 0 && it.SubmissionID != nil && *it.SubmissionID == id {
		return it.Version, true, nil
	}
	var versions []int
	if err := r.tx.SelectContext(r.ctx, &versions, `SELECT di.version FROM digest_items di JOIN digests d ON d.id = di.digest_id
		WHERE di.submission_id = ? AND d.moderator = ? ORDER BY d.created_at DESC, d.id DESC LIMIT 1`, id, r.moderator); err != nil {
		return 0, false, fmt.Errorf("version of #%d shown to %s: %w", id, r.moderator, err)
	}
	if len(versions) == 0 {
		return 0, false, nil
	}
	return versions[0], true, nil
}

// revised reports a decision not applied because the comment changed
// after the moderator was shown it. The digest due query lists the
// current version again at once.
func (r *replyRun) revised(action string, id int64, number, version int) error {
	var shown bool
	if err := r.tx.GetContext(r.ctx, &shown, `SELECT EXISTS (SELECT 1 FROM digest_items di JOIN digests d ON d.id = di.digest_id
		WHERE di.submission_id = ? AND d.moderator = ? AND di.version = ?)`, id, r.moderator, version); err != nil {
		return fmt.Errorf("newer digest with #%d: %w", id, err)
	}
	r.conf.Revised = append(r.conf.Revised, templates.RevisedItem{Number: number, ID: id, Action: action, Shown: shown})
	return nil
}

// confirmQuoteMax is how much of a published text a confirmation quotes;
// the rest is on the comment's page.
const confirmQuoteMax = 2000

// quoteCut returns s cut to about max bytes on a rune boundary, and how
// many characters were left out.
func quoteCut(s string, max int) (string, int) {
	c, n := cutText(s, max)
	if n == 0 {
		return s, 0
	}
	return c, utf8.RuneCountInString(s[len(c):])
}

// stateKeyword is the keyword of a submission in a state, for an undo.
var stateKeyword = map[string]string{"pending": "$Pending", "held": "$Held", "approved": "$Approved", "rejected": "$Rejected", "spam": "$Spam"}

var pastTense = map[string]string{
	ActionApprove: "approved", ActionReject: "rejected", ActionEdit: "edited",
	ActionHold: "held", ActionSpam: "spam", ActionUndo: "undone",
}

// conflict reports a decision that came second.
func (r *replyRun) conflict(action string, id int64, number int, state string) error {
	var first struct {
		Moderator string    `db:"moderator"`
		Action    string    `db:"action"`
		CreatedAt time.Time `db:"created_at"`
	}
	err := r.tx.GetContext(r.ctx, &first, `SELECT moderator, action, created_at FROM decisions
		WHERE submission_id = ? AND undone_at IS NULL AND action <> 'undo' ORDER BY id DESC LIMIT 1`, id)
	item := templates.ConflictItem{Number: number, ID: id, Action: action, DecidedAction: state}
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return fmt.Errorf("who decided #%d: %w", id, err)
	default:
		item.DecidedBy, item.DecidedAction, item.DecidedAt = first.Moderator, pastTense[first.Action], first.CreatedAt
	}
	r.conf.Conflicts = append(r.conf.Conflicts, item)
	return nil
}

// undo takes back this moderator's decisions within the grace period:
// those of their last reply, or the last one on one comment.
func (r *replyRun) undo(c mail.Command) error {
	since := r.now.Add(-r.in.UndoGrace)
	type decision struct {
		ID           int64     `db:"id"`
		SubmissionID int64     `db:"submission_id"`
		Action       string    `db:"action"`
		FromState    string    `db:"from_state"`
		ToState      string    `db:"to_state"`
		ItemNumber   *int      `db:"item_number"`
		CreatedAt    time.Time `db:"created_at"`
	}
	var ds []decision
	var err error
	if len(c.Targets) == 0 && r.confirms != "" {
		// An answer to a confirmation takes back what that confirmation
		// reported, not whatever reply came last.
		err = r.tx.SelectContext(r.ctx, &ds, `SELECT id, submission_id, action, from_state, to_state, item_number, created_at FROM decisions
			WHERE moderator = ? AND undone_at IS NULL AND action <> 'undo' AND reply_message_id = ?
			ORDER BY id`, r.moderator, r.confirms)
	} else if len(c.Targets) == 0 {
		err = r.tx.SelectContext(r.ctx, &ds, `SELECT id, submission_id, action, from_state, to_state, item_number, created_at FROM decisions
			WHERE moderator = ? AND undone_at IS NULL AND action <> 'undo' AND reply_message_id = (
				SELECT reply_message_id FROM decisions WHERE moderator = ? AND undone_at IS NULL AND action <> 'undo'
					AND reply_message_id <> ? ORDER BY id DESC LIMIT 1)
			ORDER BY id`, r.moderator, r.moderator, r.msg.MessageID)
	} else {
		for _, t := range c.Targets {
			id, _, why, rerr := r.resolve(t)
			if rerr != nil {
				return rerr
			}
			if why != "" {
				r.conf.Errors = append(r.conf.Errors, templates.ReplyError{Line: c.Raw, Reason: why})
				continue
			}
			var d []decision
			if err = r.tx.SelectContext(r.ctx, &d, `SELECT id, submission_id, action, from_state, to_state, item_number, created_at FROM decisions
				WHERE moderator = ? AND submission_id = ? AND undone_at IS NULL AND action <> 'undo' ORDER BY id DESC LIMIT 1`,
				r.moderator, id); err != nil {
				break
			}
			if len(d) == 0 {
				r.conf.Errors = append(r.conf.Errors, templates.ReplyError{Line: c.Raw, Reason: fmt.Sprintf("you have made no decision on #%d to undo", id)})
			}
			ds = append(ds, d...)
		}
	}
	if err != nil {
		return fmt.Errorf("decisions to undo: %w", err)
	}
	if len(ds) == 0 && len(c.Targets) == 0 {
		r.conf.Errors = append(r.conf.Errors, templates.ReplyError{Line: c.Raw, Reason: "you have no decision left to undo"})
	}
	for _, d := range ds {
		if d.CreatedAt.Before(since) {
			r.conf.Errors = append(r.conf.Errors, templates.ReplyError{Line: c.Raw, Reason: fmt.Sprintf(
				"too late to undo #%d: it was %s at %s, and decisions can be undone for %s", d.SubmissionID, pastTense[d.Action],
				d.CreatedAt.Format("15:04 MST"), r.in.UndoGrace)})
			continue
		}
		res, err := r.tx.ExecContext(r.ctx, `UPDATE submissions SET state = ?, decided_at = NULL WHERE id = ? AND state = ?`,
			d.FromState, d.SubmissionID, d.ToState)
		if err != nil {
			return fmt.Errorf("undo #%d: %w", d.SubmissionID, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			r.conf.Errors = append(r.conf.Errors, templates.ReplyError{Line: c.Raw, Reason: fmt.Sprintf("#%d changed since; nothing undone", d.SubmissionID)})
			continue
		}
		// Withdraw the comment and the commenter's notice, which is
		// still waiting out the grace period.
		for _, q := range []string{
			`DELETE FROM outbox WHERE submission_id = ? AND kind = 'notice' AND state = 'pending' AND not_before > created_at`,
			`UPDATE outbox SET comment_id = NULL WHERE comment_id IN (SELECT id FROM comments WHERE submission_id = ?)`,
			`DELETE FROM comments WHERE submission_id = ?`,
			`UPDATE decisions SET undone_at = ? WHERE id = ?`,
		} {
			args := []any{d.SubmissionID}
			if strings.HasPrefix(q, "UPDATE decisions") {
				args = []any{r.now, d.ID}
			}
			if _, err := r.tx.ExecContext(r.ctx, q, args...); err != nil {
				return fmt.Errorf("undo #%d: %w", d.SubmissionID, err)
			}
		}
		if _, err := r.tx.ExecContext(r.ctx, `INSERT INTO decisions
			(submission_id, moderator, action, from_state, to_state, reason, reply_message_id, created_at, digest_id)
			VALUES (?, ?, 'undo', ?, ?, ?, ?, ?, ?)`, d.SubmissionID, r.moderator, d.ToState, d.FromState,
			fmt.Sprintf("undid decision %d (%s)", d.ID, d.Action), r.msg.MessageID, r.now, r.digestID); err != nil {
			return fmt.Errorf("record undo of #%d: %w", d.SubmissionID, err)
		}
		sub, err := loadSubmission(r.ctx, r.tx, d.SubmissionID)
		if err != nil {
			return err
		}
		if err := tagDecision(r.ctx, r.tx, sub.MessageID, stateKeyword[d.FromState], r.now); err != nil {
			return err
		}
		num := 0
		if d.ItemNumber != nil {
			num = *d.ItemNumber
		}
		r.conf.Undone = append(r.conf.Undone, templates.ConfirmedItem{Number: num, ID: d.SubmissionID,
			Action: pastTense[d.Action], AuthorName: sub.AuthorName, PostTitle: sub.PostTitle})
	}
	return nil
}

// answerFeedback mails a moderator's answer to the sender of a feedback
// item, threaded to their message.
func (r *replyRun) answerFeedback(c mail.Command, t mail.Target) error {
	it, ok := r.items[t.Number]
	if t.ID != 0 || !ok || it.FeedbackID == nil {
		r.conf.Errors = append(r.conf.Errors, templates.ReplyError{Line: c.Raw,
			Reason: fmt.Sprintf("item %d of this digest is not a feedback message", t.Number)})
		return nil
	}
	var fb struct {
		FromName  string `db:"from_name"`
		FromAddr  string `db:"from_addr"`
		Subject   string `db:"subject"`
		Body      string `db:"body"`
		MessageID string `db:"message_id"`
	}
	if err := r.tx.GetContext(r.ctx, &fb, `SELECT from_name, from_addr, subject, body, message_id FROM feedback WHERE id = ?`, *it.FeedbackID); err != nil {
		return fmt.Errorf("feedback %d: %w", *it.FeedbackID, err)
	}
	if fb.FromAddr == "" {
		r.conf.Errors = append(r.conf.Errors, templates.ReplyError{Line: c.Raw, Reason: fmt.Sprintf("item %d has no sender address to answer", t.Number)})
		return nil
	}
	n := &templates.Notice{Kind: "reply", SiteName: r.in.Site.Name, BaseURL: r.in.Site.BaseURL, AuthorName: fb.FromName,
		ReplyText: c.Text, QuotedText: cutForReader(fb.Body, "your message not shown here"), Subject: fb.Subject}
	if err := r.in.enqueueNotice(r.ctx, r.tx, n, noticeTo{Addr: fb.FromAddr, InReplyTo: fb.MessageID}); err != nil {
		return err
	}
	if _, err := r.tx.ExecContext(r.ctx, `UPDATE feedback SET answered_at = ? WHERE id = ?`, r.now, *it.FeedbackID); err != nil {
		return fmt.Errorf("mark feedback answered: %w", err)
	}
	if err := queueFlags(r.ctx, r.tx, mail.FolderFeedback, fb.MessageID, []string{`\Answered`, "$Answered"}, nil, r.now); err != nil {
		return err
	}
	r.conf.Applied = append(r.conf.Applied, templates.ConfirmedItem{Number: t.Number, Action: "replied", AuthorName: fb.FromName})
	return nil
}

// references threads a confirmation: the digest, the confirmation the
// reply answered (if it answered one), the reply.
func (r *replyRun) references() []string {
	refs := []string{r.digestMsg}
	if r.replyToMsg != "" && r.replyToMsg != r.digestMsg {
		refs = append(refs, r.replyToMsg)
	}
	return append(refs, r.msg.MessageID)
}

// confirm mails the moderator what their reply did, threaded to it. It
// carries a reply token of its own, kind 'confirmation', linked to the
// digest the reply came through: "undo #id" or "reject 2" written in
// answer to it works as in that digest, for the same moderator, for as
// long as a digest's token would, and a bare "undo" takes back what this
// confirmation reported.
func (r *replyRun) confirm() error {
	rendered, err := r.in.Templates.Confirmation(&r.conf)
	if err != nil {
		return fmt.Errorf("render confirmation: %w", err)
	}
	msgID := mail.NewMessageID("confirm", r.in.Site.domain())
	// An answer to a confirmation that changed nothing is confirmed
	// without a token: an auto-responder that answers every mail cannot
	// keep a loop going (its next answer goes to the plain address, and
	// is feedback).
	var replyTo []mail.Address
	viaConfirmation := r.replyToMsg != "" && r.replyToMsg != r.digestMsg
	if !viaConfirmation || len(r.conf.Applied)+len(r.conf.Undone) > 0 {
		token, err := newToken()
		if err != nil {
			return err
		}
		if _, err := r.tx.ExecContext(r.ctx, `INSERT INTO digests (token, moderator, message_id, created_at, kind, via_digest_id, confirms_message_id)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, token, r.moderator, msgID, r.now, tokenConfirmation, r.digestID, r.msg.MessageID); err != nil {
			return fmt.Errorf("confirmation token: %w", err)
		}
		replyTo = []mail.Address{r.in.Site.moderation(r.in.Site.plus("d-" + token))}
	}
	out := &mail.Outgoing{
		From:          r.in.Site.moderation(r.in.Site.Address),
		To:            []mail.Address{{Addr: r.moderator}},
		ReplyTo:       replyTo,
		Subject:       rendered.Subject,
		MessageID:     msgID,
		InReplyTo:     r.msg.MessageID,
		References:    r.references(),
		Date:          r.now,
		AutoSubmitted: "auto-replied",
		Text:          rendered.Text,
		HTML:          rendered.HTML,
	}
	raw, err := out.Bytes()
	if err != nil {
		return fmt.Errorf("compose confirmation: %w", err)
	}
	return r.in.st().enqueue(r.ctx, r.tx, outMessage{Kind: "confirmation", MessageID: msgID, From: r.in.Site.Address, To: r.moderator, Raw: raw})
}
