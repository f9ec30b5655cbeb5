package web

import (
	"bytes"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"modbot/mail"
)

// TestCommentBecomesMail: a valid form is mailed to the post's plus
// address From the commenter, with the X-Comment-* fields, and the
// browser is sent on to the page that says what happens next.
func TestCommentBecomesMail(t *testing.T) {
	f := newFixture(t, Options{})
	fm := f.openForm(t, "uk-meta-encryption")
	fields := goodFields()
	fields.Set("parent", "3")
	res, _ := f.post(t, "uk-meta-encryption", fm, true, fields, nil)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/posts/uk-meta-encryption/sent?notify=replies" {
		t.Fatalf("POST: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	if f.sender.count() != 1 {
		t.Fatalf("%d messages sent", f.sender.count())
	}
	s := f.sender.msgs[0]
	if s.from != "moderator@forum.example" || len(s.to) != 1 || s.to[0] != "moderator+uk-meta-encryption@forum.example" {
		t.Errorf("envelope %q → %q", s.from, s.to)
	}
	m, err := mail.Parse(strings.NewReader(s.raw), nil)
	if err != nil {
		t.Fatal(err)
	}
	if m.From == nil || m.From.Addr != "dana@people.example" || m.From.Name != "Dana Reader" {
		t.Errorf("From %+v", m.From)
	}
	if len(m.To) != 1 || m.To[0].Addr != "moderator+uk-meta-encryption@forum.example" {
		t.Errorf("To %+v", m.To)
	}
	for k, want := range map[string]string{
		"X-Comment-Post": "uk-meta-encryption", "X-Comment-Name": "Dana Reader", "X-Comment-Parent": "3",
		"X-Comment-Notify": "replies", "Auto-Submitted": "no",
	} {
		if got := m.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if !mail.IsOwnMessageID(m.MessageID, "forum.example") || !strings.HasPrefix(m.MessageID, "form.") {
		t.Errorf("Message-ID %q", m.MessageID)
	}
	if got := strings.TrimSpace(m.Text); got != "I read the article twice.\nIt is fair." {
		t.Errorf("body %q", got)
	}
	if !strings.Contains(m.Subject, "uk-meta-encryption") || !strings.Contains(m.Subject, "Dana Reader") {
		t.Errorf("subject %q", m.Subject)
	}
	// The inbox reads it as a submission for the post, with its parent.
	c := mail.Classify(m, mail.SiteAddress{Address: "moderator@forum.example"})
	if c.Kind != mail.KindSubmission || c.PostSlug != "uk-meta-encryption" || c.ParentID != "3" || c.AuthorName != "Dana Reader" {
		t.Errorf("classified as %+v", c)
	}
	// The page after it is a GET and changes nothing.
	res, body := f.get(t, res.Header.Get("Location"))
	if res.StatusCode != 200 || !strings.Contains(body, "moderator reads it") || !strings.Contains(body, "confirm") {
		t.Errorf("sent page: %d\n%s", res.StatusCode, body)
	}
}

// TestHeaderInjection: what a commenter types cannot add header fields
// or recipients to the mail.
func TestHeaderInjection(t *testing.T) {
	f := newFixture(t, Options{})
	fm := f.openForm(t, "uk-meta-encryption")
	fields := goodFields()
	fields.Set("name", "Eve\r\nBcc: victim@evil.example\r\nX-Comment-Post: other")
	fields.Set("body", "hello\r\n.\r\nMAIL FROM:<x@evil.example>\r\nBcc: victim@evil.example")
	fields.Set("notify", "all\r\nBcc: victim@evil.example")
	fields.Set("parent", "1\r\nBcc: victim@evil.example")
	res, _ := f.post(t, "uk-meta-encryption", fm, true, fields, nil)
	if res.StatusCode != http.StatusSeeOther || f.sender.count() != 1 {
		t.Fatalf("POST: %d, %d sent", res.StatusCode, f.sender.count())
	}
	s := f.sender.msgs[0]
	head, _, _ := strings.Cut(s.raw, "\r\n\r\n")
	var names []string
	for _, line := range strings.Split(head, "\r\n") {
		if line != "" && line[0] != ' ' && line[0] != '\t' {
			name, _, _ := strings.Cut(line, ":")
			names = append(names, name)
		}
	}
	want := "Date From To Reply-To Subject Message-ID Auto-Submitted X-Comment-Name X-Comment-Notify X-Comment-Post MIME-Version Content-Type Content-Transfer-Encoding"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("header fields\n got %s\nwant %s", got, want)
	}
	if len(s.to) != 1 || strings.Contains(strings.Join(s.to, ","), "victim") {
		t.Errorf("envelope recipients %q", s.to)
	}
	m, err := mail.Parse(strings.NewReader(s.raw), nil)
	if err != nil {
		t.Fatal(err)
	}
	if m.Get("X-Comment-Post") != "uk-meta-encryption" || m.Get("X-Comment-Notify") != "none" || m.Get("X-Comment-Parent") != "" {
		t.Errorf("fields: post %q notify %q parent %q", m.Get("X-Comment-Post"), m.Get("X-Comment-Notify"), m.Get("X-Comment-Parent"))
	}
	if got := m.Get("X-Comment-Name"); got != "Eve Bcc: victim@evil.example X-Comment-Post: other" {
		t.Errorf("name %q", got)
	}
	if len(m.Cc) != 0 || len(m.To) != 1 {
		t.Errorf("recipients in the header: %+v %+v", m.To, m.Cc)
	}
	// An address with a line break is refused outright.
	fields = goodFields()
	fields.Set("email", "eve@people.example\r\nBcc: victim@evil.example")
	res, _ = f.post(t, "uk-meta-encryption", fm, true, fields, nil)
	if res.StatusCode != http.StatusUnprocessableEntity || f.sender.count() != 1 {
		t.Errorf("address with a line break: %d, %d sent", res.StatusCode, f.sender.count())
	}
}

func TestValidation(t *testing.T) {
	tests := []struct {
		name, field, value, wantText string
	}{
		{"no name", "name", " \t ", "Enter the name"},
		{"long name", "name", strings.Repeat("n", 81), "at most 80 characters"},
		{"no email", "email", "", "Enter your email address"},
		{"bad email", "email", "dana", "like name@example.com"},
		{"email with name", "email", "Dana <dana@people.example>", "like name@example.com"},
		{"email without dot", "email", "dana@localhost", "like name@example.com"},
		{"email with space", "email", "da na@people.example", "like name@example.com"},
		{"long email", "email", strings.Repeat("d", 250) + "@people.example", "at most 254 characters"},
		{"no body", "body", "\r\n \r\n", "Write your comment"},
		{"long body", "body", strings.Repeat("é", 10001), "longer than 10000 characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, Options{})
			fm := f.openForm(t, "uk-meta-encryption")
			fields := goodFields()
			fields.Set(tt.field, tt.value)
			res, body := f.post(t, "uk-meta-encryption", fm, true, fields, nil)
			if res.StatusCode != http.StatusUnprocessableEntity || f.sender.count() != 0 {
				t.Fatalf("status %d, %d sent", res.StatusCode, f.sender.count())
			}
			if !strings.Contains(body, tt.wantText) {
				t.Errorf("page does not say %q", tt.wantText)
			}
			// What was typed in the other fields is kept.
			doc := parseHTML(t, body)
			if tt.field != "body" && textOf(byID(doc, "f-body")) != "I read the article twice.\nIt is fair." {
				t.Errorf("body not kept: %q", textOf(byID(doc, "f-body")))
			}
			if tt.field != "name" && attr(byID(doc, "f-name"), "value") != "Dana Reader" {
				t.Errorf("name not kept")
			}
			if !strings.Contains(body, `value="replies" checked`) {
				t.Errorf("notify choice not kept")
			}
		})
	}
}

// TestFormForgery: a POST is taken only with a fresh token this server
// made for this post, and either the browser's cookie or an allowed
// Origin; a foreign Origin is refused whatever else it carries.
func TestFormForgery(t *testing.T) {
	allowed := "https://widget-user.example"
	tests := []struct {
		name   string
		token  func(fm form) string
		cookie bool
		origin string
		later  time.Duration
		ok     bool
	}{
		{"cookie, no Origin", nil, true, "", 0, true},
		{"cookie, own Origin", nil, true, "http://example.com", 0, true},
		{"no cookie, allowed Origin (the widget on another site)", nil, false, allowed, 0, true},
		{"no cookie, own Origin", nil, false, "http://example.com", 0, true},
		{"no cookie, the site's Origin (behind a proxy)", nil, false, "https://forum.example", 0, true},
		{"an hour later", nil, true, "", time.Hour, true},
		{"no token", func(form) string { return "" }, true, "", 0, false},
		{"garbage token", func(form) string { return "x.y.z" }, true, "", 0, false},
		{"token bit flipped", func(fm form) string { return fm.token[:len(fm.token)-2] + "AA" }, true, "", 0, false},
		{"token of another post", func(form) string { return "" }, true, "", 0, false},
		{"no cookie, no Origin", nil, false, "", 0, false},
		{"no cookie, null Origin", nil, false, "null", 0, false},
		{"cookie, foreign Origin", nil, true, "https://evil.example", 0, false},
		{"no cookie, foreign Origin", nil, false, "https://evil.example", 0, false},
		{"expired", nil, true, "", 13 * time.Hour, false},
		{"from the future", nil, true, "", -time.Hour, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, Options{CORSOrigins: []string{allowed}})
			fm := f.openForm(t, "uk-meta-encryption")
			if tt.name == "token of another post" {
				fm = f.openForm(t, "quiet")
			}
			*f.clock = f.clock.Add(tt.later)
			fields := goodFields()
			if tt.token != nil {
				fields.Set("token", tt.token(fm))
			}
			h := http.Header{}
			if tt.origin != "" {
				h.Set("Origin", tt.origin)
			}
			res, body := f.post(t, "uk-meta-encryption", fm, tt.cookie, fields, h)
			if tt.ok {
				if res.StatusCode != http.StatusSeeOther || f.sender.count() != 1 {
					t.Errorf("refused: %d, %d sent", res.StatusCode, f.sender.count())
				}
				return
			}
			if res.StatusCode != http.StatusForbidden || f.sender.count() != 0 {
				t.Fatalf("taken: %d, %d sent", res.StatusCode, f.sender.count())
			}
			// The commenter's text is not lost: the form comes back with a
			// fresh token.
			if !strings.Contains(body, "This form was open too long") || !strings.Contains(body, "I read the article twice.") {
				t.Errorf("refusal page does not keep the text or say why")
			}
		})
	}
}

// TestFormFetchMetadata: a browser's Sec-Fetch-Site decides before its
// Origin (CrossOriginProtection): same-origin is taken without the
// cookie, another site only when it is a configured origin.
func TestFormFetchMetadata(t *testing.T) {
	allowed := "https://widget-user.example"
	tests := []struct {
		site, origin string
		cookie, ok   bool
	}{
		{"same-origin", "", false, true},
		{"same-origin", "http://example.com", false, true},
		{"cross-site", allowed, false, true},
		{"cross-site", "https://evil.example", true, false},
		{"cross-site", "", true, false},
		{"same-site", "http://www.example.com", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.site+" "+tt.origin, func(t *testing.T) {
			f := newFixture(t, Options{CORSOrigins: []string{allowed}})
			fm := f.openForm(t, "uk-meta-encryption")
			h := http.Header{"Sec-Fetch-Site": {tt.site}}
			if tt.origin != "" {
				h.Set("Origin", tt.origin)
			}
			res, _ := f.post(t, "uk-meta-encryption", fm, tt.cookie, goodFields(), h)
			if got := res.StatusCode == http.StatusSeeOther && f.sender.count() == 1; got != tt.ok {
				t.Errorf("taken = %v (%d), want %v", got, res.StatusCode, tt.ok)
			}
		})
	}
}

func TestHoneypot(t *testing.T) {
	f := newFixture(t, Options{})
	fm := f.openForm(t, "uk-meta-encryption")
	fields := goodFields()
	fields.Set("website", "http://spam.example")
	res, _ := f.post(t, "uk-meta-encryption", fm, true, fields, nil)
	// Looks like success, sends nothing.
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/posts/uk-meta-encryption/sent?notify=replies" {
		t.Errorf("honeypot: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	if f.sender.count() != 0 {
		t.Errorf("honeypot submission was sent")
	}
}

func TestRateLimit(t *testing.T) {
	f := newFixture(t, Options{FormRate: Rate{N: 2, Per: time.Hour}, ClientIPHeader: "X-Forwarded-For"})
	fm := f.openForm(t, "uk-meta-encryption")
	from := func(ip string) http.Header { return http.Header{"X-Forwarded-For": {"203.0.113.99, " + ip}} }
	for i := 0; i < 2; i++ {
		if res, _ := f.post(t, "uk-meta-encryption", fm, true, goodFields(), from("192.0.2.10")); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("comment %d: %d", i+1, res.StatusCode)
		}
	}
	res, body := f.post(t, "uk-meta-encryption", fm, true, goodFields(), from("192.0.2.10"))
	if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") != "1800" {
		t.Fatalf("third comment: %d, Retry-After %q", res.StatusCode, res.Header.Get("Retry-After"))
	}
	if !strings.Contains(body, "try again in 30 minutes, after 09:56 UTC") {
		t.Errorf("429 page does not say when:\n%s", body)
	}
	if f.sender.count() != 2 {
		t.Errorf("%d sent, want 2", f.sender.count())
	}
	// Another client is not affected; the client claimed in the first
	// X-Forwarded-For entry does not count.
	if res, _ := f.post(t, "uk-meta-encryption", fm, true, goodFields(), from("192.0.2.11")); res.StatusCode != http.StatusSeeOther {
		t.Errorf("another client: %d", res.StatusCode)
	}
	// Half an hour later the bucket has a token again.
	*f.clock = f.clock.Add(30 * time.Minute)
	if res, _ := f.post(t, "uk-meta-encryption", fm, true, goodFields(), from("192.0.2.10")); res.StatusCode != http.StatusSeeOther {
		t.Errorf("after the wait: %d", res.StatusCode)
	}
	// IPv6 clients count by /64.
	f2 := newFixture(t, Options{FormRate: Rate{N: 1, Per: time.Hour}})
	fm2 := f2.openForm(t, "uk-meta-encryption")
	for i, addr := range []string{"[2001:db8:1:2::1]:4000", "[2001:db8:1:2::ffff]:4001"} {
		req := formRequest(fm2, goodFields())
		req.RemoteAddr = addr
		res, _ := f2.do(t, req)
		if want := []int{303, 429}[i]; res.StatusCode != want {
			t.Errorf("IPv6 %s: %d, want %d", addr, res.StatusCode, want)
		}
	}
}

func formRequest(fm form, fields url.Values) *http.Request {
	fields.Set("token", fm.token)
	req, _ := http.NewRequest("POST", "http://example.com/posts/uk-meta-encryption/comments", bytes.NewReader([]byte(fields.Encode())))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(fm.cookie)
	return req
}

func TestSendFails(t *testing.T) {
	f := newFixture(t, Options{})
	f.sender.err = errors.New("421 try later")
	fm := f.openForm(t, "uk-meta-encryption")
	res, body := f.post(t, "uk-meta-encryption", fm, true, goodFields(), nil)
	if res.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "could not pass your comment on") || !strings.Contains(body, "I read the article twice.") {
		t.Errorf("send failure: %d\n%s", res.StatusCode, body)
	}
}

func TestFormTooLarge(t *testing.T) {
	f := newFixture(t, Options{})
	fm := f.openForm(t, "uk-meta-encryption")
	fields := goodFields()
	fields.Set("body", strings.Repeat("x", maxFormBytes))
	res, _ := f.post(t, "uk-meta-encryption", fm, true, fields, nil)
	if res.StatusCode != http.StatusRequestEntityTooLarge || f.sender.count() != 0 {
		t.Errorf("huge form: %d, %d sent", res.StatusCode, f.sender.count())
	}
}

// TestEmbedForm: a form sent from the widget's frame answers inside the
// frame.
func TestEmbedForm(t *testing.T) {
	f := newFixture(t, Options{CORSOrigins: []string{"https://forum.example"}})
	fm := f.openForm(t, "uk-meta-encryption")
	fields := goodFields()
	fields.Set("embed", "1")
	res, _ := f.post(t, "uk-meta-encryption", fm, false, fields, http.Header{"Origin": {"http://example.com"}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/embed/uk-meta-encryption/sent?notify=replies" {
		t.Fatalf("POST from the frame: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	res, body := f.get(t, res.Header.Get("Location"))
	if res.StatusCode != 200 || !strings.Contains(res.Header.Get("Content-Security-Policy"), "frame-ancestors 'self' https://forum.example") || !strings.Contains(body, `href="/embed/uk-meta-encryption"`) {
		t.Errorf("sent page in the frame: %d %q", res.StatusCode, res.Header.Get("Content-Security-Policy"))
	}
	fields.Set("name", "")
	res, _ = f.post(t, "uk-meta-encryption", fm, false, fields, http.Header{"Origin": {"http://example.com"}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.Header.Get("Content-Security-Policy"), "frame-ancestors 'self' https://forum.example") {
		t.Errorf("a mistake in the frame is not shown in the frame: %d %q", res.StatusCode, res.Header.Get("Content-Security-Policy"))
	}
}
