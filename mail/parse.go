package mail

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	netmail "net/mail"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-message/textproto"
)

// ParseOptions bounds the work Parse does on one message. A nil
// *ParseOptions means all defaults; a zero field means that field's
// default.
type ParseOptions struct {
	// MaxDepth is how deeply multiparts and attached messages may nest
	// (default 10).
	MaxDepth int
	// MaxParts is how many MIME parts a message may have in all, those
	// of attached messages included (default 100).
	MaxParts int
	// MaxTextBytes is how much of the text body, and of the HTML body,
	// is kept; the rest is read and dropped with a warning (default 1 MiB).
	MaxTextBytes int64
}

const (
	defaultMaxDepth     = 10
	defaultMaxParts     = 100
	defaultMaxTextBytes = 1 << 20
	maxHeaderBytes      = 1 << 20
	maxWarnings         = 32
)

func (o *ParseOptions) withDefaults() ParseOptions {
	var out ParseOptions
	if o != nil {
		out = *o
	}
	if out.MaxDepth <= 0 {
		out.MaxDepth = defaultMaxDepth
	}
	if out.MaxParts <= 0 {
		out.MaxParts = defaultMaxParts
	}
	if out.MaxTextBytes <= 0 {
		out.MaxTextBytes = defaultMaxTextBytes
	}
	return out
}

// ErrMalformed is wrapped by every error Parse returns because of what
// the message contains, as opposed to a failure to read it. Such a
// message is quarantined with the error's text as the reason.
var ErrMalformed = errors.New("mail: malformed message")

type parseError struct {
	msg   string
	limit bool // a MaxDepth or MaxParts limit; fatal even in attached messages
}

func (e *parseError) Error() string        { return e.msg }
func (e *parseError) Is(target error) bool { return target == ErrMalformed }

func malformed(format string, args ...any) error {
	return &parseError{msg: fmt.Sprintf(format, args...)}
}

func isLimit(err error) bool {
	var pe *parseError
	return errors.As(err, &pe) && pe.limit
}

// Parse reads one message: its header, its text and HTML bodies, and a
// list of its other parts, whose content it reads and drops.
//
// Problems a reader can live with (an unknown charset, raw 8-bit bytes in
// a header, a missing closing boundary, an unparsable address) become
// Message.Warnings. When the message cannot be read as mail, the error
// wraps ErrMalformed and says what is wrong, e.g. "part 3: unknown
// transfer encoding x-foo"; if the header was read, the Message returned
// with such an error holds what was read, for logging, and must not be
// classified. Any other error comes from reading r.
func Parse(r io.Reader, opts *ParseOptions) (*Message, error) {
	src := &sourceReader{r: r}
	hl := &headerLimit{r: src, n: maxHeaderBytes}
	br := bufio.NewReader(hl)
	skipMboxFrom(br)
	h, err := textproto.ReadHeader(br)
	if src.err != nil {
		return nil, fmt.Errorf("read message: %w", src.err)
	}
	if err != nil {
		if errors.Is(err, errHeaderTooBig) {
			return nil, malformed("parse header: header larger than %d bytes", maxHeaderBytes)
		}
		return nil, malformed("parse header: %s", clip(strings.TrimPrefix(err.Error(), "message: "), 120))
	}
	if h.Len() == 0 {
		return nil, malformed("parse header: no header fields")
	}
	hl.n = math.MaxInt64

	w := &walker{
		opts: opts.withDefaults(),
		m:    &Message{Header: make(map[string][]string, h.Len())},
		dec:  &headerDecoder{},
	}
	w.header(h)
	err = w.entity(h, br, nil, 0, false, "text/plain")
	if src.err != nil {
		return nil, fmt.Errorf("read message: %w", src.err)
	}
	if w.m.Text == "" && w.m.HTML != "" {
		w.m.Text = htmlToText(w.m.HTML)
		w.m.HTMLOnly = true
	}
	return w.m, err
}

// skipMboxFrom drops an mbox "From " separator line, which is not a
// header field, when a message saved from a Unix mailbox starts with one.
// "From :" is an (obsolete) header field and stays.
func skipMboxFrom(br *bufio.Reader) {
	b, _ := br.Peek(64)
	if !bytes.HasPrefix(b, []byte("From ")) {
		return
	}
	if rest := bytes.TrimLeft(b[len("From"):], " \t"); len(rest) == 0 || rest[0] == ':' {
		return
	}
	_, _ = br.ReadSlice('\n')
}

// walker carries the state of one Parse through the MIME tree.
type walker struct {
	opts  ParseOptions
	m     *Message
	dec   *headerDecoder
	parts int

	haveText, haveHTML bool
	// truncated is set when the input ended inside a multipart, i.e. a
	// closing boundary is missing: what follows is the end of the message.
	truncated bool
}

func (w *walker) warnf(format string, args ...any) {
	s := fmt.Sprintf(format, args...)
	for _, have := range w.m.Warnings {
		if have == s {
			return
		}
	}
	switch n := len(w.m.Warnings); {
	case n < maxWarnings:
		w.m.Warnings = append(w.m.Warnings, s)
	case n == maxWarnings:
		w.m.Warnings = append(w.m.Warnings, "more warnings left out")
	}
}

// header fills the Message from the top-level header.
func (w *walker) header(h textproto.Header) {
	m := w.m
	raw := make(map[string][]string, h.Len())
	for f := h.Fields(); f.Next(); {
		k, v := f.Key(), f.Value()
		if hasHighBytes(v) {
			fixed, latin1 := toUTF8(v)
			if latin1 {
				w.warnf("header %s: raw 8-bit bytes, read as Latin-1", k)
			} else {
				w.warnf("header %s: raw 8-bit bytes, read as UTF-8", k)
			}
			v = fixed
		}
		raw[k] = append(raw[k], v)
		m.Header[k] = append(m.Header[k], w.dec.decode(v))
	}
	first := func(k string) string {
		if v := raw[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}

	if ids := parseMsgIDs(first("Message-Id")); len(ids) > 0 {
		m.MessageID = ids[0]
	}
	m.From = w.single("From", raw["From"])
	m.FromCount = max(len(raw["From"]), len(w.list("From", raw["From"])))
	m.Sender = w.single("Sender", raw["Sender"])
	m.ReplyTo = w.list("Reply-To", raw["Reply-To"])
	m.To = w.list("To", raw["To"])
	m.Cc = w.list("Cc", raw["Cc"])
	for _, k := range []string{"Delivered-To", "X-Original-To"} {
		for _, v := range m.Header[k] {
			v = strings.ToLower(strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(v), "<"), ">")))
			if v != "" && !slices.Contains(m.DeliveredTo, v) {
				m.DeliveredTo = append(m.DeliveredTo, v)
			}
		}
	}
	if v := m.Header["Subject"]; len(v) > 0 {
		m.Subject = v[0]
	}
	if v := first("Date"); v != "" {
		d, err := netmail.ParseDate(v)
		if err != nil {
			w.warnf("header Date: cannot read %q", clip(v, 60))
		} else {
			m.Date = d
		}
	}
	m.InReplyTo = newest(parseMsgIDs(first("In-Reply-To")), maxThreadIDs)
	m.References = newest(parseMsgIDs(first("References")), maxThreadIDs)

	for _, cs := range w.dec.unknown {
		w.warnf("header: unknown charset %q, bytes kept undecoded", clip(cs, 40))
	}
}

// single reads a field that holds one address (From, Sender).
func (w *walker) single(key string, values []string) *Address {
	if len(values) == 0 {
		return nil
	}
	if len(values) > 1 {
		w.warnf("header %s: %d fields, the first is used", key, len(values))
	}
	list := w.list(key, values[:1])
	if len(list) == 0 {
		return nil
	}
	if len(list) > 1 {
		w.warnf("header %s: %d addresses, the first is used", key, len(list))
	}
	return &list[0]
}

func (w *walker) list(key string, values []string) []Address {
	var out []Address
	for _, v := range values {
		l, err := parseAddressList(v, w.dec)
		if err != nil {
			w.warnf("header %s: %v", key, err)
		}
		out = append(out, l...)
	}
	return out
}

// sourceReader remembers a failure of the underlying reader, which the
// MIME readers report only as text.
type sourceReader struct {
	r   io.Reader
	err error
}

func (s *sourceReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err != nil && err != io.EOF && s.err == nil {
		s.err = err
	}
	return n, err
}

var errHeaderTooBig = errors.New("header too big")

type headerLimit struct {
	r io.Reader
	n int64
}

func (l *headerLimit) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, errHeaderTooBig
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	return n, err
}

func hasHighBytes(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return true
		}
	}
	return false
}

// maxThreadIDs bounds the message IDs kept of In-Reply-To and References.
// Each may be looked up in the store (which notice a reply answers), and
// a sender chooses how many they write: a thread's newest IDs, at the
// end, are the ones that name what the mail answers.
const maxThreadIDs = 32

// newest returns the last n of ids.
func newest(ids []string, n int) []string {
	if len(ids) > n {
		return ids[len(ids)-n:]
	}
	return ids
}
