package bench

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"modbot/mail"
	"modbot/queue"
	"modbot/queue/precheck"
	"modbot/templates"
	"modbot/web"
)

var (
	saN         = flag.Int("sa.n", 1000, "submissions in the SpamAssassin comparison")
	apiComments = flag.Int("api.comments", 100, "published comments on the post the API load test reads")
)

// BenchmarkPrechecksVsSpamAssassin runs the same submissions through
// modbot's parse + classify + all 22 rules and through SpamAssassin with
// local tests only (spamassassin -L --mbox, one process), and reports
// both throughputs and the ratio. Skipped without spamassassin
// (apt-get install spamassassin).
func BenchmarkPrechecksVsSpamAssassin(b *testing.B) {
	sa, err := exec.LookPath("spamassassin")
	if err != nil {
		b.Skip("spamassassin not installed (apt-get install spamassassin): no comparison")
	}
	n := *saN
	r := rand.New(rand.NewPCG(7, 8))
	msgs := make([][]byte, n)
	var mbox bytes.Buffer
	for i := range msgs {
		msgs[i] = submission(r, i)
		mbox.WriteString("From c@people.example Mon Jan  2 15:04:05 2026\n")
		for _, line := range strings.Split(strings.ReplaceAll(string(msgs[i]), "\r\n", "\n"), "\n") {
			if strings.HasPrefix(line, "From ") {
				line = ">" + line
			}
			mbox.WriteString(line + "\n")
		}
	}
	dir := b.TempDir()
	mboxPath := filepath.Join(dir, "corpus.mbox")
	if err := os.WriteFile(mboxPath, mbox.Bytes(), 0o600); err != nil {
		b.Fatal(err)
	}
	site := filepath.Join(dir, "site")
	os.MkdirAll(site, 0o700)
	os.WriteFile(filepath.Join(site, "local.cf"), []byte("use_bayes 0\nbayes_auto_learn 0\n"), 0o600)
	// The site directory replaces /etc/spamassassin, whose .pre files load
	// the plugins that do the checking.
	pres, _ := filepath.Glob("/etc/spamassassin/*.pre")
	for _, p := range pres {
		if b, err := os.ReadFile(p); err == nil {
			os.WriteFile(filepath.Join(site, filepath.Base(p)), b, 0o600)
		}
	}

	engine := precheck.DefaultRuleset().Engine()
	b.ResetTimer()
	start := time.Now()
	hits := 0
	for _, raw := range msgs {
		m, err := mail.Parse(bytes.NewReader(raw), nil)
		if err != nil {
			b.Fatal(err)
		}
		c := mail.Classify(m, mail.SiteAddress{Address: "moderator@forum.example"})
		hits += len(engine.Run(&precheck.Input{Body: m.Text, AuthorName: c.AuthorName, AuthorEmail: m.From.Addr}))
	}
	modbot := time.Since(start)
	b.StopTimer()

	in, err := os.Open(mboxPath)
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close()
	cmd := exec.Command(sa, "-L", "--mbox", "--siteconfigpath="+site)
	cmd.Stdin, cmd.Env = in, append(os.Environ(), "HOME="+dir)
	start = time.Now()
	if out, err := cmd.Output(); err != nil {
		b.Fatalf("spamassassin: %v (%d bytes of output)", err, len(out))
	}
	saTime := time.Since(start)

	b.ReportMetric(float64(n)/modbot.Seconds(), "modbot_msgs/s")
	b.ReportMetric(float64(n)/saTime.Seconds(), "spamassassin_msgs/s")
	b.ReportMetric(saTime.Seconds()/modbot.Seconds(), "x_faster")
	b.Logf("%d submissions: modbot parse+classify+22 rules %.2f s (%.0f/s, %d hits); spamassassin -L --mbox %.1f s (%.1f/s); modbot %.0fx faster",
		n, modbot.Seconds(), float64(n)/modbot.Seconds(), hits, saTime.Seconds(), float64(n)/saTime.Seconds(), saTime.Seconds()/modbot.Seconds())
}

// BenchmarkAPILoad serves a post with -api.comments published comments
// (100: a busy thread) and loads
// GET /api/posts/<slug>/comments with wrk (apt-get install wrk) on
// loopback for 10 s: requests/s and p99.
func BenchmarkAPILoad(b *testing.B) {
	wrk, err := exec.LookPath("wrk")
	if err != nil {
		b.Skip("wrk not installed (apt-get install wrk)")
	}
	ctx := context.Background()
	s, err := queue.Open(ctx, filepath.Join(b.TempDir(), "modbot.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	const slug = "uk-meta-encryption"
	var cs []queue.ImportComment
	for i := 0; i < *apiComments; i++ {
		c := queue.ImportComment{SourceID: fmt.Sprint("bench:", i), PostSlug: slug, AuthorName: fmt.Sprint("Reader ", i%50),
			Body: strings.Repeat("Encryption protects everyone. ", 10), PublishedAt: time.Date(2026, 1, 1, 0, 0, i, 0, time.UTC)}
		if i%3 == 1 {
			c.ParentSourceID = fmt.Sprint("bench:", i-1)
		}
		cs = append(cs, c)
	}
	if _, err := s.ImportComments(ctx, []queue.ImportPost{{Slug: slug, Title: "UK accuses Meta"}}, cs, nil); err != nil {
		b.Fatal(err)
	}
	tmpl, err := templates.Load("")
	if err != nil {
		b.Fatal(err)
	}
	srv := &web.Server{Stats: s, Comments: s, Templates: tmpl, Site: queue.Site{Name: "Bench", BaseURL: "http://127.0.0.1", Address: "moderator@forum.example"},
		Options: web.Options{APICacheTTL: time.Second}} // as the daemon runs it
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	b.ResetTimer()
	out, err := exec.Command(wrk, "-t2", "-c32", "-d10s", "--latency", ts.URL+"/api/posts/"+slug+"/comments").CombinedOutput()
	b.StopTimer()
	if err != nil {
		b.Fatalf("wrk: %v\n%s", err, out)
	}
	rps := regexp.MustCompile(`Requests/sec:\s+([\d.]+)`).FindSubmatch(out)
	p99 := regexp.MustCompile(`99%\s+([\d.]+)(us|ms|s)`).FindSubmatch(out)
	if rps == nil || p99 == nil {
		b.Fatalf("cannot read wrk's output:\n%s", out)
	}
	reqs, _ := strconv.ParseFloat(string(rps[1]), 64)
	lat, _ := strconv.ParseFloat(string(p99[1]), 64)
	switch string(p99[2]) {
	case "us":
		lat /= 1000
	case "s":
		lat *= 1000
	}
	b.ReportMetric(reqs, "req/s")
	b.ReportMetric(lat, "p99_ms")
	b.Logf("GET the JSON of %d comments: %.0f req/s, p99 %.1f ms (wrk -t2 -c32 -d10s, same 2 cores)", *apiComments, reqs, lat)
}
