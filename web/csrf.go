package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The form is protected against forgery twice over. Its token is an HMAC,
// under a key made at start, of the post, the time and a nonce that is
// also in a cookie (SameSite=Lax, so another site's page cannot send it
// with a forged POST). And a browser's Origin header, when there is one,
// must be this server's or an allowed origin. Inside the widget's frame
// on another site the cookie is a third-party cookie that browsers may
// withhold; there the Origin header (the frame's own, this server's)
// stands in for it.

const (
	formCookie = "modbot_form"
	// tokenTTL is how long a form stays usable: long enough to write a
	// considered comment, short enough that a harvested token goes stale.
	tokenTTL  = 12 * time.Hour
	clockSkew = 5 * time.Minute
)

var b64 = base64.RawURLEncoding

// formToken returns a token for a form of slug, setting the nonce cookie
// when the browser does not have one yet.
func (s *Server) formToken(w http.ResponseWriter, r *http.Request, slug string) string {
	nonce := ""
	if c, err := r.Cookie(formCookie); err == nil && validNonce(c.Value) {
		nonce = c.Value
	} else {
		b := make([]byte, 16)
		s.read(b)
		nonce = b64.EncodeToString(b)
		http.SetCookie(w, &http.Cookie{
			Name: formCookie, Value: nonce, Path: "/", HttpOnly: true,
			Secure:   r.TLS != nil || strings.HasPrefix(s.Site.BaseURL, "https://"),
			SameSite: http.SameSiteLaxMode,
		})
	}
	ts := strconv.FormatInt(s.now().Unix(), 10)
	return ts + "." + nonce + "." + b64.EncodeToString(s.tokenMAC(slug, ts, nonce))
}

func validNonce(v string) bool {
	b, err := b64.DecodeString(v)
	return err == nil && len(b) == 16
}

func (s *Server) tokenMAC(slug, ts, nonce string) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte("modbot form\x00" + slug + "\x00" + ts + "\x00" + nonce))
	return m.Sum(nil)[:18]
}

// formAuthentic reports whether a POST of the form of slug comes from a
// form this server handed out, recently, to this browser.
func (s *Server) formAuthentic(r *http.Request, slug, token string) bool {
	ts, rest, ok1 := strings.Cut(token, ".")
	nonce, mac, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || !validNonce(nonce) {
		return false
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return false
	}
	age := s.now().Sub(time.Unix(sec, 0))
	if age > tokenTTL || age < -clockSkew {
		return false
	}
	got, err := b64.DecodeString(mac)
	if err != nil || !hmac.Equal(got, s.tokenMAC(slug, ts, nonce)) {
		return false
	}
	switch s.originCheck(r) {
	case originForeign:
		return false
	case originAllowed:
		return true
	}
	c, err := r.Cookie(formCookie)
	return err == nil && hmac.Equal([]byte(c.Value), []byte(nonce))
}

type originResult int

const (
	originAbsent  originResult = iota // no Origin header, or "null"
	originAllowed                     // this server, or a configured origin
	originForeign
)

// originCheck classifies a request's Origin header.
func (s *Server) originCheck(r *http.Request) originResult {
	o := r.Header.Get("Origin")
	if o == "" || o == "null" {
		return originAbsent
	}
	if u, err := url.Parse(o); err == nil && u.Host != "" && strings.EqualFold(u.Host, r.Host) {
		return originAllowed
	}
	// Behind a reverse proxy that does not pass the Host on, the site's
	// own address is what the browser calls this server.
	if b, err := url.Parse(s.Site.BaseURL); err == nil && b.Host != "" && strings.EqualFold(b.Scheme+"://"+b.Host, o) {
		return originAllowed
	}
	if s.corsAllowed(o) {
		return originAllowed
	}
	return originForeign
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
