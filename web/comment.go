package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	netmail "net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"modbot/mail"
	"modbot/queue"
	"modbot/templates"
)

// maxFormBytes caps a form POST: the longest comment in four-byte
// characters, percent-encoded, with room for the other fields.
const maxFormBytes = 4*3*maxBody + 8<<10

// sendTimeout bounds the wait for the SMTP server while the commenter
// waits for the page.
const sendTimeout = 30 * time.Second

// postComment takes the comment form. It checks the form is genuine, the
// honeypot, the fields and the client's rate, then mails the comment to
// the moderator inbox, the one place every submission arrives, and
// sends the browser to a page that says what happens next.
func (s *Server) postComment(w http.ResponseWriter, r *http.Request) {
	slug := r.PathValue("slug")
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		status := http.StatusBadRequest
		if errors.As(err, &tooBig) {
			status = http.StatusRequestEntityTooLarge
		}
		s.Logger.Info("web form unreadable", "post", slug, "err", err)
		s.render(w, r, status, view{}, func(w io.Writer, p templates.Page) error {
			return s.Templates.ErrorPage(w, &templates.ErrorPage{Page: p, Back: postPath(slug, false)})
		})
		return
	}
	embed := r.PostForm.Get("embed") == "1"
	v := view{embed: embed}
	post, comments, ok := s.loadPost(w, r, slug, v)
	if !ok {
		return
	}
	form := readForm(r)

	if !s.formAuthentic(r, slug, r.PostForm.Get("token")) {
		s.Logger.Info("web form refused: not authentic", "post", slug, "origin", r.Header.Get("Origin"))
		form.Errors = []templates.FieldError{{Field: "form", Code: "expired"}}
		s.showForm(w, r, http.StatusForbidden, post, comments, form, embed)
		return
	}
	sentURL := postPath(slug, embed) + "/sent?notify=" + url.QueryEscape(form.Notify)
	if r.PostForm.Get("website") != "" {
		// A person cannot see the field; a program filled it in. Answer
		// as if it worked, so the program learns nothing, but send
		// nothing, and let it use up its rate.
		s.limiter.take(s.clientKey(r), s.now())
		s.Logger.Info("web form: honeypot filled", "post", slug)
		http.Redirect(w, r, sentURL, http.StatusSeeOther)
		return
	}
	if form.Errors = validate(&form); len(form.Errors) > 0 {
		s.showForm(w, r, http.StatusUnprocessableEntity, post, comments, form, embed)
		return
	}
	if wait := s.limiter.take(s.clientKey(r), s.now()); wait > 0 {
		s.tooMany(w, r, slug, embed, wait)
		return
	}
	if err := s.send(r.Context(), post, &form); err != nil {
		s.Logger.Error("web form: send to the inbox", "post", slug, "err", err)
		form.Errors = []templates.FieldError{{Field: "form", Code: "send_failed"}}
		s.showForm(w, r, http.StatusServiceUnavailable, post, comments, form, embed)
		return
	}
	http.Redirect(w, r, sentURL, http.StatusSeeOther)
}

// readForm reads the fields as sent, made valid UTF-8 with one kind of
// line end, so that a form shown again shows what was typed.
func readForm(r *http.Request) templates.CommentForm {
	get := func(k string) string {
		return strings.ToValidUTF8(r.PostForm.Get(k), "\uFFFD")
	}
	f := templates.CommentForm{
		Name:   get("name"),
		Email:  strings.TrimSpace(get("email")),
		Body:   strings.ReplaceAll(strings.ReplaceAll(get("body"), "\r\n", "\n"), "\r", "\n"),
		Notify: notifyValue(get("notify")),
	}
	if p, err := strconv.ParseInt(get("parent"), 10, 64); err == nil && p > 0 {
		f.Parent = p
	}
	return f
}

// validate cleans the fields in place and lists what is wrong with them.
func validate(f *templates.CommentForm) []templates.FieldError {
	var errs []templates.FieldError
	// A display name is one line of visible text: line breaks and other
	// control characters (header injection, bidi tricks) become spaces.
	f.Name = strings.Join(strings.FieldsFunc(f.Name, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r)
	}), " ")
	switch n := utf8.RuneCountInString(f.Name); {
	case n == 0:
		errs = append(errs, templates.FieldError{Field: "name", Code: "missing"})
	case n > maxName:
		errs = append(errs, templates.FieldError{Field: "name", Code: "too_long", Limit: maxName})
	}
	switch {
	case f.Email == "":
		errs = append(errs, templates.FieldError{Field: "email", Code: "missing"})
	case len(f.Email) > maxEmail:
		errs = append(errs, templates.FieldError{Field: "email", Code: "too_long", Limit: maxEmail})
	case !validEmail(f.Email):
		errs = append(errs, templates.FieldError{Field: "email", Code: "invalid"})
	}
	f.Body = strings.TrimSpace(f.Body)
	switch n := utf8.RuneCountInString(f.Body); {
	case n == 0:
		errs = append(errs, templates.FieldError{Field: "body", Code: "missing"})
	case n > maxBody:
		errs = append(errs, templates.FieldError{Field: "body", Code: "too_long", Limit: maxBody})
	}
	return errs
}

// validEmail accepts a plain ASCII local@domain.tld that can be written
// into a header and an SMTP envelope as it is.
func validEmail(e string) bool {
	a, err := netmail.ParseAddress(e)
	if err != nil || a.Name != "" || a.Address != e || strings.Count(e, "@") != 1 {
		return false
	}
	local, domain, _ := strings.Cut(e, "@")
	if local == "" || !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") ||
		strings.Contains(domain, "..") || strings.HasPrefix(local, ".") || strings.HasSuffix(local, ".") || strings.Contains(local, "..") {
		return false
	}
	for i := 0; i < len(e); i++ {
		if c := e[i]; c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),:;<>[\]`, c) >= 0 {
			return false
		}
	}
	return true
}

// send mails the comment to moderator+<slug>@domain, From the commenter,
// with the X-Comment-* fields the inbox reads a web submission by.
func (s *Server) send(ctx context.Context, post *queue.Post, f *templates.CommentForm) error {
	if s.Sender == nil {
		return errors.New("no SMTP sender configured")
	}
	local, domain, ok := strings.Cut(s.Site.Address, "@")
	if !ok {
		return fmt.Errorf("site address %q has no domain", s.Site.Address)
	}
	to := local + "+" + post.Slug + "@" + domain
	subject, err := s.Templates.SubmissionSubject(&templates.FormSubmission{
		Slug: post.Slug, PostTitle: post.Title, Name: f.Name, Reply: f.Parent != 0,
	})
	if err != nil {
		return err
	}
	headers := map[string]string{
		"X-Comment-Post":   post.Slug,
		"X-Comment-Name":   f.Name,
		"X-Comment-Notify": f.Notify,
	}
	if f.Parent != 0 {
		headers["X-Comment-Parent"] = strconv.FormatInt(f.Parent, 10)
	}
	commenter := mail.Address{Name: f.Name, Addr: f.Email}
	msg := mail.Outgoing{
		From: commenter,
		To:   []mail.Address{{Addr: to}},
		// Some submission servers rewrite From to the account that sends;
		// Reply-To still names the commenter.
		ReplyTo:   []mail.Address{commenter},
		Subject:   subject,
		MessageID: mail.NewMessageID("form", domain),
		Date:      s.now(),
		// A person wrote this; only the form carried it.
		AutoSubmitted: "no",
		Headers:       headers,
		Text:          f.Body,
	}
	raw, err := msg.Bytes()
	if err != nil {
		return fmt.Errorf("compose: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, sendTimeout)
	defer cancel()
	// The envelope is the inbox's own: a bounce goes to the inbox, not
	// to the commenter.
	if err := s.Sender.Send(ctx, s.Site.Address, []string{to}, raw); err != nil {
		return err
	}
	s.Logger.Info("web form: comment sent to the inbox", "post", post.Slug, "message_id", msg.MessageID, "reply", f.Parent != 0)
	return nil
}

// tooMany answers a client over its rate: 429, Retry-After and a page
// saying when to come back.
func (s *Server) tooMany(w http.ResponseWriter, r *http.Request, slug string, embed bool, wait time.Duration) {
	minutes := int(math.Ceil(wait.Minutes()))
	if minutes < 1 {
		minutes = 1
	}
	s.Logger.Info("web form: rate limited", "post", slug, "wait", wait.Round(time.Second))
	w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
	page := &templates.RateLimitPage{RetryAt: s.now().Add(wait), Minutes: minutes, Back: postPath(slug, embed)}
	s.render(w, r, http.StatusTooManyRequests, view{embed: embed}, func(w io.Writer, p templates.Page) error {
		page.Page = p
		return s.Templates.RateLimitPage(w, page)
	})
}
