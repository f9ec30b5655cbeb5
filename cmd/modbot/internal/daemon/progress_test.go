package daemon

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"modbot/queue"
)

// A large pass is logged with its rate; every pass's end is stored for
// `modbot status`; a pass of a few messages logs nothing.
func TestSyncProgress(t *testing.T) {
	ctx := context.Background()
	store, err := queue.Open(ctx, filepath.Join(t.TempDir(), "modbot.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if err := store.SetMailboxState(ctx, "INBOX", 1, 0); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	hook := syncProgress(ctx, store, "INBOX", slog.New(slog.NewTextHandler(&log, nil)))

	hook(0, 3)
	hook(1, 3)
	hook(2, 3)
	hook(3, 3)
	if log.Len() != 0 {
		t.Errorf("a small pass was logged: %s", log.String())
	}
	st, err := store.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mailboxes[0].SyncedAt == nil {
		t.Fatal("the end of a pass was not recorded")
	}

	for done := 0; done <= syncReportMin; done++ {
		hook(done, syncReportMin)
	}
	for _, want := range []string{`msg="imap sync started" total=200 unit=messages`, `msg="imap sync finished" done=200 total=200`, "rate_per_s="} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, log.String())
		}
	}
}
