package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"modbot/cmd/modbot/internal/config"
	"modbot/queue"
)

// statusCmd prints the state of the queue, the outbox, the inbox sync and
// the digests, read from the database without changing it, so it runs
// beside the daemon.
func statusCmd(ctx context.Context, out io.Writer, args []string) error {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	path := fs.String("config", "modbot.toml", "configuration `file`")
	asJSON := fs.Bool("json", false, "print one JSON object")
	if err := fs.Parse(args); err != nil {
		return err
	}
	store, err := openStoreReadOnly(ctx, *path)
	if err != nil {
		return err
	}
	defer store.Close()
	st, err := store.Status(ctx)
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	if *asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Now time.Time `json:"now"`
			*queue.Status
		}{now, st})
	}
	return writeStatus(out, st, now)
}

// writeStatus is the table a person reads.
func writeStatus(out io.Writer, st *queue.Status, now time.Time) error {
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	queueLine := fmt.Sprintf("%d pending", st.Pending)
	if o := st.OldestPending; o != nil {
		queueLine += fmt.Sprintf(", oldest #%d waiting %s (since %s)", o.ID, age(now.Sub(o.Since)), stamp(o.Since))
	}
	if st.Held > 0 {
		queueLine += fmt.Sprintf("; %d held", st.Held)
	}
	fmt.Fprintf(w, "queue\t%s\n", queueLine)

	ob := st.Outbox
	fmt.Fprintf(w, "outbox\t%d waiting (%d retrying), %d failed, %d sent\n", ob.Waiting, ob.Retrying, ob.Failed, ob.Sent)
	if ob.LastError != "" {
		fmt.Fprintf(w, "\tlast error: %s\n", oneLine(ob.LastError))
	}

	if len(st.Mailboxes) == 0 {
		fmt.Fprintf(w, "imap\tno sync yet\n")
	}
	for _, m := range st.Mailboxes {
		sync := "no complete sync recorded"
		if m.SyncedAt != nil {
			sync = fmt.Sprintf("last sync %s ago (%s)", age(now.Sub(*m.SyncedAt)), stamp(*m.SyncedAt))
		}
		fmt.Fprintf(w, "imap\t%s: %s, last UID %d\n", m.Name, sync, m.LastUID)
	}

	dg := st.Digests
	digests := fmt.Sprintf("%d sent", dg.Sent)
	if dg.LastSent != nil {
		digests += fmt.Sprintf(", last %s ago (%s)", age(now.Sub(*dg.LastSent)), stamp(*dg.LastSent))
	}
	if dg.Waiting > 0 {
		digests += fmt.Sprintf("; %d waiting to be sent", dg.Waiting)
	}
	fmt.Fprintf(w, "digests\t%s\n", digests)
	fmt.Fprintf(w, "published\t%d comments\n", st.Published)

	outcomes := make([]string, 0, len(st.Inbound))
	for o := range st.Inbound {
		outcomes = append(outcomes, o)
	}
	sort.Slice(outcomes, func(i, j int) bool {
		a, b := st.Inbound[outcomes[i]], st.Inbound[outcomes[j]]
		return a > b || a == b && outcomes[i] < outcomes[j]
	})
	parts := make([]string, len(outcomes))
	for i, o := range outcomes {
		parts[i] = fmt.Sprintf("%d %s", st.Inbound[o], o)
	}
	if len(parts) == 0 {
		parts = []string{"none yet"}
	}
	fmt.Fprintf(w, "inbound\t%s\n", strings.Join(parts, ", "))
	return w.Flush()
}

// age is a duration as a person says it: "12s", "5m", "2h5m", "3d4h".
func age(d time.Duration) string {
	switch {
	case d < 0:
		return "0s"
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh%dm", int(d.Hours()), int(d.Minutes())%60)
	default:
		return fmt.Sprintf("%dd%dh", int(d.Hours())/24, int(d.Hours())%24)
	}
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// openStoreReadOnly opens, read-only, the database of the configuration
// at path: the subcommands that only look run beside the daemon.
func openStoreReadOnly(ctx context.Context, path string) (*queue.Store, error) {
	cfg, err := config.Load(path)
	if err != nil {
		return nil, err
	}
	store, err := queue.OpenReadOnly(ctx, cfg.Path(cfg.Store.DSN))
	if err != nil {
		return nil, fmt.Errorf("%w (has modbot run with this configuration yet?)", err)
	}
	return store, nil
}
