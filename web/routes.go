package web

import (
	"bytes"
	"encoding/base64"
	"io"
	"net/http"
	"regexp"
	"strings"

	"modbot/templates"
)

// The routes of the comment side. Paths under /posts/ and /api/ are a
// contract (docs/ARCHITECTURE.md, "Contracts that outside tests rely
// on", HTTP); the others are linked from pages and mail that modbot
// writes itself.
func (s *Server) commentRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", s.index)
	mux.HandleFunc("GET /posts/{slug}", s.post) // also {slug}.atom
	mux.HandleFunc("GET /posts/{slug}/sent", s.sent)
	mux.HandleFunc("POST /posts/{slug}/comments", s.postComment)
	mux.HandleFunc("GET /embed/{slug}", s.embed)
	mux.HandleFunc("GET /embed/{slug}/sent", s.sent)
	mux.HandleFunc("GET /embed.js", s.static("embed.js"))
	mux.HandleFunc("GET /static/frame.js", s.static("frame.js"))
	mux.HandleFunc("GET /api/posts/{slug}/comments", s.apiComments)
	mux.HandleFunc("OPTIONS /api/posts/{slug}/comments", s.preflight)
	if s.Subscriptions != nil {
		mux.HandleFunc("GET /unsubscribe/{token}", s.unsubscribe)
		mux.HandleFunc("POST /unsubscribe/{token}", s.unsubscribe)
		mux.HandleFunc("GET /subscriptions/confirm/{token}", s.confirm)
		mux.HandleFunc("POST /subscriptions/confirm/{token}", s.confirm)
	}
	mux.HandleFunc("GET /", s.notFound)
}

// securityHeaders sets what every response carries. Pages replace the
// Content-Security-Policy with their own (see render); everything else
// (JSON, feeds, metrics, errors) may load nothing and be framed by
// nobody.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
		h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
		next.ServeHTTP(w, r)
	})
}

var (
	slugRE  = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)
	tokenRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)
)

// view says how a page is shown: on its own, or inside the widget's
// frame on a page of an allowed origin.
type view struct {
	embed bool
	// private pages (those reached by a token from an email) send no
	// Referer anywhere, so the token stays in the address bar.
	private bool
}

// render writes a page: status, headers and the rendered HTML. The page
// is rendered before anything is written, so a template failure is a
// clean 500.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, v view, exec func(io.Writer, templates.Page) error) {
	nonce := make([]byte, 16)
	s.read(nonce)
	p := templates.Page{
		Lang: s.Options.Lang, SiteName: s.Site.Name, Home: "/",
		Nonce: base64.RawStdEncoding.EncodeToString(nonce), Embed: v.embed,
	}
	if p.Lang == "" {
		p.Lang = "en"
	}
	if p.SiteName == "" {
		p.SiteName = "Comments"
	}
	csp := "default-src 'none'; style-src 'nonce-" + p.Nonce + "'; img-src 'self'; form-action 'self'; base-uri 'none'"
	if v.embed {
		p.FrameScript = "/static/frame.js"
		csp += "; script-src 'self'; frame-ancestors 'self'"
		for _, o := range s.Options.CORSOrigins {
			csp += " " + o
		}
	} else {
		csp += "; frame-ancestors 'none'"
	}
	var b bytes.Buffer
	if err := exec(&b, p); err != nil {
		s.Logger.Error("render page", "path", r.URL.Path, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Security-Policy", csp)
	if !v.embed {
		h.Set("X-Frame-Options", "DENY")
	}
	if v.private {
		h.Set("Referrer-Policy", "no-referrer")
	}
	h.Set("Content-Type", "text/html; charset=utf-8")
	// Pages carry a form token or personal state: no cache may keep them.
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(b.Bytes())
	}
}

func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	s.notFoundIn(w, r, view{})
}

func (s *Server) notFoundIn(w http.ResponseWriter, r *http.Request, v view) {
	s.render(w, r, http.StatusNotFound, v, func(w io.Writer, p templates.Page) error {
		return s.Templates.NotFoundPage(w, &templates.NotFoundPage{Page: p})
	})
}

func (s *Server) serverError(w http.ResponseWriter, r *http.Request, v view, what string, err error) {
	s.Logger.Error(what, "path", r.URL.Path, "err", err)
	back := "/"
	if slug := r.PathValue("slug"); slugRE.MatchString(slug) {
		back = postPath(slug, v.embed)
	}
	s.render(w, r, http.StatusInternalServerError, v, func(w io.Writer, p templates.Page) error {
		return s.Templates.ErrorPage(w, &templates.ErrorPage{Page: p, Back: back})
	})
}

// postPath is where a post's comments are shown.
func postPath(slug string, embed bool) string {
	if embed {
		return "/embed/" + slug
	}
	return "/posts/" + slug
}

// baseURL is the absolute address of this server for links that leave
// the page (the feed): site.base_url when set, else what the request
// was sent to.
func (s *Server) baseURL(r *http.Request) string {
	if b := strings.TrimRight(s.Site.BaseURL, "/"); b != "" {
		return b
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}
