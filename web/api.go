package web

import (
	"bytes"
	"encoding/json"
	"net/http"
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
	if ttl := s.Options.APICacheTTL; ttl > 0 {
		s.apiMu.Lock()
		c, ok := s.apiCache[slug]
		s.apiMu.Unlock()
		if ok && time.Since(c.at) < ttl {
			writeRaw(w, r, http.StatusOK, c.body)
			return
		}
	}
	post, err := s.Comments.Post(r.Context(), slug)
	if err != nil {
		s.Logger.Error("api: read post", "post", slug, "err", err)
		writeJSON(w, r, http.StatusInternalServerError, apiError{"internal error"})
		return
	}
	if post == nil {
		writeJSON(w, r, http.StatusNotFound, apiError{"unknown post"})
		return
	}
	cs, err := s.Comments.Comments(r.Context(), slug)
	if err != nil {
		s.Logger.Error("api: read comments", "post", slug, "err", err)
		writeJSON(w, r, http.StatusInternalServerError, apiError{"internal error"})
		return
	}
	if cs == nil {
		cs = []queue.Comment{}
	}
	var b bytes.Buffer
	if err := json.NewEncoder(&b).Encode(cs); err != nil {
		writeJSON(w, r, http.StatusInternalServerError, apiError{"internal error"})
		return
	}
	if s.Options.APICacheTTL > 0 {
		s.apiMu.Lock()
		if s.apiCache == nil {
			s.apiCache = map[string]apiCopy{}
		}
		s.apiCache[slug] = apiCopy{body: b.Bytes(), at: time.Now()}
		s.apiMu.Unlock()
	}
	writeRaw(w, r, http.StatusOK, b.Bytes())
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
