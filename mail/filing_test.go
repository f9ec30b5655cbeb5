package mail

import (
	"slices"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
)

func TestWatcherMoveFallback(t *testing.T) {
	tests := []struct {
		name string
		caps imap.CapSet
		// Without UIDPLUS nothing may be expunged: the filed originals
		// stay, flagged \Deleted.
		expunged bool
	}{
		{"IMAP4rev1 only", imap.CapSet{imap.CapIMAP4rev1: {}}, false},
		{"UIDPLUS without MOVE", imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapUIDPlus: {}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newIMAPTestServer(t, imapTestOptions{caps: tt.caps})
			// Someone else's message, flagged \Deleted but not expunged:
			// it must survive whatever the watcher does.
			srv.appendMsg("INBOX", testMessage(100), imap.FlagDeleted)
			srv.appendMsg("INBOX", testMessage(1))
			srv.appendMsg("INBOX", testMessage(2))
			h := newRecordingHandler(func(_ *Fetched, id string, _ int) (Filing, error) {
				if id == msgID(100) {
					return Filing{Keyword: "$Ignored"}, nil // stays in the inbox
				}
				return Filing{Folder: FolderSubmissions, Keyword: "$Submission"}, nil
			})
			logs := newTestLog(t)
			cfg := testIMAPConfig(t, srv)
			cfg.Logger = logs.logger()
			w, _ := startWatcher(t, cfg, newIMAPTestState(), h)
			waitFor(t, "both to be copied", func() bool { return len(srv.messageIDs(FolderSubmissions)) == 2 })
			waitFor(t, "the sync to finish", func() bool { return !w.Stats().LastSync.IsZero() })
			if w.Stats().MoveSupported {
				t.Error("MoveSupported with a server that lacks MOVE")
			}

			filed, _ := srv.messages(FolderSubmissions)
			for _, m := range filed {
				if !m.hasFlag("$Submission") || m.hasFlag(imap.FlagDeleted) {
					t.Errorf("copy of %s has flags %v, want $Submission and not \\Deleted", m.MessageID, m.Flags)
				}
			}

			inbox, _ := srv.messages("INBOX")
			var ids []string
			for _, m := range inbox {
				ids = append(ids, m.MessageID)
				if !m.hasFlag(imap.FlagDeleted) {
					t.Errorf("%s in the inbox: flags %v, want \\Deleted", m.MessageID, m.Flags)
				}
			}
			want := []string{msgID(100), msgID(1), msgID(2)}
			if tt.expunged {
				want = []string{msgID(100)}
			}
			if !slices.Equal(ids, want) {
				t.Errorf("inbox holds %v, want %v", ids, want)
			}
			logged := strings.Contains(logs.String(), "lacks UIDPLUS")
			if logged == tt.expunged {
				t.Errorf("UIDPLUS warning logged=%v with expunged=%v", logged, tt.expunged)
			}
		})
	}
}

func TestWatcherCopyToUncreatableFolderKeepsSource(t *testing.T) {
	tests := []struct {
		name string
		caps imap.CapSet
	}{
		{"MOVE", imapTestCaps},
		{"COPY fallback", imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapUIDPlus: {}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newIMAPTestServer(t, imapTestOptions{caps: tt.caps})
			srv.mu.Lock()
			srv.refuseCreate["Forbidden/Place"] = true
			srv.mu.Unlock()
			srv.appendMsg("INBOX", testMessage(1))
			srv.appendMsg("INBOX", testMessage(2))
			h := newRecordingHandler(func(_ *Fetched, id string, _ int) (Filing, error) {
				if id == msgID(1) {
					return Filing{Folder: "Forbidden/Place", Keyword: "$Submission"}, nil
				}
				return Filing{Folder: FolderFeedback, Keyword: "$Feedback"}, nil
			})
			logs := newTestLog(t)
			cfg := testIMAPConfig(t, srv)
			cfg.Logger = logs.logger()
			st := newIMAPTestState()
			startWatcher(t, cfg, st, h)

			waitFor(t, "the good one to be filed", func() bool { return len(srv.messageIDs(FolderFeedback)) == 1 })
			waitFor(t, "progress to be stored", func() bool { _, last := st.get("INBOX"); return last == 2 })
			inbox, _ := srv.messages("INBOX")
			if len(inbox) != 1 || inbox[0].MessageID != msgID(1) {
				t.Fatalf("inbox holds %+v, want message 1 left in place", inbox)
			}
			if inbox[0].hasFlag(imap.FlagDeleted) {
				t.Errorf("message 1 flagged \\Deleted although it was never copied")
			}
			if !inbox[0].hasFlag("$Submission") {
				t.Errorf("message 1 flags %v, want its keyword anyway", inbox[0].Flags)
			}
			if _, ok := srv.messages("Forbidden/Place"); ok {
				t.Errorf("the refused folder exists")
			}
			if !strings.Contains(logs.String(), "filing refused") {
				t.Errorf("the refusal was not logged:\n%s", logs)
			}
			if got := h.ids(); !slices.Equal(got, []string{msgID(1), msgID(2)}) {
				t.Errorf("handled %v, want each message once", got)
			}
		})
	}
}

func TestMailboxName(t *testing.T) {
	tests := []struct {
		folder string
		delim  rune
		prefix string
		want   string
	}{
		{"Modbot/Replies", '/', "", "Modbot/Replies"},
		{"Modbot/Replies", '.', "", "Modbot.Replies"},
		{"Modbot/Replies", '.', "INBOX.", "INBOX.Modbot.Replies"},
		{"INBOX.Modbot/Replies", '.', "INBOX.", "INBOX.Modbot.Replies"},
		{"inbox/Modbot/Replies", '.', "INBOX.", "inbox.Modbot.Replies"},
		{"INBOX", '.', "INBOX.", "INBOX"},
		{"Modbot/Replies", 0, "", "Modbot/Replies"},
	}
	for _, tt := range tests {
		if got := MailboxName(tt.folder, tt.delim, tt.prefix); got != tt.want {
			t.Errorf("MailboxName(%q, %q, %q) = %q, want %q", tt.folder, tt.delim, tt.prefix, got, tt.want)
		}
	}
}

func TestValidKeyword(t *testing.T) {
	tests := []struct {
		kw   string
		want bool
	}{
		{"$Submission", true},
		{"Modbot_Rejected", true},
		{"", false},
		{`\Seen`, false},
		{"two words", false},
		{"bad(paren", false},
		{"wild*", false},
		{"quote\"d", false},
		{"brack]et", false},
		{"naïve", false},
	}
	for _, tt := range tests {
		if got := validKeyword(tt.kw); got != tt.want {
			t.Errorf("validKeyword(%q) = %v, want %v", tt.kw, got, tt.want)
		}
	}
}
