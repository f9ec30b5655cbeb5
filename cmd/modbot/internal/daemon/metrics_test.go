package daemon

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// /metrics is served on its own listener, never on the public one that
// readers and attackers reach (issue 11 §11).
func TestMetricsOnTheirOwnListener(t *testing.T) {
	_, imapAddr, smtpAddr := startDevmail(t)
	cfg := testConfig(t, t.TempDir(), imapAddr, smtpAddr)
	cfg.Web.Listen, cfg.Web.MetricsListen = "127.0.0.1:0", "127.0.0.1:0"
	d, stop := startDaemon(t, cfg)
	defer stop()
	if d.MetricsListen == nil || d.WebListen == nil {
		t.Fatalf("listeners: web %v, metrics %v", d.WebListen, d.MetricsListen)
	}
	get := func(addr, path string) (int, string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+addr+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	public, private := d.WebListen.Addr().String(), d.MetricsListen.Addr().String()
	if code, body := get(public, "/metrics"); code != http.StatusNotFound || strings.Contains(body, "modbot_queue_pending") {
		t.Errorf("public listener GET /metrics: %d %.80q", code, body)
	}
	if code, body := get(private, "/metrics"); code != 200 || !strings.Contains(body, "modbot_queue_pending 0") {
		t.Errorf("metrics listener GET /metrics: %d %.200q", code, body)
	}
	if code, _ := get(private, "/posts/uk-meta-encryption"); code != http.StatusNotFound {
		t.Errorf("metrics listener serves the comment pages: %d", code)
	}
}

// A metrics address the operator set and cannot be had stops the start;
// the default one only costs the metrics.
func TestMetricsListenTaken(t *testing.T) {
	_, imapAddr, smtpAddr := startDevmail(t)
	cfg := testConfig(t, t.TempDir(), imapAddr, smtpAddr)
	cfg.Web.MetricsListen = "127.0.0.1:0"
	d, stop := startDaemon(t, cfg)
	defer stop()
	taken := d.MetricsListen.Addr().String()

	cfg2 := testConfig(t, t.TempDir(), imapAddr, smtpAddr)
	cfg2.Web.MetricsListen = taken
	if d2, err := New(context.Background(), cfg2, nil); err == nil {
		d2.Store.Close()
		t.Fatalf("second daemon started on the taken metrics address %s", taken)
	} else if !strings.Contains(err.Error(), "web.metrics_listen") {
		t.Errorf("error does not name the key: %v", err)
	}
}
