package postfixtest

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strings"
	"text/template"
)

// config is what main.cf and master.cf are made from.
type config struct {
	Dir        string // holds everything below; maillog_file must be under it
	QueueDir   string
	DataDir    string
	MailLog    string
	SMTPPort   int
	LMTPAddr   string // host:port
	PolicyAddr string
	Domains    []string
	Mailboxes  string // texthash file of accepted addresses
	Aliases    string // texthash file of catch-all rewrites
	SizeLimit  int64  // message_size_limit
}

// mainTemplate is for Postfix 3.x (Debian 12 has 3.7). Only the test
// domains are accepted, everything goes to one LMTP server, and the timers
// that make a production MTA patient are short: a test waits seconds, not
// minutes, for a deferred message's next try.
var mainTemplate = template.Must(template.New("main.cf").Parse(`# Written by postfixtest for one test run.
compatibility_level = 3.6
queue_directory = {{.QueueDir}}
data_directory = {{.DataDir}}
maillog_file = {{.MailLog}}
maillog_file_prefixes = {{.Dir}}

myhostname = mta.postfixtest.localhost
mydomain = postfixtest.localhost
myorigin = $myhostname
mydestination =
local_recipient_maps =
local_transport = error:5.1.1 postfixtest delivers no local mail
alias_maps =
alias_database =
biff = no
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_peername_lookup = no
recipient_delimiter = +
message_size_limit = {{.SizeLimit}}
smtpd_tls_security_level = none
smtp_tls_security_level = none
lmtp_tls_security_level = none

# The test domains only, and nothing relayed: an address anywhere else is
# refused at RCPT ("Relay access denied"), even from loopback. Then the
# policy service, through which a test makes recipients fail.
virtual_mailbox_domains = {{range $i, $d := .Domains}}{{if $i}} {{end}}{{$d}}{{end}}
virtual_mailbox_maps = texthash:{{.Mailboxes}}
virtual_alias_maps = texthash:{{.Aliases}}
virtual_transport = lmtp:inet:{{.LMTPAddr}}
default_transport = error:5.7.1 postfixtest relays nowhere
relay_transport = error:5.7.1 postfixtest relays nowhere
smtpd_relay_restrictions = reject_unauth_destination
smtpd_recipient_restrictions = check_policy_service inet:{{.PolicyAddr}}
smtpd_policy_service_default_action = 451 4.3.5 postfixtest policy service unavailable

# A test sends fast, fails on purpose and waits on retries.
in_flow_delay = 0
smtpd_error_sleep_time = 0
smtpd_soft_error_limit = 1000
smtpd_hard_error_limit = 1000
smtpd_client_connection_count_limit = 0
smtpd_client_connection_rate_limit = 0
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
delay_warning_time = 0
`))

// masterTemplate runs only the services a loopback relay to LMTP needs;
// nothing is chrooted.
var masterTemplate = template.Must(template.New("master.cf").Parse(`# Written by postfixtest for one test run.
# service  type  private unpriv  chroot  wakeup  maxproc command
127.0.0.1:{{.SMTPPort}} inet n - n - - smtpd
pickup     unix  n       -       n       60      1       pickup
cleanup    unix  n       -       n       -       0       cleanup
qmgr       unix  n       -       n       300     1       qmgr
rewrite    unix  -       -       n       -       -       trivial-rewrite
bounce     unix  -       -       n       -       0       bounce
defer      unix  -       -       n       -       0       bounce
trace      unix  -       -       n       -       0       bounce
verify     unix  -       -       n       -       1       verify
flush      unix  n       -       n       1000?   0       flush
proxymap   unix  -       -       n       -       -       proxymap
proxywrite unix  -       -       n       -       1       proxymap
smtp       unix  -       -       n       -       -       smtp
relay      unix  -       -       n       -       -       smtp
showq      unix  n       -       n       -       -       showq
error      unix  -       -       n       -       -       error
retry      unix  -       -       n       -       -       error
discard    unix  -       -       n       -       -       discard
lmtp       unix  -       -       n       -       -       lmtp
anvil      unix  -       -       n       -       1       anvil
scache     unix  -       -       n       -       1       scache
postlog    unix-dgram n  -       n       -       1       postlogd
`))

func (c config) render() (mainCF, masterCF []byte, err error) {
	var m, ms bytes.Buffer
	if err := mainTemplate.Execute(&m, c); err != nil {
		return nil, nil, fmt.Errorf("render main.cf: %w", err)
	}
	if err := masterTemplate.Execute(&ms, c); err != nil {
		return nil, nil, fmt.Errorf("render master.cf: %w", err)
	}
	return m.Bytes(), ms.Bytes(), nil
}

// mailboxesFile lists the accepted addresses, one "address OK" a line.
func mailboxesFile(users []string) []byte {
	var b strings.Builder
	for _, u := range users {
		fmt.Fprintf(&b, "%s OK\n", u)
	}
	return []byte(b.String())
}

// aliasesFile maps every other address of a catch-all domain to its
// catch-all user; the users map to themselves first, or the catch-all
// would take their mail too.
func aliasesFile(users []string, catchAll map[string]string) []byte {
	var b strings.Builder
	if len(catchAll) == 0 {
		return nil
	}
	for _, u := range users {
		fmt.Fprintf(&b, "%s %s\n", u, u)
	}
	for _, d := range slices.Sorted(maps.Keys(catchAll)) {
		fmt.Fprintf(&b, "@%s %s\n", d, catchAll[d])
	}
	return []byte(b.String())
}

// domainsOf returns the domains of users and the catch-all domains,
// sorted, without repeats.
func domainsOf(users []string, catchAll map[string]string) []string {
	var ds []string
	for _, u := range users {
		if i := strings.LastIndexByte(u, '@'); i >= 0 {
			ds = append(ds, u[i+1:])
		}
	}
	for d := range catchAll {
		ds = append(ds, d)
	}
	slices.Sort(ds)
	return slices.Compact(ds)
}
