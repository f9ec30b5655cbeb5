package templates

import (
	"bytes"
	"fmt"
	htmltemplate "html/template"
	"io"
	"sync"
	"time"
)

// Web pages are two files each: the layout page.html.tmpl (document,
// head, inline style, site header and footer) and page_<name>.html.tmpl,
// which defines "title" and "content" for the layout. Either can be
// overridden on its own, so a site can restyle every page by replacing
// the layout, or reword one page without touching the others.

// Page is what every web page carries for the layout.
type Page struct {
	Lang     string // the lang attribute, e.g. "en"
	SiteName string
	Home     string // link to the list of posts
	// Nonce is the Content-Security-Policy nonce of the inline style.
	Nonce string
	// Embed is set inside the widget's frame: no site header or footer,
	// and FrameScript tells the embedding page how tall the frame is.
	Embed       bool
	FrameScript string
}

// IndexPage lists the posts that take comments.
type IndexPage struct {
	Page
	Posts []PagePost
}

// PostPage is a post's published comments, threaded, and the form.
type PostPage struct {
	Page
	Post     PagePost
	Comments []*PageComment // the thread's top level; replies are Children
	Count    int            // all comments, at every level
	FeedURL  string
	Form     CommentForm
}

// PagePost is a post as pages show it.
type PagePost struct {
	Slug, Title string
	URL         string // the article, "" when unknown
	Link        string // the post's comment page
}

// PageComment is one published comment in a thread.
type PageComment struct {
	ID        int64
	Name      string
	Published time.Time // in UTC
	Body      string
	ReplyURL  string // the form, set to reply to this comment
	// InReplyTo is set when the thread is too deep to indent further: the
	// comment is shown level with its parent's siblings and names whom it
	// answers.
	InReplyTo *CommentRef
	// LinkTarget is the target of links in the body ("_blank" inside the
	// widget's frame, so an article opens in the reader's window).
	LinkTarget string
	Children   []*PageComment
}

// CommentRef points at a comment.
type CommentRef struct {
	ID   int64
	Name string
}

// BodyHTML is the body with paragraphs, line breaks and links, escaped.
func (c *PageComment) BodyHTML() htmltemplate.HTML { return BodyHTML(c.Body, c.LinkTarget) }

// DateTime is when the comment was published, for a datetime attribute.
func (c *PageComment) DateTime() string { return c.Published.UTC().Format(time.RFC3339) }

// CommentForm is the comment form, empty or filled in again after a
// mistake.
type CommentForm struct {
	Action string // where the form posts
	Token  string // the anti-forgery token
	Embed  bool   // posted from inside the widget
	// Parent is the comment being answered (0: a new thread); ParentName
	// its author, and CancelURL the form without it.
	Parent     int64
	ParentName string
	CancelURL  string

	Name, Email, Body string
	Notify            string // none | replies | all
	Errors            []FieldError
	MaxName, MaxBody  int
}

// FieldError is a mistake in one field of the form. Field is "name",
// "email", "body" or "form" (the whole form); Code says what is wrong:
// missing, invalid, too_long, expired, send_failed.
type FieldError struct {
	Field, Code string
	Limit       int
}

// Error returns the mistake in field, or nil.
func (f *CommentForm) Error(field string) *FieldError {
	for i := range f.Errors {
		if f.Errors[i].Field == field {
			return &f.Errors[i]
		}
	}
	return nil
}

// SentPage tells a commenter what happens after they sent a comment.
type SentPage struct {
	Page
	Post   PagePost
	Back   string // the comments the commenter came from
	Notify string // what they asked to be told about: none | replies | all
}

// UnsubscribePage asks before unsubscribing an address (a mail scanner
// that opens the link must not unsubscribe anyone), then says it is done.
type UnsubscribePage struct {
	Page
	Address string // partly hidden
	Action  string
	Done    bool
}

// ConfirmPage asks an address to confirm a subscription (double opt-in),
// then says it is done.
type ConfirmPage struct {
	Page
	Address string // partly hidden
	Post    PagePost
	Scope   string // replies | all
	State   string // pending | active | unsubscribed
	Action  string
	Done    bool
}

// NotFoundPage is shown for an unknown post, comment page or token.
type NotFoundPage struct {
	Page
}

// RateLimitPage tells a client that sent too many comments when to try
// again.
type RateLimitPage struct {
	Page
	RetryAt time.Time
	Minutes int // whole minutes from now, at least 1
	Back    string
}

// ErrorPage is shown when the server failed.
type ErrorPage struct {
	Page
	Back string
}

// PostFeed holds the words of a post's Atom feed.
type PostFeed struct {
	SiteName, PostTitle string
}

// PostFeedEntry holds the words of one entry of the feed.
type PostFeedEntry struct {
	PostTitle, Name string
}

// FormSubmission is a comment sent through the web form, for the subject of
// the mail that carries it to the moderator inbox.
type FormSubmission struct {
	Slug, PostTitle, Name string
	Reply                 bool
}

// IndexPage renders the list of posts.
func (s *Set) IndexPage(w io.Writer, p *IndexPage) error { return s.execPage(w, "index", p) }

// PostPage renders a post's comments and form.
func (s *Set) PostPage(w io.Writer, p *PostPage) error { return s.execPage(w, "post", p) }

// SentPage renders the page after a comment was sent.
func (s *Set) SentPage(w io.Writer, p *SentPage) error { return s.execPage(w, "sent", p) }

// UnsubscribePage renders the unsubscribe question or its answer.
func (s *Set) UnsubscribePage(w io.Writer, p *UnsubscribePage) error {
	return s.execPage(w, "unsubscribe", p)
}

// ConfirmPage renders the subscription confirmation question or answer.
func (s *Set) ConfirmPage(w io.Writer, p *ConfirmPage) error { return s.execPage(w, "confirm", p) }

// NotFoundPage renders the page for something that does not exist.
func (s *Set) NotFoundPage(w io.Writer, p *NotFoundPage) error { return s.execPage(w, "notfound", p) }

// RateLimitPage renders the page for a client over its rate.
func (s *Set) RateLimitPage(w io.Writer, p *RateLimitPage) error {
	return s.execPage(w, "ratelimit", p)
}

// ErrorPage renders the page for a server failure.
func (s *Set) ErrorPage(w io.Writer, p *ErrorPage) error { return s.execPage(w, "error", p) }

// FeedTitle is the title of a post's Atom feed.
func (s *Set) FeedTitle(f *PostFeed) (string, error) { return s.execOneline("feed_title.tmpl", f) }

// FeedEntryTitle is the title of one comment in the feed.
func (s *Set) FeedEntryTitle(e *PostFeedEntry) (string, error) {
	return s.execOneline("feed_entry_title.tmpl", e)
}

// SubmissionSubject is the subject of the mail a web form submission
// becomes.
func (s *Set) SubmissionSubject(sub *FormSubmission) (string, error) {
	return s.execOneline("submission.subject.tmpl", sub)
}

func (s *Set) execOneline(name string, data any) (string, error) {
	t, err := s.execText(name, data)
	if err != nil {
		return "", err
	}
	return oneline(t), nil
}

// pages caches the composed page templates of each Set: composing
// clones the layout, which must happen before the first execution, and
// escaping a page once is cheaper than on every request. A Set never
// changes after Load, so its entries never go stale.
var pages sync.Map // pageKey → *htmltemplate.Template

type pageKey struct {
	set  *Set
	name string
}

func (s *Set) execPage(w io.Writer, name string, data any) error {
	t, err := s.page(name)
	if err != nil {
		return err
	}
	// Render into a buffer so that a failure halfway does not send half
	// a page with a 200.
	var b bytes.Buffer
	if err := t.ExecuteTemplate(&b, "page.html.tmpl", data); err != nil {
		return fmt.Errorf("templates: page %s: %w", name, err)
	}
	_, err = w.Write(b.Bytes())
	return err
}

func (s *Set) page(name string) (*htmltemplate.Template, error) {
	key := pageKey{s, name}
	if t, ok := pages.Load(key); ok {
		return t.(*htmltemplate.Template), nil
	}
	layout, ok := s.html["page.html.tmpl"]
	if !ok {
		return nil, fmt.Errorf("%w: page.html.tmpl", errNoTemplate)
	}
	body, ok := s.html["page_"+name+".html.tmpl"]
	if !ok {
		return nil, fmt.Errorf("%w: page_%s.html.tmpl", errNoTemplate, name)
	}
	t, err := layout.Clone()
	if err != nil {
		return nil, fmt.Errorf("templates: page %s: %w", name, err)
	}
	for _, sub := range body.Templates() {
		if sub.Tree == nil || sub.Name() == body.Name() {
			continue
		}
		if _, err := t.AddParseTree(sub.Name(), sub.Tree.Copy()); err != nil {
			return nil, fmt.Errorf("templates: page %s: %w", name, err)
		}
	}
	actual, _ := pages.LoadOrStore(key, t)
	return actual.(*htmltemplate.Template), nil
}
