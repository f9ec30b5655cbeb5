package mail

import (
	"fmt"
	"testing"
	"time"

	"modbot/templates"
)

// replyData is what the messages of TestRepliesNeverReadModbotsMail
// show: ordinary data, or data a commenter chose to look like commands
// and like the mail's own structure.
type replyData struct {
	site, name, addr, title, text, short string
}

var (
	ordinaryData = replyData{site: "Example Forum", name: "Ann Person", addr: "ann@people.example",
		title: "UK accuses Meta", text: "I think this is fine.\nThanks for the article.", short: "off topic"}
	hostileData = replyData{site: "approve all", name: "approve all " + forged, addr: "undo@evil.example",
		title: "reject 2 rule 11 " + forged, text: hostileBody, short: "approve 1 3"}
)

// moderatorMail renders, with the embedded templates, every message a
// moderator or an admin may reply to, showing d.
func moderatorMail(t *testing.T, d replyData) map[string]*templates.Rendered {
	t.Helper()
	set, err := templates.Load("")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	out := map[string]*templates.Rendered{}
	add := func(name string, r *templates.Rendered, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out[name] = r
	}
	hits := []templates.Hit{{Rule: 11, Title: d.short, Severity: "flag", Evidence: d.name, Explanation: d.text}}
	digest := &templates.Digest{SiteName: d.site, BaseURL: "http://forum.example", Moderator: "alice@mods.example",
		ReplyAddress: "moderator+d-tok@forum.example", Generated: at, More: 2,
		Overdue: []templates.OverdueItem{{ID: 999, PostTitle: d.title, AuthorName: d.name, Received: at, Waiting: "3 days"}},
		Items: []templates.DigestItem{
			{Number: 1, ID: 1001, PostSlug: d.title, PostKnown: false, AuthorName: d.name, AuthorEmail: d.addr,
				Received: at, ParentSnippet: d.text, Body: d.text, Hits: hits, Reminder: true, Revised: true},
			{Number: 2, ID: 1002, PostSlug: "uk", PostTitle: d.title, PostURL: "http://forum.example/posts/uk", PostKnown: true,
				AuthorName: d.name, AuthorEmail: d.addr, Received: at, Body: d.text},
		},
		Feedback: []templates.FeedbackItem{{Number: 3, FromName: d.name, FromAddr: d.addr, Subject: d.title, Text: d.text, Received: at}},
		Decided:  []templates.DecidedItem{{ID: 990, Action: "approved", Moderator: "bob@mods.example", When: at}},
	}
	r, err := set.Digest(digest)
	add("digest", r, err)
	bare := &templates.Digest{SiteName: d.site, Moderator: "alice@mods.example", ReplyAddress: "moderator+d-tok@forum.example",
		Generated: at, Items: digest.Items[1:]}
	r, err = set.Digest(bare)
	add("digest, one item", r, err)

	conf := &templates.Confirmation{SiteName: d.site, Moderator: "alice@mods.example", Subject: d.title, GraceUntil: at,
		Applied: []templates.ConfirmedItem{
			{Number: 1, ID: 1001, Action: "approved", AuthorName: d.name, PostTitle: d.title, Text: d.text},
			{Number: 2, ID: 1002, Action: "rejected", AuthorName: d.name, Rules: []int{11}, Reason: d.short},
			{Number: 3, Action: "replied", Text: d.text},
		},
		Undone:    []templates.ConfirmedItem{{ID: 990, Action: "approved", AuthorName: d.name, PostTitle: d.title}},
		Conflicts: []templates.ConflictItem{{Number: 4, ID: 1004, Action: d.short, DecidedBy: "bob@mods.example", DecidedAction: "rejected", DecidedAt: at}},
		Revised:   []templates.RevisedItem{{Number: 5, ID: 1005, Action: d.short}},
		Errors:    []templates.ReplyError{{Line: d.short, Reason: d.title}},
	}
	r, err = set.Confirmation(conf)
	add("confirmation", r, err)
	r, err = set.Confirmation(&templates.Confirmation{SiteName: d.site, Moderator: "alice@mods.example", Subject: d.title})
	add("confirmation, nothing found", r, err)
	r, err = set.Confirmation(&templates.Confirmation{SiteName: d.site, Moderator: "alice@mods.example", Subject: d.title,
		Errors: []templates.ReplyError{{Line: d.short, Reason: d.title}}})
	add("confirmation, errors only", r, err)

	r, err = set.AdminConfirmation(&templates.AdminConfirmation{SiteName: d.site, Admin: "root@forum.example", Subject: d.title,
		Applied: []string{d.short, d.name}, Errors: []templates.ReplyError{{Line: d.short, Reason: d.title}}})
	add("admin confirmation", r, err)
	r, err = set.AdminConfirmation(&templates.AdminConfirmation{SiteName: d.site, Admin: "root@forum.example", Subject: d.title})
	add("admin confirmation, nothing found", r, err)

	r, err = set.Escalation(&templates.Escalation{SiteName: d.site, Threshold: "4 days", Items: digest.Overdue})
	add("escalation", r, err)
	r, err = set.Undeliverable(&templates.Undeliverable{SiteName: d.site, Moderator: "alice@mods.example", Error: d.text,
		Bytes: 12345, Comments: []int64{1001, 1002}, Feedback: 1, Failures: 2})
	add("undeliverable", r, err)

	for _, kind := range []string{"daily", "weekly"} {
		rep := &templates.Report{SiteName: d.site, BaseURL: "http://forum.example", Kind: kind, From: at, To: at.Add(24 * time.Hour),
			Generated: at, Admin: "root@forum.example", ReplyAddress: "admin+r-tok@forum.example",
			Received: 9, Blocked: 1, Approved: 5, Edited: 1, Rejected: 2, Spam: 1, Held: 1,
			ByRule: []templates.RuleCount{{Rule: 11, Title: d.short, Count: 2}},
			Timed:  7, Median: templates.KnownElapsed(90 * time.Minute),
			Moderators: []templates.ModeratorCount{{Moderator: d.addr, Total: 3, Approved: 1, Rejected: 1, Spam: 1}},
			Pending:    3, Oldest: &templates.WaitingItem{ID: 999, Since: at, PostTitle: d.title},
			OutboxFailed: 1, Failures: []templates.OutboxFailure{{At: at, To: d.addr, Kind: "notice", Error: d.short}},
			Bounced: 1, Bounces: []templates.Bounce{{At: at, Addr: d.addr, Reason: d.short}},
			WithheldTotal: 4,
			Days:          []templates.Day{{Date: at, Submissions: 4}},
		}
		r, err = set.Report(rep)
		add("report, "+kind, r, err)
	}
	return out
}

// TestRepliesNeverReadModbotsMail renders every message a moderator or
// an admin may reply to (there is one language today), each part, with
// ordinary and with hostile data, and reads each rendering as a reply
// that quotes it without quote marks: with nothing typed above it,
// nothing may be read; with one command typed above it, only that
// command. The text part is read as sent and the HTML part both as the
// HTML path reads it and as a client's conversion to plain text. The
// subject is a header, never read for commands.
func TestRepliesNeverReadModbotsMail(t *testing.T) {
	for dataName, d := range map[string]replyData{"ordinary": ordinaryData, "hostile": hostileData} {
		for name, r := range moderatorMail(t, d) {
			if r.Text == "" {
				t.Fatalf("%s: no text part", name)
			}
			parts := map[string]func(own string) *Message{
				"text": func(own string) *Message { return &Message{Text: own + r.Text} },
			}
			if r.HTML != "" {
				parts["html"] = func(own string) *Message {
					return &Message{HTML: "<div>" + own + "</div>" + r.HTML, HTMLOnly: true}
				}
				parts["html as text"] = func(own string) *Message { return &Message{Text: own + htmlToText(r.HTML)} }
			}
			for part, msg := range parts {
				t.Run(fmt.Sprintf("%s/%s/%s", dataName, name, part), func(t *testing.T) {
					reply := ExtractReply(msg(""))
					cmds, errs := ParseCommands(reply)
					if reply.Text != "" || len(cmds) != 0 || len(errs) != 0 {
						t.Errorf("read from modbot's own mail:\n%s\ncommands: %s", reply.Text, FormatCommands(cmds, errs))
					}
					reply = ExtractReply(msg("hold 7\n\n"))
					if reply.Text != "hold 7" {
						t.Errorf("own text below a command:\n%s", reply.Text)
					}
				})
			}
		}
	}
}

// TestOwnLinesAreNotModbotsMail lists lines a moderator may type, each
// close to a line of modbot's mail: none may end the own text, or the
// commands below it would be lost.
func TestOwnLinesAreNotModbotsMail(t *testing.T) {
	for _, l := range []string{
		"approve 1 3", "approve all", "reject 2 rule 11", "reject 4: off topic", "undo", "undo #1042",
		"reply 8: thanks, fixed", "edit 5: the new text", "hold 6", "spam 7",
		"Approved 2", "Spam 3", "Held 4", "  Spam 3", "  hold 2", "  approve 1", "  - approve 3",
		"Applied, thanks", "Mail", "Done", "Thanks", "moderators.", "I agree with the other moderators.",
		"These comments are all spam.", "The numbers", "Comment #12 is fine", "From me to you",
		"Post this one", "Received your mail", "the commenters are fine", "| a | b |",
		"#1042 is spam", "3. approve", "3 #1042 approve",
	} {
		if isDigestLine(replyClean(l), l) {
			t.Errorf("%q taken for a line of modbot's mail", l)
		}
		r := ExtractReply(&Message{Text: l + "\napprove 9\n"})
		if cmds, _ := ParseCommands(r); len(cmds) == 0 || cmds[len(cmds)-1].Raw != "approve 9" {
			t.Errorf("%q above a command: read %q", l, r.Text)
		}
	}
}
