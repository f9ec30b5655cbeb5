package web

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/html"

	"modbot/queue"
	"modbot/templates"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// fakeStore holds posts, published comments and subscription tokens in
// memory and records what changed.
type fakeStore struct {
	mu           sync.Mutex
	posts        []queue.Post
	comments     map[string][]queue.Comment
	recipients   map[string]string // unsubscribe token → address
	unsubscribed map[string]int    // address → times Unsubscribe ran
	subs         map[string]*queue.Subscription
	err          error
	// commentsGate, when set, holds every Comments read until closed;
	// commentReads counts the reads.
	commentsGate chan struct{}
	commentReads atomic.Int64
}

func (f *fakeStore) Posts(context.Context) ([]queue.Post, error) { return f.posts, f.err }

func (f *fakeStore) Post(_ context.Context, slug string) (*queue.Post, error) {
	if f.err != nil {
		return nil, f.err
	}
	for i := range f.posts {
		if f.posts[i].Slug == slug {
			p := f.posts[i]
			return &p, nil
		}
	}
	return nil, nil
}

func (f *fakeStore) Comments(_ context.Context, slug string) ([]queue.Comment, error) {
	f.commentReads.Add(1)
	if f.commentsGate != nil {
		<-f.commentsGate
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]queue.Comment(nil), f.comments[slug]...), f.err
}

func (f *fakeStore) UnsubscribeAddress(_ context.Context, token string) (string, error) {
	if a, ok := f.recipients[token]; ok {
		return a, nil
	}
	return "", queue.ErrUnknownToken
}

func (f *fakeStore) Unsubscribe(_ context.Context, token string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	a, ok := f.recipients[token]
	if !ok {
		return "", queue.ErrUnknownToken
	}
	f.unsubscribed[a]++
	return a, nil
}

func (f *fakeStore) PendingSubscription(_ context.Context, token string) (*queue.Subscription, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if s, ok := f.subs[token]; ok {
		c := *s
		return &c, nil
	}
	return nil, queue.ErrUnknownToken
}

func (f *fakeStore) ConfirmSubscription(ctx context.Context, token string) (*queue.Subscription, error) {
	f.mu.Lock()
	if s, ok := f.subs[token]; ok && s.State == "pending" {
		s.State = "active"
	}
	f.mu.Unlock()
	return f.PendingSubscription(ctx, token)
}

// sent is one message handed to the fake SMTP sender.
type sent struct {
	from string
	to   []string
	raw  string
}

type fakeSender struct {
	mu   sync.Mutex
	msgs []sent
	err  error
}

func (f *fakeSender) Send(_ context.Context, from string, to []string, raw []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	f.msgs = append(f.msgs, sent{from, to, string(raw)})
	return nil
}

func (f *fakeSender) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.msgs)
}

// fixedRandom makes keys, nonces and tokens the same on every run, so
// pages can be compared with golden files.
type fixedRandom struct{}

func (fixedRandom) Read(b []byte) (int, error) {
	for i := range b {
		b[i] = byte(i*7 + 1)
	}
	return len(b), nil
}

var testNow = time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)

func ts(minutes int) time.Time { return testNow.Add(-time.Duration(minutes) * time.Minute) }

func ptr(v int64) *int64 { return &v }

type fixture struct {
	srv    *Server
	store  *fakeStore
	sender *fakeSender
	h      http.Handler
	clock  *time.Time
}

// newFixture serves one post with a small thread, a subscription and an
// unsubscribe token, with a clock the test moves.
func newFixture(t *testing.T, opts Options) *fixture {
	t.Helper()
	tmpl, err := templates.Load("")
	if err != nil {
		t.Fatal(err)
	}
	st := &fakeStore{
		posts: []queue.Post{
			{Slug: "uk-meta-encryption", Title: "UK accuses Meta of putting children at risk", URL: "https://forum.example/articles/uk-meta-encryption"},
			{Slug: "quiet", Title: "A post without comments"},
		},
		comments: map[string][]queue.Comment{"uk-meta-encryption": {
			{ID: 1, AuthorName: "Carol", Body: "Encryption protects everyone.\nSee https://www.eff.org/issues/encryption for more.", PublishedAt: ts(300)},
			{ID: 2, ParentID: ptr(1), AuthorName: "Dan", Body: "Not children, though.", PublishedAt: ts(240)},
			{ID: 3, ParentID: ptr(2), AuthorName: "Carol", Body: "Children most of all.\n\nTheir messages are read by strangers otherwise.", PublishedAt: ts(200)},
			{ID: 4, AuthorName: "Erin", Body: "A separate point about metadata.", PublishedAt: ts(150)},
			{ID: 5, ParentID: ptr(3), AuthorName: "Dan", Body: "Fair.", PublishedAt: ts(100)},
			{ID: 6, ParentID: ptr(5), AuthorName: "Frank", Body: "Deep in the thread.", PublishedAt: ts(60)},
			{ID: 7, ParentID: ptr(999), AuthorName: "Gina", Body: "My parent was removed.", PublishedAt: ts(30)},
		}},
		recipients:   map[string]string{"tok123": "carol@people.example"},
		unsubscribed: map[string]int{},
		subs: map[string]*queue.Subscription{
			"conf456": {ID: 1, Email: "carol@people.example", PostSlug: "uk-meta-encryption", Scope: "replies", State: "pending"},
		},
	}
	snd := &fakeSender{}
	now := testNow
	s := &Server{
		Stats:         fakeStats{st: &queue.Stats{Outcomes: map[string]int64{}}},
		Comments:      st,
		Subscriptions: st,
		Sender:        snd,
		Templates:     tmpl,
		Site:          queue.Site{Name: "Test Forum", BaseURL: "https://forum.example", Address: "moderator@forum.example"},
		Options:       opts,
		now:           func() time.Time { return now },
		random:        fixedRandom{},
		Logger:        discardLogger(),
	}
	return &fixture{srv: s, store: st, sender: snd, h: s.Handler(), clock: &now}
}

// do sends a request and returns the response with its body read.
func (f *fixture) do(t *testing.T, req *http.Request) (*http.Response, string) {
	t.Helper()
	if req.RemoteAddr == "" || req.RemoteAddr == "192.0.2.1:1234" {
		req.RemoteAddr = "198.51.100.7:5555"
	}
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	res := rec.Result()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func (f *fixture) get(t *testing.T, path string) (*http.Response, string) {
	t.Helper()
	return f.do(t, httptest.NewRequest("GET", path, nil))
}

// form is what a browser holds after loading a post page: the token and
// the cookie.
type form struct {
	token  string
	cookie *http.Cookie
}

func (f *fixture) openForm(t *testing.T, slug string) form {
	t.Helper()
	res, body := f.get(t, "/posts/"+slug)
	if res.StatusCode != 200 {
		t.Fatalf("GET /posts/%s: %d", slug, res.StatusCode)
	}
	doc := parseHTML(t, body)
	var fm form
	for _, n := range findAll(doc, func(n *html.Node) bool { return n.Data == "input" && attr(n, "name") == "token" }) {
		fm.token = attr(n, "value")
	}
	for _, c := range res.Cookies() {
		if c.Name == formCookie {
			fm.cookie = c
		}
	}
	if fm.token == "" || fm.cookie == nil {
		t.Fatalf("form has no token (%q) or cookie (%v)", fm.token, fm.cookie)
	}
	return fm
}

// post sends the comment form with fields, the form's token unless
// fields set one, and its cookie when withCookie.
func (f *fixture) post(t *testing.T, slug string, fm form, withCookie bool, fields url.Values, header http.Header) (*http.Response, string) {
	t.Helper()
	if _, ok := fields["token"]; !ok {
		fields.Set("token", fm.token)
	}
	req := httptest.NewRequest("POST", "/posts/"+slug+"/comments", strings.NewReader(fields.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if withCookie && fm.cookie != nil {
		req.AddCookie(fm.cookie)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	return f.do(t, req)
}

func goodFields() url.Values {
	return url.Values{
		"name": {"Dana Reader"}, "email": {"dana@people.example"},
		"body": {"I read the article twice.\r\nIt is fair."}, "notify": {"replies"},
	}
}

func parseHTML(t *testing.T, s string) *html.Node {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(s))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func findAll(n *html.Node, match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && match(n) {
			out = append(out, n)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return out
}

func byID(doc *html.Node, id string) *html.Node {
	if ns := findAll(doc, func(n *html.Node) bool { return attr(n, "id") == id }); len(ns) > 0 {
		return ns[0]
	}
	return nil
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func hasAttr(n *html.Node, key string) bool {
	for _, a := range n.Attr {
		if a.Key == key {
			return true
		}
	}
	return false
}

func textOf(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return b.String()
}

// golden compares got with testdata/name, or rewrites it with -update.
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
		t.Errorf("%s differs from the golden file (go test -update rewrites it); got:\n%s", name, got)
	}
}

// hostile returns the payloads of testdata/xss.txt.
func hostile(t testing.TB) []string {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "xss.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := sc.Text(); l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	if len(out) < 50 {
		t.Fatalf("only %d payloads", len(out))
	}
	return out
}

var errStore = errors.New("database is locked")

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
