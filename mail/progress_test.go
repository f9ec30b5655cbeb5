package mail

import (
	"slices"
	"sync"
	"testing"
)

// Progress hears a pass start, each message but the last, and the end of
// the pass once; an empty pass is a bare end.
func TestWatcherReportsProgress(t *testing.T) {
	srv := newIMAPTestServer(t, imapTestOptions{})
	for n := 1; n <= 5; n++ {
		srv.appendMsg("INBOX", testMessage(n))
	}
	var mu sync.Mutex
	var calls [][2]int
	cfg := testIMAPConfig(t, srv)
	cfg.BatchSize = 2
	cfg.Progress = func(done, total int) {
		mu.Lock()
		calls = append(calls, [2]int{done, total})
		mu.Unlock()
	}
	st := newIMAPTestState()
	startWatcher(t, cfg, st, newRecordingHandler(fileAll(FolderSubmissions, "")))
	snapshot := func() [][2]int {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(calls)
	}
	waitFor(t, "the end of the first pass", func() bool { return slices.Contains(snapshot(), [2]int{5, 5}) })
	want := [][2]int{{0, 5}, {1, 5}, {2, 5}, {3, 5}, {4, 5}, {5, 5}}
	if got := snapshot(); !slices.Equal(got[:len(want)], want) {
		t.Errorf("progress calls %v, want %v", got, want)
	}

	srv.appendMsg("INBOX", testMessage(6))
	waitFor(t, "the pass for the new message", func() bool { return slices.Contains(snapshot(), [2]int{1, 1}) })
	got := snapshot()
	if i := slices.Index(got, [2]int{0, 1}); i < 0 || got[i+1] != [2]int{1, 1} {
		t.Errorf("second pass %v; want (0, 1) then (1, 1)", got[len(want):])
	}
}
