package queue

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"

	"modbot/mail"
)

// dsn is a delivery report from a receiving MTA, sent to rcpt, about
// the message with returnedID ("" for none), with one status block per
// "address action status" line.
func dsn(rcpt, returnedID string, blocks ...string) string {
	var st strings.Builder
	st.WriteString("Reporting-MTA: dns; mx.people.example\n")
	for _, b := range blocks {
		f := strings.Fields(b)
		fmt.Fprintf(&st, "\nFinal-Recipient: rfc822; %s\nAction: %s\nStatus: %s\n", f[0], f[1], f[2])
	}
	raw := "From: Mail Delivery System <MAILER-DAEMON@mx.people.example>\nTo: " + rcpt + "\nSubject: Undelivered Mail Returned to Sender\n" +
		"Message-ID: <" + fmt.Sprintf("dsn%d", uidSeq) + "@mx.people.example>\nMIME-Version: 1.0\n" +
		"Content-Type: multipart/report; report-type=delivery-status; boundary=b\n\n" +
		"--b\nContent-Type: text/plain\n\nYour message could not be delivered.\n--b\nContent-Type: message/delivery-status\n\n" + st.String()
	if returnedID != "" {
		raw += "--b\nContent-Type: text/rfc822-headers\n\nFrom: Test Forum <moderator@forum.example>\nMessage-ID: <" + returnedID + ">\n\n"
	}
	return raw + "--b--\n"
}

// bounced lists the addresses marked as bouncing.
func (m *moderation) bounced() []string {
	m.t.Helper()
	var out []string
	if err := m.s.pool.Select(&out, `SELECT email FROM recipients WHERE bounced_at IS NOT NULL ORDER BY email`); err != nil {
		m.t.Fatal(err)
	}
	return out
}

// returnPath is the envelope sender modbot uses for a message it sends.
func (m *moderation) returnPath(messageID string) string {
	m.t.Helper()
	var from, token string
	if err := m.s.pool.QueryRow(`SELECT mail_from, bounce_token FROM outbox WHERE message_id = ?`, messageID).Scan(&from, &token); err != nil {
		m.t.Fatal(err)
	}
	return returnPath(from, token)
}

// TestBounceMarksOnlyTheRecipientOfAMessageModbotSent tries to get
// addresses marked as bouncing (so modbot stops mailing them) with
// reports about mail modbot never sent them. Only a permanent failure
// reported about one message modbot sent marks, and only its recipient.
func TestBounceMarksOnlyTheRecipientOfAMessageModbotSent(t *testing.T) {
	const carol, bob = "carol@people.example", "bob@people.example"
	tests := []struct {
		name string
		// raw builds the inbound mail from carol's and bob's "approved"
		// notices.
		raw        func(m *moderation, toCarol, toBob *mail.Message) string
		wantMarked []string
		wantReason string
	}{
		{"X-Failed-Recipients forgery", func(m *moderation, _, _ *mail.Message) string {
			return msg("Eve <eve@evil.example>", "moderator@forum.example", "hello", "xfr@evil.example", "hi",
				"X-Failed-Recipients: carol@people.example, bob@people.example")
		}, nil, "nothing marked"},
		{"forged report naming addresses modbot never mailed", func(m *moderation, _, _ *mail.Message) string {
			return dsn("moderator@forum.example", "notice.forged@modbot.forum.example", carol+" failed 5.1.1", bob+" failed 5.1.1")
		}, nil, "returns a message modbot did not send: nothing marked"},
		{"forged report without a returned message", func(m *moderation, _, _ *mail.Message) string {
			return dsn("moderator@forum.example", "", carol+" failed 5.1.1")
		}, nil, "names no message modbot sent: nothing marked"},
		{"bob's notice returned, naming carol", func(m *moderation, _, toBob *mail.Message) string {
			return dsn("moderator@forum.example", toBob.MessageID, carol+" failed 5.1.1")
		}, nil, "not a permanent failure for that address: nothing marked"},
		{"unknown return path", func(m *moderation, _, _ *mail.Message) string {
			return dsn("moderator+b-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@forum.example", "", carol+" failed 5.1.1")
		}, nil, "return path modbot does not know: nothing marked"},
		{"delay report to carol's return path", func(m *moderation, toCarol, _ *mail.Message) string {
			return dsn(m.returnPath(toCarol.MessageID), toCarol.MessageID, carol+" delayed 4.4.1")
		}, nil, "no permanent failure in it: nothing marked"},
		{"auto-reply to carol's return path", func(m *moderation, toCarol, _ *mail.Message) string {
			return msg("Carol <carol@people.example>", m.returnPath(toCarol.MessageID), "Out of office", "ooo@people.example", "Away.",
				"Auto-Submitted: auto-replied")
		}, nil, "no permanent failure in it: nothing marked"},

		{"report to carol's return path", func(m *moderation, toCarol, _ *mail.Message) string {
			return dsn(m.returnPath(toCarol.MessageID), "", carol+" failed 5.1.1")
		}, []string{carol}, "came to its return path"},
		{"report to carol's return path, after forwarding", func(m *moderation, toCarol, _ *mail.Message) string {
			return dsn(m.returnPath(toCarol.MessageID), "", "carol.old@elsewhere.example failed 5.1.1")
		}, []string{carol}, "came to its return path"},
		{"report returning carol's notice, naming her", func(m *moderation, toCarol, _ *mail.Message) string {
			return dsn("moderator@forum.example", toCarol.MessageID, "CAROL@People.Example failed 5.1.1", bob+" failed 5.1.1")
		}, []string{carol}, "returns its header"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newModeration(t)
			m.submit("Carol <carol@people.example>", "Encryption protects everyone.")
			m.submit("Bob <bob@people.example>", "I agree.")
			m.approveAll()
			toCarol, toBob := m.notices("approved", carol), m.notices("approved", bob)
			if len(toCarol) != 1 || len(toBob) != 1 {
				t.Fatalf("approved notices: carol %d, bob %d", len(toCarol), len(toBob))
			}
			if _, err := m.in.Handle(context.Background(), fetched(tt.raw(m, toCarol[0], toBob[0]))); err != nil {
				t.Fatal(err)
			}
			got := lastInbound(t, m.s)
			if got.Outcome != OutcomeIgnored || !strings.Contains(got.Reason, tt.wantReason) {
				t.Errorf("inbound %+v, want ignored with %q", got, tt.wantReason)
			}
			if b := m.bounced(); fmt.Sprint(b) != fmt.Sprint(tt.wantMarked) {
				t.Errorf("marked as bouncing: %v, want %v", b, tt.wantMarked)
			}
			// Whoever is not marked still hears from modbot: the next
			// notice to carol is written (to a marked address, none is).
			before := m.count(`SELECT COUNT(*) FROM outbox WHERE rcpt_to = 'carol@people.example'`)
			tx, err := m.s.pool.Beginx()
			if err != nil {
				t.Fatal(err)
			}
			if err := m.in.enqueueNotice(context.Background(), tx, m.in.noticeView("received", &submissionRow{AuthorName: "Carol"}), noticeTo{Addr: carol}); err != nil {
				t.Fatal(err)
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
			after := m.count(`SELECT COUNT(*) FROM outbox WHERE rcpt_to = 'carol@people.example'`)
			if wantCarol := len(tt.wantMarked) == 0; (after == before+1) != wantCarol {
				t.Errorf("carol's next notice written: %v; marked %v", after == before+1, tt.wantMarked)
			}
		})
	}
}

// envelopeSender records the SMTP envelope of what the outbox sends.
type envelopeSender struct {
	mu    sync.Mutex
	froms []string
	raws  []string
}

func (e *envelopeSender) Send(_ context.Context, from string, _ []string, raw []byte) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.froms = append(e.froms, from)
	e.raws = append(e.raws, string(raw))
	return nil
}

// TestEachMessageHasItsOwnReturnPath: the envelope sender of every
// outgoing message is moderator+b-<token>@, a token of its own, while the
// header From stays the site's; with return paths off, it is the site's
// address.
func TestEachMessageHasItsOwnReturnPath(t *testing.T) {
	for _, on := range []bool{true, false} {
		t.Run(fmt.Sprint("return paths ", on), func(t *testing.T) {
			m := newModeration(t, "First comment.", "Second comment.")
			m.approveAll()
			es := &envelopeSender{}
			o := NewOutbox(m.s, es, nil)
			o.ReturnPaths = on
			if _, err := o.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
			if len(es.froms) < 4 {
				t.Fatalf("only %d messages sent", len(es.froms))
			}
			vrp := regexp.MustCompile(`^moderator\+b-([a-z0-9]{32})@forum\.example$`)
			seen := map[string]bool{}
			for i, from := range es.froms {
				pm, err := mail.Parse(strings.NewReader(es.raws[i]), nil)
				if err != nil {
					t.Fatal(err)
				}
				if pm.From == nil || pm.From.Addr != "moderator@forum.example" {
					t.Errorf("header From %v, want the site's address", pm.From)
				}
				if !on {
					if from != "moderator@forum.example" {
						t.Errorf("envelope sender %q with return paths off", from)
					}
					continue
				}
				sm := vrp.FindStringSubmatch(from)
				if sm == nil {
					t.Errorf("envelope sender %q is not a return path", from)
					continue
				}
				if seen[sm[1]] {
					t.Errorf("return path %q used twice", from)
				}
				seen[sm[1]] = true
				// A report to it is recognised as one.
				if c := mail.Classify(&mail.Message{From: &mail.Address{Addr: "MAILER-DAEMON@mx.example"}, To: []mail.Address{{Addr: from}}},
					mail.SiteAddress{Address: "moderator@forum.example"}); c.BounceToken != sm[1] {
					t.Errorf("report to %s: classified %+v", from, c)
				}
			}
		})
	}
}

// refusingAll refuses every message with err.
type refusingAll struct{ err error }

func (r refusingAll) Send(context.Context, string, []string, []byte) error { return r.err }

// TestRefusedSenderMarksNoRecipient: a server that refuses the sender
// (for example a return path it does not allow) fails the message, but
// says nothing about the recipient, who is not marked; a refused
// recipient is.
func TestRefusedSenderMarksNoRecipient(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		marked bool
	}{
		{"sender refused", &mail.SendError{Op: "mail", Code: 553, Enhanced: "5.7.1", Message: "sender not owned by user"}, false},
		{"recipient refused", &mail.SendError{Op: "rcpt", Code: 550, Enhanced: "5.1.1", Message: "no such user"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newModeration(t)
			m.submit("Carol <carol@people.example>", "Encryption protects everyone.")
			m.approveAll()
			if _, err := NewOutbox(m.s, refusingAll{tt.err}, nil).Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
			if n := m.count(`SELECT COUNT(*) FROM outbox WHERE rcpt_to = 'carol@people.example' AND state = 'failed'`); n == 0 {
				t.Fatal("carol's notice did not fail")
			}
			if got := len(m.bounced()) > 0; got != tt.marked {
				t.Errorf("marked %v, want marked: %v", m.bounced(), tt.marked)
			}
		})
	}
}
