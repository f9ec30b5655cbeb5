// Package daemon wires modbot's parts together from a configuration: the
// store, the IMAP watcher, the ingester, the digester, the outbox, the
// reporter, and the web and metrics listeners, all under one context
// (docs/ARCHITECTURE.md, "What runs on which goroutine").
package daemon

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"modbot/cmd/modbot/internal/config"
	"modbot/mail"
	"modbot/queue"
	"modbot/queue/precheck"
	"modbot/templates"
	"modbot/web"
)

// Daemon is a running modbot.
type Daemon struct {
	Config    *config.Config
	Logger    *slog.Logger
	Store     *queue.Store
	Watcher   *mail.Watcher
	Ingester  *queue.Ingester
	Digester  *queue.Digester
	Outbox    *queue.Outbox
	Reporter  *queue.Reporter
	Web       *web.Server
	WebListen net.Listener // set by New when [web] listen is configured
	// MetricsListen serves /metrics apart from the public pages; nil
	// when web.metrics_listen is "none" or its default port was taken.
	MetricsListen net.Listener
}

// New opens the store and builds every part; nothing runs until Run.
func New(ctx context.Context, cfg *config.Config, logger *slog.Logger) (*Daemon, error) {
	if logger == nil {
		logger = slog.Default()
	}
	tmpl, err := templates.Load(cfg.Path(cfg.Templates.Dir))
	if err != nil {
		return nil, fmt.Errorf("templates: %w", err)
	}
	rules, err := precheck.LoadRuleset(cfg.Path(cfg.Rules.File))
	if err != nil {
		return nil, fmt.Errorf("rules.file: %w", err)
	}
	store, err := queue.Open(ctx, cfg.Path(cfg.Store.DSN))
	if err != nil {
		return nil, err
	}
	var posts []queue.Post
	for _, p := range cfg.Posts {
		posts = append(posts, queue.Post{Slug: p.Slug, Title: p.Title, URL: p.URL, Text: p.Text})
	}
	if err := store.SyncPosts(ctx, posts); err != nil {
		store.Close()
		return nil, err
	}
	d := &Daemon{Config: cfg, Logger: logger, Store: store}
	site := queue.Site{Name: cfg.Site.Name, BaseURL: cfg.Site.BaseURL, Address: cfg.Site.Address}

	d.Outbox = queue.NewOutbox(store, mail.NewSender(smtpConfig(cfg)), logger.With("part", "outbox"))
	d.Outbox.ResendInDoubt = *cfg.SMTP.ResendInDoubt
	d.Outbox.ReturnPaths = *cfg.SMTP.ReturnPaths
	d.Digester = &queue.Digester{
		Store: store, Templates: tmpl, Site: site, Moderators: cfg.Moderation.Moderators,
		Interval: cfg.Moderation.DigestInterval.D(), Settle: cfg.Moderation.DigestSettle.D(),
		Reminder: cfg.Moderation.ReminderInterval.D(), MaxItems: cfg.Moderation.DigestMaxItems,
		MaxBytes: int(cfg.Moderation.DigestMaxBytes),
		Escalation: queue.Escalation{After: cfg.Moderation.EscalateAfter.D(),
			AdminsAfter: cfg.Moderation.EscalateAdminsAfter.D(), Admins: cfg.Moderation.Admins},
		Queued: d.Outbox.Notify,
		Logger: logger.With("part", "digest"),
	}
	// A digest refused for good puts its items back and tells the admins.
	d.Outbox.Failed = d.Digester.Undeliverable
	at, err := queue.ParseTimeOfDay(cfg.Reports.At)
	if err != nil {
		store.Close()
		return nil, fmt.Errorf("reports.at: %w", err)
	}
	d.Reporter = &queue.Reporter{Store: store, Templates: tmpl, Site: site, Admins: cfg.Moderation.Admins,
		Daily: *cfg.Reports.Daily, Weekly: *cfg.Reports.Weekly, At: at, Rules: rules.Rules(),
		Queued: d.Outbox.Notify, Logger: logger.With("part", "report")}
	d.Ingester = &queue.Ingester{
		Store: store, Site: site, Templates: tmpl,
		Moderators: cfg.Moderation.Moderators, Admins: cfg.Moderation.Admins, TokenTTL: cfg.Moderation.TokenTTL.D(),
		Prechecks: rules.Engine(), Rules: rules.Rules(),
		UndoGrace: cfg.Moderation.UndoGrace.D(), NotifyReceived: *cfg.Moderation.NotifyReceived,
		TrustedAuthServID: cfg.Moderation.TrustedAuthServID, VerifyDKIM: cfg.Moderation.VerifyDKIM,
		Limits: queue.Limits{NoticesPerHour: cfg.Moderation.MaxNoticesPerHour, NoticesTotalPerHour: cfg.Moderation.NoticesTotalPerHour(),
			SubmissionsPerHour: cfg.Moderation.MaxSubmissionsPerHour},
		Logger: logger.With("part", "ingest"),
		// Any outcome may have written mail (a notice, a confirmation)
		// or made an item due at once (a revised comment, a reply refused
		// because its digest showed an older version).
		Arrived: func(string) { d.Digester.Notify(); d.Outbox.Notify() },
	}
	ic := imapConfig(cfg, logger.With("part", "imap"))
	ic.Flags = store
	ic.Progress = syncProgress(ctx, store, cfg.IMAP.Mailbox, logger.With("part", "imap"))
	d.Watcher = mail.NewWatcher(ic, store, d.Ingester)
	d.Web = &web.Server{
		Stats: store, Logger: logger.With("part", "web"),
		Watcher: func() web.WatcherStats {
			st := d.Watcher.Stats()
			return web.WatcherStats{Reconnects: st.Reconnects, Connected: st.Connected, LastSync: st.LastSync}
		},
		Comments: store, Subscriptions: store, Templates: tmpl, Site: site,
		// Its own connection: a form submission does not wait behind
		// the outbox.
		Sender: mail.NewSender(smtpConfig(cfg)),
		Options: web.Options{
			FormRate:    web.Rate{N: cfg.Web.FormRate.N, Per: cfg.Web.FormRate.Per},
			CORSOrigins: cfg.Web.CORSOrigins, ClientIPHeader: cfg.Web.ClientIPHeader,
			APICacheTTL: time.Second,
		},
	}
	if cfg.Web.Listen != "" {
		// Listen now, so a port conflict fails the start rather than
		// surfacing later in a log line.
		ln, err := net.Listen("tcp", cfg.Web.Listen)
		if err != nil {
			store.Close()
			return nil, fmt.Errorf("web.listen: %w", err)
		}
		d.WebListen = ln
	}
	if addr := cfg.Web.MetricsListen; addr != "none" {
		ln, err := net.Listen("tcp", addr)
		switch {
		case err != nil && cfg.Web.MetricsDefaulted():
			// Nobody asked for this port: another modbot (or anything)
			// may hold it. Run without metrics rather than not at all.
			logger.Warn("metrics not served: the default web.metrics_listen is taken; set another address or \"none\"",
				"addr", addr, "err", err)
		case err != nil:
			if d.WebListen != nil {
				d.WebListen.Close()
			}
			store.Close()
			return nil, fmt.Errorf("web.metrics_listen: %w", err)
		default:
			d.MetricsListen = ln
		}
	}
	return d, nil
}

func imapConfig(cfg *config.Config, logger *slog.Logger) mail.IMAPConfig {
	c := mail.IMAPConfig{
		Addr: cfg.IMAP.Addr, Username: cfg.IMAP.Username, Password: cfg.IMAP.Password,
		Mailbox: cfg.IMAP.Mailbox, Security: mail.Security(cfg.IMAP.Security),
		IDLE: *cfg.IMAP.IDLE, PollInterval: cfg.IMAP.PollInterval.D(),
		MaxMessageSize: int64(cfg.IMAP.MaxMessageSize), Logger: logger,
	}
	if cfg.IMAP.InsecureSkipVerify {
		c.TLSConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // explicit opt-in for loopback tests
	}
	return c
}

func smtpConfig(cfg *config.Config) mail.SMTPConfig {
	c := mail.SMTPConfig{
		Addr: cfg.SMTP.Addr, Username: cfg.SMTP.Username, Password: cfg.SMTP.Password,
		Security: mail.Security(cfg.SMTP.Security), HelloName: cfg.SMTP.HelloName,
	}
	if cfg.SMTP.InsecureSkipVerify {
		c.TLSConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // explicit opt-in for loopback tests
	}
	return c
}

// Run runs every part until ctx ends, then waits for them to stop and
// closes the store. The first part to fail stops the others.
func (d *Daemon) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	start := func(name string, f func(context.Context) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(ctx); err != nil && !errors.Is(err, context.Canceled) {
				err = fmt.Errorf("%s: %w", name, err)
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
				cancel(err)
			}
		}()
	}
	d.Logger.Info("modbot starting", "inbox", d.Config.Site.Address, "imap", d.Config.IMAP.Addr,
		"smtp", d.Config.SMTP.Addr, "moderators", len(d.Config.Moderation.Moderators), "web", d.Config.Web.Listen)
	start("outbox", d.Outbox.Run)
	start("digest", d.Digester.Run)
	start("report", d.Reporter.Run)
	start("imap", d.Watcher.Run)
	if d.WebListen != nil {
		start("web", func(ctx context.Context) error { return d.Web.Serve(ctx, d.WebListen) })
	}
	if d.MetricsListen != nil {
		start("metrics", func(ctx context.Context) error { return d.Web.ServeMetrics(ctx, d.MetricsListen) })
	}
	wg.Wait()
	d.Logger.Info("modbot stopped")
	return errors.Join(append(errs, d.Store.Close())...)
}
