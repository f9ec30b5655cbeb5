package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoadDesignExample(t *testing.T) {
	t.Setenv("MODBOT_IMAP_PASSWORD", "")
	c, err := Load(filepath.Join("testdata", "design.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Site.Address != "moderator@forum.example" || c.IMAP.Password != "secret" {
		t.Errorf("site/imap not read: %+v %+v", c.Site, c.IMAP)
	}
	if got := c.IMAP.PollInterval.D(); got != 30*time.Second {
		t.Errorf("poll_interval = %v", got)
	}
	if c.IMAP.MaxMessageSize != 10<<20 {
		t.Errorf("default max_message_size = %d", c.IMAP.MaxMessageSize)
	}
	if c.Moderation.DigestMaxBytes != 2<<20 {
		t.Errorf("default digest_max_bytes = %d", c.Moderation.DigestMaxBytes)
	}
	if c.Moderation.ReminderInterval.D() != 24*time.Hour || c.Moderation.TokenTTL.D() != 14*24*time.Hour {
		t.Errorf("moderation defaults: %+v", c.Moderation)
	}
	if c.Web.FormRate != (Rate{N: 10, Per: time.Hour}) || len(c.Web.CORSOrigins) != 0 {
		t.Errorf("web defaults: %+v", c.Web)
	}
	if p := c.Post("uk-meta-encryption"); p == nil || p.Text != "The article text.\n" {
		t.Errorf("post text not read: %+v", p)
	}
	if c.SMTP.ResendInDoubt == nil || !*c.SMTP.ResendInDoubt {
		t.Errorf("default smtp.resend_in_doubt = %v, want true (at least once)", c.SMTP.ResendInDoubt)
	}
	if c.Web.MetricsListen != "127.0.0.1:9464" || !c.Web.MetricsDefaulted() {
		t.Errorf("default web.metrics_listen = %q (defaulted %v), want loopback 127.0.0.1:9464", c.Web.MetricsListen, c.Web.MetricsDefaulted())
	}
	if got := c.Moderation.NoticesTotalPerHour(); got != 200 {
		t.Errorf("default max_notices_total_per_hour = %d, want 200", got)
	}
	if c.SMTP.ReturnPaths == nil || !*c.SMTP.ReturnPaths {
		t.Errorf("default smtp.return_paths = %v, want true", c.SMTP.ReturnPaths)
	}
	if c.Rules.File != "" {
		t.Errorf("default rules.file = %q, want \"\" (the built-in rules)", c.Rules.File)
	}
	if c.Path(c.Store.DSN) != filepath.Join("testdata", "modbot.db") {
		t.Errorf("dsn not relative to the file: %s", c.Path(c.Store.DSN))
	}
}

const minimal = `
[site]
address = "moderator@forum.example"
[imap]
addr = "127.0.0.1:1143"
username = "moderator@forum.example"
password = "secret"
[smtp]
addr = "127.0.0.1:1025"
[moderation]
moderators = ["alice@mods.example"]
`

func TestErrorsNameTheKey(t *testing.T) {
	tests := []struct {
		name, toml, want string
	}{
		{"unknown key", minimal + "\n[web]\nlisten = \"127.0.0.1:8080\"\nlistne = \"x\"\n", `unknown key "web.listne"`},
		{"unknown table", minimal + "\n[webb]\nlisten = \"x\"\n", `unknown key "webb`},
		{"bad duration", strings.Replace(minimal, "[moderation]", "[moderation]\ndigest_interval = \"soon\"", 1), `"soon" is not a duration`},
		{"bad security", strings.Replace(minimal, "[imap]", "[imap]\nsecurity = \"ssl\"", 1), `imap.security: "ssl" is not one of none, starttls, tls`},
		{"no moderators", strings.Replace(minimal, `moderators = ["alice@mods.example"]`, ``, 1), `moderation.moderators: missing`},
		{"bad moderator", strings.Replace(minimal, `"alice@mods.example"`, `"alice"`, 1), `moderation.moderators[0]: "alice" is not a plain email address`},
		{"no address", strings.Replace(minimal, `address = "moderator@forum.example"`, ``, 1), `site.address: missing`},
		{"plus address", strings.Replace(minimal, `address = "moderator@forum.example"`, `address = "moderator+x@forum.example"`, 1), `site.address`},
		{"bad addr", strings.Replace(minimal, `addr = "127.0.0.1:1143"`, `addr = "imap.example"`, 1), `imap.addr: "imap.example" is not host:port`},
		{"no password", strings.Replace(minimal, `password = "secret"`, ``, 1), `imap.password: missing`},
		{"postgres", minimal + "\n[store]\ndriver = \"postgres\"\n", `store.driver: postgres is not supported`},
		{"bad slug", minimal + "\n[[posts]]\nslug = \"Bad Slug\"\ntitle = \"t\"\n", `posts[0].slug`},
		{"syntax", minimal + "\n[web\n", `line`},
		{"bad web", minimal + "\n[web]\nform_rate = \"lots\"\ncors_origins = [\"https://forum.example/\", \"*\"]\n", `"lots" is not a rate`},
		{"bad metrics listen", minimal + "\n[web]\nmetrics_listen = \"9464\"\n", `web.metrics_listen: "9464" is not host:port`},
		{"bad origin", minimal + "\n[web]\nform_rate = \"5/30m\"\ncors_origins = [\"https://ok.example\", \"*\"]\n", `web.cors_origins[1]: "*" is not an origin`},
		{"wrong type", strings.Replace(minimal, `moderators = ["alice@mods.example"]`, `moderators = "alice@mods.example"`, 1), `moderators`},
		{"digest too small", strings.Replace(minimal, "[moderation]", "[moderation]\ndigest_max_bytes = \"10KB\"", 1), `moderation.digest_max_bytes: 10240 bytes is too small`},
	}
	t.Setenv("MODBOT_IMAP_PASSWORD", "")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.toml), t.TempDir())
			if err == nil {
				t.Fatalf("no error, want one containing %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

func TestSecretsFromFileAndEnv(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "imap.pass"), []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	src := strings.Replace(minimal, `password = "secret"`, `password_file = "imap.pass"`, 1)
	t.Setenv("MODBOT_IMAP_PASSWORD", "")
	c, err := Parse([]byte(src), dir)
	if err != nil {
		t.Fatal(err)
	}
	if c.IMAP.Password != "from-file" {
		t.Errorf("password_file: got %q", c.IMAP.Password)
	}
	t.Setenv("MODBOT_IMAP_PASSWORD", "from-env")
	c, err = Parse([]byte(src), dir)
	if err != nil {
		t.Fatal(err)
	}
	if c.IMAP.Password != "from-env" {
		t.Errorf("MODBOT_IMAP_PASSWORD: got %q", c.IMAP.Password)
	}
}

func TestByteSize(t *testing.T) {
	c, err := Parse([]byte(strings.Replace(minimal, "[imap]", "[imap]\nmax_message_size = \"2MB\"", 1)), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if c.IMAP.MaxMessageSize != 2<<20 {
		t.Errorf("got %d", c.IMAP.MaxMessageSize)
	}
	c, err = Parse([]byte(strings.Replace(minimal, "[imap]", "[imap]\nmax_message_size = 4096", 1)), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if c.IMAP.MaxMessageSize != 4096 {
		t.Errorf("got %d", c.IMAP.MaxMessageSize)
	}
}

func TestRulesFile(t *testing.T) {
	t.Setenv("MODBOT_IMAP_PASSWORD", "")
	c, err := Parse([]byte(minimal+"\n[rules]\nfile = \"site-rules.toml\"\n"), "etc")
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Path(c.Rules.File); got != filepath.Join("etc", "site-rules.toml") {
		t.Errorf("rules file = %q", got)
	}
}

func TestMetricsListen(t *testing.T) {
	for _, tt := range []struct{ set, want string }{
		{`metrics_listen = "none"`, "none"},
		{`metrics_listen = "127.0.0.1:0"`, "127.0.0.1:0"},
		{`metrics_listen = "[::1]:9100"`, "[::1]:9100"},
	} {
		c, err := Parse([]byte(minimal+"\n[web]\n"+tt.set+"\n"), t.TempDir())
		if err != nil {
			t.Fatalf("%s: %v", tt.set, err)
		}
		if c.Web.MetricsListen != tt.want || c.Web.MetricsDefaulted() {
			t.Errorf("%s: got %q (defaulted %v)", tt.set, c.Web.MetricsListen, c.Web.MetricsDefaulted())
		}
	}
}

// max_notices_total_per_hour = 0 turns the global cap off; unset is 200.
func TestNoticesTotalPerHour(t *testing.T) {
	for _, tc := range []struct {
		line string
		want int
	}{{"", 200}, {"max_notices_total_per_hour = 0", 0}, {"max_notices_total_per_hour = 50", 50}} {
		p := filepath.Join(t.TempDir(), "modbot.toml")
		if err := os.WriteFile(p, []byte(minimal+tc.line+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := Load(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.Moderation.NoticesTotalPerHour(); got != tc.want {
			t.Errorf("%q: %d, want %d", tc.line, got, tc.want)
		}
	}
}
