package postfixtest

import (
	"bufio"
	"fmt"
	"net"
	"regexp"
	"strings"
	"sync"
)

// policy is a Postfix SMTP access policy service (Postfix's
// SMTPD_POLICY_README protocol): smtpd asks it about every RCPT TO, and it
// answers with the reply a test set for that recipient, or DUNNO. Being
// asked live, it changes Postfix's answers at once, without a reload that
// would only reach new SMTP sessions.
type policy struct {
	ln net.Listener

	mu       sync.Mutex
	replies  map[string]string // lower-cased recipient, "" for all → action
	attempts map[string]int    // lower-cased recipient → RCPT commands seen
	conns    map[net.Conn]bool
	closed   bool
	wg       sync.WaitGroup
}

func startPolicy() (*policy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("policy listen: %w", err)
	}
	p := &policy{ln: ln, replies: map[string]string{}, attempts: map[string]int{}, conns: map[net.Conn]bool{}}
	p.wg.Add(1)
	go p.serve()
	return p, nil
}

func (p *policy) addr() string { return p.ln.Addr().String() }

func (p *policy) serve() {
	defer p.wg.Done()
	for {
		conn, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			conn.Close()
			return
		}
		p.conns[conn] = true
		p.mu.Unlock()
		p.wg.Add(1)
		go p.handle(conn)
	}
}

// handle answers one smtpd process's requests: name=value lines ended by
// an empty line, each answered by "action=…" and an empty line.
func (p *policy) handle(conn net.Conn) {
	defer p.wg.Done()
	defer func() {
		p.mu.Lock()
		delete(p.conns, conn)
		p.mu.Unlock()
		conn.Close()
	}()
	r := bufio.NewReader(conn)
	attrs := map[string]string{}
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		if line != "" {
			if k, v, ok := strings.Cut(line, "="); ok {
				attrs[k] = v
			}
			continue
		}
		action := p.decide(attrs)
		if _, err := fmt.Fprintf(conn, "action=%s\n\n", action); err != nil {
			return
		}
		attrs = map[string]string{}
	}
}

func (p *policy) decide(attrs map[string]string) string {
	if attrs["protocol_state"] != "RCPT" {
		return "DUNNO"
	}
	rcpt := strings.ToLower(attrs["recipient"])
	p.mu.Lock()
	defer p.mu.Unlock()
	p.attempts[rcpt]++
	if a, ok := p.replies[rcpt]; ok {
		return a
	}
	if a, ok := p.replies[""]; ok {
		return a
	}
	return "DUNNO"
}

// replyRe is what a test may make Postfix answer: an SMTP code, an
// enhanced status code of the same class, and a text.
var replyRe = regexp.MustCompile(`^([45])\d\d ([45])\.\d{1,3}\.\d{1,3} [^\r\n]+$`)

func (p *policy) set(rcpt, reply string) error {
	if reply != "" {
		m := replyRe.FindStringSubmatch(reply)
		if m == nil || m[1] != m[2] {
			return fmt.Errorf("reply %q: want e.g. \"450 4.2.1 mailbox busy\" or \"550 5.7.1 refused\"", reply)
		}
	}
	rcpt = strings.ToLower(rcpt)
	p.mu.Lock()
	defer p.mu.Unlock()
	if reply == "" {
		delete(p.replies, rcpt)
	} else {
		p.replies[rcpt] = reply
	}
	return nil
}

func (p *policy) count(rcpt string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.attempts[strings.ToLower(rcpt)]
}

func (p *policy) close() {
	p.mu.Lock()
	p.closed = true
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.ln.Close()
	p.wg.Wait()
}
