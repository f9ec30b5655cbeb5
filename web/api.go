package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"modbot/queue"
)

// apiComments serves GET /api/posts/<slug>/comments: the published
// comments, oldest first, as a JSON array of {id, parent, author_name,
// body, published_at}. queue.Comment has no email field to leak.
func (s *Server) apiComments(w http.ResponseWriter, r *http.Request) {
	s.cors(w, r)
	slug := r.PathValue("slug")
	if !slugRE.MatchString(slug) {
		writeJSON(w, r, http.StatusNotFound, apiError{"unknown post"})
		return
	}
	rc, err := s.cachedComments(r.Context(), slug)
	if err != nil {
		s.Logger.Error("api: comments", "post", slug, "err", err)
		writeJSON(w, r, http.StatusInternalServerError, apiError{"internal error"})
		return
	}
	if !rc.found {
		writeJSON(w, r, http.StatusNotFound, apiError{"unknown post"})
		return
	}
	writeRaw(w, r, http.StatusOK, rc.body)
}

// cachedComments returns the post's comments from a copy younger than
// APICacheTTL, or renders them anew. One request renders and the others
// arriving meanwhile wait for its copy (never a stale one: a comment
// published shows up once the TTL has passed); without that, every request
// in the moment a copy expired did the whole work at once.
func (s *Server) cachedComments(ctx context.Context, slug string) (renderedComments, error) {
	ttl := s.Options.APICacheTTL
	if ttl <= 0 {
		return s.renderComments(ctx, slug)
	}
	s.apiMu.Lock()
	c, ok := s.apiCache[slug]
	s.apiMu.Unlock()
	if ok && time.Since(c.at) < ttl {
		return renderedComments{body: c.body, found: true}, nil
	}
	v, err, _ := s.apiFlight.Do(slug, func() (any, error) {
		// Not this request's context: others may be waiting on the result.
		rc, err := s.renderComments(context.WithoutCancel(ctx), slug)
		if err == nil && rc.found {
			s.apiMu.Lock()
			if s.apiCache == nil {
				s.apiCache = map[string]apiCopy{}
			}
			s.apiCache[slug] = apiCopy{body: rc.body, at: time.Now()}
			s.apiMu.Unlock()
		}
		return rc, err
	})
	if err != nil {
		return renderedComments{}, err
	}
	return v.(renderedComments), nil
}

// renderedComments is a post's comments encoded for the API; found is
// false for a post that does not exist.
type renderedComments struct {
	body  []byte
	found bool
}

// renderComments reads a post's published comments and encodes them.
func (s *Server) renderComments(ctx context.Context, slug string) (renderedComments, error) {
	post, err := s.Comments.Post(ctx, slug)
	if err != nil {
		return renderedComments{}, fmt.Errorf("read post %s: %w", slug, err)
	}
	if post == nil {
		return renderedComments{}, nil
	}
	cs, err := s.Comments.Comments(ctx, slug)
	if err != nil {
		return renderedComments{}, fmt.Errorf("read comments of %s: %w", slug, err)
	}
	if cs == nil {
		cs = []queue.Comment{}
	}
	var b bytes.Buffer
	if err := json.NewEncoder(&b).Encode(cs); err != nil {
		return renderedComments{}, fmt.Errorf("encode comments of %s: %w", slug, err)
	}
	return renderedComments{body: b.Bytes(), found: true}, nil
}

// apiCopy is a post's comments as JSON, and when they were read.
type apiCopy struct {
	body []byte
	at   time.Time
}

type apiError struct {
	Error string `json:"error"`
}

func writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	var b bytes.Buffer
	// The encoder escapes <, > and & too: a body holding "</script>"
	// stays inert even where a page inlines the JSON.
	if err := json.NewEncoder(&b).Encode(v); err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	writeRaw(w, r, status, b.Bytes())
}

func writeRaw(w http.ResponseWriter, r *http.Request, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// cors lets a configured origin read the response. It never answers
// with a wildcard and never allows credentials: the API is public data
// and needs no cookie.
func (s *Server) cors(w http.ResponseWriter, r *http.Request) bool {
	w.Header().Add("Vary", "Origin")
	o := r.Header.Get("Origin")
	if o == "" || !s.corsAllowed(o) {
		return false
	}
	w.Header().Set("Access-Control-Allow-Origin", o)
	return true
}

// preflight answers a CORS preflight for the API: allowed for a
// configured origin asking to GET, refused (no CORS headers) otherwise.
func (s *Server) preflight(w http.ResponseWriter, r *http.Request) {
	w.Header().Add("Vary", "Access-Control-Request-Method, Access-Control-Request-Headers")
	switch r.Header.Get("Access-Control-Request-Method") {
	case http.MethodGet, http.MethodHead:
	default:
		s.cors(w, r) // for the Vary header only
		w.Header().Del("Access-Control-Allow-Origin")
		w.WriteHeader(http.StatusForbidden)
		return
	}
	if !s.cors(w, r) {
		w.WriteHeader(http.StatusForbidden)
		return
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Methods", "GET, HEAD")
	h.Set("Access-Control-Allow-Headers", "Accept, Accept-Language, Content-Type")
	h.Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusNoContent)
}

// corsAllowed reports whether origin is one of the configured origins.
func (s *Server) corsAllowed(origin string) bool {
	for _, o := range s.Options.CORSOrigins {
		if strings.EqualFold(strings.TrimRight(o, "/"), origin) {
			return true
		}
	}
	return false
}
