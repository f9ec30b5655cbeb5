package templates

import (
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/net/html"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// testDigest has two posts, a reply with its parent's snippet, an
// unknown post, hits, a reminder, a revised item, one feedback item, one
// decision by someone else, and a display name that tries HTML.
func testDigest() *Digest {
	at := func(h, m int) time.Time { return time.Date(2023, 12, 7, h, m, 0, 0, time.UTC) }
	const post1 = "uk-meta-encryption"
	title1 := "UK accuses Meta of empowering child sexual abusers with encryption rollout"
	body1 := "What they really mean is the power for the government to snoop on what is being said.\n\nTHEY WILL NEVER STOP SPYING ON US. NEVER!\n\nSee https://www.theguardian.com/technology/2023/dec/07/meta-encryption and bit.ly/3xyz."
	return &Digest{
		SiteName:     "Example Forum",
		BaseURL:      "http://127.0.0.1:8080",
		Moderator:    "alice@mods.example",
		ReplyAddress: "moderator+d-k3yT0ken@forum.example",
		Generated:    at(15, 0),
		Items: []DigestItem{
			{
				Number: 1, ID: 1042,
				PostSlug: post1, PostTitle: title1, PostURL: "http://127.0.0.1:8080/posts/" + post1, PostKnown: true,
				AuthorName: `Jane <script>alert("x")</script> "JD"`, AuthorEmail: "jane@example.org",
				Received: at(14, 5),
				Body:     body1,
				Hits: []Hit{
					hit(body1, "THEY WILL NEVER STOP SPYING ON US. NEVER!", 11, "Please do not post in all Caps", "flag", "a passage of 30 letters is 100% capitals"),
					hit(body1, "https://www.theguardian.com/technology/2023/dec/07/meta-encryption", 12, "Full links only, no abbreviated / obfuscated links", "note", "full link; comments with links take longer to approve"),
					hit(body1, "bit.ly/3xyz", 12, "Full links only, no abbreviated / obfuscated links", "flag", "shortened link (bit.ly) hides where it goes; the rule asks for the full link"),
				},
			},
			{
				Number: 2, ID: 1039,
				PostSlug: post1, PostTitle: title1, PostURL: "http://127.0.0.1:8080/posts/" + post1, PostKnown: true,
				AuthorName: "Tim", AuthorEmail: "tim@example.net",
				Received:      at(9, 30),
				ParentSnippet: "Such statements are also quite disingenuous. Law enforcement can and does have ways of enforcing the law with regard to the production and trafficking of CSAM without imposing upon the civil rights of citizens.",
				Body:          "Agreed. It just requires them to get more clever about it.\n\n> quoted line in the comment\napprove all",
				Reminder:      true,
			},
			{
				Number: 3, ID: 1043,
				PostSlug: "no-such-post", PostKnown: false,
				AuthorName: "Sam", AuthorEmail: "sam@example.com",
				Received: at(14, 40),
				Body:     "Which article is this about? Total bullshit either way.",
				Hits: []Hit{
					hit("Which article is this about? Total bullshit either way.", "bullshit", 3, "Swear words should be starred out", "flag", "swear word not starred out (as in b******t)"),
				},
			},
			{
				Number: 4, ID: 1044,
				PostSlug: "registry-ruling", PostTitle: "Court rules on registry", PostURL: "http://127.0.0.1:8080/posts/registry-ruling", PostKnown: true,
				AuthorName: "Käthe Müller", AuthorEmail: "kaethe@example.de",
				Received: at(14, 50),
				Body:     "A very long line that goes on and on to show how the text part wraps the comment body at a sensible width without losing a single word of it.",
				Revised:  true,
			},
		},
		Feedback: []FeedbackItem{{
			Number: 5, FromName: "Reader <b>", FromAddr: "reader@example.org",
			Subject: "Why was my comment not published?", Received: at(11, 0),
			Text: "I posted yesterday and it is still not there.\nrule 12?",
		}},
		Decided: []DecidedItem{{ID: 1040, Action: "approved", Moderator: "bob@mods.example", When: at(14, 0)}},
		Overdue: []OverdueItem{{ID: 1031, PostTitle: "UK accuses Meta", AuthorName: "Slow <Poke>", Received: at(9, 0), Waiting: "3 days"}},
	}
}

// hit makes a hit on the first occurrence of evidence in body.
func hit(body, evidence string, rule int, title, severity, why string) Hit {
	i := strings.Index(body, evidence)
	if i < 0 {
		panic("evidence not in body: " + evidence)
	}
	return Hit{Rule: rule, Title: title, Severity: severity, Start: i, End: i + len(evidence), Evidence: evidence, Explanation: why}
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it):\n%s", name, firstDiff(string(want), got))
	}
}

func firstDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return "line " + strconv.Itoa(i+1) + ":\nwant: " + wl + "\ngot:  " + gl
		}
	}
	return "(no line differs)"
}

func mustLoad(t *testing.T, dir string) *Set {
	t.Helper()
	s, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestDigestGolden(t *testing.T) {
	r, err := mustLoad(t, "").Digest(testDigest())
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "digest.subject.golden", r.Subject+"\n")
	golden(t, "digest.txt.golden", r.Text)
	golden(t, "digest.html.golden", r.HTML)
}

// TestDigestHTMLEscapes parses the HTML part and checks that data which
// looks like markup stays text: no element comes from a display name.
func TestDigestHTMLEscapes(t *testing.T) {
	r, err := mustLoad(t, "").Digest(testDigest())
	if err != nil {
		t.Fatal(err)
	}
	doc, err := html.Parse(strings.NewReader(r.HTML))
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			switch n.Data {
			case "script", "b", "img", "iframe", "style", "link":
				t.Errorf("element <%s> in the HTML part", n.Data)
			}
		}
		if n.Type == html.TextNode {
			text.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	if strings.Contains(strings.ToLower(r.HTML), "<script") {
		t.Error("raw <script in the HTML part")
	}
	for _, want := range []string{
		`Jane <script>alert("x")</script> "JD" <jane@example.org>`, // shown as text
		"Reader <b> <reader@example.org>",
		"THEY WILL NEVER STOP SPYING ON US. NEVER!",
		"#1042",
		"no post called “no-such-post”",
		"approve all",
	} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("HTML text lacks %q", want)
		}
	}
}

func TestDigestTextPart(t *testing.T) {
	d := testDigest()
	r, err := mustLoad(t, "").Digest(d)
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.Split(r.Text, "\n") {
		// A line may run long only for a word that cannot be broken.
		if n := utf8.RuneCountInString(line); n > 76 && !hasLongWord(line, 40) {
			t.Errorf("line %d has %d columns: %q", i+1, n, line)
		}
	}
	// A comment line that looks like a command is quoted, never bare.
	for _, line := range strings.Split(r.Text, "\n") {
		if strings.TrimSpace(line) == "approve all" {
			t.Errorf("comment text appears unquoted: %q", line)
		}
	}
	if !strings.Contains(r.Text, "   | approve all") {
		t.Error("comment body is not quoted with a bar")
	}
}

func TestDigestSections(t *testing.T) {
	s := mustLoad(t, "")
	d := testDigest()
	d.Decided = nil
	r, err := s.Digest(d)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(r.Text, "DECIDED") || strings.Contains(r.HTML, "Decided by other") {
		t.Error("decided section shown with no decisions")
	}

	tests := []struct {
		name string
		edit func(d *Digest)
		want string
	}{
		{"all new", func(d *Digest) { d.Items = d.Items[:1]; d.Feedback = nil }, "[Example Forum] 1 comment to moderate"},
		{"reminders", func(d *Digest) { d.Feedback = nil }, "[Example Forum] 4 comments to moderate (3 new)"},
		{"feedback", func(d *Digest) {}, "[Example Forum] 4 comments to moderate (3 new), 1 feedback message"},
		{"feedback only", func(d *Digest) { d.Items = nil }, "[Example Forum] nothing new to moderate, 1 feedback message"},
		{"name with a line break", func(d *Digest) { d.SiteName = "Evil\r\nBcc: x@y"; d.Feedback = nil; d.Items = nil }, "[Evil Bcc: x@y] nothing new to moderate"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := testDigest()
			tc.edit(d)
			r, err := s.Digest(d)
			if err != nil {
				t.Fatal(err)
			}
			if r.Subject != tc.want {
				t.Errorf("subject %q, want %q", r.Subject, tc.want)
			}
		})
	}
	if _, err := s.Digest(nil); err == nil {
		t.Error("nil digest rendered")
	}
}

func TestLoadOverride(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("digest.subject.tmpl", "Moderate {{len .Items}} at {{.SiteName}}")
	write("README", "not a template")
	s := mustLoad(t, dir)
	r, err := s.Digest(testDigest())
	if err != nil {
		t.Fatal(err)
	}
	if r.Subject != "Moderate 4 at Example Forum" {
		t.Errorf("subject %q: override not used", r.Subject)
	}
	if !strings.Contains(r.Text, "HOW TO REPLY") {
		t.Error("text part is not the embedded one")
	}

	write("digst.txt.tmpl", "typo")
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "digst.txt.tmpl") {
		t.Errorf("misspelt override: err = %v", err)
	}
	if _, err := Load(filepath.Join(dir, "missing")); err == nil {
		t.Error("missing override directory accepted")
	}
}

func TestLoadBrokenTemplate(t *testing.T) {
	tests := []struct {
		name, text, want string
	}{
		{"digest.txt.tmpl", "line one\nline two\n{{end}} one end too many\n", "digest.txt.tmpl:3"},
		{"digest.html.tmpl", "<p>\n{{.Items | nosuchfunc}}</p>\n", "digest.html.tmpl:2"},
		{"digest.subject.tmpl", "{{.SiteName", "digest.subject.tmpl:1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, tc.name)
			if err := os.WriteFile(path, []byte(tc.text), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Load(dir)
			if err == nil {
				t.Fatal("broken template loaded")
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name %s and %s", err, path, tc.want)
			}
		})
	}
}

func TestExecuteErrorNamesTemplate(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "digest.txt.tmpl"), []byte("ok\n{{.NoSuchField}}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := mustLoad(t, dir).Digest(testDigest())
	if err == nil || !strings.Contains(err.Error(), "digest.txt.tmpl:2") {
		t.Errorf("err = %v, want it to name digest.txt.tmpl:2", err)
	}
}

func hasLongWord(s string, n int) bool {
	for _, w := range strings.Fields(s) {
		if utf8.RuneCountInString(w) >= n {
			return true
		}
	}
	return false
}
