package daemon

import (
	"context"
	"log/slog"
	"time"

	progressreport "modbot/internal/progress"
	"modbot/queue"
)

// syncReportMin is the smallest pass over the mailbox whose progress is
// logged: the initial sync of a large inbox, not the arrival of a few
// messages.
const syncReportMin = 200

// syncProgress follows the watcher's passes over mailbox: a large one's
// progress (done, rate, time left) goes to the log, and the end of every
// pass to the store, where `modbot status` reads it.
func syncProgress(ctx context.Context, store *queue.Store, mailbox string, logger *slog.Logger) func(done, total int) {
	r := &progressreport.Reporter{Name: "imap sync", Unit: "messages", Logger: logger, MinTotal: syncReportMin}
	return func(done, total int) {
		r.Update(done, total)
		if done == total {
			if err := store.RecordSync(ctx, mailbox, time.Now()); err != nil && ctx.Err() == nil {
				logger.Warn("record sync time", "err", err)
			}
		}
	}
}
