package wxr

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func parseSample(t *testing.T) *Export {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "sample.xml"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	exp, err := Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	return exp
}

func TestParseSample(t *testing.T) {
	exp := parseSample(t)
	if exp.Title != "Example Blog" || exp.Link != "https://blog.example" || exp.BaseSiteURL != "https://blog.example" {
		t.Errorf("channel %q %q %q", exp.Title, exp.Link, exp.BaseSiteURL)
	}
	if len(exp.Items) != 4 {
		t.Fatalf("%d items", len(exp.Items))
	}
	hello := exp.Items[0]
	if hello.Title != "Hello world!" || hello.PostName != "hello-world" || hello.PostID != "1" || hello.PostType != "post" || len(hello.Comments) != 8 {
		t.Errorf("first item %+v", hello)
	}
	c := hello.Comments[1]
	want := Comment{ID: "10", Parent: "0", Author: "Zoë Ångström", AuthorEmail: "zoe@people.example", AuthorURL: "https://zoe.example/",
		Date: time.Date(2019, 3, 4, 10, 15, 0, 0, time.UTC), Approved: "1", Type: "comment",
		Content: "First! Fish &amp; chips are on <a href=\"https://chips.example/menu\" rel=\"nofollow ugc\">the menu</a>.\n\n<strong>Second</strong> paragraph."}
	if fmt.Sprintf("%+v", c) != fmt.Sprintf("%+v", want) {
		t.Errorf("comment 10:\n got %+v\nwant %+v", c, want)
	}
	old := exp.Items[1].Comments[0]
	if old.ID != "20" || !old.DateLocal || !old.Date.Equal(time.Date(2011, 1, 2, 13, 14, 15, 0, time.UTC)) {
		t.Errorf("comment_ID spelling or local date: %+v", old)
	}
}

// The plan for the sample, as a person would check it: which comments
// come in, under which post, answering whom, by whom, when.
func TestConvertSampleGolden(t *testing.T) {
	p := Convert(parseSample(t))
	var b bytes.Buffer
	for _, post := range p.Posts {
		fmt.Fprintf(&b, "post %s %q %s\n", post.Slug, post.Title, post.URL)
	}
	for _, c := range p.Comments {
		fmt.Fprintf(&b, "comment %s post=%s parent=%q author=%q at=%s\n", c.SourceID, c.PostSlug, c.ParentSourceID, c.AuthorName, c.PublishedAt.Format(time.RFC3339))
		for _, l := range strings.Split(c.Body, "\n") {
			fmt.Fprintf(&b, "\t| %s\n", l)
		}
	}
	fmt.Fprintf(&b, "skipped %s\n", strings.Join(p.SkippedList(), ", "))
	fmt.Fprintf(&b, "renamed %v\nreattached %d\nlocal dates %d\n", p.Renamed, p.Reattached, p.LocalDates)
	golden := filepath.Join("testdata", "sample.plan.golden")
	if *update {
		if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if b.String() != string(want) {
		t.Errorf("plan differs from %s (go test -update to accept):\n%s", golden, b.String())
	}
	if strings.Contains(b.String(), "@people.example") {
		t.Error("an email address made it into the plan")
	}
}

func TestText(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain\n\nparagraphs\nand lines", "plain\n\nparagraphs\nand lines"},
		{"Fish &amp; chips &lt;3 &#8230;", "Fish & chips <3 …"},
		{`see <a href="https://x.example/a">this</a>`, "see this (https://x.example/a)"},
		{`see <a href="https://x.example/a">https://x.example/a</a>`, "see https://x.example/a"},
		{`<a href="javascript:alert(1)">click</a>`, "click"},
		{"<blockquote>quoted\nlines</blockquote>answer", "> quoted\n> lines\n\nanswer"},
		{"<p>one</p><p>two<br>three</p>", "one\n\ntwo\nthree"},
		{"list:<ul><li>a</li><li>b</li></ul>", "list:\n- a\n- b"},
		{"a <script>alert(1)</script>b", "a b"},
		{"x < y and y > z", "x < y and y > z"},
		{"   \n\n  ", ""},
	} {
		if got := Text(tc.in); got != tc.want {
			t.Errorf("Text(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestSlug(t *testing.T) {
	for _, tc := range []struct{ name, id, want string }{
		{"hello-world", "1", "hello-world"},
		{"%c3%bcber-uns", "2", "uber-uns"},
		{"Hello_World 2", "3", "hello-world-2"},
		{"%e6%97%a5%e6%9c%ac", "4", "wp-4"},
		{"", "5", "wp-5"},
		{"d-day", "6", "wp-6"},
		{strings.Repeat("a", 70), "7", strings.Repeat("a", 64)},
	} {
		if got := Slug(&Item{PostName: tc.name, PostID: tc.id}); got != tc.want {
			t.Errorf("Slug(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestParseRefusesOtherFiles(t *testing.T) {
	for _, in := range []string{"", "not xml", `<?xml version="1.0"?><feed></feed>`, `<rss><channel><item><wp:comment>`} {
		if _, err := Parse(strings.NewReader(in)); err == nil {
			t.Errorf("Parse(%q) accepted it", in)
		}
	}
}

func TestParseLatin1(t *testing.T) {
	in := "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><rss><channel><item><wp:post_name>x</wp:post_name>" +
		"<wp:comment><wp:comment_id>1</wp:comment_id><wp:comment_author>Jos\xe9</wp:comment_author>" +
		"<wp:comment_date_gmt>2010-01-01 00:00:00</wp:comment_date_gmt><wp:comment_approved>1</wp:comment_approved></wp:comment></item></channel></rss>"
	exp, err := Parse(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if a := exp.Items[0].Comments[0].Author; a != "José" {
		t.Errorf("author %q", a)
	}
}

func FuzzParse(f *testing.F) {
	sample, err := os.ReadFile(filepath.Join("testdata", "sample.xml"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(sample)
	f.Fuzz(func(t *testing.T, data []byte) {
		exp, err := Parse(bytes.NewReader(data))
		if err != nil {
			return
		}
		p := Convert(exp)
		for _, c := range p.Comments {
			if c.SourceID == "" || c.PostSlug == "" {
				t.Fatalf("comment without source or post: %+v", c)
			}
		}
		for _, post := range p.Posts {
			if Slug(&Item{PostName: post.Slug}) != post.Slug {
				t.Fatalf("slug %q is not a slug", post.Slug)
			}
		}
	})
}
