package web

import (
	"errors"
	"io"
	"net/http"
	"strings"

	"modbot/queue"
	"modbot/templates"
)

// Unsubscribing and confirming a subscription follow the links in mail.
// A GET only shows a page with a button: mail scanners and link
// previews open links, and must not change anything. A POST acts.
// Neither needs a form token: the token in the address is the secret,
// and a mail provider's one-click unsubscribe (RFC 8058) POSTs
// "List-Unsubscribe=One-Click" with no cookie from anywhere.

func (s *Server) unsubscribe(w http.ResponseWriter, r *http.Request) {
	v := view{private: true}
	token := r.PathValue("token")
	if !tokenRE.MatchString(token) {
		s.notFoundIn(w, r, v)
		return
	}
	page := &templates.UnsubscribePage{Action: "/unsubscribe/" + token}
	var addr string
	var err error
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
		_ = r.ParseForm() // the body says nothing the token does not
		addr, err = s.Subscriptions.Unsubscribe(r.Context(), token)
		page.Done = true
	} else {
		addr, err = s.Subscriptions.UnsubscribeAddress(r.Context(), token)
	}
	switch {
	case errors.Is(err, queue.ErrUnknownToken):
		s.notFoundIn(w, r, v)
		return
	case err != nil:
		s.serverError(w, r, v, "unsubscribe", err)
		return
	}
	if page.Done {
		s.Logger.Info("unsubscribed by web")
	}
	page.Address = maskAddress(addr)
	s.render(w, r, http.StatusOK, v, func(w io.Writer, p templates.Page) error {
		page.Page = p
		return s.Templates.UnsubscribePage(w, page)
	})
}

func (s *Server) confirm(w http.ResponseWriter, r *http.Request) {
	v := view{private: true}
	token := r.PathValue("token")
	if !tokenRE.MatchString(token) {
		s.notFoundIn(w, r, v)
		return
	}
	var sub *queue.Subscription
	var err error
	done := false
	if r.Method == http.MethodPost {
		sub, err = s.Subscriptions.ConfirmSubscription(r.Context(), token)
		done = err == nil && sub.State == "active"
	} else {
		sub, err = s.Subscriptions.PendingSubscription(r.Context(), token)
	}
	switch {
	case errors.Is(err, queue.ErrUnknownToken):
		s.notFoundIn(w, r, v)
		return
	case err != nil:
		s.serverError(w, r, v, "confirm subscription", err)
		return
	}
	page := &templates.ConfirmPage{
		Address: maskAddress(sub.Email), Scope: sub.Scope, State: sub.State, Done: done,
		Action: "/subscriptions/confirm/" + token,
		Post:   templates.PagePost{Slug: sub.PostSlug, Title: sub.PostSlug},
	}
	if post, err := s.Comments.Post(r.Context(), sub.PostSlug); err == nil && post != nil {
		page.Post = pagePost(post)
	}
	if done {
		s.Logger.Info("subscription confirmed by web", "post", sub.PostSlug, "scope", sub.Scope)
	}
	s.render(w, r, http.StatusOK, v, func(w io.Writer, p templates.Page) error {
		page.Page = p
		return s.Templates.ConfirmPage(w, page)
	})
}

// maskAddress shows enough of an address for its owner to recognise it,
// and not all of it to whoever else holds the link: c…@people.example.
func maskAddress(addr string) string {
	local, domain, ok := strings.Cut(addr, "@")
	if !ok || local == "" {
		return "…"
	}
	first := []rune(local)[0]
	return string(first) + "…@" + domain
}
