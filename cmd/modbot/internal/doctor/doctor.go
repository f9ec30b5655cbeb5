// Package doctor checks a modbot configuration against the real world:
// the mail servers (connection, encryption, login, the mailbox, the
// Modbot/ folders, the IMAP features modbot relies on), delivery to a
// plus address from the SMTP server into the inbox, and the site's name
// in DNS. Each failure is explained in plain words with what to do.
//
// It changes nothing a person would notice: it creates the Modbot/
// folders if they are missing (as modbot would on its first filing) and
// deletes the one test message it sent, by UID, and nothing else.
package doctor

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"modbot/cmd/modbot/internal/config"
)

// Status is how a check went.
type Status int

// Check outcomes.
const (
	OK   Status = iota
	Warn        // works, with a limitation worth knowing
	Fail        // modbot will not work like this
	Skip        // not tried: an earlier check it needs failed
)

// String is the status as Format shows it; a failure shouts.
func (s Status) String() string {
	switch s {
	case OK:
		return "ok"
	case Warn:
		return "warn"
	case Fail:
		return "FAIL"
	default:
		return "skip"
	}
}

// Result is one check's outcome, in words for the person running it.
type Result struct {
	Check  string // what was checked, e.g. "IMAP login"
	Status Status
	Detail string // what was found, or what is wrong
	Fix    string // what to do about it (Warn, Fail)
	Err    error  // the error underneath, shown as what the server or system said
}

// Resolver looks up host names; *net.Resolver is one.
type Resolver interface {
	LookupHost(ctx context.Context, host string) ([]string, error)
}

// Options tune Run; the zero value is usable.
type Options struct {
	// DeliveryWait is how long the test message may take to arrive in
	// the inbox. Default 60s.
	DeliveryWait time.Duration
	// Timeout bounds each network step (connect, a command). Default 20s.
	Timeout time.Duration
	// Resolver looks up the site's host; default net.DefaultResolver.
	Resolver Resolver
	// Token makes the test message's plus address, moderator+doctor-<token>@;
	// default random.
	Token string
	// Report, when set, hears each result as soon as it is known, so a
	// person sees progress during the delivery wait.
	Report func(Result)
	// Waiting, when set, is told before the wait for the test message.
	Waiting func(addr string, d time.Duration)
}

// Folders modbot files into; the doctor makes sure they exist.
var Folders = []string{"Modbot/Submissions", "Modbot/Replies", "Modbot/Feedback", "Modbot/Ignored", "Modbot/Quarantine"}

// Run runs every check on cfg and returns the results in order.
func Run(ctx context.Context, cfg *config.Config, opts Options) []Result {
	if opts.DeliveryWait <= 0 {
		opts.DeliveryWait = 60 * time.Second
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 20 * time.Second
	}
	if opts.Resolver == nil {
		opts.Resolver = net.DefaultResolver
	}
	if opts.Token == "" {
		var b [6]byte
		rand.Read(b[:])
		opts.Token = hex.EncodeToString(b[:])
	}
	r := &run{ctx: ctx, cfg: cfg, opts: opts}
	r.site()
	imapOK := r.imap()
	sent := r.smtp(imapOK)
	r.delivery(imapOK, sent)
	return r.results
}

// Failed counts the failed checks.
func Failed(rs []Result) int {
	n := 0
	for _, r := range rs {
		if r.Status == Fail {
			n++
		}
	}
	return n
}

type run struct {
	ctx     context.Context
	cfg     *config.Config
	opts    Options
	results []Result

	uidPlus bool   // the server has UIDPLUS (from the IMAP checks)
	delim   rune   // hierarchy delimiter
	prefix  string // personal namespace prefix
}

func (r *run) add(res Result) {
	r.results = append(r.results, res)
	if r.opts.Report != nil {
		r.opts.Report(res)
	}
}

func (r *run) skip(check, why string) {
	r.add(Result{Check: check, Status: Skip, Detail: why})
}

// testAddress is the plus address the test message goes to.
func (r *run) testAddress() string {
	local, domain, _ := strings.Cut(r.cfg.Site.Address, "@")
	return local + "+doctor-" + r.opts.Token + "@" + domain
}

// checkWidth aligns the details in Format's output.
const checkWidth = 15

// Format writes a result for a person: status, check and detail on one
// line, then what the server said and the fix, indented.
func Format(w io.Writer, res Result) {
	fmt.Fprintf(w, "%-4s  %-*s %s\n", res.Status, checkWidth, res.Check, res.Detail)
	indent := strings.Repeat(" ", 6+checkWidth+1)
	if res.Err != nil && res.Status != OK {
		fmt.Fprintf(w, "%ssaid: %s\n", indent, oneLine(res.Err.Error()))
	}
	if res.Fix != "" {
		fmt.Fprintf(w, "%sfix:  %s\n", indent, res.Fix)
	}
}

// Summary is the last line: how many checks passed, warned and failed.
func Summary(rs []Result) string {
	var n [4]int
	for _, r := range rs {
		n[r.Status]++
	}
	s := fmt.Sprintf("%d checks: %d ok", len(rs), n[OK])
	if n[Warn] > 0 {
		s += fmt.Sprintf(", %d with a warning", n[Warn])
	}
	if n[Fail] > 0 {
		s += fmt.Sprintf(", %d FAILED", n[Fail])
	}
	if n[Skip] > 0 {
		s += fmt.Sprintf(", %d skipped", n[Skip])
	}
	return s
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
