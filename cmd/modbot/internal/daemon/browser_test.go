package daemon

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"modbot/mail"
	"modbot/queue"
	"modbot/templates"
	"modbot/web"
)

// The browser tests drive headless Chromium (Debian's chromium package)
// through the pages as a reader would. Without Chromium they skip,
// unless MODBOT_REQUIRE_DOVECOT=1 (CI), where that is a failure.

func findChromium(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("MODBOT_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p == "" {
			continue
		}
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p
		}
	}
	if os.Getenv("MODBOT_REQUIRE_DOVECOT") == "1" {
		t.Fatal("chromium is not installed (apt-get install chromium), and MODBOT_REQUIRE_DOVECOT=1 requires the browser tests")
	}
	t.Skip("chromium is not installed (apt-get install chromium); skipping the browser tests")
	return ""
}

// browser starts a headless Chromium for the test, with a profile of its
// own, and returns a tab's context.
func browser(t *testing.T) context.Context {
	t.Helper()
	bin := findChromium(t)
	profile := t.TempDir()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.UserDataDir(profile),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx); err != nil { // starts the browser, with no timeout
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// step runs browser actions with a deadline, so that a page that never
// shows what the test waits for fails the test instead of hanging it.
func step(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(sctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func value[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(sctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

func setScripts(t *testing.T, ctx context.Context, on bool) {
	t.Helper()
	if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: !on}); err != nil {
		t.Fatal(err)
	}
}

// screenshot saves a PNG of the page when MODBOT_SCREENSHOTS names a
// directory, for a person to look at the layout.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("MODBOT_SCREENSHOTS")
	if dir == "" {
		return
	}
	png := value(t, ctx, "screenshot", chromedp.FullScreenshot(100))
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// otherSite serves a plain article page that embeds the comment widget
// of modbotURL, as a site on another origin would.
func otherSite(t *testing.T, ln net.Listener, modbotURL func() string) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>An article</title></head>
<body><h1>An article on another site</h1><p>Text of the article.</p>
<script src="%s/embed.js" data-post="uk-meta-encryption" async></script>
<noscript><a href="%s/posts/uk-meta-encryption">Comments</a></noscript>
<p id="after">After the comments.</p>
</body></html>`, modbotURL(), modbotURL())
	}))
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

// waitDigest waits for a digest to user other than the first `seen`,
// and returns it. (Confirmations answer a digest, so their subjects
// start with "Re:" and carry the digest's.)
func waitDigest(t *testing.T, ms mailSystem, user string, seen int) *mail.Message {
	const subject = "to moderate"
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		raws, err := ms.Messages(user, "INBOX")
		if err != nil {
			t.Fatal(err)
		}
		var match []*mail.Message
		for _, m := range parseAll(t, raws) {
			if strings.Contains(m.Subject, subject) && !strings.HasPrefix(m.Subject, "Re:") && len(m.ReplyTo) > 0 {
				match = append(match, m)
			}
		}
		if len(match) > seen {
			return match[len(match)-1]
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s never received digest %d", user, seen+1)
	return nil
}

// published polls the JSON API until the post has n comments.
func published(t *testing.T, base string, n int) []queue.Comment {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var cs []queue.Comment
	for time.Now().Before(deadline) {
		res, err := http.Get(base + "/api/posts/uk-meta-encryption/comments")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		cs = nil
		if err := json.Unmarshal(b, &cs); err != nil {
			t.Fatalf("API: %v: %s", err, b)
		}
		if len(cs) >= n {
			return cs
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("the API never showed %d comments; it has %d", n, len(cs))
	return nil
}

// submissions returns what the daemon filed in Modbot/Submissions.
func submissions(t *testing.T, ms mailSystem) []*mail.Message {
	t.Helper()
	raws, err := ms.Messages(inbox, mail.FolderSubmissions)
	if err != nil {
		t.Fatal(err)
	}
	return parseAll(t, raws)
}

// TestBrowserComment: a reader opens the post page with scripts off,
// sends a comment through the form; it arrives in the moderator inbox as
// a submission; alice approves it by mail; the reloaded page shows it.
// A reply through the comment's Reply link lands in its thread. The
// widget then shows both on a page of another origin.
func TestBrowserComment(t *testing.T) {
	ctx := browser(t)
	ms, imapAddr, smtpAddr := startDevmail(t)
	otherLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	other := "http://" + otherLn.Addr().String()

	cfg := testConfig(t, t.TempDir(), imapAddr, smtpAddr)
	cfg.Moderation.UndoGrace = 1
	cfg.Web.Listen = "127.0.0.1:0"
	cfg.Web.CORSOrigins = []string{other}
	d, _ := startDaemon(t, cfg)
	base := "http://" + d.WebListen.Addr().String()
	otherSite(t, otherLn, func() string { return base })

	// The page and the form work without JavaScript, at 360 px wide.
	setScripts(t, ctx, false)
	step(t, ctx, "open the post page",
		chromedp.EmulateViewport(360, 800, chromedp.EmulateMobile),
		chromedp.Navigate(base+"/posts/uk-meta-encryption"),
		chromedp.WaitVisible(chromedp.ID("f-name")),
	)
	if h := value(t, ctx, "h1", chromedp.Text(chromedp.CSS("h1"))); h != "UK accuses Meta" {
		t.Errorf("h1 %q", h)
	}
	if h := value(t, ctx, "count", chromedp.Text(chromedp.ID("comments-h"))); h != "0 comments" {
		t.Errorf("comment count %q", h)
	}
	checkFits(t, ctx)
	step(t, ctx, "fill in the form",
		chromedp.SendKeys(chromedp.ID("f-name"), "Dana Reader"),
		chromedp.SendKeys(chromedp.ID("f-email"), carol),
		chromedp.SendKeys(chromedp.ID("f-body"), "Encryption protects everyone.\nMore at https://www.eff.org/issues/encryption"),
		chromedp.Click(chromedp.CSS(`input[name=notify][value=replies]`)),
	)
	screenshot(t, ctx, "post-360")
	step(t, ctx, "send the comment",
		chromedp.Click(chromedp.CSS(`button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("ol.steps")),
	)
	if loc := value(t, ctx, "location", chromedp.Location()); loc != base+"/posts/uk-meta-encryption/sent?notify=replies" {
		t.Errorf("after sending: %s", loc)
	}
	checkFits(t, ctx)
	screenshot(t, ctx, "sent-360")

	// The inbox has it, as a submission from Dana.
	waitFiled(t, imapAddr, mail.FolderSubmissions, 1, "$Pending")
	subs := submissions(t, ms)
	if m := subs[0]; m.From == nil || m.From.Addr != carol || m.Get("X-Comment-Post") != "uk-meta-encryption" ||
		m.Get("X-Comment-Name") != "Dana Reader" || m.Get("X-Comment-Notify") != "replies" || m.Get("Auto-Submitted") != "no" ||
		!strings.Contains(m.Text, "Encryption protects everyone.") {
		t.Errorf("the submission in the inbox: From %+v, fields %v\n%s", m.From, m.Header, m.Text)
	}

	// Alice approves it by mail; the reloaded page shows it.
	digest := waitDigest(t, ms, alice, 0)
	if !strings.Contains(digest.Text, "Dana Reader") {
		t.Errorf("the digest does not list Dana's comment:\n%s", digest.Text)
	}
	if err := ms.Append(inbox, "INBOX", replyTo(digest, "Alice <alice@mods.example>", "approve 1")); err != nil {
		t.Fatal(err)
	}
	first := published(t, base, 1)[0]
	anchor := "c" + strconv.FormatInt(first.ID, 10)
	step(t, ctx, "reload the page",
		chromedp.Navigate(base+"/posts/uk-meta-encryption"),
		chromedp.WaitVisible(chromedp.ID(anchor)),
	)
	text := value(t, ctx, "the comment", chromedp.Text(chromedp.ID(anchor)))
	if !strings.Contains(text, "Dana Reader") || !strings.Contains(text, "Encryption protects everyone.") {
		t.Errorf("published comment shows %q", text)
	}
	if href := value(t, ctx, "link", chromedp.AttributeValue(chromedp.CSS("#"+anchor+" .body a"), "href")); href.Value != "https://www.eff.org/issues/encryption" {
		t.Errorf("the address in the comment is not a link: %+v", href)
	}

	// A reply through the Reply link, still without JavaScript.
	seenDigests := 1
	step(t, ctx, "reply",
		chromedp.Click(chromedp.CSS("#"+anchor+" .actions a")),
		chromedp.WaitReady(chromedp.CSS(`input[name=parent]`)),
	)
	if h := value(t, ctx, "form heading", chromedp.Text(chromedp.ID("form-h"))); h != "Reply to Dana Reader" {
		t.Errorf("form heading %q", h)
	}
	step(t, ctx, "send the reply",
		chromedp.SendKeys(chromedp.ID("f-name"), "Carol"),
		chromedp.SendKeys(chromedp.ID("f-email"), carol),
		chromedp.SendKeys(chromedp.ID("f-body"), "Agreed, and metadata matters too."),
		chromedp.Click(chromedp.CSS(`button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("ol.steps")),
	)
	waitFiled(t, imapAddr, mail.FolderSubmissions, 2, "")
	subs = submissions(t, ms)
	if got := subs[1].Get("X-Comment-Parent"); got != strconv.FormatInt(first.ID, 10) {
		t.Errorf("the reply's X-Comment-Parent = %q, want %d", got, first.ID)
	}
	digest = waitDigest(t, ms, alice, seenDigests)
	if err := ms.Append(inbox, "INBOX", replyTo(digest, "Alice <alice@mods.example>", "approve 1")); err != nil {
		t.Fatal(err)
	}
	cs := published(t, base, 2)
	reply := "c" + strconv.FormatInt(cs[1].ID, 10)
	if cs[1].ParentID == nil || *cs[1].ParentID != first.ID {
		t.Errorf("the reply was published with parent %v, want %d", cs[1].ParentID, first.ID)
	}
	step(t, ctx, "reload the page",
		chromedp.Navigate(base+"/posts/uk-meta-encryption"),
		chromedp.WaitVisible(chromedp.ID(reply)),
	)
	setScripts(t, ctx, true)
	nested := value(t, ctx, "thread", chromedp.Evaluate[bool](fmt.Sprintf(
		`document.querySelector('#%s').parentElement.querySelector(':scope > ol.replies > li > #%s') !== null`, anchor, reply)))
	if !nested {
		t.Errorf("the reply is not shown in its parent's thread")
	}
	screenshot(t, ctx, "thread-360")

	// The widget on a page of another origin that cors_origins lists.
	step(t, ctx, "open the other site",
		chromedp.EmulateViewport(1000, 900),
		chromedp.Navigate(other+"/article"),
		chromedp.WaitReady(chromedp.CSS("iframe.modbot-comments")),
	)
	// The frame tells the page its height once its content is there.
	step(t, ctx, "the widget grows to its content",
		chromedp.Poll[chromedp.Void](`(function () {
			var f = document.querySelector("iframe.modbot-comments");
			return f && f.getBoundingClientRect().height > 400 ? true : null;
		})()`, chromedp.WithPollingInterval(100*time.Millisecond)),
	)
	frames := value(t, ctx, "the widget's frame", chromedp.Nodes(chromedp.CSS("iframe.modbot-comments")))
	in := chromedp.FromNode(frames[0])
	step(t, ctx, "the thread in the widget", chromedp.WaitVisible(chromedp.CSS("#"+reply), in))
	wtext := value(t, ctx, "widget text", chromedp.Text(chromedp.CSS("#comments-h"), in))
	if wtext != "2 comments" {
		t.Errorf("the widget's heading %q", wtext)
	}
	parentText := value(t, ctx, "widget comment", chromedp.Text(chromedp.CSS("#"+anchor), in))
	if !strings.Contains(parentText, "Encryption protects everyone.") {
		t.Errorf("the widget shows %q", parentText)
	}
	if n := value(t, ctx, "widget form", chromedp.Nodes(chromedp.CSS("#f-body"), in)); len(n) != 1 {
		t.Errorf("the widget has no form")
	}
	screenshot(t, ctx, "widget")
}

// checkFits fails when the page is wider than the viewport: at 360 px
// nothing may need sideways scrolling.
func checkFits(t *testing.T, ctx context.Context) {
	t.Helper()
	setScripts(t, ctx, true)
	defer setScripts(t, ctx, false)
	widths := value(t, ctx, "page width", chromedp.Evaluate[[]int](`[document.documentElement.scrollWidth, window.innerWidth]`))
	if widths[0] > widths[1] {
		t.Errorf("the page is %d px wide in a %d px viewport", widths[0], widths[1])
	}
}

// hostileStore publishes one comment per hostile payload, as the body
// and as the display name.
type hostileStore struct{ comments []queue.Comment }

func (h *hostileStore) Posts(context.Context) ([]queue.Post, error) {
	return []queue.Post{{Slug: "uk-meta-encryption", Title: "UK accuses Meta"}}, nil
}

func (h *hostileStore) Post(_ context.Context, slug string) (*queue.Post, error) {
	if slug != "uk-meta-encryption" {
		return nil, nil
	}
	return &queue.Post{Slug: slug, Title: "UK accuses Meta"}, nil
}

func (h *hostileStore) Comments(context.Context, string) ([]queue.Comment, error) {
	return h.comments, nil
}

func hostilePayloads(t *testing.T) []string {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "..", "..", "web", "testdata", "xss.txt"))
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

// TestBrowserHostileComments: comments whose bodies and names are
// hostile payloads are shown, on the page, in the frame and in the
// widget on another origin, as inert text: no dialog opens, no script
// sets the flag the payloads set, and each payload is visible as typed.
func TestBrowserHostileComments(t *testing.T) {
	ctx := browser(t)
	payloads := hostilePayloads(t)
	st := &hostileStore{}
	for i, p := range payloads {
		parent := (*int64)(nil)
		if i%5 == 4 {
			id := int64(i)
			parent = &id
		}
		st.comments = append(st.comments, queue.Comment{
			ID: int64(i + 1), ParentID: parent, AuthorName: p, Body: "said: " + p + "\nhttps://example.com/" + strconv.Itoa(i),
			PublishedAt: time.Date(2026, 1, 2, 15, 4, i, 0, time.UTC),
		})
	}
	tmpl, err := templates.Load("")
	if err != nil {
		t.Fatal(err)
	}
	otherLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	other := "http://" + otherLn.Addr().String()
	srv := &web.Server{
		Stats: nil, Comments: st, Templates: tmpl,
		Site:    queue.Site{Name: "Test Forum", Address: "moderator@forum.example"},
		Options: web.Options{CORSOrigins: []string{other}},
	}
	modbot := httptest.NewServer(srv.Handler())
	t.Cleanup(modbot.Close)
	otherSite(t, otherLn, func() string { return modbot.URL })

	var mu sync.Mutex
	var dialogs []string
	events := chromedp.Events(ctx, page.JavascriptDialogOpening)
	go func() {
		for ev, err := range events {
			if err != nil {
				return
			}
			mu.Lock()
			dialogs = append(dialogs, ev.Message)
			mu.Unlock()
			_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
		}
	}()

	for _, path := range []string{"/posts/uk-meta-encryption", "/embed/uk-meta-encryption", "/posts/uk-meta-encryption?parent=3#form"} {
		step(t, ctx, "open "+path,
			chromedp.Navigate(modbot.URL+path),
			chromedp.WaitVisible(chromedp.ID("f-body")),
		)
		// Let anything that would fire on load, focus or animation fire.
		step(t, ctx, "focus and wait",
			chromedp.Focus(chromedp.ID("f-name")),
			chromedp.Sleep(300*time.Millisecond),
		)
		if flag := value(t, ctx, "flag", chromedp.Evaluate[bool](`window.__xss !== undefined`)); flag {
			t.Errorf("%s: a payload's script ran", path)
		}
		got := value(t, ctx, "texts", chromedp.Evaluate[[]string](
			`Array.from(document.querySelectorAll("article.comment")).map(function (a) { return a.querySelector(".name").textContent + "\n" + a.querySelector(".body").innerText; })`))
		if len(got) != len(payloads) {
			t.Fatalf("%s: %d comments shown, want %d", path, len(got), len(payloads))
		}
		shown := strings.Join(got, "\n")
		for _, p := range payloads {
			if !strings.Contains(shown, p) {
				t.Errorf("%s: payload not shown as text: %q", path, p)
			}
		}
		elems := value(t, ctx, "elements", chromedp.Evaluate[int](
			`document.querySelectorAll("article.comment img, article.comment svg, article.comment iframe, article.comment script, article.comment [onerror], article.comment [onload], article.comment [style], article.comment a[href^=javascript], article.comment a[href^=data]").length`))
		if elems != 0 {
			t.Errorf("%s: %d elements from payloads", path, elems)
		}
	}
	step(t, ctx, "open the other site",
		chromedp.Navigate(other+"/article"),
		chromedp.WaitReady(chromedp.CSS("iframe.modbot-comments")),
		chromedp.Poll[chromedp.Void](`(function () {
			var f = document.querySelector("iframe.modbot-comments");
			return f && f.getBoundingClientRect().height > 1000 ? true : null;
		})()`, chromedp.WithPollingInterval(100*time.Millisecond)),
		chromedp.Sleep(300*time.Millisecond),
	)
	if flag := value(t, ctx, "flag", chromedp.Evaluate[bool](`window.__xss !== undefined`)); flag {
		t.Errorf("widget: a payload's script ran in the embedding page")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(dialogs) > 0 {
		t.Errorf("dialogs opened: %q", dialogs)
	}
}
