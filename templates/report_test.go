package templates

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"
)

// testReport is a daily report with every section filled, a display
// value that tries HTML, and a month of days, some without decisions.
func testReport() *Report {
	day := time.Date(2025, 3, 6, 0, 0, 0, 0, time.UTC)
	r := &Report{
		SiteName: "Example Forum", BaseURL: "http://127.0.0.1:8080",
		Kind: "daily", From: day, To: day.AddDate(0, 0, 1), Generated: day.Add(30 * time.Hour),
		Admin: "admin@forum.example", ReplyAddress: "moderator+d-r3p0rt@forum.example",
		Received: 12, Blocked: 1, Approved: 5, Edited: 1, Rejected: 3, Spam: 1, Held: 2,
		ByRule: []RuleCount{
			{Rule: 3, Title: "Swear words should be starred out", Count: 2},
			{Rule: 12, Title: "Full links only, no abbreviated / obfuscated links, and a title long enough to clip", Count: 1},
			{Rule: 14, Count: 1},
			{Rule: 0, Count: 1},
		},
		Timed: 9, Median: KnownElapsed(2*time.Hour + 5*time.Minute), P95: KnownElapsed(26*time.Hour + 10*time.Minute),
		Moderators: []ModeratorCount{
			{Moderator: "alice@mods.example", Total: 8, Approved: 4, Rejected: 2, Spam: 1, Held: 1},
			{Moderator: "bob@mods.example", Total: 3, Approved: 1, Rejected: 1, Held: 1},
		},
		Pending: 4, HeldNow: 1,
		Oldest: &WaitingItem{ID: 1003, Since: day.Add(-50 * time.Hour), Waiting: KnownElapsed(80 * time.Hour),
			PostSlug: "uk-meta-encryption", PostTitle: "UK accuses Meta <b>of</b> empowering child sexual abusers"},
		OutboxFailed: 2, InDoubt: 1,
		Failures: []OutboxFailure{
			{At: day.Add(14*time.Hour + 5*time.Minute), To: "jane@example.org", Kind: "notice", Error: "550 5.1.1 <jane@example.org>: user unknown"},
			{At: day.Add(9 * time.Hour), To: "alice@mods.example", Kind: "digest", Error: "552 message too big"},
		},
		Bounced:     1,
		Bounces:     []Bounce{{At: day.Add(15 * time.Hour), Addr: "gone@example.net", Reason: "bounce: 5.1.1 mailbox unavailable"}},
		Quarantined: 1,
		Chart:       &ReportChart{CID: "chart.daily.20250306@forum.example", Width: 600, Height: 240, Gridlines: 4, BarStep: 2, LineStep: KnownElapsed(time.Hour)},
	}
	for i := range 30 {
		d := Day{Date: r.To.AddDate(0, 0, i-30), Submissions: i % 7}
		if i%5 != 0 {
			d.Median = KnownElapsed(time.Duration(i) * 17 * time.Minute)
		}
		r.Days = append(r.Days, d)
	}
	return r
}

func TestReportGolden(t *testing.T) {
	s := mustLoad(t, "")
	for name, edit := range map[string]func(*Report){
		"report": func(*Report) {},
		"report_empty": func(r *Report) {
			*r = Report{SiteName: r.SiteName, Kind: "weekly", From: r.From.AddDate(0, 0, -3), To: r.From.AddDate(0, 0, 4),
				Generated: r.Generated, Admin: r.Admin, ReplyAddress: r.ReplyAddress}
		},
	} {
		t.Run(name, func(t *testing.T) {
			r := testReport()
			edit(r)
			out, err := s.Report(r)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, name+".subject.golden", out.Subject+"\n")
			golden(t, name+".txt.golden", out.Text)
			golden(t, name+".html.golden", out.HTML)
			if got, want := reportTextRows(out.Text), reportHTMLRows(t, out.HTML); !slices.EqualFunc(got, want, slices.Equal) {
				t.Errorf("the text and HTML tables differ:\ntext: %q\nhtml: %q", got, want)
			}
		})
	}
	if _, err := s.Report(nil); err == nil {
		t.Error("nil report rendered")
	}
}

// TestReportTables checks that each number is in its row, the same in
// both parts, and that the chart is referred to by its cid: URL.
func TestReportTables(t *testing.T) {
	r := testReport()
	out, err := mustLoad(t, "").Report(r)
	if err != nil {
		t.Fatal(err)
	}
	text, htm := reportTextRows(out.Text), reportHTMLRows(t, out.HTML)
	for _, want := range [][]string{
		{"Received", "12"}, {"of them from blocked senders", "1"}, {"Approved", "5"}, {"of them edited", "1"}, {"Rejected", "3"}, {"Spam", "1"}, {"Held", "2"},
		{"rule 3: Swear words should be starred out", "2"},
		{"rule 12: Full links only, no…nd a title long enough to clip", "1"},
		{"rule 14", "1"}, {"no rule cited", "1"},
		{"Comments decided", "9"}, {"Median", "2h 05m"}, {"95th percentile", "1d 02h"},
		{"Moderator", "Total", "Approved", "Rejected", "Spam", "Held"},
		{"alice@mods.example", "8", "4", "2", "1", "1"},
		{"bob@mods.example", "3", "1", "1", "0", "1"},
		{"Pending now", "4"}, {"Held now", "1"}, {"Oldest pending", "#1003"}, {"Waiting for", "3d 08h"},
		{"On post", "UK accuses Meta <b>of…g child sexual abusers"},
		{"Delivery failures", "2"}, {"Bounced addresses", "1"}, {"Quarantined messages", "1"},
		{"Thu 6 Mar 14:05", "jane@example.org", "notice", "550 5.1.1 <jane@example.org>: user unknown"},
		{"Thu 6 Mar 15:00", "gone@example.net", "bounce: 5.1.1 mailbox unavailable"},
		{"Day", "Submissions", "Median decision"},
		{"Wed 5 Feb", "0", "n/a"}, {"Thu 6 Feb", "1", "17m"}, {"Thu 6 Mar", "1", "8h 13m"},
	} {
		if !slices.ContainsFunc(text, func(r []string) bool { return slices.Equal(r, want) }) {
			t.Errorf("text part lacks the row %q", want)
		}
		if !slices.ContainsFunc(htm, func(r []string) bool { return slices.Equal(r, want) }) {
			t.Errorf("HTML part lacks the row %q", want)
		}
	}
	if !strings.Contains(out.HTML, `src="cid:chart.daily.20250306@forum.example"`) {
		t.Error("the HTML part does not show the chart by its Content-ID")
	}
	if strings.Contains(out.HTML, "<b>of</b>") {
		t.Error("a post title's markup reached the HTML part")
	}
	if want := "[Example Forum] daily report, Thu 6 Mar 2025: 12 received, 4 pending"; out.Subject != want {
		t.Errorf("subject %q, want %q", out.Subject, want)
	}
	// A reply that quotes the report without quote marks must not hold
	// an admin command.
	for _, line := range strings.Split(out.Text, "\n") {
		f := strings.Fields(strings.ToLower(line))
		if len(f) > 0 && slices.Contains([]string{"block", "unblock", "add", "remove", "pause", "resume"}, f[0]) {
			t.Errorf("a line of the text part reads as an admin command: %q", line)
		}
	}
}

func TestElapsedString(t *testing.T) {
	for _, tc := range []struct {
		e    Elapsed
		want string
	}{
		{Elapsed{}, "n/a"},
		{Elapsed{D: time.Hour}, "n/a"},
		{KnownElapsed(0), "<1m"},
		{KnownElapsed(-time.Hour), "<1m"},
		{KnownElapsed(59 * time.Second), "<1m"},
		{KnownElapsed(time.Minute), "1m"},
		{KnownElapsed(59*time.Minute + 59*time.Second), "59m"},
		{KnownElapsed(time.Hour), "1h 00m"},
		{KnownElapsed(23*time.Hour + 59*time.Minute), "23h 59m"},
		{KnownElapsed(24 * time.Hour), "1d 00h"},
		{KnownElapsed(49*time.Hour + 30*time.Minute), "2d 01h"},
	} {
		if got := tc.e.String(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.e, got, tc.want)
		}
	}
}

var cellSep = regexp.MustCompile(`\s{2,}`)

// reportTextRows returns the table rows of a report's text part: the
// lines indented by exactly two spaces, cut into cells at runs of two
// or more spaces.
func reportTextRows(text string) [][]string {
	var rows [][]string
	for _, line := range strings.Split(text, "\n") {
		if !strings.HasPrefix(line, "  ") || strings.HasPrefix(line, "   ") {
			continue
		}
		rows = append(rows, cellSep.Split(strings.TrimSpace(line), -1))
	}
	return rows
}

// reportHTMLRows returns the rows of the tables of a report's HTML part,
// each the text of its cells, without empty ones.
func reportHTMLRows(t testing.TB, s string) [][]string {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(s))
	if err != nil {
		t.Fatal(err)
	}
	var rows [][]string
	var text func(n *html.Node) string
	text = func(n *html.Node) string {
		if n.Type == html.TextNode {
			return n.Data
		}
		var b strings.Builder
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			b.WriteString(text(c))
		}
		return b.String()
	}
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "tr" {
			var row []string
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				if c.Type == html.ElementNode && (c.Data == "td" || c.Data == "th") {
					if cell := strings.Join(strings.Fields(text(c)), " "); cell != "" {
						row = append(row, cell)
					}
				}
			}
			rows = append(rows, row)
			return
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return rows
}
