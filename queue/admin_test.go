package queue

import (
	"context"
	"strings"
	"testing"
)

// reportToken makes the row an admin report creates: a token for the
// admin's replies, with no items.
func (m *moderation) reportToken(admin string) string {
	m.t.Helper()
	tok, err := newToken()
	if err != nil {
		m.t.Fatal(err)
	}
	if _, err := m.s.pool.Exec(`INSERT INTO digests (token, moderator, message_id, created_at, kind) VALUES (?, ?, ?, ?, 'report')`,
		tok, admin, "report."+tok+"@modbot.forum.example", m.now); err != nil {
		m.t.Fatal(err)
	}
	return tok
}

func TestAdminCommands(t *testing.T) {
	m := newModeration(t, "One.")
	m.in.Admins = []string{"admin@forum.example"}
	tok := m.reportToken("admin@forum.example")
	ctx := context.Background()

	// Refused from anyone else: a forged From with the admin's token, and
	// the admin without a token.
	if got := m.reply("Eve <eve@evil.example>", tok, "block carol@people.example\nadd moderator eve@evil.example"); got.Outcome != OutcomeFeedback {
		t.Errorf("forged admin reply: %+v", got)
	}
	raw := msg("Admin <admin@forum.example>", "moderator@forum.example", "Re: report", "notok@forum.example", "pause digests",
		"In-Reply-To: <report.x@modbot.forum.example>")
	if _, err := m.in.Handle(ctx, fetched(raw)); err != nil {
		t.Fatal(err)
	}
	if got := lastInbound(t, m.s); got.Outcome != OutcomeFeedback {
		t.Errorf("admin without a token: %+v", got)
	}
	if n := m.count(`SELECT COUNT(*) FROM blocked_senders`) + m.count(`SELECT COUNT(*) FROM moderator_changes`) + m.count(`SELECT COUNT(*) FROM settings`); n != 0 {
		t.Fatalf("refused replies changed %d settings", n)
	}

	// Applied from the admin.
	got := m.reply("Admin <admin@forum.example>", tok, "block Spammer@people.example\nadd moderator carol@mods.example\nremove moderator bob@mods.example\npause digests\nblock nobody")
	if got.Outcome != OutcomeReply {
		t.Fatalf("admin reply: %+v", got)
	}
	if n := m.count(`SELECT COUNT(*) FROM blocked_senders WHERE email = 'spammer@people.example' AND blocked_by = 'admin@forum.example'`); n != 1 {
		t.Errorf("not blocked")
	}
	mods, _ := m.s.Moderators(ctx, m.in.Moderators)
	if strings.Join(mods, " ") != "alice@mods.example carol@mods.example" {
		t.Errorf("moderators %v", mods)
	}
	conf := m.lastMail("confirmation", "admin@forum.example")
	for _, want := range []string{"blocked spammer@people.example", "added moderator carol@mods.example", "removed moderator bob@mods.example", "paused digests", `"block nobody"`} {
		if conf == nil || !strings.Contains(conf.Text, want) {
			t.Errorf("admin confirmation lacks %q:\n%v", want, conf.Text)
		}
	}
	// Bob's replies no longer count; digests are paused.
	if got := m.reply("Bob <bob@mods.example>", m.token["bob@mods.example"], "approve 1"); got.Outcome != OutcomeFeedback {
		t.Errorf("a removed moderator's reply: %+v", got)
	}
	m.submit("New <new@people.example>", "Another.")
	d := newDigester(t, m.s)
	if n, _, _ := d.SendDue(ctx); n != 0 {
		t.Errorf("%d digests while paused", n)
	}
	m.reply("Admin <admin@forum.example>", tok, "resume digests")
	if n, _, _ := d.SendDue(ctx); n != 2 {
		t.Errorf("%d digests after resuming, want alice's and carol's", n)
	}
	if len(digestsTo(t, m.s, "carol@mods.example")) != 1 {
		t.Errorf("the added moderator got no digest")
	}
}
