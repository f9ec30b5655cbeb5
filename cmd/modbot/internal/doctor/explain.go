package doctor

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"
)

// service names a server in the explanations: its config section and
// the ports it usually has.
type service struct {
	name      string // "IMAP", "SMTP"
	key       string // "imap", "smtp"
	addr      string
	security  string
	plainPort string // for none and starttls
	tlsPort   string // for tls
}

func (s service) host() string {
	h, _, err := net.SplitHostPort(s.addr)
	if err != nil {
		return s.addr
	}
	return h
}

func (s service) port() string {
	_, p, _ := net.SplitHostPort(s.addr)
	return p
}

// securityHint says which security setting the port suggests, when the
// configured one does not match it.
func (s service) securityHint() string {
	switch {
	case s.port() == s.tlsPort && s.security != "tls":
		return fmt.Sprintf(" Port %s is usually TLS from the first byte: try %s.security = \"tls\".", s.tlsPort, s.key)
	case s.port() != s.tlsPort && s.security == "tls":
		return fmt.Sprintf(" With %s.security = \"tls\" the port is usually %s; on port %s try \"starttls\".", s.key, s.tlsPort, s.port())
	}
	return ""
}

// explainConnect turns a failure to reach a server (dial, TLS, greeting)
// into what happened and what to do.
func explainConnect(s service, err error) (detail, fix string) {
	var dnsErr *net.DNSError
	var recErr tls.RecordHeaderError
	var unknownCA x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var invalid x509.CertificateInvalidError
	var netErr net.Error
	switch {
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return fmt.Sprintf("the host name %s does not exist in DNS", s.host()),
			fmt.Sprintf("check the host in %s.addr (%q). If this machine's DNS is private or it is offline, names outside it cannot be found here.", s.key, s.addr)
	case errors.As(err, &dnsErr):
		return fmt.Sprintf("could not look up %s: this machine's DNS did not answer", s.host()),
			"check this machine's network and /etc/resolv.conf, or put an IP address in " + s.key + ".addr"
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Sprintf("nothing accepts connections on %s", s.addr),
			fmt.Sprintf("is the %s server running, and is the port right? %s servers listen on %s (none, starttls) or %s (tls).", s.name, s.name, s.plainPort, s.tlsPort)
	case errors.Is(err, syscall.ENETUNREACH) || errors.Is(err, syscall.EHOSTUNREACH):
		return fmt.Sprintf("this machine has no route to %s", s.host()),
			"is this machine offline, or is the address in " + s.key + ".addr wrong?"
	case errors.As(err, &recErr):
		return fmt.Sprintf("%s did not answer with TLS: %s.security = %q, but the port speaks plain text", s.addr, s.key, s.security),
			fmt.Sprintf("use %s.security = \"starttls\" on this port, or the TLS port (%s) with \"tls\".", s.key, s.tlsPort)
	case errors.As(err, &unknownCA):
		return fmt.Sprintf("the certificate of %s is signed by an authority this machine does not trust (self-signed?)", s.host()),
			fmt.Sprintf("give the server a certificate from a public authority, or install its CA on this machine; only for a test on loopback, set %s.insecure_skip_verify = true", s.key)
	case errors.As(err, &hostErr):
		names := "no names"
		if hostErr.Certificate != nil && len(hostErr.Certificate.DNSNames) > 0 {
			names = strings.Join(hostErr.Certificate.DNSNames, ", ")
		}
		return fmt.Sprintf("the certificate of %s is for %s, not for %s", s.addr, names, s.host()),
			fmt.Sprintf("put a host name the certificate names in %s.addr", s.key)
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		return fmt.Sprintf("the certificate of %s has expired", s.host()), "the server's administrator must renew it"
	case errors.As(err, &invalid):
		return fmt.Sprintf("the certificate of %s is not valid here", s.host()), "check the server's certificate"
	case errors.Is(err, errNoStartTLS):
		return fmt.Sprintf("%s does not offer STARTTLS", s.addr),
			fmt.Sprintf("use the TLS port (%s) with %s.security = \"tls\", or ask the provider which port offers encryption.", s.tlsPort, s.key)
	case errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, &netErr) && netErr.Timeout():
		return fmt.Sprintf("no answer from %s in time", s.addr),
			"a firewall may be dropping the connection, or the server is overloaded." + s.securityHint()
	case errors.As(err, &netErr):
		return fmt.Sprintf("the connection to %s failed", s.addr), "check " + s.key + ".addr and the network." + s.securityHint()
	}
	return fmt.Sprintf("%s did not speak %s as expected", s.addr, s.name), "check " + s.key + ".addr and " + s.key + ".security." + s.securityHint()
}

// errNoStartTLS is a server that does not offer STARTTLS.
var errNoStartTLS = errors.New("the server does not offer STARTTLS")

// isLoopback reports whether host names this machine; only a literal
// address or "localhost" counts, as in package mail.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
