package web

import (
	"embed"
	"net/http"
)

//go:embed static/*.js
var staticFiles embed.FS

// static serves an embedded script. Any page may load embed.js (that is
// its purpose); what it shows is framed only by allowed origins.
func (s *Server) static(name string) http.HandlerFunc {
	b, err := staticFiles.ReadFile("static/" + name)
	if err != nil {
		panic("web: no embedded static/" + name)
	}
	return func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "text/javascript; charset=utf-8")
		h.Set("Cache-Control", "public, max-age=3600")
		h.Set("Cross-Origin-Resource-Policy", "cross-origin")
		if r.Method != http.MethodHead {
			_, _ = w.Write(b)
		}
	}
}
