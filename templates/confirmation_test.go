package templates

import (
	"strings"
	"testing"
	"time"
)

// testConfirmation has every section: decisions applied (one with rules
// and a reason, an edit, spam, an answer to feedback), one taken back, two
// conflicts (another moderator's and the moderator's own earlier
// decision) and lines that were not used.
func testConfirmation() *Confirmation {
	at := func(h, m int) time.Time { return time.Date(2023, 12, 7, h, m, 0, 0, time.UTC) }
	return &Confirmation{
		SiteName:  "Example Forum",
		Moderator: "alice@mods.example",
		Subject:   "Re: [Example Forum] 4 comments to moderate (3 new), 1 feedback message",
		Applied: []ConfirmedItem{
			{Number: 1, ID: 1042, Action: "approved", AuthorName: "Concerned Citizen", PostTitle: seedTitle,
				Text: "What they really mean is the power to snoop.\n\nThey will never stop.", CommentURL: "http://127.0.0.1:8080/posts/" + seedSlug + "#c7"},
			{Number: 3, ID: 1044, Action: "rejected", AuthorName: "Sam", PostTitle: "Court rules on registry", Rules: []int{12, 3, 12}, Reason: "off topic"},
			{Number: 4, ID: 1045, Action: "edited", AuthorName: "Käthe Müller", PostTitle: seedTitle,
				Text: "A long edited text, cut here", Cut: 1200, CommentURL: "http://127.0.0.1:8080/posts/" + seedSlug + "#c8"},
			{Number: 6, ID: 1047, Action: "spam", AuthorName: "Buy now"},
			{Number: 7, Action: "replied", AuthorName: "Reader"},
		},
		Undone: []ConfirmedItem{
			{ID: 1040, Action: "approved", AuthorName: "Tim", PostTitle: seedTitle},
		},
		Conflicts: []ConflictItem{
			{Number: 2, ID: 1043, Action: "approve", DecidedBy: "bob@mods.example", DecidedAction: "rejected", DecidedAt: at(14, 2)},
			{Number: 5, ID: 1046, Action: "reject", DecidedBy: "alice@mods.example", DecidedAction: "approved", DecidedAt: at(13, 30)},
		},
		Revised: []RevisedItem{
			{Number: 8, ID: 1048, Action: "approve"},
			{ID: 1049, Action: "reject", Shown: true},
		},
		Errors: []ReplyError{
			{Line: "aprove 3", Reason: `unknown command "aprove" (did you mean "approve"?)`},
			{Line: "hold 9", Reason: "there is no item 9 in this digest"},
		},
		GraceUntil: at(14, 7),
	}
}

func TestConfirmationGolden(t *testing.T) {
	s := mustLoad(t, "")
	empty := &Confirmation{SiteName: "Example Forum", Moderator: "alice@mods.example", Subject: "Re: [Example Forum] 4 comments to moderate"}
	for name, c := range map[string]*Confirmation{"confirmation": testConfirmation(), "confirmation_empty": empty} {
		t.Run(name, func(t *testing.T) {
			r, err := s.Confirmation(c)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, name+".subject.golden", r.Subject+"\n")
			golden(t, name+".txt.golden", r.Text)
			golden(t, name+".html.golden", r.HTML)
		})
	}
}

func TestConfirmationSays(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(c *Confirmation)
		subject string
		want    []string // in the text part and in the HTML part's text
		not     []string // in neither
	}{
		{
			name: "everything", edit: func(*Confirmation) {},
			subject: "Re: [Example Forum] 4 comments to moderate (3 new), 1 feedback message",
			want: []string{
				"Applied",
				"1. #1042 approved (Concerned Citizen, on “UK accuses Meta of empowering child sexual abusers with encryption rollout”)",
				"3. #1044 rejected under rule 3, rule 12: “off topic” (Sam, on “Court rules on registry”)",
				"4. #1045 edited and published (Käthe Müller,",
				"What they really mean is the power to snoop.",
				"A long edited text, cut here",
				"… and 1200 more characters: http://127.0.0.1:8080/posts/uk-meta-encryption#c8",
				"Not applied, changed by its author since you saw it",
				"8. #1048 was revised after this digest; the new text is in your next digest (you asked: approve)",
				"#1049 was revised after this digest; the new text is in a digest you were sent since (you asked: reject)",
				"6. #1047 rejected as spam, no notice to the author (Buy now)",
				"7. answered (Reader)",
				"Undone",
				"#1040 approved: taken back, pending again (Tim,",
				"Not applied, already decided",
				"2. #1043 was rejected by bob@mods.example at 14:02 UTC, Thu 7 Dec (you asked: approve)",
				"5. #1046 was approved by you at 13:30 UTC, Thu 7 Dec (you asked: reject)",
				"Not understood or not applicable",
				`"aprove 3" — unknown command "aprove" (did you mean "approve"?)`,
				`"hold 9" — there is no item 9 in this digest`,
				`Reply "undo" before 14:07 UTC to take these back ("undo #1042" for one); the commenters are notified after that.`,
			},
			not: []string{"No commands were found", "Nothing was applied", "For example:"},
		},
		{
			name: "nothing found",
			edit: func(c *Confirmation) {
				c.Applied, c.Undone, c.Conflicts, c.Revised, c.Errors = nil, nil, nil, nil, nil
			},
			subject: "Re: [Example Forum] 4 comments to moderate (3 new), 1 feedback message",
			want:    []string{"No commands were found in your reply, so nothing changed.", "approve 1 3", "reject 2 rule 11", "above the quoted digest"},
			not:     []string{"Applied", "undo\" before", "Not understood"},
		},
		{
			name: "only errors",
			edit: func(c *Confirmation) {
				c.Applied, c.Undone, c.Conflicts, c.Revised = nil, nil, nil, nil
			},
			subject: "Re: [Example Forum] 4 comments to moderate (3 new), 1 feedback message",
			want:    []string{"Nothing was applied.", `"aprove 3" — unknown command`, "For example:"},
			not:     []string{"No commands were found", "undo\" before"},
		},
		{
			name: "only a conflict, no grace",
			edit: func(c *Confirmation) {
				c.Applied, c.Undone, c.Errors, c.Revised = nil, nil, nil, nil
				c.GraceUntil = time.Time{}
				c.Subject = "RE: digest"
			},
			subject: "Re: digest",
			want:    []string{"Nothing was applied.", "2. #1043 was rejected by bob@mods.example"},
			not:     []string{"For example:", "before"},
		},
		{
			name: "only a revised item",
			edit: func(c *Confirmation) {
				c.Applied, c.Undone, c.Errors, c.Conflicts = nil, nil, nil, nil
				c.Revised = c.Revised[:1]
			},
			subject: "Re: [Example Forum] 4 comments to moderate (3 new), 1 feedback message",
			want:    []string{"Nothing was applied.", "8. #1048 was revised after this digest; the new text is in your next digest"},
			not:     []string{"For example:", "undo\" before", "No commands"},
		},
		{
			name: "applied, grace unknown",
			edit: func(c *Confirmation) {
				c.GraceUntil = time.Time{}
				c.Subject = ""
			},
			subject: "[Example Forum] what your reply did",
			want:    []string{"1. #1042 approved"},
			not:     []string{"undo\" before"},
		},
		{
			name: "undo only",
			edit: func(c *Confirmation) {
				c.Applied, c.Conflicts, c.Errors, c.Revised = nil, nil, nil, nil
				c.Undone = []ConfirmedItem{{Number: 1, ID: 1042, Action: "undone"}, {Number: 7, Action: "replied", AuthorName: "Reader"}}
			},
			subject: "Re: [Example Forum] 4 comments to moderate (3 new), 1 feedback message",
			want:    []string{"Undone", "1. #1042 taken back, pending again", "7. answer taken back, it will not be sent (Reader)"},
			not:     []string{"Nothing was applied", "For example:", "undo\" before"},
		},
	}
	s := mustLoad(t, "")
	straight := strings.NewReplacer("“", `"`, "”", `"`)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := testConfirmation()
			tc.edit(c)
			r, err := s.Confirmation(c)
			if err != nil {
				t.Fatal(err)
			}
			if r.Subject != tc.subject {
				t.Errorf("subject %q, want %q", r.Subject, tc.subject)
			}
			text := unwrapText(r.Text)
			htmlText := htmlText(t, r.HTML)
			for _, w := range tc.want {
				if !strings.Contains(text, w) {
					t.Errorf("text part lacks %q", w)
				}
				if !strings.Contains(straight.Replace(htmlText), straight.Replace(w)) {
					t.Errorf("HTML part lacks %q", w)
				}
			}
			for _, w := range tc.not {
				if strings.Contains(text, w) || strings.Contains(htmlText, w) {
					t.Errorf("confirmation says %q", w)
				}
			}
			checkWidth(t, r.Text)
		})
	}
	if _, err := s.Confirmation(nil); err == nil {
		t.Error("nil confirmation rendered")
	}
}

func TestConfirmationHostile(t *testing.T) {
	c := testConfirmation()
	c.Subject = "Re: x\r\nBcc: victim@example.com"
	c.SiteName = "Forum <b>&</b>"
	c.Applied[0].AuthorName = "Jane <script>alert(1)</script>\r\nBcc: x"
	c.Applied[1].Reason = "<img src=x onerror=alert(1)> & co"
	c.Applied[0].Text = "<script>alert(2)</script>\r\n<b>bold</b>"
	c.Errors[0].Line = "<iframe>"
	c.Conflicts[0].DecidedBy = "<style>@x</style>"
	r, err := mustLoad(t, "").Confirmation(c)
	if err != nil {
		t.Fatal(err)
	}
	if r.Subject != "Re: x Bcc: victim@example.com" {
		t.Errorf("subject %q", r.Subject)
	}
	checkNoElements(t, r.HTML)
	for _, want := range []string{"Jane <script>alert(1)</script> Bcc: x", "<img src=x onerror=alert(1)> & co", "Forum <b>&</b> moderation", "<script>alert(2)</script> <b>bold</b>"} {
		if !strings.Contains(htmlText(t, r.HTML), want) {
			t.Errorf("HTML part does not show %q as text", want)
		}
		if !strings.Contains(unwrapText(r.Text), want) {
			t.Errorf("text part does not show %q", want)
		}
	}
}

func TestConfirmedItemRuleText(t *testing.T) {
	it := ConfirmedItem{Rules: []int{12, 3, 12}}
	if got := it.RuleText(); got != "rule 3, rule 12" {
		t.Errorf("RuleText = %q", got)
	}
	if it.Rules[0] != 12 {
		t.Error("RuleText sorted the item's rules in place")
	}
	if got := (ConfirmedItem{}).RuleText(); got != "" {
		t.Errorf("no rules: %q", got)
	}
}
