package web

import (
	"encoding/json"
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"modbot/queue"
)

func TestAPIComments(t *testing.T) {
	f := newFixture(t, Options{})
	res, body := f.get(t, "/api/posts/uk-meta-encryption/comments")
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Fatalf("%d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	var got []map[string]any
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 7 {
		t.Fatalf("%d comments", len(got))
	}
	for i, c := range got {
		var keys []string
		for k := range c {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		if strings.Join(keys, " ") != "author_name body id parent published_at" {
			t.Errorf("comment %d has fields %v", i, keys)
		}
		if i > 0 && got[i-1]["id"].(float64) > c["id"].(float64) && got[i-1]["published_at"].(string) > c["published_at"].(string) {
			t.Errorf("not oldest first at %d", i)
		}
	}
	if got[0]["parent"] != nil || got[1]["parent"].(float64) != 1 || got[0]["author_name"] != "Carol" {
		t.Errorf("first comments: %v %v", got[0], got[1])
	}
	if _, err := time.Parse(time.RFC3339, got[0]["published_at"].(string)); err != nil {
		t.Errorf("published_at: %v", err)
	}
	if strings.Contains(strings.ToLower(body), "email") || strings.Contains(body, "@") {
		t.Errorf("the API shows an address or an email field: %s", body)
	}
	// No comments is an empty array, not null.
	_, body = f.get(t, "/api/posts/quiet/comments")
	if strings.TrimSpace(body) != "[]" {
		t.Errorf("no comments: %q", body)
	}
}

// TestAPIHostile: bodies are JSON strings; <, > and & are escaped so a
// page that inlines the JSON cannot be broken out of.
func TestAPIHostile(t *testing.T) {
	f := newFixture(t, Options{})
	payloads := hostile(t)
	var cs []queue.Comment
	for i, p := range payloads {
		cs = append(cs, queue.Comment{ID: int64(i + 1), AuthorName: p, Body: p, PublishedAt: ts(100 - i)})
	}
	f.store.comments["uk-meta-encryption"] = cs
	_, body := f.get(t, "/api/posts/uk-meta-encryption/comments")
	if strings.ContainsAny(body, "<>") {
		t.Errorf("unescaped < or > in the JSON")
	}
	var got []queue.Comment
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	for i, p := range payloads {
		if got[i].Body != p || got[i].AuthorName != p {
			t.Errorf("payload %d did not round-trip: %q", i, got[i].Body)
		}
	}
}

func TestCORS(t *testing.T) {
	f := newFixture(t, Options{CORSOrigins: []string{"https://forum.example"}})
	api := "/api/posts/uk-meta-encryption/comments"
	req := func(method, origin, reqMethod string) *http.Request {
		r := httptest.NewRequest(method, api, nil)
		if origin != "" {
			r.Header.Set("Origin", origin)
		}
		if reqMethod != "" {
			r.Header.Set("Access-Control-Request-Method", reqMethod)
		}
		return r
	}
	tests := []struct {
		name       string
		r          *http.Request
		status     int
		allowOrig  string
		preflights bool
	}{
		{"allowed origin", req("GET", "https://forum.example", ""), 200, "https://forum.example", false},
		{"other origin", req("GET", "https://evil.example", ""), 200, "", false},
		{"look-alike origin", req("GET", "https://forum.example.evil.example", ""), 200, "", false},
		{"other scheme", req("GET", "http://forum.example", ""), 200, "", false},
		{"no origin", req("GET", "", ""), 200, "", false},
		{"preflight allowed", req("OPTIONS", "https://forum.example", "GET"), 204, "https://forum.example", true},
		{"preflight other origin", req("OPTIONS", "https://evil.example", "GET"), 403, "", false},
		{"preflight for DELETE", req("OPTIONS", "https://forum.example", "DELETE"), 403, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, _ := f.do(t, tt.r)
			if res.StatusCode != tt.status {
				t.Errorf("status %d, want %d", res.StatusCode, tt.status)
			}
			if got := res.Header.Get("Access-Control-Allow-Origin"); got != tt.allowOrig {
				t.Errorf("Allow-Origin %q, want %q", got, tt.allowOrig)
			}
			if res.Header.Get("Access-Control-Allow-Credentials") != "" {
				t.Errorf("credentials allowed")
			}
			if !strings.Contains(strings.Join(res.Header.Values("Vary"), ","), "Origin") {
				t.Errorf("no Vary: Origin")
			}
			if got := res.Header.Get("Access-Control-Allow-Methods") != ""; got != tt.preflights {
				t.Errorf("Allow-Methods %q", res.Header.Get("Access-Control-Allow-Methods"))
			}
		})
	}
	// None by default.
	f = newFixture(t, Options{})
	res, _ := f.do(t, req("GET", "https://forum.example", ""))
	if res.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("CORS without configured origins")
	}
	res, _ = f.get(t, "/embed/uk-meta-encryption")
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'self';") && !strings.HasSuffix(csp, "frame-ancestors 'self'") {
		t.Errorf("the widget may be framed by others without configured origins: %q", csp)
	}
}

func TestAtomFeed(t *testing.T) {
	f := newFixture(t, Options{})
	payloads := hostile(t)
	cs := f.store.comments["uk-meta-encryption"]
	cs = append(cs, queue.Comment{ID: 8, AuthorName: "Ctl\x00\x1b[31mName", Body: "bell\x07 and nul\x00 and \ufffe", PublishedAt: ts(20)})
	for i, p := range payloads {
		cs = append(cs, queue.Comment{ID: int64(100 + i), AuthorName: p, Body: "text " + p, PublishedAt: ts(10)})
	}
	f.store.comments["uk-meta-encryption"] = cs
	res, body := f.get(t, "/posts/uk-meta-encryption.atom")
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/atom+xml; charset=utf-8" {
		t.Fatalf("%d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	var feed atomFeed
	if err := xml.Unmarshal([]byte(body), &feed); err != nil {
		t.Fatalf("not well-formed: %v", err)
	}
	if feed.XMLName.Space != "http://www.w3.org/2005/Atom" || feed.ID != "https://forum.example/posts/uk-meta-encryption" ||
		!strings.Contains(feed.Title, "UK accuses Meta") || feed.Updated == "" || feed.Author.Name != "Test Forum" {
		t.Errorf("feed head: %+v", feed)
	}
	if len(feed.Entries) != len(cs) {
		t.Fatalf("%d entries, want %d", len(feed.Entries), len(cs))
	}
	byID := map[string]atomEntry{}
	for _, e := range feed.Entries {
		byID[e.ID] = e
		if e.Link.Href != e.ID || !strings.HasPrefix(e.ID, "https://forum.example/posts/uk-meta-encryption#c") {
			t.Errorf("entry link %q id %q", e.Link.Href, e.ID)
		}
		if _, err := time.Parse(time.RFC3339, e.Updated); err != nil {
			t.Errorf("updated %q", e.Updated)
		}
		if e.Content.Type != "text" {
			t.Errorf("content type %q", e.Content.Type)
		}
	}
	for i, p := range payloads {
		e, ok := byID["https://forum.example/posts/uk-meta-encryption#c"+strconv.Itoa(100+i)]
		if !ok || e.Content.Text != "text "+p || e.Author.Name != p {
			t.Errorf("payload %d: %+v", i, e)
		}
	}
	if e := byID["https://forum.example/posts/uk-meta-encryption#c8"]; e.Content.Text != "bell\ufffd and nul\ufffd and \ufffd" {
		t.Errorf("characters XML cannot carry: %q", e.Content.Text)
	}
	if want := "https://forum.example/posts/uk-meta-encryption#c" + strconv.Itoa(100+len(payloads)-1); feed.Entries[0].ID != want {
		t.Errorf("newest entry first, got %s", feed.Entries[0].ID)
	}
	// The only markup is the feed's own.
	if strings.Contains(body, "<script") || strings.Contains(body, "<img") || strings.Contains(body, "<svg") {
		t.Errorf("markup from a comment in the feed")
	}
	// A feed of no comments is valid too.
	_, body = f.get(t, "/posts/quiet.atom")
	var empty atomFeed
	if err := xml.Unmarshal([]byte(body), &empty); err != nil || len(empty.Entries) != 0 || empty.Updated != "2026-03-14T09:26:53Z" {
		t.Errorf("empty feed: %v\n%s", err, body)
	}
}

// With a cache, a comment published shows up once the copy is older
// than the TTL, never later.
func TestAPICache(t *testing.T) {
	f := newFixture(t, Options{APICacheTTL: 100 * time.Millisecond})
	_, first := f.get(t, "/api/posts/uk-meta-encryption/comments")
	f.store.mu.Lock()
	f.store.comments["uk-meta-encryption"] = append(f.store.comments["uk-meta-encryption"],
		queue.Comment{ID: 9999, PostSlug: "uk-meta-encryption", AuthorName: "Late", Body: "Published just now.", PublishedAt: testNow})
	f.store.mu.Unlock()
	if _, again := f.get(t, "/api/posts/uk-meta-encryption/comments"); again != first {
		t.Errorf("the copy was not used within its TTL")
	}
	time.Sleep(120 * time.Millisecond)
	if _, later := f.get(t, "/api/posts/uk-meta-encryption/comments"); !strings.Contains(later, "Published just now.") {
		t.Errorf("a published comment is not served after the TTL")
	}
}

// When the copy has run out, one request reads the comments again and the
// others wait for it, rather than each reading and encoding them at once.
func TestAPICacheRefreshesOnce(t *testing.T) {
	f := newFixture(t, Options{APICacheTTL: time.Minute})
	gate := make(chan struct{})
	f.store.commentsGate = gate
	var wg sync.WaitGroup
	bodies := make([]string, 20)
	for i := range bodies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, bodies[i] = f.get(t, "/api/posts/uk-meta-encryption/comments")
		}()
	}
	for f.store.commentReads.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // let the others arrive
	close(gate)
	wg.Wait()
	if n := f.store.commentReads.Load(); n != 1 {
		t.Errorf("20 requests at once read the comments %d times, want once", n)
	}
	for i, b := range bodies {
		if b != bodies[0] || !strings.HasPrefix(b, "[") {
			t.Errorf("request %d got %.60q", i, b)
		}
	}
}
