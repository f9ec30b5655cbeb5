package templates

import (
	"net/url"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

func TestMailto(t *testing.T) {
	tests := []struct {
		addr, subject, body string
	}{
		{"moderator+d-k3yT0ken@forum.example", "Re: [Example Forum] 4 comments to moderate (3 new)", "approve 1"},
		{"moderator+d-x@forum.example", "Re: a+b & c=d? #5 100% “quoted” ümlaut", "reject 2 rule 11"},
		{"odd?name&x=y@forum.example", "", "edit 5: two\nlines"},
		{"moderator@forum.example", "only a subject", ""},
	}
	for _, tc := range tests {
		raw := mailto(tc.addr, tc.subject, tc.body)
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		if u.Scheme != "mailto" {
			t.Errorf("%s: scheme %q", raw, u.Scheme)
		}
		to, err := url.PathUnescape(u.Opaque)
		if err != nil || to != tc.addr {
			t.Errorf("%s: address %q (%v), want %q", raw, to, err, tc.addr)
		}
		if strings.ContainsAny(u.RawQuery, "+ ") {
			t.Errorf("%s: query has a plus or a space; spaces must be %%20", raw)
		}
		q, err := url.ParseQuery(u.RawQuery)
		if err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		if got := q.Get("subject"); got != tc.subject {
			t.Errorf("%s: subject %q, want %q", raw, got, tc.subject)
		}
		// RFC 6068: line breaks in the body are CRLF.
		if got, want := q.Get("body"), strings.ReplaceAll(tc.body, "\n", "\r\n"); got != want {
			t.Errorf("%s: body %q, want %q", raw, got, want)
		}
	}
}

// mailLink is a link of the digest's HTML part as a mail client would
// follow it.
type mailLink struct {
	label, to, subject, body string
}

// digestLinks parses the HTML part and decodes each mailto: link. Any
// other link must be a plain web link that does not carry the digest's
// token: opening a link never decides anything.
func digestLinks(t *testing.T, d *Digest, page string) []mailLink {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var links []mailLink
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "a" {
			var href string
			for _, a := range n.Attr {
				if a.Key == "href" {
					href = a.Val
				}
			}
			u, err := url.Parse(href)
			if err != nil {
				t.Fatalf("link %q: %v", href, err)
			}
			switch u.Scheme {
			case "mailto":
				to, err := url.PathUnescape(u.Opaque)
				if err != nil {
					t.Fatalf("link %q: %v", href, err)
				}
				q, err := url.ParseQuery(u.RawQuery)
				if err != nil {
					t.Fatalf("link %q: %v", href, err)
				}
				if strings.ContainsAny(u.RawQuery, "+ ") {
					t.Errorf("link %q: plus or space in the query", href)
				}
				var label strings.Builder
				for c := n.FirstChild; c != nil; c = c.NextSibling {
					if c.Type == html.TextNode {
						label.WriteString(c.Data)
					}
				}
				links = append(links, mailLink{label.String(), to, q.Get("subject"), q.Get("body")})
			case "http", "https":
				local, _, _ := strings.Cut(d.ReplyAddress, "@")
				if _, token, ok := strings.Cut(local, "+"); ok && strings.Contains(href, token) {
					t.Errorf("web link %q carries the digest's token", href)
				}
			default:
				t.Errorf("link %q: neither mailto nor a web link", href)
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return links
}

func TestDigestOneTapLinks(t *testing.T) {
	d := testDigest()
	r, err := mustLoad(t, "").Digest(d)
	if err != nil {
		t.Fatal(err)
	}
	if d.Subject != "" {
		t.Error("Digest changed the caller's Subject")
	}
	wantSubject := "Re: " + r.Subject
	want := []struct{ label, body string }{
		{"Approve all 4", "approve all"},
		{"Approve", "approve 1"},
		{"Reject", "reject 1"},
		{"Reject as rule 11", "reject 1 rule 11"},
		{"Reject as rule 12", "reject 1 rule 12"}, // two hits on rule 12: one link
		{"Hold", "hold 1"},
		{"Approve", "approve 2"},
		{"Reject", "reject 2"},
		{"Hold", "hold 2"},
		{"Approve", "approve 3"},
		{"Reject", "reject 3"},
		{"Reject as rule 3", "reject 3 rule 3"},
		{"Hold", "hold 3"},
		{"Approve", "approve 4"},
		{"Reject", "reject 4"},
		{"Hold", "hold 4"},
	}
	got := digestLinks(t, d, r.HTML)
	if len(got) != len(want) {
		t.Fatalf("%d mailto links, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		if g.label != w.label || g.body != w.body {
			t.Errorf("link %d: %q → %q, want %q → %q", i, g.label, g.body, w.label, w.body)
		}
		if g.to != d.ReplyAddress {
			t.Errorf("link %d goes to %q, want %q", i, g.to, d.ReplyAddress)
		}
		if g.subject != wantSubject {
			t.Errorf("link %d: subject %q, want %q", i, g.subject, wantSubject)
		}
	}
}

func TestDigestOneTapLinksSubject(t *testing.T) {
	s := mustLoad(t, "")
	tests := []struct {
		name, site, subject, want string
	}{
		{"given", "Example Forum", "[Example Forum] digest 12", "Re: [Example Forum] digest 12"},
		{"given with Re", "Example Forum", "RE: x", "Re: x"},
		{"rendered, hostile site name", "Evil\r\nBcc: x@y & <b>", "", "Re: [Evil Bcc: x@y & <b>] 1 comment to moderate"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := testDigest()
			d.Items, d.Feedback = d.Items[:1], nil
			d.SiteName, d.Subject = tc.site, tc.subject
			r, err := s.Digest(d)
			if err != nil {
				t.Fatal(err)
			}
			links := digestLinks(t, d, r.HTML)
			if len(links) == 0 {
				t.Fatal("no links")
			}
			for _, l := range links {
				if l.subject != tc.want {
					t.Errorf("%s: subject %q, want %q", l.label, l.subject, tc.want)
				}
			}
		})
	}
}

func TestDigestNoItemsNoApproveAll(t *testing.T) {
	d := testDigest()
	d.Items = nil
	r, err := mustLoad(t, "").Digest(d)
	if err != nil {
		t.Fatal(err)
	}
	if links := digestLinks(t, d, r.HTML); len(links) != 0 {
		t.Errorf("links in a digest without items: %+v", links)
	}
}

func TestHitRules(t *testing.T) {
	it := DigestItem{Hits: []Hit{{Rule: 12}, {Rule: 3}, {Rule: 12}, {Rule: 11}}}
	got := it.HitRules()
	if len(got) != 3 || got[0] != 3 || got[1] != 11 || got[2] != 12 {
		t.Errorf("HitRules = %v, want [3 11 12]", got)
	}
	if got := (DigestItem{}).HitRules(); len(got) != 0 {
		t.Errorf("no hits: %v", got)
	}
}
