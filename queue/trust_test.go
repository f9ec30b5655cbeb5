package queue

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"

	"modbot/mail"
)

// replyAs sends a reply to a token with a chosen Message-ID and raw
// header lines (extra may carry a second From), as the inbox receives it.
func (m *moderation) replyAs(from, token, msgID, body string, extra ...string) inboundView {
	m.t.Helper()
	raw := msg(from, "moderator+d-"+token+"@forum.example", "Re: digest", msgID, body, extra...)
	if _, err := m.in.Handle(context.Background(), fetched(raw)); err != nil {
		m.t.Fatal(err)
	}
	return lastInbound(m.t, m.s)
}

// §8: with trusted_authserv_id set, a reply counts only when that server
// says an aligned dkim or dmarc passed; a reply naming two authors never
// counts. Each refused reply is filed as feedback with the reason, and
// the comment stays pending.
func TestRepliesNeedAPass(t *testing.T) {
	const ar = "Authentication-Results: mx.forum.example; "
	cases := []struct {
		name    string
		trusted string
		from    string
		extra   []string
		applied bool
		reason  string
	}{
		{"two From fields", "", "Alice <alice@mods.example>", []string{"From: Eve <eve@evil.example>"}, false, "2 authors"},
		{"two addresses in From", "", "Alice <alice@mods.example>, Eve <eve@evil.example>", nil, false, "2 authors"},
		{"two From fields, dkim pass", "mx.forum.example", "Alice <alice@mods.example>", []string{"From: Eve <eve@evil.example>", ar + "dkim=pass header.d=evil.example"}, false, "2 authors"},
		{"no Authentication-Results", "mx.forum.example", "Alice <alice@mods.example>", nil, false, "no Authentication-Results"},
		{"dkim pass of another domain", "mx.forum.example", "Alice <alice@mods.example>", []string{ar + "dkim=pass header.d=evil.example; spf=pass smtp.mailfrom=evil.example"}, false, "vouch for no sender"},
		{"dkim permerror", "mx.forum.example", "Alice <alice@mods.example>", []string{ar + "dkim=permerror header.d=mods.example"}, false, "dkim=permerror"},
		{"dkim temperror", "mx.forum.example", "Alice <alice@mods.example>", []string{ar + "dkim=temperror header.d=mods.example"}, false, "dkim=temperror"},
		{"dkim none", "mx.forum.example", "Alice <alice@mods.example>", []string{ar + "dkim=none; dmarc=none"}, false, "dkim=none"},
		{"a pass the sender wrote", "mx.forum.example", "Alice <alice@mods.example>", []string{"Authentication-Results: evil.example; dkim=pass header.d=mods.example"}, false, "no Authentication-Results"},
		{"dmarc pass aligned", "mx.forum.example", "Alice <alice@mods.example>", []string{ar + "spf=fail smtp.mailfrom=x.example; dmarc=pass header.from=mods.example"}, true, ""},
		{"dkim pass aligned", "mx.forum.example", "Alice <alice@mods.example>", []string{ar + "dkim=pass (2048-bit key; unprotected) header.d=mods.example"}, true, ""},
		{"no trusted server: no fail is enough", "", "Alice <alice@mods.example>", nil, true, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := newModeration(t, "First comment.")
			m.in.TrustedAuthServID = c.trusted
			got := m.reply(c.from, m.token["alice@mods.example"], "approve all", c.extra...)
			if c.applied {
				if got.Outcome != OutcomeReply || m.state(1001) != "approved" {
					t.Errorf("outcome %+v, state %s: want applied", got, m.state(1001))
				}
				return
			}
			if got.Outcome != OutcomeFeedback || !strings.Contains(got.Reason, c.reason) {
				t.Errorf("outcome %q reason %q, want feedback with %q", got.Outcome, got.Reason, c.reason)
			}
			if st := m.state(1001); st != "pending" {
				t.Errorf("state %s, want pending", st)
			}
			if n := m.count(`SELECT COUNT(*) FROM decisions`); n != 0 {
				t.Errorf("%d decisions", n)
			}
		})
	}
}

// §8: after an undo, the same reply sent again (same Message-ID, the
// From in another letter case, with a +tag, or another moderator's From)
// is a duplicate: it applies nothing.
func TestReplayedReplyIsDuplicate(t *testing.T) {
	for _, replayFrom := range []string{"ALICE <ALICE@Mods.Example>", "Alice <alice+x@mods.example>", "Alice <alice@mods.example>", "Bob <bob@mods.example>"} {
		t.Run(replayFrom, func(t *testing.T) {
			m := newModeration(t, "First comment.")
			alice := m.token["alice@mods.example"]
			token := alice
			if strings.Contains(replayFrom, "bob") {
				token = m.token["bob@mods.example"]
			}
			if got := m.replyAs("Alice <alice@mods.example>", alice, "approve-1@mods.example", "approve 1"); got.Outcome != OutcomeReply {
				t.Fatalf("approve: %+v", got)
			}
			m.now = m.now.Add(time.Minute)
			m.replyAs("Alice <alice@mods.example>", alice, "undo-1@mods.example", "undo")
			if st := m.state(1001); st != "pending" {
				t.Fatalf("after undo: %s", st)
			}
			// The replay differs in its bytes (another trace header), so
			// only the Message-ID says it was seen.
			got := m.replyAs(replayFrom, token, "approve-1@mods.example", "approve 1", "Received: from relay.example")
			if got.Outcome != OutcomeDuplicate {
				t.Errorf("replay: %+v, want duplicate", got)
			}
			if st := m.state(1001); st != "pending" {
				t.Errorf("the replayed approval applied again: %s", st)
			}
			if n := m.count(`SELECT COUNT(*) FROM comments`); n != 0 {
				t.Errorf("%d comments published by the replay", n)
			}
		})
	}
}

// §9: the confirmation carries a token Reply-To, so "undo" written in
// answer to it undoes, and numbers resolve as in the digest it confirms.
// The token is its moderator's only, like a digest's.
func TestReplyToConfirmation(t *testing.T) {
	m := newModeration(t, "One.", "Two.")
	alice := m.token["alice@mods.example"]
	m.reply("Alice <alice@mods.example>", alice, "approve 1")
	conf := m.lastMail("confirmation", "alice@mods.example")
	if conf == nil || len(conf.ReplyTo) != 1 || !strings.HasPrefix(conf.ReplyTo[0].Addr, "moderator+d-") {
		t.Fatalf("the confirmation has no token Reply-To: %+v", conf)
	}
	tok := strings.TrimSuffix(strings.TrimPrefix(conf.ReplyTo[0].Addr, "moderator+d-"), "@forum.example")
	if tok == alice {
		t.Fatalf("the confirmation reuses the digest's token")
	}
	// Bob cannot use alice's confirmation.
	if got := m.reply("Bob <bob@mods.example>", tok, "undo #1001"); got.Outcome != OutcomeFeedback || !strings.Contains(got.Reason, "another moderator") {
		t.Errorf("bob with alice's confirmation token: %+v", got)
	}
	m.now = m.now.Add(time.Minute)
	if got := m.reply("Alice <alice@mods.example>", tok, "undo"); got.Outcome != OutcomeReply {
		t.Fatalf("undo to the confirmation: %+v", got)
	}
	if st := m.state(1001); st != "pending" {
		t.Errorf("state after undo %s, want pending", st)
	}
	if n := m.count(`SELECT COUNT(*) FROM comments`); n != 0 {
		t.Errorf("the undone comment is still published")
	}
	// The confirmation of the undo has its own token; through it, "2"
	// is still the digest's item 2.
	conf2 := m.lastMail("confirmation", "alice@mods.example")
	if !strings.Contains(conf2.Text, "#1001") || len(conf2.ReplyTo) != 1 {
		t.Fatalf("undo confirmation:\n%s", conf2.Text)
	}
	tok2 := strings.TrimSuffix(strings.TrimPrefix(conf2.ReplyTo[0].Addr, "moderator+d-"), "@forum.example")
	if got := m.reply("Alice <alice@mods.example>", tok2, "reject 2"); got.Outcome != OutcomeReply {
		t.Fatalf("reject through the second confirmation: %+v", got)
	}
	if st := m.state(1002); st != "rejected" {
		t.Errorf("item 2 through a confirmation: %s, want rejected", st)
	}
	var d struct {
		DigestID int64 `db:"digest_id"`
		Item     int   `db:"item_number"`
	}
	if err := m.s.pool.Get(&d, `SELECT digest_id, item_number FROM decisions WHERE submission_id = 1002`); err != nil {
		t.Fatal(err)
	}
	if want := m.count(`SELECT id FROM digests WHERE token = ?`, alice); d.DigestID != int64(want) || d.Item != 2 {
		t.Errorf("decision recorded against digest %d item %d, want the digest %d item 2", d.DigestID, d.Item, want)
	}
	// Expired like a digest's token.
	m.now = m.now.Add(15 * 24 * time.Hour)
	if got := m.reply("Alice <alice@mods.example>", tok2, "undo #1002"); got.Outcome != OutcomeFeedback || !strings.Contains(got.Reason, "expired") {
		t.Errorf("expired confirmation token: %+v", got)
	}
}

// §9: a bare "undo" in answer to a confirmation takes back what that
// confirmation reported, even when a later reply was made.
func TestUndoAnswersItsConfirmation(t *testing.T) {
	m := newModeration(t, "One.", "Two.")
	alice := m.token["alice@mods.example"]
	m.reply("Alice <alice@mods.example>", alice, "approve 1")
	first := m.lastMail("confirmation", "alice@mods.example")
	m.reply("Alice <alice@mods.example>", alice, "reject 2")
	tok := strings.TrimSuffix(strings.TrimPrefix(first.ReplyTo[0].Addr, "moderator+d-"), "@forum.example")
	if got := m.reply("Alice <alice@mods.example>", tok, "undo"); got.Outcome != OutcomeReply {
		t.Fatalf("undo: %+v", got)
	}
	if m.state(1001) != "pending" || m.state(1002) != "rejected" {
		t.Errorf("undo to the first confirmation: #1001 %s, #1002 %s; want pending, rejected", m.state(1001), m.state(1002))
	}
	// Answering it again: nothing left to undo, and the later decision stands.
	m.reply("Alice <alice@mods.example>", tok, "undo")
	if m.state(1002) != "rejected" {
		t.Errorf("a second undo to the first confirmation took back #1002")
	}
	if conf := m.lastMail("confirmation", "alice@mods.example"); !strings.Contains(conf.Text, "no decision left to undo") {
		t.Errorf("second undo not explained:\n%s", conf.Text)
	}
}

// An auto-responder that answers every mail cannot loop with the
// confirmations: an answer to a confirmation that changes nothing is
// confirmed without a token.
func TestConfirmationLoopEnds(t *testing.T) {
	m := newModeration(t, "One.")
	m.reply("Alice <alice@mods.example>", m.token["alice@mods.example"], "approve 1")
	conf := m.lastMail("confirmation", "alice@mods.example")
	tok := strings.TrimSuffix(strings.TrimPrefix(conf.ReplyTo[0].Addr, "moderator+d-"), "@forum.example")
	if got := m.reply("Alice <alice@mods.example>", tok, "I am out of the office until Monday."); got.Outcome != OutcomeReply {
		t.Fatalf("auto-answer: %+v", got)
	}
	if conf := m.lastMail("confirmation", "alice@mods.example"); len(conf.ReplyTo) != 0 {
		t.Errorf("a confirmation of nothing carries a token: %v", conf.ReplyTo)
	}
}

// §10: the role a token grants is checked when it is used. An admin
// removed from moderation.admins who still moderates cannot run admin
// commands with an old report token; a moderator removed by an admin's
// mail who is an admin cannot decide with an old digest token.
func TestRolesCheckedAtUse(t *testing.T) {
	t.Run("removed admin", func(t *testing.T) {
		m := newModeration(t, "One.")
		m.in.Admins = []string{"alice@mods.example"}
		tok := m.reportToken("alice@mods.example")
		m.in.Admins = []string{"admin@forum.example"} // alice is no longer an admin, still a moderator
		got := m.reply("Alice <alice@mods.example>", tok, "block carol@people.example\nadd moderator eve@evil.example\npause digests")
		if got.Outcome != OutcomeFeedback || !strings.Contains(got.Reason, "not an admin") {
			t.Errorf("removed admin's report reply: %+v", got)
		}
		if n := m.count(`SELECT COUNT(*) FROM blocked_senders`) + m.count(`SELECT COUNT(*) FROM moderator_changes`) + m.count(`SELECT COUNT(*) FROM settings`); n != 0 {
			t.Errorf("a removed admin changed %d settings", n)
		}
	})
	t.Run("former moderator who is an admin", func(t *testing.T) {
		m := newModeration(t, "One.")
		m.in.Admins = []string{"admin@forum.example", "bob@mods.example"}
		tok := m.reportToken("admin@forum.example")
		if got := m.reply("Admin <admin@forum.example>", tok, "remove moderator bob@mods.example"); got.Outcome != OutcomeReply {
			t.Fatalf("admin reply: %+v", got)
		}
		got := m.reply("Bob <bob@mods.example>", m.token["bob@mods.example"], "approve 1")
		if got.Outcome != OutcomeFeedback || !strings.Contains(got.Reason, "not a moderator") {
			t.Errorf("former moderator's digest reply: %+v", got)
		}
		if st := m.state(1001); st != "pending" {
			t.Errorf("state %s, want pending", st)
		}
		// Configured moderators dropped from the config lose it too.
		m.in.Moderators = []string{"bob@mods.example"}
		if got := m.reply("Alice <alice@mods.example>", m.token["alice@mods.example"], "approve 1"); got.Outcome != OutcomeFeedback {
			t.Errorf("moderator dropped from the config: %+v", got)
		}
	})
	t.Run("roles by address identity", func(t *testing.T) {
		m := newModeration(t, "One.")
		m.in.Admins = []string{"Admin@Forum.Example"}
		tok := m.reportToken("admin@forum.example")
		if got := m.reply("Admin <ADMIN@forum.example>", tok, "pause digests"); got.Outcome != OutcomeReply {
			t.Errorf("admin in another case: %+v", got)
		}
	})
}

// §9: a storage error while authenticating a reply is returned, so the
// watcher leaves the message for the next attempt; nothing is recorded,
// and the retry after the fault applies the reply.
func TestStorageErrorLeavesReplyForRetry(t *testing.T) {
	for _, table := range []string{"moderator_changes", "digests"} {
		t.Run(table, func(t *testing.T) {
			m := newModeration(t, "One.")
			ctx := context.Background()
			raw := msg("Alice <alice@mods.example>", "moderator+d-"+m.token["alice@mods.example"]+"@forum.example", "Re: digest", "retry-1@mods.example", "approve 1")
			f := fetched(raw)
			before := m.count(`SELECT COUNT(*) FROM inbound`)
			// The fault: the table the check reads is gone for a moment.
			if _, err := m.s.pool.Exec(fmt.Sprintf(`ALTER TABLE %s RENAME TO %s_away`, table, table)); err != nil {
				t.Fatal(err)
			}
			if _, err := m.in.Handle(ctx, f); err == nil {
				t.Errorf("a storage error while authenticating was not returned")
			}
			if _, err := m.s.pool.Exec(fmt.Sprintf(`ALTER TABLE %s_away RENAME TO %s`, table, table)); err != nil {
				t.Fatal(err)
			}
			if n := m.count(`SELECT COUNT(*) FROM inbound`); n != before {
				t.Errorf("the failed attempt recorded the message: %+v", lastInbound(t, m.s))
			}
			if n := m.count(`SELECT COUNT(*) FROM feedback WHERE message_id = 'retry-1@mods.example'`); n != 0 {
				t.Errorf("the reply was filed as feedback")
			}
			filing, err := m.in.Handle(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			if filing.Folder != mail.FolderReplies || m.state(1001) != "approved" {
				t.Errorf("retry: filed in %q, state %s", filing.Folder, m.state(1001))
			}
		})
	}
}

// §9: resolving "#id" reports a storage error as an error, never as
// "there is no comment #N".
func TestResolveStorageErrorIsAnError(t *testing.T) {
	m := newModeration(t, "One.")
	tx, err := m.s.pool.Beginx()
	if err != nil {
		t.Fatal(err)
	}
	tx.Rollback() // every query on it now fails
	r := &replyRun{in: m.in, ctx: context.Background(), tx: tx, items: map[int]digestItem{}}
	if _, _, why, err := r.resolve(mail.Target{ID: 1001}); err == nil {
		t.Errorf("resolve on a failing store: why %q, no error", why)
	}
}

// moderation.verify_dkim: modbot checks the signature itself. A reply
// signed by the moderator's domain is applied; one signed by another
// domain, or changed after signing, or unsigned, is feedback; a DNS
// failure leaves the message for the next attempt.
func TestVerifyDKIMReplies(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(bytes.NewReader(bytes.Repeat([]byte{3}, 64)))
	if err != nil {
		t.Fatal(err)
	}
	txt := "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(pub)
	dnsDown := true
	lookup := func(_ context.Context, name string) ([]string, error) {
		switch name {
		case "s1._domainkey.mods.example", "s1._domainkey.evil.example":
			return []string{txt}, nil
		case "s1._domainkey.flaky.example":
			if dnsDown {
				return nil, &tempDNSError{}
			}
			return []string{txt}, nil
		}
		return nil, errors.New("no such name")
	}
	sign := func(domain, raw string) []byte {
		var out bytes.Buffer
		if err := dkim.Sign(&out, strings.NewReader(strings.ReplaceAll(raw, "\n", "\r\n")), &dkim.SignOptions{Domain: domain, Selector: "s1", Signer: priv}); err != nil {
			t.Fatal(err)
		}
		return out.Bytes()
	}
	handle := func(m *moderation, raw []byte) (inboundView, error) {
		uidSeq++
		_, err := m.in.Handle(context.Background(), &mail.Fetched{Mailbox: "INBOX", UIDValidity: 1, UID: uidSeq, Size: int64(len(raw)), Raw: raw})
		return lastInbound(t, m.s), err
	}
	reply := func(m *moderation, from, id string) string {
		return msg(from, "moderator+d-"+m.token["alice@mods.example"]+"@forum.example", "Re: digest", id, "approve 1")
	}
	for _, c := range []struct {
		name    string
		raw     func(m *moderation) []byte
		applied bool
		reason  string
	}{
		{"signed by the moderator's domain", func(m *moderation) []byte {
			return sign("mods.example", reply(m, "Alice <alice@mods.example>", "k1@mods.example"))
		}, true, ""},
		{"signed by another domain", func(m *moderation) []byte {
			return sign("evil.example", reply(m, "Alice <alice@mods.example>", "k2@mods.example"))
		}, false, "pass for evil.example"},
		{"changed after signing", func(m *moderation) []byte {
			return bytes.Replace(sign("mods.example", reply(m, "Alice <alice@mods.example>", "k3@mods.example")), []byte("approve 1"), []byte("reject 1"), 1)
		}, false, "fail for mods.example"},
		{"not signed", func(m *moderation) []byte {
			return []byte(strings.ReplaceAll(reply(m, "Alice <alice@mods.example>", "k4@mods.example"), "\n", "\r\n"))
		}, false, "no DKIM signature"},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := newModeration(t, "One.")
			m.in.VerifyDKIM, m.in.LookupTXT = true, lookup
			got, err := handle(m, c.raw(m))
			if err != nil {
				t.Fatal(err)
			}
			if c.applied != (got.Outcome == OutcomeReply) || !strings.Contains(got.Reason, c.reason) || c.applied != (m.state(1001) == "approved") || !c.applied && m.state(1001) != "pending" {
				t.Errorf("outcome %+v, state %s; want applied %v, reason %q", got, m.state(1001), c.applied, c.reason)
			}
		})
	}
	t.Run("DNS down, then back", func(t *testing.T) {
		m := newModeration(t, "One.")
		m.in.VerifyDKIM, m.in.LookupTXT = true, lookup
		// From a subdomain of flaky.example, so the signature's key is
		// the one the flaky DNS serves.
		m.in.Moderators = append(m.in.Moderators, "alice@flaky.example")
		m.s.pool.MustExec(`UPDATE digests SET moderator = 'alice@flaky.example' WHERE token = ?`, m.token["alice@mods.example"])
		raw := sign("flaky.example", reply(m, "Alice <alice@flaky.example>", "k5@flaky.example"))
		before := m.count(`SELECT COUNT(*) FROM inbound`)
		if _, err := handle(m, raw); err == nil {
			t.Errorf("a DNS failure was not returned")
		}
		if n := m.count(`SELECT COUNT(*) FROM inbound`); n != before {
			t.Errorf("a DNS failure decided the message")
		}
		dnsDown = false
		if got, err := handle(m, raw); err != nil || got.Outcome != OutcomeReply || m.state(1001) != "approved" {
			t.Errorf("retry: %+v %v, state %s", got, err, m.state(1001))
		}
	})
}

type tempDNSError struct{}

func (*tempDNSError) Error() string   { return "timeout" }
func (*tempDNSError) Temporary() bool { return true }
func (*tempDNSError) Timeout() bool   { return true }
