package queue

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"modbot/mail"
	"modbot/queue/precheck"
	"modbot/templates"
)

// Outcomes of inbound messages, as recorded in inbound.outcome.
const (
	OutcomeQueued      = "queued"      // a submission waiting for moderators
	OutcomeReply       = "reply"       // an authenticated moderator reply
	OutcomeFeedback    = "feedback"    // kept for moderators and admins
	OutcomeIgnored     = "ignored"     // auto-reply, bounce, list mail
	OutcomeQuarantined = "quarantined" // unreadable, too large, or it broke modbot
	OutcomeDuplicate   = "duplicate"   // the same message was handled before
	OutcomeBlocked     = "blocked"     // a blocked sender's submission, filed as rejected
)

// Keywords set on filed messages, one per outcome, so a mail client shows
// the outcome as a tag.
var outcomeFiling = map[string]mail.Filing{
	OutcomeQueued:       {Folder: mail.FolderSubmissions, Keyword: "$Pending"},
	OutcomeReply:        {Folder: mail.FolderReplies, Keyword: "$Reply"},
	OutcomeFeedback:     {Folder: mail.FolderFeedback, Keyword: "$Feedback"},
	OutcomeIgnored:      {Folder: mail.FolderIgnored, Keyword: "$Ignored"},
	OutcomeQuarantined:  {Folder: mail.FolderQuarantine, Keyword: "$Quarantined"},
	OutcomeDuplicate:    {Folder: mail.FolderIgnored, Keyword: "$Duplicate"},
	OutcomeBlocked:      {Folder: mail.FolderSubmissions, Keyword: "$Rejected"},
	OutcomeSubscription: {Folder: mail.FolderFeedback, Keyword: "$Subscription"},
	OutcomeRevised:      {Folder: mail.FolderSubmissions, Keyword: "$Revised"},
}

// Ingester records the outcome of each inbound message. It is the
// mail.Handler the watcher calls, and its mail.Batcher and mail.Preparer:
// Handle (its own or that of what Prepare returned), BeginBatch and
// EndBatch run on the watcher's goroutine only, Prepare on its read-ahead
// goroutine (docs/ARCHITECTURE.md, "The path of one inbound message").
type Ingester struct {
	Store      *Store
	Site       Site
	Moderators []string // as configured; admins may add and remove more by mail
	Admins     []string
	TokenTTL   time.Duration
	Prechecks  *precheck.Engine
	// Rules are the site's rules by number, quoted in rejection notices.
	Rules     map[int]precheck.Rule
	Templates *templates.Set
	// UndoGrace is how long a moderator may undo a decision; notices to
	// commenters about it wait that long.
	UndoGrace time.Duration
	// NotifyReceived sends each commenter a "received" notice.
	NotifyReceived bool
	Limits         Limits
	// TrustedAuthServID is the authserv-id of the receiving server whose
	// Authentication-Results are read: a moderator reply needs its
	// aligned dkim=pass or dmarc=pass (mail.AuthPass). "" reads a "fail"
	// in any such field and nothing else: a forger can add a "pass" but
	// not remove the receiver's "fail".
	TrustedAuthServID string
	// VerifyDKIM has modbot check a moderator reply's DKIM signature
	// itself, for a receiving server that adds no Authentication-Results:
	// a signature aligned with From is a pass like the trusted server's.
	// LookupTXT answers its DNS queries (nil: the system resolver).
	VerifyDKIM bool
	LookupTXT  mail.LookupTXT
	Logger     *slog.Logger
	// Arrived is called after a message's outcome committed (to wake the
	// digest scheduler). It must not block.
	Arrived func(outcome string)

	batch ingestBatch
	// onParse, when set, is called at each parse of an inbound message:
	// tests count parses with it.
	onParse func()
}

// Handle implements mail.Handler: it records the message's one outcome
// and everything the outcome causes as one unit (a savepoint of the open
// batch, else a transaction) and returns where the message is to be
// filed. A message that is empty, over the size limit or unreadable, or
// that makes modbot panic, is quarantined with the reason.
//
// An error means nothing of this message was recorded: a storage failure,
// a failed commit of the open batch, a DNS failure while checking a
// reply's DKIM signature, or mail the outcome causes that could not be
// rendered or composed. The watcher offers the same message again after a
// back-off and the messages after it wait, so an error that does not go
// away holds up the inbox at this message until it is fixed.
//
// The watcher calls it only for a message Prepare was not run on (or
// panicked on); otherwise it calls the Handle of what Prepare returned,
// which does the same with the work done ahead.
func (in *Ingester) Handle(ctx context.Context, f *mail.Fetched) (mail.Filing, error) {
	return in.handle(ctx, in.unprepared(f))
}

// handle is Handle for p's message, taking what p has worked out already
// and working out the rest.
func (in *Ingester) handle(ctx context.Context, p *prepared) (filing mail.Filing, err error) {
	f, hash := p.f, p.hash
	defer func() {
		if r := recover(); r != nil {
			in.logger().Error("panic while handling a message; quarantining it",
				"uid", f.UID, "panic", r, "stack", string(debug.Stack()))
			filing, err = in.quarantine(ctx, f, hash, "", fmt.Sprintf("internal error while handling this message: %v", r))
		}
	}()
	if err := in.batchFor(ctx); err != nil {
		return mail.Filing{}, err
	}
	if prev, ok, err := in.st().previous(ctx, f, hash); err != nil || ok {
		return prev, err
	}
	if len(f.Raw) == 0 {
		return in.quarantine(ctx, f, hash, "", "the server returned an empty message")
	}
	if f.Oversize {
		// Only the header was downloaded: enough to say what it was.
		head, _ := in.parseMessage(f.Raw)
		return in.quarantineMessage(ctx, f, hash, head, fmt.Sprintf("message is %d bytes, over the limit of the configured imap.max_message_size; it was not downloaded", f.Size))
	}
	if !p.parsed {
		p.parse()
	}
	m, c := p.msg, p.class
	if err := p.parseErr; err != nil {
		return in.quarantine(ctx, f, hash, "", "unreadable message: "+err.Error())
	}
	if dup, ok, err := in.st().duplicateByMessageID(ctx, m); err != nil {
		return mail.Filing{}, err
	} else if ok {
		row := in.inboundRow(f, hash, m, mail.KindSubmission)
		row.Outcome, row.Reason = OutcomeDuplicate, fmt.Sprintf("same Message-ID as inbound message %d (from the same sender, or an applied moderator reply)", dup)
		return in.record(ctx, row, nil)
	}
	row := in.inboundRow(f, hash, m, c.Kind)
	row.Reason = c.Reason
	switch c.Kind {
	case mail.KindAuto:
		// Never answered; a delivery report about a message modbot sent
		// marks its recipient.
		return in.bounce(ctx, row, m, c)
	case mail.KindMalformed:
		row.Outcome = OutcomeQuarantined
		return in.record(ctx, row, nil)
	case mail.KindReply:
		return in.reply(ctx, row, m, c, f.Raw)
	case mail.KindUnsubscribe:
		return in.unsubscribeByToken(ctx, row, c.UnsubscribeToken)
	case mail.KindRevision:
		return in.reviseByToken(ctx, row, m, c.RevisionToken)
	case mail.KindFeedback:
		return in.replyToNotice(ctx, row, m, c)
	default:
		return in.submission(ctx, row, m, c, p)
	}
}

func (in *Ingester) logger() *slog.Logger {
	if in.Logger != nil {
		return in.Logger
	}
	return slog.Default()
}

func hashOf(raw []byte) string {
	h := sha256.Sum256(raw)
	return hex.EncodeToString(h[:])
}

// inboundRow is one row of the inbound table.
type inboundRow struct {
	ID          int64     `db:"id"`
	Mailbox     string    `db:"mailbox"`
	UIDValidity uint32    `db:"uid_validity"`
	UID         uint32    `db:"uid"`
	MessageID   string    `db:"message_id"`
	Hash        string    `db:"hash"`
	Size        int64     `db:"size"`
	FromAddr    string    `db:"from_addr"`
	FromKey     string    `db:"from_key"`
	Subject     string    `db:"subject"`
	Kind        string    `db:"kind"`
	Outcome     string    `db:"outcome"`
	Reason      string    `db:"reason"`
	Folder      string    `db:"folder"`
	Keyword     string    `db:"keyword"`
	ReceivedAt  time.Time `db:"received_at"`
	// proven, when set, is an address the message showed to be real
	// (see markProven), recorded in the message's transaction.
	proven string
}

func (in *Ingester) inboundRow(f *mail.Fetched, hash string, m *mail.Message, kind mail.Kind) *inboundRow {
	r := &inboundRow{
		Mailbox: f.Mailbox, UIDValidity: f.UIDValidity, UID: f.UID,
		Hash: hash, Size: f.Size, Kind: string(kind), ReceivedAt: in.st().now(),
	}
	if m != nil {
		r.MessageID = m.MessageID
		r.Subject = m.Subject
		if m.From != nil {
			r.FromAddr, r.FromKey = m.From.Addr, mail.AddressKey(m.From.Addr)
		}
	}
	return r
}

// previous returns the filing recorded for this message when it was
// handled before: the same UID in the same UIDVALIDITY, or the same bytes
// under another UID (after a UIDVALIDITY change, or when a crash came
// between commit and filing and the server renumbered).
func (s *Store) previous(ctx context.Context, f *mail.Fetched, hash string) (mail.Filing, bool, error) {
	var r inboundRow
	if len(f.Raw) == 0 {
		hash = "" // an empty message is like any other: no evidence it was seen
	}
	err := s.db.GetContext(ctx, &r, sqlPreviousOutcome, f.Mailbox, f.UIDValidity, f.UID, hash)
	if errors.Is(err, sql.ErrNoRows) {
		return mail.Filing{}, false, nil
	}
	if err != nil {
		return mail.Filing{}, false, fmt.Errorf("look up uid %d: %w", f.UID, err)
	}
	return mail.Filing{Folder: r.Folder, Keyword: r.Keyword}, true, nil
}

// duplicateByMessageID finds an earlier message with the same Message-ID
// from the same sender (by address identity: a resent copy may spell the
// address in another case): the same mail delivered twice with different
// trace headers. A Message-ID already applied as a moderator reply is a
// duplicate whatever its From says: a reply is applied once, and undoing
// it must not let the same mail apply it again.
func (s *Store) duplicateByMessageID(ctx context.Context, m *mail.Message) (int64, bool, error) {
	if m.MessageID == "" {
		return 0, false, nil
	}
	var from string
	if m.From != nil {
		from = m.From.Addr
	}
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{sqlAppliedReplyID, []any{m.MessageID}},
		{sqlSameMessageID, []any{m.MessageID, mail.AddressKey(from)}},
	} {
		if q.sql == sqlSameMessageID && from == "" {
			continue
		}
		var id int64
		err := s.db.GetContext(ctx, &id, q.sql, q.args...)
		if err == nil {
			return id, true, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return 0, false, fmt.Errorf("look up message-id: %w", err)
		}
	}
	return 0, false, nil
}

func (in *Ingester) quarantine(ctx context.Context, f *mail.Fetched, hash, msgID, reason string) (mail.Filing, error) {
	return in.quarantineMessage(ctx, f, hash, &mail.Message{MessageID: msgID}, reason)
}

// quarantineMessage records m (which may be partly read, or nil) as
// quarantined with the reason.
func (in *Ingester) quarantineMessage(ctx context.Context, f *mail.Fetched, hash string, m *mail.Message, reason string) (mail.Filing, error) {
	row := in.inboundRow(f, hash, m, mail.KindMalformed)
	msgID := row.MessageID
	row.Outcome, row.Reason = OutcomeQuarantined, reason
	in.logger().Warn("quarantined", "uid", f.UID, "message_id", msgID, "reason", reason)
	return in.record(ctx, row, nil)
}

// record inserts the inbound row and, in the same transaction, whatever
// the message causes.
func (in *Ingester) record(ctx context.Context, row *inboundRow, then func(tx *sqlx.Tx, inboundID int64) error) (mail.Filing, error) {
	filing := outcomeFiling[row.Outcome]
	row.Folder, row.Keyword = filing.Folder, filing.Keyword
	if row.Outcome == OutcomeQuarantined {
		then = in.withQuarantineNote(row, then)
	}
	err := in.st().tx(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.NamedExecContext(ctx, `INSERT INTO inbound
			(mailbox, uid_validity, uid, message_id, hash, size, from_addr, from_key, subject, kind, outcome, reason, folder, keyword, received_at)
			VALUES (:mailbox, :uid_validity, :uid, :message_id, :hash, :size, :from_addr, :from_key, :subject, :kind, :outcome, :reason, :folder, :keyword, :received_at)`, row)
		if err != nil {
			return fmt.Errorf("record uid %d: %w", row.UID, err)
		}
		if row.ID, err = res.LastInsertId(); err != nil {
			return err
		}
		if row.proven != "" {
			if err := in.st().markProven(ctx, tx, row.proven); err != nil {
				return err
			}
		}
		if then != nil {
			return then(tx, row.ID)
		}
		return nil
	})
	if err != nil {
		return mail.Filing{}, err
	}
	in.logger().Debug("inbound recorded", "uid", row.UID, "message_id", row.MessageID, "outcome", row.Outcome, "reason", row.Reason)
	in.arrived(row.Outcome)
	return filing, nil
}

// submission queues m. p (nil: none) is what was worked out for it before
// its turn: its text's hash, and maybe prechecks that may still hold.
func (in *Ingester) submission(ctx context.Context, row *inboundRow, m *mail.Message, c mail.Classification, p *prepared) (mail.Filing, error) {
	row.Outcome = OutcomeQueued
	post, err := getPost(ctx, in.st().db, c.PostSlug)
	if err != nil {
		return mail.Filing{}, err
	}
	if post == nil && c.PostSlug != "" {
		row.Reason = strings.TrimSpace(row.Reason + "; unknown post " + strconv.Quote(c.PostSlug))
	}
	var parentID *int64
	if c.ParentID != "" {
		parentID, err = in.st().parentComment(ctx, c.ParentID, c.PostSlug)
		if err != nil {
			return mail.Filing{}, err
		}
	}
	hits, err := in.prechecks(ctx, p, submissionInput(m, c), post)
	if err != nil {
		return mail.Filing{}, err
	}
	textHash := ""
	if p != nil && p.hashed {
		textHash = p.textHash
	} else {
		textHash = bodyHash(m.Text)
	}
	if same, err := in.samePending(ctx, textHash); err != nil {
		return mail.Filing{}, err
	} else if same != nil {
		hits = append(hits, *same)
	}
	state := "pending"
	blocker, err := in.st().blockedBy(ctx, m.From.Addr)
	if err != nil {
		return mail.Filing{}, err
	}
	if blocker != "" {
		// Filed as rejected, with no notice: the sender learns nothing.
		state, row.Outcome, row.Reason = "rejected", OutcomeBlocked, "sender blocked by "+blocker
	} else if hold, err := in.overRate(ctx, m.From.Addr); err != nil {
		return mail.Filing{}, err
	} else if hold != nil {
		hits = append([]precheck.Hit{*hold}, hits...)
		state, row.Reason = "held", strings.TrimSpace(row.Reason+"; held: over the submission rate limit")
	}
	reviseToken, err := newToken()
	if err != nil {
		return mail.Filing{}, err
	}
	return in.record(ctx, row, func(tx *sqlx.Tx, inboundID int64) error {
		if err := wroteAgain(ctx, tx, m.From.Addr); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO submissions
			(inbound_id, post_slug, post_known, post_via, parent_ref, parent_id, author_name, author_email, author_key, message_id, subject, body, body_hash, html_only, state, created_at, notify, version, revise_token)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?)`,
			inboundID, c.PostSlug, post != nil, string(c.PostVia), c.ParentID, parentID, c.AuthorName, m.From.Addr, mail.AddressKey(m.From.Addr),
			m.MessageID, m.Subject, m.Text, textHash, m.HTMLOnly, state, row.ReceivedAt, strings.ToLower(strings.TrimSpace(m.Get("X-Comment-Notify"))), reviseToken)
		if err != nil {
			return fmt.Errorf("insert submission: %w", err)
		}
		id, err := res.LastInsertId()
		if err != nil {
			return err
		}
		if err := insertVersion(ctx, tx, id, 1, m.Text, textHash, inboundID, row.ReceivedAt); err != nil {
			return err
		}
		if err := insertHits(ctx, tx, id, hits); err != nil {
			return err
		}
		if blocker != "" {
			_, err := tx.ExecContext(ctx, `INSERT INTO decisions (submission_id, moderator, action, from_state, to_state, reason, created_at)
				VALUES (?, ?, 'reject', 'pending', 'rejected', ?, ?)`, id, blocker, "sender blocked", row.ReceivedAt)
			return err
		}
		if notify := strings.ToLower(strings.TrimSpace(m.Get("X-Comment-Notify"))); (notify == "replies" || notify == "all") && post != nil {
			if err := in.subscribe(ctx, tx, m.From.Addr, post.Slug, notify, m.MessageID); err != nil {
				return err
			}
		}
		if why := in.noReceivedNotice(m, post); why != "" {
			if in.NotifyReceived {
				in.logger().Info("no received notice", "submission", id, "why", why)
			}
			return nil
		}
		sub, err := loadSubmission(ctx, tx, id)
		if err != nil {
			return err
		}
		n := in.noticeView("received", sub)
		n.ReviseAddress = in.Site.plus("r-" + reviseToken)
		seen := map[int]bool{}
		for _, h := range hits {
			n.Hits = append(n.Hits, templates.Hit{Rule: h.Rule, Title: h.Title, Severity: string(h.Severity),
				Evidence: h.Evidence, Explanation: h.Explanation, Start: h.Start, End: h.End})
			if r, ok := in.Rules[h.Rule]; ok && !seen[h.Rule] {
				seen[h.Rule] = true
				n.Rules = append(n.Rules, templates.Rule{Number: r.Number, Title: r.Title, Text: r.Text})
			}
		}
		if n.ExpectedWait, err = in.st().expectedWait(ctx, tx); err != nil {
			return err
		}
		return in.enqueueNotice(ctx, tx, n, noticeTo{Addr: m.From.Addr, PostSlug: c.PostSlug, SubmissionID: &id, InReplyTo: m.MessageID})
	})
}

// noReceivedNotice says why a submission gets no "received" notice, or
// "" when it gets one. A notice answers the From address, which anyone
// can write: it goes only where a commenter plausibly wrote from, so
// the site's address cannot be made to mail a stranger. (Mail sent by a
// program never gets here: Handle files it as ignored.)
func (in *Ingester) noReceivedNotice(m *mail.Message, post *Post) string {
	switch {
	case !in.NotifyReceived:
		return "received notices are off"
	case mail.SameAddress(m.From.Addr, in.Site.Address):
		return "the sender is the site's own address"
	case post == nil:
		return "the mail names no known post"
	}
	if why := mail.AuthFailure(m, in.TrustedAuthServID); why != "" {
		return "the sender failed authentication: " + why
	}
	return ""
}

// parentComment resolves X-Comment-Parent to a published comment of the
// same post; anything else leaves the submission top-level (the reference
// is kept as written).
func (s *Store) parentComment(ctx context.Context, ref, slug string) (*int64, error) {
	id, err := strconv.ParseInt(strings.TrimPrefix(strings.TrimSpace(ref), "#"), 10, 64)
	if err != nil {
		return nil, nil
	}
	var got int64
	err = s.db.GetContext(ctx, &got, `SELECT id FROM comments WHERE id = ? AND post_slug = ?`, id, slug)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("parent comment %d: %w", id, err)
	}
	return &got, nil
}

// thread returns the published comments of a post, oldest first, for the
// prechecks that look at the conversation.
func (s *Store) thread(ctx context.Context, slug string) ([]precheck.Comment, error) {
	rows, err := s.db.QueryxContext(ctx, sqlThread, slug)
	if err != nil {
		return nil, fmt.Errorf("thread %s: %w", slug, err)
	}
	defer rows.Close()
	var out []precheck.Comment
	for rows.Next() {
		var c precheck.Comment
		if err := rows.Scan(&c.AuthorName, &c.Body); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

func (in *Ingester) feedback(ctx context.Context, row *inboundRow, m *mail.Message, reason string) (mail.Filing, error) {
	return in.feedbackThen(ctx, row, m, reason, nil)
}

// feedbackThen records m as feedback and, in the same transaction, runs
// then (when not nil).
func (in *Ingester) feedbackThen(ctx context.Context, row *inboundRow, m *mail.Message, reason string, then func(tx *sqlx.Tx) error) (mail.Filing, error) {
	row.Kind = string(mail.KindFeedback)
	row.Outcome, row.Reason = OutcomeFeedback, reason
	return in.record(ctx, row, func(tx *sqlx.Tx, inboundID int64) error {
		var name, addr string
		if m.From != nil {
			name, addr = m.From.Name, m.From.Addr
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO feedback (inbound_id, from_name, from_addr, subject, body, message_id, reason, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, inboundID, name, addr, m.Subject, m.Text, m.MessageID, reason, row.ReceivedAt)
		if err != nil {
			return fmt.Errorf("insert feedback: %w", err)
		}
		if then != nil {
			return then(tx)
		}
		return nil
	})
}

// reply accepts a digest reply only under the checks of authenticate
// (docs/ARCHITECTURE.md, "The path of one moderator reply"): one From,
// a current moderator (or admin, for a report's token), the token sent
// to that same address and unexpired, and the author's domain vouched
// for (a pass where one is configured, else no failure).
// Anything else that answers a digest is feedback, with the reason
// recorded. A storage error is returned, never a verdict: the watcher
// leaves the message for the next attempt.
func (in *Ingester) reply(ctx context.Context, row *inboundRow, m *mail.Message, c mail.Classification, raw []byte) (mail.Filing, error) {
	tok, why, err := in.authenticate(ctx, m, raw, c.DigestToken)
	if err != nil {
		return mail.Filing{}, err
	}
	if why != "" {
		return in.feedback(ctx, row, m, "digest reply not accepted: "+why)
	}
	row.Outcome, row.Reason = OutcomeReply, "authenticated reply from "+m.From.Addr
	if tok.Kind == tokenReport {
		// A reply to an admin report carries admin commands.
		row.Reason = "authenticated admin reply from " + m.From.Addr
		return in.record(ctx, row, func(tx *sqlx.Tx, _ int64) error { return in.applyAdminReply(ctx, tx, m) })
	}
	return in.record(ctx, row, func(tx *sqlx.Tx, _ int64) error {
		return in.applyReply(ctx, tx, m, tok)
	})
}

// The kinds of reply token (digests.kind), and the role each grants.
const (
	tokenDigest       = "digest"       // a digest: moderator commands
	tokenConfirmation = "confirmation" // a confirmation: as the digest it came through
	tokenReport       = "report"       // an admin report: admin commands
)

// replyToken is the digests row a reply token names.
type replyToken struct {
	ID        int64     `db:"id"`
	Kind      string    `db:"kind"`
	Moderator string    `db:"moderator"`
	MessageID string    `db:"message_id"`
	CreatedAt time.Time `db:"created_at"`
	// Digest is the digest whose numbering replies use: the row itself,
	// or for a confirmation the digest it came through.
	Digest int64 `db:"digest"`
	// Confirms is, for a confirmation, the Message-ID of the reply it
	// confirmed.
	Confirms string `db:"confirms_message_id"`
}

// authenticate returns the token of an acceptable reply, or why the reply
// is not accepted, or a storage error (which decides nothing).
func (in *Ingester) authenticate(ctx context.Context, m *mail.Message, raw []byte, token string) (replyToken, string, error) {
	var tok replyToken
	if m.From == nil {
		return tok, "no From address", nil
	}
	if m.FromCount > 1 {
		// A DKIM verifier may have checked another author than the first,
		// which is the only one modbot reads.
		return tok, fmt.Sprintf("the message names %d authors (From fields or addresses); a reply must have exactly one", m.FromCount), nil
	}
	from := m.From.Addr
	mods, err := in.st().Moderators(ctx, in.Moderators)
	if err != nil {
		return tok, "", err
	}
	isModerator := slices.ContainsFunc(mods, func(mod string) bool { return mail.SameAddress(mod, from) })
	isAdmin := in.isAdmin(from)
	if !isModerator && !isAdmin {
		return tok, fmt.Sprintf("%s is not a moderator", from), nil
	}
	err = in.st().db.GetContext(ctx, &tok, `SELECT id, kind, moderator, message_id, created_at, COALESCE(via_digest_id, id) AS digest,
		confirms_message_id FROM digests WHERE token = ?`, token)
	if errors.Is(err, sql.ErrNoRows) {
		return tok, "unknown digest token", nil
	}
	if err != nil {
		return tok, "", fmt.Errorf("reply token: %w", err)
	}
	// The role the token's kind grants is checked now, not when the token
	// was issued: an admin or a moderator removed since has lost it, and
	// one role does not stand in for the other.
	switch {
	case tok.Kind == tokenReport && !isAdmin:
		return tok, fmt.Sprintf("%s is not an admin", from), nil
	case tok.Kind != tokenReport && !isModerator:
		return tok, fmt.Sprintf("%s is not a moderator", from), nil
	}
	// A confirmation's token is its own, with its own age: the same
	// rules as a digest's.
	if !mail.SameAddress(tok.Moderator, from) {
		return tok, fmt.Sprintf("the digest was sent to another moderator, not %s", from), nil
	}
	if in.TokenTTL > 0 && in.st().now().Sub(tok.CreatedAt) > in.TokenTTL {
		return tok, fmt.Sprintf("the digest's token expired (sent %s)", tok.CreatedAt.Format(time.RFC3339)), nil
	}
	if in.TrustedAuthServID != "" || in.VerifyDKIM {
		// A pass is needed: the trusted receiving server's word that it
		// checked a DKIM signature or DMARC for the author's domain, or
		// modbot's own check of a DKIM signature.
		if why, err := in.authPass(ctx, m, raw); err != nil || why != "" {
			return tok, why, err
		}
	} else if why := mail.AuthFailure(m, ""); why != "" {
		// Without knowing which Authentication-Results field the
		// receiving server wrote, a "pass" proves nothing (the sender can
		// write one), so only a "fail" is read: a forger cannot remove it.
		return tok, why, nil
	}
	return tok, "", nil
}

// authPass returns "" when the trusted server's Authentication-Results
// or modbot's own DKIM check vouch for m's author, else why not. A DNS
// failure of the DKIM check is returned as an error: the message is tried
// again later.
func (in *Ingester) authPass(ctx context.Context, m *mail.Message, raw []byte) (string, error) {
	var whys []string
	if in.TrustedAuthServID != "" {
		ok, why := mail.AuthPass(m, in.TrustedAuthServID)
		if ok {
			return "", nil
		}
		whys = append(whys, why)
	}
	if in.VerifyDKIM {
		ok, why, err := mail.VerifyDKIM(ctx, raw, m.From.Addr, in.LookupTXT)
		if err != nil {
			return "", fmt.Errorf("verify DKIM: %w", err)
		}
		if ok {
			return "", nil
		}
		whys = append(whys, why)
	}
	return strings.Join(whys, "; "), nil
}

// insertHits stores a submission's hits, several rows a statement (a
// comment often has a dozen or more). The row counts are powers of two so
// that a handful of statement texts cover every case and stay prepared.
func insertHits(ctx context.Context, tx *sqlx.Tx, id int64, hits []precheck.Hit) error {
	for len(hits) > 0 {
		n := 16
		for n > len(hits) {
			n /= 2
		}
		args := make([]any, 0, 8*n)
		for _, h := range hits[:n] {
			args = append(args, id, h.Rule, h.Title, string(h.Severity), h.Start, h.End, h.Evidence, h.Explanation)
		}
		if _, err := tx.ExecContext(ctx, insertHitsSQL[n], args...); err != nil {
			return fmt.Errorf("insert precheck hits: %w", err)
		}
		hits = hits[n:]
	}
	return nil
}

// insertHitsSQL is the statement inserting n hits, for n = 1, 2, 4, 8, 16.
var insertHitsSQL = func() map[int]string {
	m := map[int]string{}
	for n := 1; n <= 16; n *= 2 {
		m[n] = "INSERT INTO precheck_hits (submission_id, rule, title, severity, start_offset, end_offset, evidence, explanation) VALUES " +
			strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?, ?, ?), ", n), ", ")
	}
	return m
}()

// withQuarantineNote adds, to what a quarantined message causes, a short
// note appended beside it in the quarantine folder, threaded to it, that
// tells the admins why.
func (in *Ingester) withQuarantineNote(row *inboundRow, then func(tx *sqlx.Tx, inboundID int64) error) func(tx *sqlx.Tx, inboundID int64) error {
	return func(tx *sqlx.Tx, inboundID int64) error {
		if then != nil {
			if err := then(tx, inboundID); err != nil {
				return err
			}
		}
		subject := row.Subject
		if subject == "" {
			subject = "(no subject)"
		}
		out := &mail.Outgoing{
			From:      in.Site.moderation(in.Site.Address),
			To:        []mail.Address{{Addr: in.Site.Address}},
			Subject:   "Quarantined: " + subject,
			MessageID: mail.NewMessageID("note", in.Site.domain()),
			InReplyTo: row.MessageID,
			Date:      in.st().now(),
			Text: fmt.Sprintf("modbot quarantined the message above (%s).\n\nWhy: %s\n\nFrom: %s\nSize: %d bytes\nReceived: %s\n\n"+
				"Nothing was done with it: no comment was queued and nobody was answered. It stays here for you to read.\n",
				subjectOrID(row), row.Reason, orNone(row.FromAddr), row.Size, row.ReceivedAt.Format(time.RFC1123Z)),
		}
		if row.MessageID != "" {
			out.References = []string{row.MessageID}
		}
		raw, err := out.Bytes()
		if err != nil {
			return fmt.Errorf("compose quarantine note: %w", err)
		}
		return queueNote(context.Background(), tx, mail.FolderQuarantine, raw, []string{"$QuarantineNote", `\Seen`}, row.ReceivedAt)
	}
}

func subjectOrID(row *inboundRow) string {
	if row.MessageID != "" {
		return "Message-ID <" + row.MessageID + ">"
	}
	return fmt.Sprintf("UID %d", row.UID)
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
