// Package config reads and validates modbot's TOML configuration file.
//
// Every key has a default except the ones a site must name; unknown keys are
// an error, so a typo never silently leaves a setting at its default.
// Secrets come from the file, from a *_file key naming a file that holds
// them, or from MODBOT_* environment variables, in rising precedence.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"
)

// Config is the whole configuration.
type Config struct {
	Site       Site       `toml:"site"`
	IMAP       IMAP       `toml:"imap"`
	SMTP       SMTP       `toml:"smtp"`
	Moderation Moderation `toml:"moderation"`
	Store      Store      `toml:"store"`
	Web        Web        `toml:"web"`
	Templates  Templates  `toml:"templates"`
	Log        Log        `toml:"log"`
	Reports    Reports    `toml:"reports"`
	Rules      Rules      `toml:"rules"`
	Posts      []Post     `toml:"posts"`

	// Dir is the directory of the configuration file; relative paths in
	// the file are taken from there.
	Dir string `toml:"-"`
}

// Site describes the website whose comments are moderated.
type Site struct {
	Name    string `toml:"name"`
	BaseURL string `toml:"base_url"`
	Address string `toml:"address"` // the moderator inbox's address
}

// IMAP is the moderator inbox.
type IMAP struct {
	Addr           string   `toml:"addr"`
	Security       string   `toml:"security"`
	Username       string   `toml:"username"`
	Password       string   `toml:"password"`
	PasswordFile   string   `toml:"password_file"`
	Mailbox        string   `toml:"mailbox"`
	IDLE           *bool    `toml:"idle"`
	PollInterval   Duration `toml:"poll_interval"`
	MaxMessageSize ByteSize `toml:"max_message_size"`
	// InsecureSkipVerify turns off TLS certificate checks. Only for
	// loopback tests with self-signed certificates.
	InsecureSkipVerify bool `toml:"insecure_skip_verify"`
}

// SMTP is the server modbot sends through.
type SMTP struct {
	Addr               string `toml:"addr"`
	Security           string `toml:"security"`
	Username           string `toml:"username"`
	Password           string `toml:"password"`
	PasswordFile       string `toml:"password_file"`
	HelloName          string `toml:"hello_name"`
	InsecureSkipVerify bool   `toml:"insecure_skip_verify"`
	// ResendInDoubt sends again a message that was handed to the server
	// when modbot stopped, before the server's answer: it may arrive
	// twice. false trusts the server to have kept it: it may be missing.
	ResendInDoubt *bool `toml:"resend_in_doubt"`
	// ReturnPaths sends each message with an envelope sender of its own,
	// local+b-<token>@domain of the site's address, so a delivery report
	// names the one message and recipient it is about (default true).
	// false sends with the site's address: for a server that refuses any
	// other sender; then only a report that returns the message's header
	// marks an address as bouncing.
	ReturnPaths *bool `toml:"return_paths"`
}

// Moderation holds who moderates and how often they hear from modbot.
type Moderation struct {
	Moderators     []string `toml:"moderators"`
	Admins         []string `toml:"admins"`
	DigestInterval Duration `toml:"digest_interval"`
	// DigestSettle is how long the inbox must be quiet before an
	// immediate digest (digest_interval = 0) goes out, so a burst of
	// arrivals makes one digest rather than many.
	DigestSettle Duration `toml:"digest_settle"`
	// ReminderInterval is how long an item already sent in a digest waits
	// before it is listed again.
	ReminderInterval Duration `toml:"reminder_interval"`
	// TokenTTL is how long a digest's reply token stays valid.
	TokenTTL Duration `toml:"token_ttl"`
	// DigestMaxItems caps the comments in one digest; the rest follow in
	// the next ones, so a backlog never becomes one unreadable mail.
	DigestMaxItems int `toml:"digest_max_items"`
	// DigestMaxBytes is the byte budget of one digest, as sent; items
	// over it follow in the next digests, like those over DigestMaxItems,
	// so one huge submission cannot make a digest the MTA refuses.
	DigestMaxBytes ByteSize `toml:"digest_max_bytes"`
	// UndoGrace is how long a moderator may take a decision back; notices
	// to commenters wait this long before they are sent.
	UndoGrace Duration `toml:"undo_grace"`
	// NotifyReceived sends commenters a "received" notice.
	NotifyReceived *bool `toml:"notify_received"`
	// TrustedAuthServID names the receiving server whose
	// Authentication-Results header is believed: when set, a moderator
	// reply needs its dkim=pass or dmarc=pass aligned with From. ""
	// believes only a failure result, from any such header (a sender can
	// write a "pass" but not remove the receiver's "fail").
	TrustedAuthServID string `toml:"trusted_authserv_id"`
	// VerifyDKIM has modbot verify a moderator reply's DKIM signature
	// itself (a signature aligned with From passes), for a receiving
	// server that adds no Authentication-Results. Off by default.
	VerifyDKIM bool `toml:"verify_dkim"`
	// EscalateAfter names a pending comment at the top of every digest
	// once it has waited this long; EscalateAdminsAfter mails it to the
	// admins.
	EscalateAfter       Duration `toml:"escalate_after"`
	EscalateAdminsAfter Duration `toml:"escalate_admins_after"`
	// MaxNoticesPerHour caps automatic notices to one address (every
	// spelling of it: case, +tags).
	MaxNoticesPerHour int `toml:"max_notices_per_hour"`
	// MaxNoticesTotalPerHour caps automatic notices to all addresses
	// together (default 200; 0: no cap). Notices over it are withheld,
	// logged and counted in the admins' report.
	MaxNoticesTotalPerHour *int `toml:"max_notices_total_per_hour"`
	// MaxSubmissionsPerHour caps one sender's queued submissions; the
	// excess is held for moderators, never dropped.
	MaxSubmissionsPerHour int `toml:"max_submissions_per_hour"`
}

// NoticesTotalPerHour is max_notices_total_per_hour with its default
// (200) when unset; 0 is no cap.
func (m Moderation) NoticesTotalPerHour() int {
	if m.MaxNoticesTotalPerHour == nil {
		return 200
	}
	return max(0, *m.MaxNoticesTotalPerHour)
}

// Reports are mailed to moderation.admins.
type Reports struct {
	Daily  *bool  `toml:"daily"`
	Weekly *bool  `toml:"weekly"`
	At     string `toml:"at"` // time of day, UTC, "06:00"
}

// Store is where modbot keeps its state.
type Store struct {
	Driver string `toml:"driver"`
	DSN    string `toml:"dsn"`
}

// Web is the HTTP listener for the page, API, health and metrics.
type Web struct {
	Listen string `toml:"listen"`
	// FormRate is how many comments one client address may send through
	// the web form, e.g. "10/h"; more are refused until the bucket refills.
	FormRate Rate `toml:"form_rate"`
	// CORSOrigins are the origins (scheme://host[:port]) whose pages may
	// read the JSON API and show the comment widget; none by default.
	CORSOrigins []string `toml:"cors_origins"`
	// ClientIPHeader names the header a reverse proxy puts the client's
	// address in ("X-Forwarded-For", "X-Real-IP"); "" uses the connection's
	// address. Set it only behind a proxy that always sets it.
	ClientIPHeader string `toml:"client_ip_header"`
	// MetricsListen is where /metrics (and a second /healthz) are served,
	// apart from the public pages: loopback by default, "none" for no
	// metrics. A busy default port only costs the metrics (with a
	// warning); a port set here that cannot be had stops the start.
	MetricsListen string `toml:"metrics_listen"`

	metricsDefaulted bool
}

// DefaultMetricsListen is web.metrics_listen when the file sets none.
const DefaultMetricsListen = "127.0.0.1:9464"

// MetricsDefaulted reports whether web.metrics_listen came from the
// default rather than the file.
func (w Web) MetricsDefaulted() bool { return w.metricsDefaulted }

// Rate is a number of events per period, written as "10/h", "3/m",
// "100/d" or "5/30m".
type Rate struct {
	N   int
	Per time.Duration
}

// UnmarshalText parses "N/unit" or "N/duration".
func (r *Rate) UnmarshalText(b []byte) error {
	bad := fmt.Errorf("%q is not a rate such as \"10/h\", \"3/m\" or \"5/30m\"", string(b))
	n, per, ok := strings.Cut(strings.TrimSpace(string(b)), "/")
	if !ok {
		return bad
	}
	count, err := strconv.Atoi(strings.TrimSpace(n))
	if err != nil || count < 1 {
		return bad
	}
	per = strings.TrimSpace(per)
	units := map[string]time.Duration{"s": time.Second, "m": time.Minute, "h": time.Hour, "d": 24 * time.Hour}
	d, ok := units[per]
	if !ok {
		if d, err = time.ParseDuration(per); err != nil || d <= 0 {
			return bad
		}
	}
	*r = Rate{N: count, Per: d}
	return nil
}

// MarshalText writes the rate as "N/duration".
func (r Rate) MarshalText() ([]byte, error) {
	return []byte(fmt.Sprintf("%d/%s", r.N, r.Per)), nil
}

// Templates lets a site override the embedded templates.
type Templates struct {
	Dir string `toml:"dir"`
}

// Log configures logging.
type Log struct {
	Level  string `toml:"level"`  // debug | info | warn | error
	Format string `toml:"format"` // text | json
}

// Rules names the site's precheck ruleset.
type Rules struct {
	// File is a ruleset TOML file that overrides or extends the built-in
	// rules by rule number, relative to the config file; "" uses the
	// built-in rules alone.
	File string `toml:"file"`
}

// Post is an article that takes comments.
type Post struct {
	Slug     string `toml:"slug"`
	Title    string `toml:"title"`
	URL      string `toml:"url"`
	TextFile string `toml:"text_file"`

	// Text is the article's text, read from TextFile.
	Text string `toml:"-"`
}

// Load reads, completes and validates the configuration file at path.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	c, err := Parse(data, filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// Parse decodes TOML data. dir is the directory relative paths are taken
// from. Environment variables are applied and the result validated.
func Parse(data []byte, dir string) (*Config, error) {
	c := &Config{Dir: dir}
	dec := toml.NewDecoder(bytes.NewReader(data)).DisallowUnknownFields()
	if err := dec.Decode(c); err != nil {
		return nil, describeDecodeError(err)
	}
	if err := c.complete(os.Getenv); err != nil {
		return nil, err
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

func describeDecodeError(err error) error {
	var strict *toml.StrictMissingError
	if errors.As(err, &strict) {
		var lines []string
		for _, e := range strict.Errors {
			row, col := e.Position()
			lines = append(lines, fmt.Sprintf("line %d column %d: unknown key %q", row, col, strings.Join(e.Key(), ".")))
		}
		return errors.New(strings.Join(lines, "; "))
	}
	var de *toml.DecodeError
	if errors.As(err, &de) {
		row, col := de.Position()
		if k := de.Key(); len(k) > 0 {
			return fmt.Errorf("line %d column %d: key %q: %s", row, col, strings.Join(k, "."), de.Error())
		}
		return fmt.Errorf("line %d column %d: %s", row, col, de.Error())
	}
	return err
}

// complete fills defaults, reads *_file secrets and applies MODBOT_*
// variables.
func (c *Config) complete(getenv func(string) string) error {
	setDefault(&c.Site.Name, "modbot")
	setDefault(&c.IMAP.Security, "none")
	setDefault(&c.IMAP.Mailbox, "INBOX")
	if c.IMAP.IDLE == nil {
		t := true
		c.IMAP.IDLE = &t
	}
	if c.IMAP.PollInterval == 0 {
		c.IMAP.PollInterval = Duration(30 * time.Second)
	}
	if c.IMAP.MaxMessageSize == 0 {
		c.IMAP.MaxMessageSize = 10 << 20
	}
	setDefault(&c.SMTP.Security, "none")
	if c.Moderation.DigestSettle == 0 {
		c.Moderation.DigestSettle = Duration(5 * time.Second)
	}
	if c.Moderation.ReminderInterval == 0 {
		c.Moderation.ReminderInterval = Duration(24 * time.Hour)
	}
	if c.Moderation.DigestMaxItems == 0 {
		c.Moderation.DigestMaxItems = 50
	}
	if c.Moderation.DigestMaxBytes == 0 {
		c.Moderation.DigestMaxBytes = 2 << 20
	}
	if c.Moderation.EscalateAfter == 0 {
		c.Moderation.EscalateAfter = Duration(48 * time.Hour)
	}
	if c.Moderation.EscalateAdminsAfter == 0 {
		c.Moderation.EscalateAdminsAfter = Duration(96 * time.Hour)
	}
	if c.Moderation.MaxNoticesPerHour == 0 {
		c.Moderation.MaxNoticesPerHour = 10
	}
	if c.Moderation.MaxSubmissionsPerHour == 0 {
		c.Moderation.MaxSubmissionsPerHour = 20
	}
	if c.Moderation.MaxNoticesTotalPerHour == nil {
		n := 200
		c.Moderation.MaxNoticesTotalPerHour = &n
	}
	if c.Moderation.UndoGrace == 0 {
		c.Moderation.UndoGrace = Duration(5 * time.Minute)
	}
	if c.Moderation.NotifyReceived == nil {
		t := true
		c.Moderation.NotifyReceived = &t
	}
	if c.SMTP.ResendInDoubt == nil {
		t := true
		c.SMTP.ResendInDoubt = &t
	}
	if c.SMTP.ReturnPaths == nil {
		t := true
		c.SMTP.ReturnPaths = &t
	}
	if c.Moderation.TokenTTL == 0 {
		c.Moderation.TokenTTL = Duration(14 * 24 * time.Hour)
	}
	if c.Web.MetricsListen == "" {
		c.Web.MetricsListen, c.Web.metricsDefaulted = DefaultMetricsListen, true
	}
	if c.Web.FormRate.N == 0 {
		c.Web.FormRate = Rate{N: 10, Per: time.Hour}
	}
	if c.Reports.Daily == nil {
		t := true
		c.Reports.Daily = &t
	}
	if c.Reports.Weekly == nil {
		t := true
		c.Reports.Weekly = &t
	}
	setDefault(&c.Reports.At, "06:00")
	setDefault(&c.Store.Driver, "sqlite")
	setDefault(&c.Store.DSN, "modbot.db")
	setDefault(&c.Log.Level, "info")
	setDefault(&c.Log.Format, "text")

	for _, s := range []struct {
		key, env string
		file     string
		dst      *string
	}{
		{"imap.password_file", "MODBOT_IMAP_PASSWORD", c.IMAP.PasswordFile, &c.IMAP.Password},
		{"smtp.password_file", "MODBOT_SMTP_PASSWORD", c.SMTP.PasswordFile, &c.SMTP.Password},
	} {
		if s.file != "" {
			b, err := os.ReadFile(c.Path(s.file))
			if err != nil {
				return fmt.Errorf("%s: %w", s.key, err)
			}
			*s.dst = strings.TrimRight(string(b), "\r\n")
		}
		if v := getenv(s.env); v != "" {
			*s.dst = v
		}
	}
	if v := getenv("MODBOT_IMAP_USERNAME"); v != "" {
		c.IMAP.Username = v
	}
	if v := getenv("MODBOT_SMTP_USERNAME"); v != "" {
		c.SMTP.Username = v
	}
	if v := getenv("MODBOT_STORE_DSN"); v != "" {
		c.Store.DSN = v
	}
	for i := range c.Posts {
		p := &c.Posts[i]
		if p.TextFile == "" {
			continue
		}
		b, err := os.ReadFile(c.Path(p.TextFile))
		if err != nil {
			return fmt.Errorf("posts[%d].text_file: %w", i, err)
		}
		p.Text = string(b)
	}
	return nil
}

// Path resolves a path from the file relative to the file's directory.
func (c *Config) Path(p string) string {
	if p == "" || filepath.IsAbs(p) || c.Dir == "" {
		return p
	}
	return filepath.Join(c.Dir, p)
}

func setDefault(s *string, v string) {
	if *s == "" {
		*s = v
	}
}

// Validate reports every problem it finds, each naming its key.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	if c.Site.Address == "" {
		bad("site.address", "missing: the moderator inbox's address is required")
	} else if a, err := mail.ParseAddress(c.Site.Address); err != nil || a.Address != c.Site.Address {
		bad("site.address", "%q is not a plain email address", c.Site.Address)
	} else if strings.Contains(strings.Split(c.Site.Address, "@")[0], "+") {
		bad("site.address", "%q must not contain '+': modbot adds plus addresses itself", c.Site.Address)
	}
	if c.Site.BaseURL != "" && !strings.HasPrefix(c.Site.BaseURL, "http://") && !strings.HasPrefix(c.Site.BaseURL, "https://") {
		bad("site.base_url", "%q must start with http:// or https://", c.Site.BaseURL)
	}
	checkAddr := func(key, v string, required bool) {
		if v == "" {
			if required {
				bad(key, "missing: host:port is required")
			}
			return
		}
		if _, port, err := net.SplitHostPort(v); err != nil || port == "" {
			bad(key, "%q is not host:port", v)
		}
	}
	checkSecurity := func(key, v string) {
		switch v {
		case "none", "starttls", "tls":
		default:
			bad(key, "%q is not one of none, starttls, tls", v)
		}
	}
	checkAddr("imap.addr", c.IMAP.Addr, true)
	checkSecurity("imap.security", c.IMAP.Security)
	if c.IMAP.Username == "" {
		bad("imap.username", "missing")
	}
	if c.IMAP.Password == "" {
		bad("imap.password", "missing: set imap.password, imap.password_file or MODBOT_IMAP_PASSWORD")
	}
	if c.IMAP.PollInterval < Duration(time.Second) {
		bad("imap.poll_interval", "%s is shorter than 1s", c.IMAP.PollInterval)
	}
	if c.IMAP.MaxMessageSize < 1024 {
		bad("imap.max_message_size", "%d bytes is too small", c.IMAP.MaxMessageSize)
	}
	checkAddr("smtp.addr", c.SMTP.Addr, true)
	checkSecurity("smtp.security", c.SMTP.Security)
	if c.SMTP.Username != "" && c.SMTP.Password == "" {
		bad("smtp.password", "missing while smtp.username is set: set smtp.password, smtp.password_file or MODBOT_SMTP_PASSWORD")
	}
	if len(c.Moderation.Moderators) == 0 {
		bad("moderation.moderators", "missing: at least one moderator address is required")
	}
	seen := map[string]bool{}
	for i, m := range c.Moderation.Moderators {
		if a, err := mail.ParseAddress(m); err != nil || a.Address != m {
			bad(fmt.Sprintf("moderation.moderators[%d]", i), "%q is not a plain email address", m)
		} else if seen[strings.ToLower(m)] {
			bad(fmt.Sprintf("moderation.moderators[%d]", i), "%q is listed twice", m)
		}
		seen[strings.ToLower(m)] = true
	}
	for i, m := range c.Moderation.Admins {
		if a, err := mail.ParseAddress(m); err != nil || a.Address != m {
			bad(fmt.Sprintf("moderation.admins[%d]", i), "%q is not a plain email address", m)
		}
	}
	if c.Moderation.DigestMaxItems < 0 {
		bad("moderation.digest_max_items", "must not be negative")
	}
	if c.Moderation.DigestMaxBytes < 64<<10 {
		bad("moderation.digest_max_bytes", "%d bytes is too small (at least 64KB)", c.Moderation.DigestMaxBytes)
	}
	if c.Moderation.DigestInterval < 0 {
		bad("moderation.digest_interval", "must not be negative")
	}
	switch c.Store.Driver {
	case "sqlite":
	case "postgres":
		bad("store.driver", "postgres is not supported by this version; use sqlite")
	default:
		bad("store.driver", "%q is not one of sqlite, postgres", c.Store.Driver)
	}
	if t, err := time.Parse("15:04", c.Reports.At); err != nil || t.Format("15:04") != c.Reports.At {
		bad("reports.at", "%q is not a time of day such as \"06:00\"", c.Reports.At)
	}
	checkAddr("web.listen", c.Web.Listen, false)
	if c.Web.MetricsListen != "none" {
		checkAddr("web.metrics_listen", c.Web.MetricsListen, false)
	}
	for i, o := range c.Web.CORSOrigins {
		if u, err := url.Parse(o); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
			u.Path != "" || u.RawQuery != "" || u.User != nil || strings.Contains(o, "*") {
			bad(fmt.Sprintf("web.cors_origins[%d]", i), "%q is not an origin such as \"https://forum.example\" (scheme and host, no path, no wildcard)", o)
		}
	}
	if h := c.Web.ClientIPHeader; h != "" && !validHeaderName(h) {
		bad("web.client_ip_header", "%q is not a header name", h)
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		bad("log.level", "%q is not one of debug, info, warn, error", c.Log.Level)
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		bad("log.format", "%q is not one of text, json", c.Log.Format)
	}
	slugs := map[string]bool{}
	for i, p := range c.Posts {
		key := fmt.Sprintf("posts[%d]", i)
		if !validSlug(p.Slug) {
			bad(key+".slug", "%q must be 1-64 characters of a-z, 0-9 and '-', not starting with '-', \"d-\" or \"u-\"", p.Slug)
		} else if slugs[p.Slug] {
			bad(key+".slug", "%q is used twice", p.Slug)
		}
		slugs[p.Slug] = true
		if p.Title == "" {
			bad(key+".title", "missing")
		}
	}
	return errors.Join(errs...)
}

func validHeaderName(h string) bool {
	for _, r := range h {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return h != ""
}

func validSlug(s string) bool {
	if s == "" || len(s) > 64 || s[0] == '-' || strings.HasPrefix(s, "d-") || strings.HasPrefix(s, "u-") {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

// Post returns the post with the slug, or nil.
func (c *Config) Post(slug string) *Post {
	for i := range c.Posts {
		if c.Posts[i].Slug == slug {
			return &c.Posts[i]
		}
	}
	return nil
}
