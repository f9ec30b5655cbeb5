package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"modbot/queue"
)

// TestUnsubscribe: a GET only asks; a POST acts, from the page's button
// or as a mail provider's one-click POST with no cookie and a foreign
// Origin; doing it again is harmless.
func TestUnsubscribe(t *testing.T) {
	f := newFixture(t, Options{})
	res, body := f.get(t, "/unsubscribe/tok123")
	if res.StatusCode != 200 || !strings.Contains(body, `<form method="post" action="/unsubscribe/tok123">`) || !strings.Contains(body, "c…@people.example") {
		t.Fatalf("GET: %d\n%s", res.StatusCode, body)
	}
	if strings.Contains(body, "carol@people.example") {
		t.Errorf("the page shows the whole address")
	}
	res, _ = f.do(t, httptest.NewRequest("HEAD", "/unsubscribe/tok123", nil))
	if res.StatusCode != 200 || f.store.unsubscribed["carol@people.example"] != 0 {
		t.Fatalf("a GET or HEAD unsubscribed: %d", f.store.unsubscribed["carol@people.example"])
	}
	oneClick := httptest.NewRequest("POST", "/unsubscribe/tok123", strings.NewReader("List-Unsubscribe=One-Click"))
	oneClick.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	oneClick.Header.Set("Origin", "https://mail.provider.example")
	res, body = f.do(t, oneClick)
	if res.StatusCode != 200 || !strings.Contains(body, "You are unsubscribed") || f.store.unsubscribed["carol@people.example"] != 1 {
		t.Fatalf("one-click POST: %d, %d\n%s", res.StatusCode, f.store.unsubscribed["carol@people.example"], body)
	}
	res, body = f.do(t, httptest.NewRequest("POST", "/unsubscribe/tok123", nil))
	if res.StatusCode != 200 || !strings.Contains(body, "You are unsubscribed") {
		t.Errorf("second POST: %d", res.StatusCode)
	}
	res, _ = f.do(t, httptest.NewRequest("POST", "/unsubscribe/nosuchtoken", nil))
	if res.StatusCode != 404 {
		t.Errorf("unknown token: %d", res.StatusCode)
	}
}

func TestConfirmSubscription(t *testing.T) {
	f := newFixture(t, Options{})
	res, body := f.get(t, "/subscriptions/confirm/conf456")
	if res.StatusCode != 200 || !strings.Contains(body, "Confirm your subscription") || f.store.subs["conf456"].State != "pending" {
		t.Fatalf("GET: %d, state %s", res.StatusCode, f.store.subs["conf456"].State)
	}
	res, body = f.do(t, httptest.NewRequest("POST", "/subscriptions/confirm/conf456", nil))
	if res.StatusCode != 200 || !strings.Contains(body, "Subscription confirmed") || f.store.subs["conf456"].State != "active" {
		t.Fatalf("POST: %d, state %s", res.StatusCode, f.store.subs["conf456"].State)
	}
	// Once active, the GET says so instead of asking again.
	_, body = f.get(t, "/subscriptions/confirm/conf456")
	if !strings.Contains(body, "Subscription confirmed") || strings.Contains(body, "<form") {
		t.Errorf("GET after confirming:\n%s", body)
	}
	f.store.subs["conf456"].State = "unsubscribed"
	_, body = f.do(t, httptest.NewRequest("POST", "/subscriptions/confirm/conf456", nil))
	if !strings.Contains(body, "This subscription has ended") {
		t.Errorf("confirming an ended subscription:\n%s", body)
	}
}

// TestUnsubscribeStore runs the unsubscribe pages against the real store.
func TestUnsubscribeStore(t *testing.T) {
	ctx := context.Background()
	st, err := queue.Open(ctx, filepath.Join(t.TempDir(), "modbot.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.SyncPosts(ctx, []queue.Post{{Slug: "p", Title: "P"}}); err != nil {
		t.Fatal(err)
	}
	db := st.DB()
	db.MustExec(`INSERT INTO recipients (email, email_key, token) VALUES ('carol@people.example', 'carol@people.example', 'tokcarol')`)
	db.MustExec(`INSERT INTO subscriptions (email, email_key, post_slug, scope, state, confirm_token, created_at)
		VALUES ('carol@people.example', 'carol@people.example', 'p', 'all', 'active', 'conf1', CURRENT_TIMESTAMP)`)
	f := newFixture(t, Options{})
	f.srv = &Server{Comments: st, Subscriptions: st, Templates: f.srv.Templates, Site: f.srv.Site, Logger: discardLogger(),
		Stats: f.srv.Stats}
	f.h = f.srv.Handler()
	state := func() string {
		var s string
		if err := db.Get(&s, `SELECT state FROM subscriptions WHERE confirm_token = 'conf1'`); err != nil {
			t.Fatal(err)
		}
		return s
	}
	if res, _ := f.get(t, "/unsubscribe/tokcarol"); res.StatusCode != 200 || state() != "active" {
		t.Fatalf("GET: %d, state %s", res.StatusCode, state())
	}
	for i := 0; i < 2; i++ {
		req := httptest.NewRequest("POST", "/unsubscribe/tokcarol", strings.NewReader("List-Unsubscribe=One-Click"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if res, _ := f.do(t, req); res.StatusCode != http.StatusOK || state() != "unsubscribed" {
			t.Fatalf("POST %d: %d, state %s", i+1, res.StatusCode, state())
		}
	}
	if res, _ := f.get(t, "/unsubscribe/tokbogus"); res.StatusCode != 404 {
		t.Errorf("unknown token: %d", res.StatusCode)
	}
}
