// Package demo runs modbot with everything it needs in one process: an
// IMAP server and an SMTP server on loopback whose deliveries land in
// those IMAP mailboxes, the daemon itself, and the seed site's article
// and reader comments, so a person can watch a digest arrive in a real
// mail client.
package demo

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"text/template"
	"time"

	"github.com/emersion/go-smtp"

	"modbot/cmd/modbot/internal/config"
	"modbot/cmd/modbot/internal/daemon"
	"modbot/mail"
	"modbot/mail/devmail"
	"modbot/templates"
)

var (
	//go:embed seed/article.txt
	article string
	//go:embed seed/comments.jsonl
	readerComments []byte
	//go:embed seed/extra.jsonl
	extraComments []byte
)

// Password is every demo user's password.
const Password = "secret"

// Users of the demo's mail system.
var Users = []string{"moderator@forum.example", "alice@mods.example", "bob@mods.example", "carol@people.example"}

// Options configure the demo.
type Options struct {
	IMAPListen, SMTPListen, WebListen string // "" picks 1143, 1025, 8080, or a free port when those are taken
	Dir                               string // state directory; "" makes a temporary one
	Once                              bool   // stop once every moderator has a digest
	Out                               io.Writer
	Logger                            *slog.Logger
}

// Run starts the demo and blocks until ctx ends (or, with Once, until the
// digests arrived).
func Run(ctx context.Context, o Options) error {
	if o.Out == nil {
		o.Out = os.Stdout
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Dir != "" {
		if err := os.MkdirAll(o.Dir, 0o700); err != nil {
			return err
		}
	} else {
		dir, err := os.MkdirTemp("", "modbot-demo-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		o.Dir = dir
	}
	users := map[string]string{}
	for _, u := range Users {
		users[u] = Password
	}
	ms, err := devmail.Start(devmail.Options{
		Users:      users,
		IMAPListen: preferPort(o.IMAPListen, "127.0.0.1:1143"),
		SMTPListen: preferPort(o.SMTPListen, "127.0.0.1:1025"),
		Logger:     o.Logger.With("part", "devmail"),
	})
	if err != nil {
		return fmt.Errorf("start demo mail servers: %w", err)
	}
	defer ms.Close()

	cfg, err := writeConfig(o.Dir, ms.IMAPAddr, ms.SMTPAddr, preferPort(o.WebListen, "127.0.0.1:8080"))
	if err != nil {
		return err
	}
	d, err := daemon.New(ctx, cfg, o.Logger)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()

	n, err := submitSeed(ctx, ms.SMTPAddr)
	if err != nil {
		cancel()
		<-done
		return fmt.Errorf("submit seed comments: %w", err)
	}
	if err := printWelcome(o.Out, ms, cfg, n); err != nil {
		cancel()
		<-done
		return err
	}

	if o.Once {
		wctx, wcancel := context.WithTimeout(ctx, time.Minute)
		defer wcancel()
		for _, m := range cfg.Moderation.Moderators {
			msgs, err := ms.Wait(wctx, m, "INBOX", 1)
			if err != nil {
				cancel()
				<-done
				return fmt.Errorf("waiting for %s's digest: %w", m, err)
			}
			fmt.Fprintf(o.Out, "%s received: %s\n", m, subjectOf(msgs[0]))
		}
		cancel()
	}
	return <-done
}

// preferPort returns addr if given, else want when it is free, else a
// free port: a person gets stable ports, a busy machine still gets a demo.
func preferPort(addr, want string) string {
	if addr != "" {
		return addr
	}
	ln, err := net.Listen("tcp", want)
	if err != nil {
		return "127.0.0.1:0"
	}
	ln.Close()
	return want
}

func writeConfig(dir, imapAddr, smtpAddr, webAddr string) (*config.Config, error) {
	if err := os.WriteFile(filepath.Join(dir, "article.txt"), []byte(article), 0o644); err != nil {
		return nil, err
	}
	if strings.HasSuffix(webAddr, ":0") {
		ln, err := net.Listen("tcp", webAddr)
		if err != nil {
			return nil, err
		}
		webAddr = ln.Addr().String()
		ln.Close()
	}
	var buf bytes.Buffer
	if err := configTemplate.Execute(&buf, map[string]string{"IMAP": imapAddr, "SMTP": smtpAddr, "Web": webAddr, "Password": Password}); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "modbot.toml")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		return nil, err
	}
	return config.Load(path)
}

var configTemplate = template.Must(template.New("").Parse(`# Written by modbot demo.
[site]
name = "ACSOL Forum (demo)"
base_url = "http://{{.Web}}"
address = "moderator@forum.example"

[imap]
addr = "{{.IMAP}}"
security = "none"
username = "moderator@forum.example"
password = "{{.Password}}"
idle = true
poll_interval = "30s"

[smtp]
addr = "{{.SMTP}}"
security = "none"

[moderation]
moderators = ["alice@mods.example", "bob@mods.example"]
digest_interval = "0s"
digest_settle = "2s"

[store]
dsn = "modbot.db"

[web]
listen = "{{.Web}}"

[[posts]]
slug = "uk-meta-encryption"
title = "UK accuses Meta of empowering child sexual abusers with encryption rollout"
url = "http://{{.Web}}/posts/uk-meta-encryption"
text_file = "article.txt"
`))

type seedComment struct {
	AuthorName string `json:"author_name"`
	Email      string `json:"email"`
	Body       string `json:"body"`
}

// submitSeed sends the seed comments the way commenters would: by SMTP
// to the post's plus address.
func submitSeed(ctx context.Context, smtpAddr string) (int, error) {
	var comments []seedComment
	for _, src := range [][]byte{readerComments, extraComments} {
		sc := bufio.NewScanner(bytes.NewReader(src))
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			var c seedComment
			if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
				return 0, fmt.Errorf("seed: %w", err)
			}
			comments = append(comments, c)
		}
	}
	for i, c := range comments {
		out := &mail.Outgoing{
			From:          mail.Address{Name: c.AuthorName, Addr: c.Email},
			To:            []mail.Address{{Addr: "moderator+uk-meta-encryption@forum.example"}},
			Subject:       "Comment on: UK accuses Meta of empowering child sexual abusers",
			MessageID:     fmt.Sprintf("seed-%d.%d@people.example", i, time.Now().UnixNano()),
			Date:          time.Now(),
			AutoSubmitted: "no",
			Text:          c.Body,
		}
		raw, err := out.Bytes()
		if err != nil {
			return i, err
		}
		if err := sendMail(smtpAddr, c.Email, out.Recipients(), raw); err != nil {
			return i, err
		}
	}
	return len(comments), ctx.Err()
}

func sendMail(addr, from string, to []string, raw []byte) error {
	c, err := smtp.Dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.SendMail(from, to, bytes.NewReader(raw)); err != nil {
		return err
	}
	return c.Quit()
}

func subjectOf(raw []byte) string {
	m, err := mail.Parse(bytes.NewReader(raw), nil)
	if err != nil {
		return "(unreadable: " + err.Error() + ")"
	}
	return m.Subject
}

func printWelcome(w io.Writer, ms *devmail.Server, cfg *config.Config, n int) error {
	tmpl, err := templates.Load(cfg.Path(cfg.Templates.Dir))
	if err != nil {
		return err
	}
	v := &templates.Welcome{
		Submitted: n, Inbox: cfg.Site.Address, PostAddress: "moderator+uk-meta-encryption@forum.example",
		Users: Users, Moderators: cfg.Moderation.Moderators, Password: Password,
		Web: cfg.Web.Listen, State: cfg.Path(cfg.Store.DSN),
	}
	v.IMAPHost, v.IMAPPort, _ = net.SplitHostPort(ms.IMAPAddr)
	v.SMTPHost, v.SMTPPort, _ = net.SplitHostPort(ms.SMTPAddr)
	text, err := tmpl.Welcome(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprint(w, "\n"+text)
	return err
}
