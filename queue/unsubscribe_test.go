package queue

import (
	"context"
	"strings"
	"testing"

	"modbot/mail"
)

const dave = "dave@people.example"

// followingDave is a moderation where Dave confirmed that he follows
// every new comment of the post, and has had one notice of one (Carol's,
// whose author got her own "approved" notice).
func followingDave(t *testing.T) *moderation {
	t.Helper()
	m := newModeration(t)
	m.submit("Dave <dave@people.example>", "I follow this.", "X-Comment-Notify: all")
	if got := m.answer(m.notices("subscribe", dave)[0], "Dave <dave@people.example>", "confirm"); got.Outcome != OutcomeSubscription {
		t.Fatalf("dave's confirm: %+v", got)
	}
	m.submit("Carol <carol@people.example>", "Encryption protects everyone.")
	m.approveAll()
	if n := len(m.notices("new_comment", dave)); n != 1 {
		t.Fatalf("dave has %d new-comment notices, want 1", n)
	}
	return m
}

// daveHearsOfNext approves one more comment and reports whether Dave was
// told of it.
func daveHearsOfNext(m *moderation) bool {
	m.t.Helper()
	before := len(m.notices("new_comment", dave))
	m.submit("Frank <frank@people.example>", "One more.")
	m.approveAll()
	return len(m.notices("new_comment", dave)) == before+1
}

// TestOnlyTheSubscriberCanUnsubscribe tries to stop Dave's notices with
// replies that say "unsubscribe" but that Dave did not send. Only an
// answer to a notice that went to the address unsubscribes it.
func TestOnlyTheSubscriberCanUnsubscribe(t *testing.T) {
	tests := []struct {
		name        string
		from        string
		to          func(m *moderation) *mail.Message // what the reply answers
		wantOutcome string
		wantReason  string
		daveStops   bool
	}{
		{"forged From, modbot-looking In-Reply-To", "Dave <dave@people.example>", func(*moderation) *mail.Message {
			return &mail.Message{MessageID: "notice.x7y8z9@modbot.forum.example", Subject: "New comment"}
		}, OutcomeFeedback, "does not answer a notice sent to this address", false},
		{"forged From, a real notice sent to someone else", "Dave <dave@people.example>", func(m *moderation) *mail.Message {
			return m.notices("approved", "carol@people.example")[0]
		}, OutcomeFeedback, "does not answer a notice sent to this address", false},
		{"someone else answering Dave's notice", "Eve <eve@evil.example>", func(m *moderation) *mail.Message {
			return m.notices("new_comment", dave)[0]
		}, OutcomeFeedback, "does not answer a notice sent to this address", false},

		{"Dave answering his notice", "Dave <dave@people.example>", func(m *moderation) *mail.Message {
			return m.notices("new_comment", dave)[0]
		}, OutcomeSubscription, "unsubscribe by reply", true},
		{"Dave, spelled otherwise, answering his notice", "Dave <DAVE+lists@People.Example>", func(m *moderation) *mail.Message {
			return m.notices("new_comment", dave)[0]
		}, OutcomeSubscription, "unsubscribe by reply", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := followingDave(t)
			got := m.answer(tt.to(m), tt.from, "unsubscribe")
			if got.Outcome != tt.wantOutcome || !strings.Contains(got.Reason, tt.wantReason) {
				t.Errorf("reply: %+v, want %s with %q", got, tt.wantOutcome, tt.wantReason)
			}
			if hears := daveHearsOfNext(m); hears == tt.daveStops {
				t.Errorf("dave hears of the next comment: %v", hears)
			}
		})
	}
}

// TestResubscribingAfterUnsubscribeWorks: a confirmed new subscription,
// by reply or on the page, lifts an earlier unsubscribe, and notices
// come again; the old confirmation link alone does not.
func TestResubscribingAfterUnsubscribeWorks(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		confirm func(m *moderation) bool // false: nothing to confirm
		hears   bool
	}{
		{"confirmed by reply", func(m *moderation) bool {
			conf := m.notices("subscribe", dave)
			return m.answer(conf[len(conf)-1], "Dave <dave@people.example>", "yes").Outcome == OutcomeSubscription
		}, true},
		{"confirmed on the page", func(m *moderation) bool {
			conf := m.notices("subscribe", dave)
			sub, err := m.s.ConfirmSubscription(ctx, confirmToken(m.t, conf[len(conf)-1]))
			if err != nil {
				m.t.Fatal(err)
			}
			return sub.State == "active"
		}, true},
		{"old confirmation link, no new request", func(m *moderation) bool {
			sub, err := m.s.ConfirmSubscription(ctx, confirmToken(m.t, m.notices("subscribe", dave)[0]))
			if err != nil {
				m.t.Fatal(err)
			}
			return sub.State == "active"
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := followingDave(t)
			if got := m.answer(m.notices("new_comment", dave)[0], "Dave <dave@people.example>", "unsubscribe"); got.Outcome != OutcomeSubscription {
				t.Fatalf("unsubscribe: %+v", got)
			}
			if daveHearsOfNext(m) {
				t.Fatal("dave still hears after unsubscribing")
			}
			if tt.hears {
				// He asks again, answering a notice of his.
				if got := m.answer(m.notices("new_comment", dave)[0], "Dave <dave@people.example>", "subscribe all"); got.Outcome != OutcomeSubscription {
					t.Fatalf("subscribe again: %+v", got)
				}
				if n := len(m.notices("subscribe", dave)); n != 2 {
					t.Fatalf("%d confirmation mails, want 2", n)
				}
			}
			if ok := tt.confirm(m); ok != tt.hears {
				t.Errorf("confirmed: %v", ok)
			}
			if hears := daveHearsOfNext(m); hears != tt.hears {
				t.Errorf("dave hears of the next comment: %v, want %v", hears, tt.hears)
			}
		})
	}
}

// confirmToken reads the token of a confirmation mail's link.
func confirmToken(t *testing.T, conf *mail.Message) string {
	t.Helper()
	const p = "/subscriptions/confirm/"
	i := strings.Index(conf.Text, p)
	if i < 0 {
		t.Fatalf("no confirmation link in %q", conf.Text)
	}
	return strings.Fields(conf.Text[i+len(p):])[0]
}

// A forged "subscribe all" answering the attacker's own notice, From
// Dave: his active subscription is left as it was, and he gets no
// confirmation request he never asked for.
func TestOnlySubscriberChangesSubscription(t *testing.T) {
	m := followingDave(t)
	carols := m.notices("approved", "carol@people.example")[0]
	confirms := len(m.notices("subscribe", dave))
	if got := m.answer(carols, "Dave <dave@people.example>", "subscribe"); got.Outcome == OutcomeSubscription {
		t.Errorf("a forged subscribe was taken: %+v", got)
	}
	if n := len(m.notices("subscribe", dave)); n != confirms {
		t.Errorf("dave got %d confirmation requests he did not ask for", n-confirms)
	}
	if n := m.count(`SELECT COUNT(*) FROM subscriptions WHERE email_key = ? AND state = 'active'`, dave); n != 1 {
		t.Errorf("dave's subscription is no longer active (%d active)", n)
	}
	if !daveHearsOfNext(m) {
		t.Error("dave no longer hears of new comments")
	}
}
