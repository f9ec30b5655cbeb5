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

// The form is protected against forgery in two layers.
//
// The first is net/http's CrossOriginProtection: a browser says with
// Sec-Fetch-Site (or, if older, Origin) where a POST comes from, and a
// POST from another site is refused unless that site is one of
// web.cors_origins or the site's own address (site.base_url, for a
// proxy that does not pass the Host on). The widget's frame is this
// server's page, so its POST is same-origin wherever the frame stands.
//
// The second is the form token, kept because CrossOriginProtection lets
// through, by design, a POST that carries neither header: it cannot tell
// a non-browser client from a browser too old to send them (Firefox
// sent no Origin on form POSTs before version 70), and such a browser
// can be made to POST by any page it visits. The token is an HMAC, under
// a key made at start, of the post, the time and a nonce that is also in
// a cookie (SameSite=Lax, so another site's page cannot send it with a
// forged POST); when the browser named no origin, the cookie must match.
// When it did name one, CrossOriginProtection has vouched for it and the
// cookie is not needed: inside the widget's frame on another site the
// cookie is a third-party cookie that browsers may withhold. The token
// also ties a POST to the post it was made for and expires a form left
// open for days, which the refusal page explains.

const (
	formCookie = "modbot_form"
	// tokenTTL is how long a form stays usable: long enough to write a
	// considered comment, short enough that a harvested token goes stale.
	tokenTTL  = 12 * time.Hour
	clockSkew = 5 * time.Minute
)

var b64 = base64.RawURLEncoding

// newCrossOrigin returns the origin check of form POSTs: this server,
// its base URL and the configured origins.
func (s *Server) newCrossOrigin() *http.CrossOriginProtection {
	c := http.NewCrossOriginProtection()
	trust := func(what, o string) {
		// Browsers send an origin in lower case without a trailing
		// slash; the protection compares it exactly.
		o = strings.ToLower(strings.TrimRight(o, "/"))
		if err := c.AddTrustedOrigin(o); err != nil {
			s.Logger.Warn("web: origin not trusted for the form", "from", what, "err", err)
		}
	}
	if b, err := url.Parse(s.Site.BaseURL); err == nil && b.Scheme != "" && b.Host != "" {
		trust("site.base_url", b.Scheme+"://"+b.Host)
	}
	for _, o := range s.Options.CORSOrigins {
		trust("web.cors_origins", o)
	}
	return c
}

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
	if s.crossOrigin.Check(r) != nil {
		return false
	}
	if r.Header.Get("Sec-Fetch-Site") != "" || r.Header.Get("Origin") != "" {
		return true // a browser named where the POST came from
	}
	c, err := r.Cookie(formCookie)
	return err == nil && hmac.Equal([]byte(c.Value), []byte(nonce))
}
