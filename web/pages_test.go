package web

import (
	"fmt"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"modbot/queue"
)

// nestedUnder returns the id of the comment whose replies list holds the
// comment with id, "" for the top level.
func nestedUnder(t *testing.T, doc *html.Node, id string) string {
	t.Helper()
	art := byID(doc, id)
	if art == nil {
		t.Fatalf("no element #%s", id)
	}
	ol := art.Parent.Parent
	if attr(ol, "class") != "replies" {
		return ""
	}
	for c := ol.Parent.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode && c.Data == "article" {
			return attr(c, "id")
		}
	}
	return "?"
}

func TestPostPageThreads(t *testing.T) {
	f := newFixture(t, Options{})
	res, body := f.get(t, "/posts/uk-meta-encryption")
	if res.StatusCode != 200 {
		t.Fatalf("status %d", res.StatusCode)
	}
	doc := parseHTML(t, body)
	// 1 ← 2 ← 3 ← 5 ← 6: three levels indent, the fourth is shown level
	// with its parent and says whom it answers. 7's parent is not
	// published: it starts a thread.
	for id, want := range map[string]string{"c1": "", "c2": "c1", "c3": "c2", "c4": "", "c5": "c3", "c6": "c3", "c7": ""} {
		if got := nestedUnder(t, doc, id); got != want {
			t.Errorf("%s is nested under %q, want %q", id, got, want)
		}
	}
	if got := textOf(byID(doc, "c6")); !strings.Contains(got, "in reply to Dan") {
		t.Errorf("the flattened reply does not say whom it answers: %q", got)
	}
	if got := textOf(byID(doc, "c5")); strings.Contains(got, "in reply to") {
		t.Errorf("a nested reply names its parent: %q", got)
	}
	// Order within the thread is oldest first: 1 before 4 before 7.
	if i1, i4, i7 := strings.Index(body, `id="c1"`), strings.Index(body, `id="c4"`), strings.Index(body, `id="c7"`); !(i1 < i4 && i4 < i7) {
		t.Errorf("threads out of order: %d %d %d", i1, i4, i7)
	}
	if h := textOf(byID(doc, "comments-h")); h != "7 comments" {
		t.Errorf("heading %q", h)
	}
	// URLs in bodies are links, with rel nofollow ugc noopener.
	links := findAll(byID(doc, "c1"), func(n *html.Node) bool {
		return n.Data == "a" && attr(n, "href") == "https://www.eff.org/issues/encryption"
	})
	if len(links) != 1 || attr(links[0], "rel") != "nofollow ugc noopener" {
		t.Errorf("link in body: %v", links)
	}
	// A Reply link per comment, which works without JavaScript.
	reply := findAll(byID(doc, "c3"), func(n *html.Node) bool { return n.Data == "a" && strings.HasPrefix(textOf(n), "Reply") })
	if len(reply) != 1 || attr(reply[0], "href") != "/posts/uk-meta-encryption?parent=3#form" {
		t.Errorf("reply link of c3: %v", reply)
	}
	// The date is machine-readable.
	if !strings.Contains(body, `<time datetime="2026-03-14T04:26:53Z">14 Mar 2026, 04:26 UTC</time>`) {
		t.Errorf("no <time> for comment 1")
	}
}

func TestReplyForm(t *testing.T) {
	f := newFixture(t, Options{})
	_, body := f.get(t, "/posts/uk-meta-encryption?parent=2")
	doc := parseHTML(t, body)
	parent := findAll(doc, func(n *html.Node) bool { return n.Data == "input" && attr(n, "name") == "parent" })
	if len(parent) != 1 || attr(parent[0], "value") != "2" {
		t.Fatalf("parent field: %v", parent)
	}
	if h := textOf(byID(doc, "form-h")); h != "Reply to Dan" {
		t.Errorf("form heading %q", h)
	}
	// An unknown parent gives the plain form.
	_, body = f.get(t, "/posts/uk-meta-encryption?parent=999")
	if strings.Contains(body, `name="parent"`) || !strings.Contains(body, "Leave a comment") {
		t.Errorf("a form replying to an unknown comment")
	}
}

func TestNotFound(t *testing.T) {
	f := newFixture(t, Options{})
	for _, path := range []string{"/posts/nope", "/posts/Bad_Slug", "/posts/nope.atom", "/embed/nope", "/posts/nope/sent", "/nothing/here", "/unsubscribe/unknown", "/subscriptions/confirm/unknown", "/unsubscribe/bad%20token"} {
		res, body := f.get(t, path)
		if res.StatusCode != 404 || !strings.Contains(body, "<h1>Not found</h1>") {
			t.Errorf("GET %s: %d, want the 404 page", path, res.StatusCode)
		}
	}
	res, body := f.get(t, "/api/posts/nope/comments")
	if res.StatusCode != 404 || !strings.Contains(res.Header.Get("Content-Type"), "json") || !strings.Contains(body, `"error"`) {
		t.Errorf("API for an unknown post: %d %q", res.StatusCode, body)
	}
	res, body = f.do(t, httptest.NewRequest("POST", "/posts/nope/comments", strings.NewReader(goodFields().Encode())))
	if res.StatusCode != 404 || f.sender.count() != 0 {
		t.Errorf("POST for an unknown post: %d, %d sent", res.StatusCode, f.sender.count())
	}
	_ = body
}

func TestStoreDown(t *testing.T) {
	f := newFixture(t, Options{})
	f.store.err = errStore
	for _, path := range []string{"/", "/posts/uk-meta-encryption", "/posts/uk-meta-encryption.atom", "/api/posts/uk-meta-encryption/comments"} {
		res, body := f.get(t, path)
		if res.StatusCode != 500 || strings.Contains(body, "database is locked") {
			t.Errorf("GET %s with the store down: %d %q", path, res.StatusCode, body)
		}
	}
}

func TestIndex(t *testing.T) {
	f := newFixture(t, Options{})
	_, body := f.get(t, "/")
	if !strings.Contains(body, `<a href="/posts/uk-meta-encryption">UK accuses Meta of putting children at risk</a>`) {
		t.Errorf("index lacks the post:\n%s", body)
	}
}

// TestHostileComments: every payload, as a display name and as a body,
// reaches the page as text: no element, attribute, script or link that
// the page did not put there itself.
func TestHostileComments(t *testing.T) {
	f := newFixture(t, Options{CORSOrigins: []string{"https://forum.example"}})
	payloads := hostile(t)
	var cs []queue.Comment
	for i, p := range payloads {
		cs = append(cs, queue.Comment{ID: int64(i + 1), AuthorName: p, Body: "before " + p + " after", PublishedAt: ts(len(payloads) - i)})
	}
	f.store.comments["uk-meta-encryption"] = cs
	for _, path := range []string{"/posts/uk-meta-encryption", "/embed/uk-meta-encryption", "/posts/uk-meta-encryption?parent=1"} {
		_, body := f.get(t, path)
		doc := parseHTML(t, body)
		checkInert(t, path, doc)
		for i, p := range payloads {
			art := byID(doc, fmt.Sprintf("c%d", i+1))
			if art == nil {
				t.Fatalf("%s: comment %d missing", path, i+1)
			}
			got := textOf(art)
			if !strings.Contains(got, p) {
				t.Errorf("%s: payload %q is not shown as text:\n%q", path, p, got)
			}
		}
	}
}

// pageElements are the elements the page templates use; a comment
// cannot add any element, so anything else means markup got through.
var pageElements = map[string]bool{}

func init() {
	for _, e := range strings.Fields("html head meta title style script body a header p main section h1 h2 h3 ol ul li article bdi time div span br form input textarea label fieldset legend button footer") {
		pageElements[e] = true
	}
}

// checkInert fails when doc holds anything a comment could have put
// there to run code: elements the templates do not use, scripts other
// than the frame's own, event handler or style attributes, or links that
// are not http(s) or local.
func checkInert(t *testing.T, where string, doc *html.Node) {
	t.Helper()
	for _, n := range findAll(doc, func(*html.Node) bool { return true }) {
		if !pageElements[n.Data] {
			t.Errorf("%s: element <%s> from a comment", where, n.Data)
		}
		switch n.Data {
		case "script":
			if attr(n, "src") != "/static/frame.js" || n.FirstChild != nil {
				t.Errorf("%s: a <script> the page did not put there: %v", where, n.Attr)
			}
		case "style":
			if !hasAttr(n, "nonce") {
				t.Errorf("%s: a <style> without the nonce", where)
			}
		case "meta":
			if hasAttr(n, "http-equiv") {
				t.Errorf("%s: <meta http-equiv>", where)
			}
		}
		for _, a := range n.Attr {
			if strings.HasPrefix(strings.ToLower(a.Key), "on") || a.Key == "style" || a.Key == "srcdoc" || a.Key == "formaction" || a.Key == "autofocus" || a.Key == "contenteditable" {
				t.Errorf("%s: attribute %s=%q on <%s>", where, a.Key, a.Val, n.Data)
			}
			if a.Key == "href" || a.Key == "src" || a.Key == "action" {
				v := a.Val
				if !(strings.HasPrefix(v, "/") || strings.HasPrefix(v, "#") || strings.HasPrefix(v, "http://") || strings.HasPrefix(v, "https://")) {
					t.Errorf("%s: %s=%q on <%s>", where, a.Key, v, n.Data)
				}
			}
		}
	}
}

// TestAccessible checks what can be checked without a person: lang,
// viewport, one h1, a label for every field, described errors, and no
// positive tabindex.
func TestAccessible(t *testing.T) {
	f := newFixture(t, Options{})
	fm := f.openForm(t, "uk-meta-encryption")
	_, invalid := f.post(t, "uk-meta-encryption", fm, true, url.Values{"name": {""}, "email": {"nope"}, "body": {""}}, nil)
	_, page := f.get(t, "/posts/uk-meta-encryption")
	_, embed := f.get(t, "/embed/uk-meta-encryption")
	for name, body := range map[string]string{"page": page, "embed": embed, "invalid": invalid} {
		doc := parseHTML(t, body)
		htmlEl := findAll(doc, func(n *html.Node) bool { return n.Data == "html" })[0]
		if attr(htmlEl, "lang") != "en" {
			t.Errorf("%s: lang %q", name, attr(htmlEl, "lang"))
		}
		if vp := findAll(doc, func(n *html.Node) bool { return n.Data == "meta" && attr(n, "name") == "viewport" }); len(vp) != 1 || !strings.Contains(attr(vp[0], "content"), "width=device-width") {
			t.Errorf("%s: no viewport meta", name)
		}
		h1 := findAll(doc, func(n *html.Node) bool { return n.Data == "h1" })
		if name != "embed" && len(h1) != 1 {
			t.Errorf("%s: %d h1", name, len(h1))
		}
		labels := map[string]bool{}
		for _, l := range findAll(doc, func(n *html.Node) bool { return n.Data == "label" }) {
			labels[attr(l, "for")] = true
		}
		for _, in := range findAll(doc, func(n *html.Node) bool { return n.Data == "input" || n.Data == "textarea" || n.Data == "select" }) {
			if attr(in, "type") == "hidden" {
				continue
			}
			if !labels[attr(in, "id")] && in.Parent.Data != "label" {
				t.Errorf("%s: field %s has no label", name, attr(in, "name"))
			}
			for _, id := range strings.Fields(attr(in, "aria-describedby")) {
				if byID(doc, id) == nil {
					t.Errorf("%s: %s is described by missing #%s", name, attr(in, "name"), id)
				}
			}
		}
		for _, n := range findAll(doc, func(n *html.Node) bool { return hasAttr(n, "tabindex") }) {
			if v := attr(n, "tabindex"); v != "-1" && v != "0" {
				t.Errorf("%s: tabindex %s", name, v)
			}
		}
		if name == "invalid" {
			for _, field := range []string{"name", "email", "body"} {
				in := byID(doc, "f-"+field)
				if attr(in, "aria-invalid") != "true" || !strings.Contains(attr(in, "aria-describedby"), "f-"+field+"-err") {
					t.Errorf("invalid %s is not marked: %v", field, in.Attr)
				}
			}
		}
	}
}

// TestSecurityHeaders: pages allow only their own nonce'd style (and in
// the widget's frame, scripts of this server), and only allowed origins
// may frame the widget.
func TestSecurityHeaders(t *testing.T) {
	f := newFixture(t, Options{CORSOrigins: []string{"https://forum.example", "http://localhost:8000"}})
	nonceRE := regexp.MustCompile(`<style nonce="([^"]+)">`)
	for _, tt := range []struct {
		path, frameAncestors string
		script               bool
	}{
		{"/posts/uk-meta-encryption", "frame-ancestors 'none'", false},
		{"/embed/uk-meta-encryption", "frame-ancestors 'self' https://forum.example http://localhost:8000", true},
		{"/unsubscribe/tok123", "frame-ancestors 'none'", false},
	} {
		res, body := f.get(t, tt.path)
		csp := res.Header.Get("Content-Security-Policy")
		m := nonceRE.FindStringSubmatch(body)
		if m == nil || !strings.Contains(csp, "style-src 'nonce-"+m[1]+"'") {
			t.Errorf("%s: CSP %q does not allow the page's style nonce %v", tt.path, csp, m)
		}
		if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, tt.frameAncestors) {
			t.Errorf("%s: CSP %q, want %q", tt.path, csp, tt.frameAncestors)
		}
		if got := strings.Contains(csp, "script-src 'self'"); got != tt.script {
			t.Errorf("%s: scripts allowed %v: %q", tt.path, got, csp)
		}
		if res.Header.Get("X-Content-Type-Options") != "nosniff" || res.Header.Get("Referrer-Policy") == "" {
			t.Errorf("%s: headers %v", tt.path, res.Header)
		}
		if strings.Contains(tt.path, "unsubscribe") && res.Header.Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("%s: a page with a token in its address sends Referer", tt.path)
		}
		if res.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: Cache-Control %q", tt.path, res.Header.Get("Cache-Control"))
		}
	}
	// Two requests get two nonces.
	_, a := f.get(t, "/posts/uk-meta-encryption")
	f.srv.random = counterRandom(9)
	_, b := f.get(t, "/posts/uk-meta-encryption")
	if nonceRE.FindString(a) == nonceRE.FindString(b) {
		t.Errorf("the style nonce does not change")
	}
	res, _ := f.get(t, "/api/posts/uk-meta-encryption/comments")
	if res.Header.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(res.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Errorf("API headers %v", res.Header)
	}
}

// counterRandom yields different bytes from fixedRandom.
type counterRandom byte

func (c counterRandom) Read(b []byte) (int, error) {
	for i := range b {
		b[i] = byte(c) + byte(i)
	}
	return len(b), nil
}

func TestEmbedScripts(t *testing.T) {
	f := newFixture(t, Options{})
	for _, path := range []string{"/embed.js", "/static/frame.js"} {
		res, body := f.get(t, path)
		if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/javascript") || !strings.Contains(body, "use strict") {
			t.Errorf("%s: %d %s", path, res.StatusCode, res.Header.Get("Content-Type"))
		}
	}
	_, body := f.get(t, "/embed/uk-meta-encryption")
	doc := parseHTML(t, body)
	// In the frame, links in comments open outside it; the form says it
	// came from the widget, so the answer stays in the frame.
	links := findAll(byID(doc, "c1"), func(n *html.Node) bool { return n.Data == "a" && strings.HasPrefix(attr(n, "href"), "https://") })
	if len(links) != 1 || attr(links[0], "target") != "_blank" {
		t.Errorf("body links in the frame: %v", links)
	}
	if !strings.Contains(body, `<input type="hidden" name="embed" value="1">`) || !strings.Contains(body, `href="/embed/uk-meta-encryption?parent=1#form"`) {
		t.Errorf("the frame's form or reply links leave the frame")
	}
	if strings.Contains(body, "<h1>") || strings.Contains(body, "Skip to the content") {
		t.Errorf("the frame shows the site's header")
	}
}

func TestGoldenPages(t *testing.T) {
	f := newFixture(t, Options{FormRate: Rate{N: 1, Per: 0}, CORSOrigins: []string{"https://forum.example"}})
	pages := []struct{ name, method, path, body string }{
		{"post", "GET", "/posts/uk-meta-encryption", ""},
		{"post_reply", "GET", "/posts/uk-meta-encryption?parent=3", ""},
		{"post_empty", "GET", "/posts/quiet", ""},
		{"embed", "GET", "/embed/uk-meta-encryption", ""},
		{"sent", "GET", "/posts/uk-meta-encryption/sent?notify=all", ""},
		{"index", "GET", "/", ""},
		{"notfound", "GET", "/posts/nope", ""},
		{"unsubscribe", "GET", "/unsubscribe/tok123", ""},
		{"unsubscribe_done", "POST", "/unsubscribe/tok123", ""},
		{"confirm", "GET", "/subscriptions/confirm/conf456", ""},
		{"confirm_done", "POST", "/subscriptions/confirm/conf456", ""},
	}
	for _, p := range pages {
		_, body := f.do(t, httptest.NewRequest(p.method, p.path, strings.NewReader(p.body)))
		golden(t, p.name+".html.golden", body)
	}
	fm := f.openForm(t, "uk-meta-encryption")
	_, body := f.post(t, "uk-meta-encryption", fm, true, url.Values{"name": {"  "}, "email": {"dana@"}, "body": {"x"}, "parent": {"2"}}, nil)
	golden(t, "post_invalid.html.golden", body)
	f.srv.limiter = newLimiter(Rate{N: 1, Per: 90 * 60e9})
	f.post(t, "uk-meta-encryption", fm, true, goodFields(), nil)
	_, body = f.post(t, "uk-meta-encryption", fm, true, goodFields(), nil)
	golden(t, "ratelimit.html.golden", body)
}
