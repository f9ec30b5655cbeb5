package queue

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"modbot/mail"
	"modbot/templates"
)

// Site is what outgoing mail says about the site.
type Site struct {
	Name    string
	BaseURL string
	Address string // the moderator inbox: moderator@forum.example
}

// plus returns the inbox's plus address with detail: moderator+detail@domain.
func (s Site) plus(detail string) string {
	local, domain, _ := strings.Cut(s.Address, "@")
	return local + "+" + detail + "@" + domain
}

// moderation is addr under the name the site's staff mail goes out with
// ("Forum moderation"), so every digest, report and confirmation looks
// the same in a mail client.
func (s Site) moderation(addr string) mail.Address {
	return mail.Address{Name: s.Name + " moderation", Addr: addr}
}

func (s Site) domain() string {
	_, d, _ := strings.Cut(s.Address, "@")
	return d
}

// Digester writes to the outbox, for each moderator, a digest of what
// waits for them: pending submissions whose current version was not yet
// shown to them (or was shown longer ago than Reminder) and feedback they
// have not seen. Each item records the version it shows. Nothing is
// written while an admin has paused digests. After each round it mails
// the admins the comments overdue by Escalation.AdminsAfter, and
// Undeliverable gives back the items of a digest the outbox gave up on.
type Digester struct {
	Store      *Store
	Templates  *templates.Set
	Site       Site
	Moderators []string
	// Interval between digests; 0 sends one Settle after the last arrival.
	Interval, Settle time.Duration
	// Reminder is how long an item already sent waits before it is listed
	// again.
	Reminder time.Duration
	// MaxItems caps the submissions in one digest (0: no cap). The rest
	// wait for the next digest, which follows Settle later.
	MaxItems int
	// MaxBytes is the byte budget of one digest (0: DefaultDigestMaxBytes).
	// Items that would take a digest over it wait for the next digest,
	// as those over MaxItems do; the first item always goes.
	MaxBytes int
	// Escalation names overdue comments in digests and mails admins.
	Escalation Escalation
	// Queued is called after digests were written to the outbox.
	Queued func()
	Logger *slog.Logger

	kick chan struct{}
}

// Notify tells the digester that something arrived; it never blocks.
func (d *Digester) Notify() {
	select {
	case d.kicks() <- struct{}{}:
	default:
	}
}

func (d *Digester) kicks() chan struct{} {
	if d.kick == nil {
		d.kick = make(chan struct{}, 1)
	}
	return d.kick
}

// Run sends digests on the configured schedule until ctx ends. With
// Interval 0, every arrival restarts a Settle timer, so a burst ends in
// one digest; reminders are checked every few minutes either way.
func (d *Digester) Run(ctx context.Context) error {
	kick := d.kicks()
	recheck := 5 * time.Minute
	if d.Interval > 0 {
		recheck = min(d.Interval, recheck)
	}
	var settle <-chan time.Time
	lastRun := time.Time{}
	run := func() {
		_, full, err := d.SendDue(ctx)
		if err != nil && ctx.Err() == nil {
			d.logger().Error("digest", "err", err)
		}
		lastRun = time.Now()
		if full {
			// A backlog: the next batch follows after the usual pause
			// rather than waiting for the next arrival or tick.
			settle = time.After(max(d.Settle, d.Interval))
		}
	}
	run()
	tick := time.NewTicker(recheck)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-kick:
			if d.Interval == 0 {
				settle = time.After(d.Settle)
			}
		case <-settle:
			settle = nil
			run()
		case <-tick.C:
			if d.Interval == 0 || time.Since(lastRun) >= d.Interval {
				run()
			}
		}
	}
}

func (d *Digester) logger() *slog.Logger {
	if d.Logger != nil {
		return d.Logger
	}
	return slog.Default()
}

// SendDue writes a digest for every moderator who has something due and
// returns how many it wrote, and whether any was full (more items wait).
func (d *Digester) SendDue(ctx context.Context) (n int, full bool, err error) {
	if by, err := d.Store.DigestsPaused(ctx); err != nil || by != "" {
		return 0, false, err
	}
	mods, err := d.Store.Moderators(ctx, d.Moderators)
	if err != nil {
		return 0, false, err
	}
	for _, mod := range mods {
		ok, f, err := d.sendOne(ctx, mod)
		if err != nil {
			return n, full, fmt.Errorf("digest for %s: %w", mod, err)
		}
		if ok {
			n++
		}
		full = full || f
	}
	if err := d.escalateToAdmins(ctx); err != nil {
		return n, full, err
	}
	if d.Queued != nil {
		d.Queued()
	}
	return n, full, nil
}

type dueSubmission struct {
	ID          int64     `db:"id"`
	PostSlug    string    `db:"post_slug"`
	PostKnown   bool      `db:"post_known"`
	PostTitle   *string   `db:"title"`
	PostURL     *string   `db:"url"`
	ParentBody  *string   `db:"parent_body"`
	ParentName  *string   `db:"parent_name"`
	AuthorName  string    `db:"author_name"`
	AuthorEmail string    `db:"author_email"`
	Body        string    `db:"body"`
	Version     int       `db:"version"`
	CreatedAt   time.Time `db:"created_at"`
	Reminder    bool      `db:"reminder"`
	Revised     bool      `db:"revised"`
}

type dueFeedback struct {
	ID        int64     `db:"id"`
	FromName  string    `db:"from_name"`
	FromAddr  string    `db:"from_addr"`
	Subject   string    `db:"subject"`
	Body      string    `db:"body"`
	CreatedAt time.Time `db:"created_at"`
}

// sendOne builds, numbers and queues one moderator's digest in a single
// transaction: the numbering, the token and the outgoing mail exist
// together or not at all.
func (d *Digester) sendOne(ctx context.Context, moderator string) (sent, full bool, err error) {
	err = d.Store.tx(ctx, func(tx *sqlx.Tx) error {
		now := d.Store.now()
		var subs []dueSubmission
		if err := tx.SelectContext(ctx, &subs, `SELECT s.id, s.post_slug, s.post_known, p.title, p.url,
				c.body AS parent_body, c.author_name AS parent_name,
				s.author_name, s.author_email, s.body, s.version, s.created_at, s.revised_at IS NOT NULL AS revised,
				EXISTS (SELECT 1 FROM digest_items di JOIN digests d ON d.id = di.digest_id
					WHERE di.submission_id = s.id AND d.moderator = ?) AS reminder
			FROM submissions s
			LEFT JOIN posts p ON p.slug = s.post_slug
			LEFT JOIN comments c ON c.id = s.parent_id
			WHERE (s.state = 'pending' OR s.state = 'held' AND NOT EXISTS (
				SELECT 1 FROM decisions x WHERE x.submission_id = s.id AND x.undone_at IS NULL
				AND COALESCE(x.version, s.version) = s.version))
			AND NOT EXISTS (
				SELECT 1 FROM digest_items di JOIN digests d ON d.id = di.digest_id
				WHERE di.submission_id = s.id AND d.moderator = ? AND d.created_at > ?
				AND di.version = s.version)
			ORDER BY s.id`, moderator, moderator, now.Add(-d.Reminder)); err != nil {
			return fmt.Errorf("due submissions: %w", err)
		}
		var fbs []dueFeedback
		if err := tx.SelectContext(ctx, &fbs, `SELECT f.id, f.from_name, f.from_addr, f.subject, f.body, f.created_at
			FROM feedback f WHERE f.answered_at IS NULL AND NOT EXISTS (
				SELECT 1 FROM digest_items di JOIN digests d ON d.id = di.digest_id
				WHERE di.feedback_id = f.id AND d.moderator = ?)
			ORDER BY f.id`, moderator); err != nil {
			return fmt.Errorf("due feedback: %w", err)
		}
		if len(subs) == 0 && len(fbs) == 0 {
			return nil
		}
		decided, err := d.decidedByOthers(ctx, tx, moderator)
		if err != nil {
			return err
		}
		var late []overdueRow
		if d.Escalation.After > 0 {
			if late, err = overdue(ctx, tx, now.Add(-d.Escalation.After), ""); err != nil {
				return err
			}
		}
		more := 0
		if d.MaxItems > 0 && len(subs) > d.MaxItems {
			more = len(subs) - d.MaxItems
			subs = subs[:d.MaxItems]
		}
		token, err := newToken()
		if err != nil {
			return err
		}
		msgID := mail.NewMessageID("digest", d.Site.domain())
		res, err := tx.ExecContext(ctx, `INSERT INTO digests (token, moderator, message_id, created_at) VALUES (?, ?, ?, ?)`,
			token, moderator, msgID, now)
		if err != nil {
			return fmt.Errorf("insert digest: %w", err)
		}
		digestID, err := res.LastInsertId()
		if err != nil {
			return err
		}
		view := &templates.Digest{
			SiteName: d.Site.Name, BaseURL: d.Site.BaseURL, Moderator: moderator,
			ReplyAddress: d.Site.plus("d-" + token), Generated: now, More: more, Decided: decided,
			Overdue: overdueItems(late, now),
		}
		number := 0
		for _, s := range subs {
			number++
			if _, err := tx.ExecContext(ctx, `INSERT INTO digest_items (digest_id, number, submission_id, version) VALUES (?, ?, ?, ?)`,
				digestID, number, s.ID, s.Version); err != nil {
				return fmt.Errorf("number submission %d: %w", s.ID, err)
			}
			item, err := d.item(ctx, tx, number, s)
			if err != nil {
				return err
			}
			view.Items = append(view.Items, item)
		}
		for _, f := range fbs {
			number++
			if _, err := tx.ExecContext(ctx, `INSERT INTO digest_items (digest_id, number, feedback_id) VALUES (?, ?, ?)`,
				digestID, number, f.ID); err != nil {
				return fmt.Errorf("number feedback %d: %w", f.ID, err)
			}
			view.Feedback = append(view.Feedback, feedbackItem(number, f))
		}
		compose := func() ([]byte, error) {
			r, err := d.Templates.Digest(view)
			if err != nil {
				return nil, fmt.Errorf("render digest: %w", err)
			}
			out := &mail.Outgoing{
				From:      d.Site.moderation(d.Site.Address),
				To:        []mail.Address{{Addr: moderator}},
				ReplyTo:   []mail.Address{d.Site.moderation(view.ReplyAddress)},
				Subject:   r.Subject,
				MessageID: msgID,
				Date:      now,
				Headers:   map[string]string{"X-Modbot-Digest": fmt.Sprint(digestID)},
				Text:      r.Text,
				HTML:      r.HTML,
			}
			raw, err := out.Bytes()
			if err != nil {
				return nil, fmt.Errorf("compose digest: %w", err)
			}
			return raw, nil
		}
		raw, err := compose()
		if err != nil {
			return err
		}
		if raw, err = d.fit(ctx, tx, digestID, view, raw, compose); err != nil {
			return err
		}
		// Feedback left out for size waits for the next digest too.
		heldBack := len(fbs) - len(view.Feedback)
		more = view.More
		if err := d.Store.enqueue(ctx, tx, outMessage{Kind: "digest", MessageID: msgID, From: d.Site.Address, To: moderator, Raw: raw}); err != nil {
			return err
		}
		d.logger().Info("digest queued", "moderator", moderator, "items", len(view.Items), "feedback", len(view.Feedback), "more", more, "message_id", msgID)
		sent = true
		full = more > 0 || heldBack > 0
		return nil
	})
	return sent, full, err
}

func (d *Digester) item(ctx context.Context, tx *sqlx.Tx, number int, s dueSubmission) (templates.DigestItem, error) {
	item := templates.DigestItem{
		Number: number, ID: s.ID, PostSlug: s.PostSlug, PostKnown: s.PostKnown,
		AuthorName: s.AuthorName, AuthorEmail: s.AuthorEmail, Received: s.CreatedAt,
		Body: s.Body, Reminder: s.Reminder, Revised: s.Revised,
	}
	if s.PostTitle != nil {
		item.PostTitle = *s.PostTitle
	}
	if s.PostURL != nil {
		item.PostURL = *s.PostURL
	}
	if s.ParentBody != nil {
		item.ParentSnippet = snippet(*s.ParentBody, 200)
		if s.ParentName != nil {
			item.ParentSnippet = *s.ParentName + ": " + item.ParentSnippet
		}
	}
	var hits []struct {
		Rule        int    `db:"rule"`
		Title       string `db:"title"`
		Severity    string `db:"severity"`
		Start       int    `db:"start_offset"`
		End         int    `db:"end_offset"`
		Evidence    string `db:"evidence"`
		Explanation string `db:"explanation"`
	}
	if err := tx.SelectContext(ctx, &hits, `SELECT rule, title, severity, start_offset, end_offset, evidence, explanation
		FROM precheck_hits WHERE submission_id = ? ORDER BY start_offset, rule`, s.ID); err != nil {
		return item, fmt.Errorf("hits of %d: %w", s.ID, err)
	}
	for _, h := range hits {
		item.Hits = append(item.Hits, templates.Hit{Rule: h.Rule, Title: h.Title, Severity: h.Severity,
			Evidence: h.Evidence, Explanation: h.Explanation, Start: h.Start, End: h.End})
	}
	boundItem(&item)
	return item, nil
}

// boundItem cuts what a digest item shows of the commenter's texts, so
// one submission cannot make a digest too big to deliver.
func boundItem(item *templates.DigestItem) {
	cutItemBody(item, DigestBodyMax)
	item.AuthorName, item.AuthorEmail, item.PostSlug = cutLine(item.AuthorName), cutLine(item.AuthorEmail), cutLine(item.PostSlug)
	item.Hits = boundHits(item.Hits)
}

// cutItemBody cuts an item's comment to max bytes, and takes the
// highlight off the hits past the cut: their offsets would fall in the
// note that replaces the rest.
func cutItemBody(it *templates.DigestItem, max int) {
	kept, _ := cutText(it.Body, max)
	it.Body = cutForModerators(it.Body, max, fmt.Sprintf("comment #%d", it.ID))
	for i := range it.Hits {
		if it.Hits[i].End > len(kept) {
			it.Hits[i].Start, it.Hits[i].End = 0, 0
		}
	}
}

// feedbackItem is a feedback message as a digest shows it, cut like a
// comment.
func feedbackItem(number int, f dueFeedback) templates.FeedbackItem {
	return templates.FeedbackItem{
		Number: number, FromName: cutLine(f.FromName), FromAddr: cutLine(f.FromAddr),
		Subject: cutLine(f.Subject), Text: cutForModerators(f.Body, FeedbackTextMax, "this message"), Received: f.CreatedAt,
	}
}

// fit keeps a digest within MaxBytes (and below any size the
// moderator's server refused in the last day). While it is over, it
// leaves out the heaviest items, as many as the sizes suggest, keeping at
// least one; it takes their numbers back so they are due again, numbers
// the rest 1, 2, 3 … again in order, and counts the comments left out in
// More. Leaving out the heaviest first means one huge submission cannot
// keep the comments that arrived with it out of the digests. A single
// item still over the budget is cut harder. raw is the digest as
// composed; compose composes view again.
func (d *Digester) fit(ctx context.Context, tx *sqlx.Tx, digestID int64, view *templates.Digest, raw []byte, compose func() ([]byte, error)) ([]byte, error) {
	budget := d.MaxBytes
	if budget <= 0 {
		budget = DefaultDigestMaxBytes
	}
	refused, err := refusedSize(ctx, tx, view.Moderator, d.Store.now())
	if err != nil {
		return nil, err
	}
	if refused > 0 {
		budget = min(budget, refused*3/4)
	}
	for len(raw) > budget && len(view.Items)+len(view.Feedback) > 1 {
		if err := d.leaveOut(ctx, tx, digestID, view, len(raw)-budget, len(raw)); err != nil {
			return nil, err
		}
		if raw, err = compose(); err != nil {
			return nil, err
		}
	}
	if len(raw) > budget {
		// One item: show less of it rather than send what may be refused.
		shrinkItem(view, float64(budget)/float64(len(raw)))
		if raw, err = compose(); err != nil {
			return nil, err
		}
		if len(raw) > budget {
			d.logger().Warn("a digest of one item is over its byte budget; sent as it is", "bytes", len(raw), "max", budget)
		}
	}
	return raw, nil
}

// leaveOut drops the heaviest items of view until their weight, scaled to
// the digest's size, covers excess bytes (at least one item, and one is
// always kept), and renumbers the rest in digest_items and view.
func (d *Digester) leaveOut(ctx context.Context, tx *sqlx.Tx, digestID int64, view *templates.Digest, excess, size int) error {
	type entry struct {
		number, weight int
		feedback       bool
	}
	var all []entry
	total := 0
	for _, it := range view.Items {
		w := 500 + len(it.Body) + len(it.AuthorName) + len(it.ParentSnippet)
		for _, h := range it.Hits {
			w += 100 + len(h.Title) + len(h.Evidence) + len(h.Explanation)
		}
		all = append(all, entry{it.Number, w, false})
		total += w
	}
	for _, f := range view.Feedback {
		w := 300 + len(f.Text) + len(f.Subject) + len(f.FromName)
		all = append(all, entry{f.Number, w, true})
		total += w
	}
	byWeight := slices.Clone(all)
	slices.SortStableFunc(byWeight, func(a, b entry) int { return b.weight - a.weight })
	drop := map[int]bool{}
	gone := 0
	for _, e := range byWeight[:len(byWeight)-1] {
		drop[e.number] = true
		gone += e.weight
		if int64(gone)*int64(size) >= int64(excess)*int64(total) {
			break
		}
	}
	items, feedback := view.Items[:0], view.Feedback[:0]
	next := 0
	for _, e := range all {
		if drop[e.number] {
			if _, err := tx.ExecContext(ctx, `DELETE FROM digest_items WHERE digest_id = ? AND number = ?`, digestID, e.number); err != nil {
				return fmt.Errorf("take back digest item %d: %w", e.number, err)
			}
			continue
		}
		next++
		if next != e.number {
			// Numbers only go down, each into a number already freed.
			if _, err := tx.ExecContext(ctx, `UPDATE digest_items SET number = ? WHERE digest_id = ? AND number = ?`, next, digestID, e.number); err != nil {
				return fmt.Errorf("renumber digest item %d: %w", e.number, err)
			}
		}
	}
	next = 0
	for _, it := range view.Items {
		if drop[it.Number] {
			view.More++
			continue
		}
		next++
		it.Number = next
		items = append(items, it)
	}
	for _, f := range view.Feedback {
		if drop[f.Number] {
			continue
		}
		next++
		f.Number = next
		feedback = append(feedback, f)
	}
	view.Items, view.Feedback = items, feedback
	return nil
}

// shrinkItem cuts the one item of view to about share of its size: its
// text, and its hits to the first five.
func shrinkItem(view *templates.Digest, share float64) {
	keep := func(s string, what string) string {
		return cutForModerators(s, max(1024, int(float64(len(s))*share*0.8)), what)
	}
	for i := range view.Items {
		it := &view.Items[i]
		cutItemBody(it, max(1024, int(float64(len(it.Body))*share*0.8)))
		if len(it.Hits) > 5 {
			it.Hits = it.Hits[:5]
		}
	}
	for i := range view.Feedback {
		view.Feedback[i].Text = keep(view.Feedback[i].Text, "this message")
	}
}

// snippet shortens s to about n bytes on a word boundary.
func snippet(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= n {
		return s
	}
	cut := strings.LastIndexByte(s[:n], ' ')
	if cut < n/2 {
		cut = n
		for cut > 0 && (s[cut]&0xC0) == 0x80 {
			cut--
		}
	}
	return s[:cut] + " …"
}

// newToken returns an unguessable digest token: 160 random bits in
// lower-case base32, safe in the local part of an address.
func newToken() (string, error) {
	b := make([]byte, 20)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("token: %w", err)
	}
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b)), nil
}

// decidedByOthers lists what other moderators decided since this
// moderator's last digest, so nobody works on an item already decided.
func (d *Digester) decidedByOthers(ctx context.Context, tx *sqlx.Tx, moderator string) ([]templates.DecidedItem, error) {
	var rows []struct {
		SubmissionID int64     `db:"submission_id"`
		Action       string    `db:"action"`
		Moderator    string    `db:"moderator"`
		CreatedAt    time.Time `db:"created_at"`
	}
	err := tx.SelectContext(ctx, &rows, `SELECT submission_id, action, moderator, created_at FROM decisions
		WHERE moderator <> ? AND undone_at IS NULL AND action <> 'undo'
		AND created_at >= COALESCE((SELECT MAX(created_at) FROM digests WHERE moderator = ? AND kind = 'digest'), '')
		ORDER BY id`, moderator, moderator)
	if err != nil {
		return nil, fmt.Errorf("decided by others: %w", err)
	}
	var out []templates.DecidedItem
	for _, r := range rows {
		out = append(out, templates.DecidedItem{ID: r.SubmissionID, Action: pastTense[r.Action], Moderator: r.Moderator, When: r.CreatedAt})
	}
	return out, nil
}
