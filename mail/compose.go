package mail

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"mime"
	"mime/quotedprintable"
	netmail "net/mail"
	"path"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// Outgoing is a message modbot sends: a digest, a confirmation, a
// notification. Its text comes from templates; this type only makes it
// into RFC 5322 bytes.
type Outgoing struct {
	From    Address
	To      []Address
	Cc      []Address
	ReplyTo []Address
	Subject string
	// MessageID is without angle brackets. The outbox sets it so that a
	// retry sends the same message; Bytes makes one when it is empty.
	MessageID  string
	InReplyTo  string   // without angle brackets
	References []string // without angle brackets
	Date       time.Time
	// AutoSubmitted is the Auto-Submitted value (RFC 3834);
	// "auto-generated" when empty. The field is always written, so that
	// nobody's autoresponder answers modbot.
	AutoSubmitted string
	// Headers are extra fields, e.g. List-Id or X-Modbot-Digest. They
	// cannot replace a field Outgoing writes itself. A value is written
	// as unstructured text: line breaks become spaces, and a value that
	// is not ASCII is RFC 2047-encoded as a whole, so structured values
	// (List-Id's <id>, List-Unsubscribe's URLs) must be ASCII.
	Headers map[string]string
	Text    string
	HTML    string // when set, the message is multipart/alternative
	// Inline are images the HTML refers to as "cid:<ContentID>". With
	// them the HTML alternative becomes multipart/related: the HTML
	// first, then each part in base64. They need HTML.
	Inline []InlinePart
}

// InlinePart is a file shown inside the HTML part, such as a chart.
type InlinePart struct {
	ContentID   string // without angle brackets: chart.1@forum.example
	ContentType string // image/png
	Filename    string // a name for clients that save it; may be ""
	Data        []byte
}

const (
	foldAt       = 78
	maxNameBytes = 200
	maxTextBytes = 900 // of a subject or an extra field's value
)

// fieldsOwned are the fields Bytes writes from Outgoing's own fields.
var fieldsOwned = map[string]bool{
	"Date": true, "From": true, "Sender": true, "To": true, "Cc": true, "Bcc": true,
	"Reply-To": true, "Subject": true, "Message-Id": true, "In-Reply-To": true,
	"References": true, "Auto-Submitted": true, "Mime-Version": true,
	"Content-Type": true, "Content-Transfer-Encoding": true, "Content-Disposition": true,
}

// Bytes returns the message in RFC 5322 form with CRLF line ends. Names,
// the subject and extra field values lose any CR, LF or other control
// character, so no input can add a header field; an address that is not
// a plain local@domain is an error.
func (o *Outgoing) Bytes() ([]byte, error) {
	if err := checkAddr(o.From.Addr); err != nil {
		return nil, fmt.Errorf("compose: From: %w", err)
	}
	if len(o.To)+len(o.Cc) == 0 {
		return nil, fmt.Errorf("compose: no recipients")
	}
	for _, l := range []struct {
		key   string
		addrs []Address
	}{{"To", o.To}, {"Cc", o.Cc}, {"Reply-To", o.ReplyTo}} {
		for _, a := range l.addrs {
			if err := checkAddr(a.Addr); err != nil {
				return nil, fmt.Errorf("compose: %s: %w", l.key, err)
			}
		}
	}
	if err := o.checkInline(); err != nil {
		return nil, err
	}
	msgID := trimBrackets(o.MessageID)
	if msgID == "" {
		_, domain, _ := splitAddr(o.From.Addr)
		msgID = NewMessageID("msg", domain)
	} else if !validMsgID(msgID) {
		return nil, fmt.Errorf("compose: invalid Message-ID %q", clip(msgID, 80))
	}
	keys := make([]string, 0, len(o.Headers))
	for k := range o.Headers {
		if !isFieldName(k) {
			return nil, fmt.Errorf("compose: invalid header field name %q", clip(k, 40))
		}
		if fieldsOwned[canonicalKey(k)] {
			return nil, fmt.Errorf("compose: header field %s is set from Outgoing's fields", k)
		}
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return canonicalKey(keys[i]) < canonicalKey(keys[j]) })

	date := o.Date
	if date.IsZero() {
		date = time.Now()
	}
	var b bytes.Buffer
	writeField(&b, "Date", date.Format(time.RFC1123Z))
	writeField(&b, "From", formatAddress(o.From))
	writeAddressField(&b, "To", o.To)
	writeAddressField(&b, "Cc", o.Cc)
	writeAddressField(&b, "Reply-To", o.ReplyTo)
	if s := encodeText(o.Subject); s != "" {
		writeField(&b, "Subject", s)
	}
	writeField(&b, "Message-ID", "<"+msgID+">")
	if id := trimBrackets(o.InReplyTo); validMsgID(id) {
		writeField(&b, "In-Reply-To", "<"+id+">")
	}
	var refs []string
	for _, id := range o.References {
		// References often come from inbound mail: drop one that could
		// not be written back rather than fail a notification over it.
		if id = trimBrackets(id); validMsgID(id) {
			refs = append(refs, "<"+id+">")
		}
	}
	if len(refs) > 0 {
		writeField(&b, "References", strings.Join(refs, " "))
	}
	auto := strings.Join(strings.Fields(cleanText(strings.ToValidUTF8(o.AutoSubmitted, ""))), " ")
	if auto == "" || hasHighBytes(auto) {
		auto = "auto-generated"
	}
	writeField(&b, "Auto-Submitted", auto)
	for _, k := range keys {
		writeField(&b, canonicalKey(k), encodeText(o.Headers[k]))
	}
	writeField(&b, "MIME-Version", "1.0")

	text := outText(o.Text)
	if o.HTML == "" {
		writeField(&b, "Content-Type", "text/plain; charset=utf-8")
		writeField(&b, "Content-Transfer-Encoding", "quoted-printable")
		b.WriteString("\r\n")
		writeQP(&b, text)
		return b.Bytes(), nil
	}
	html := outText(o.HTML)
	// A boundary with "=_" never occurs in quoted-printable text or in
	// base64; deriving it from the content keeps the bytes the same on
	// every retry.
	h := sha256.New()
	h.Write([]byte(msgID + "\x00" + text + "\x00" + html))
	for _, p := range o.Inline {
		h.Write([]byte("\x00" + p.ContentID + "\x00"))
		h.Write(p.Data)
	}
	sum := h.Sum(nil)
	boundary := "=_modbot_" + hex.EncodeToString(sum[:12])
	writeField(&b, "Content-Type", `multipart/alternative; boundary="`+boundary+`"`)
	b.WriteString("\r\n")
	b.WriteString("--" + boundary + "\r\n")
	writeTextPart(&b, "text/plain", text)
	b.WriteString("--" + boundary + "\r\n")
	if len(o.Inline) == 0 {
		writeTextPart(&b, "text/html", html)
	} else {
		related := "=_modbot_rel_" + hex.EncodeToString(sum[12:24])
		writeField(&b, "Content-Type", `multipart/related; boundary="`+related+`"; type="text/html"`)
		b.WriteString("\r\n")
		b.WriteString("--" + related + "\r\n")
		writeTextPart(&b, "text/html", html)
		for _, p := range o.Inline {
			b.WriteString("--" + related + "\r\n")
			writeInlinePart(&b, p)
		}
		b.WriteString("--" + related + "--\r\n")
	}
	b.WriteString("--" + boundary + "--\r\n")
	return b.Bytes(), nil
}

// checkInline checks the inline parts: they need an HTML part to refer
// to them, and a Content-ID and type that can be written as they are.
func (o *Outgoing) checkInline() error {
	if len(o.Inline) > 0 && o.HTML == "" {
		return fmt.Errorf("compose: inline parts without an HTML part")
	}
	seen := make(map[string]bool)
	for _, p := range o.Inline {
		id := trimBrackets(p.ContentID)
		if !validMsgID(id) {
			return fmt.Errorf("compose: inline part: invalid Content-ID %q", clip(p.ContentID, 80))
		}
		if seen[id] {
			return fmt.Errorf("compose: inline part: Content-ID %s used twice", id)
		}
		seen[id] = true
		if t := strings.ToLower(p.ContentType); !validMediaType(t) || strings.HasPrefix(t, "multipart/") || strings.HasPrefix(t, "message/") {
			return fmt.Errorf("compose: inline part %s: invalid Content-Type %q", id, clip(p.ContentType, 40))
		}
	}
	return nil
}

// writeTextPart writes the header and body of one text part, ending in
// CRLF before the next boundary.
func writeTextPart(b *bytes.Buffer, typ, body string) {
	writeField(b, "Content-Type", typ+"; charset=utf-8")
	writeField(b, "Content-Transfer-Encoding", "quoted-printable")
	b.WriteString("\r\n")
	writeQP(b, body)
	b.WriteString("\r\n")
}

// writeInlinePart writes p in base64, in lines of 76 characters.
func writeInlinePart(b *bytes.Buffer, p InlinePart) {
	typ := strings.ToLower(p.ContentType)
	disp := "inline"
	// The name is a label for a client that saves the file: one line,
	// no path; FormatMediaType encodes (RFC 2231) or refuses the rest.
	name := path.Base(strings.ReplaceAll(truncateUTF8(cleanText(strings.ToValidUTF8(p.Filename, "")), maxNameBytes), `\`, "/"))
	if name != "" && name != "." && name != "/" && name != ".." {
		if v := mime.FormatMediaType(typ, map[string]string{"name": name}); v != "" {
			typ = v
		}
		if v := mime.FormatMediaType("inline", map[string]string{"filename": name}); v != "" {
			disp = v
		}
	}
	writeField(b, "Content-Type", typ)
	writeField(b, "Content-Transfer-Encoding", "base64")
	writeField(b, "Content-ID", "<"+trimBrackets(p.ContentID)+">")
	writeField(b, "Content-Disposition", disp)
	b.WriteString("\r\n")
	enc := base64.StdEncoding.EncodeToString(p.Data)
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n")
}

// Recipients returns the envelope recipients: the To and Cc addresses,
// each once.
func (o *Outgoing) Recipients() []string {
	var out []string
	seen := make(map[string]bool)
	for _, l := range [][]Address{o.To, o.Cc} {
		for _, a := range l {
			if k := strings.ToLower(a.Addr); !seen[k] {
				seen[k] = true
				out = append(out, a.Addr)
			}
		}
	}
	return out
}

func formatAddress(a Address) string {
	name := truncateUTF8(cleanText(strings.ToValidUTF8(a.Name, "\uFFFD")), maxNameBytes)
	if name == "" {
		return a.Addr
	}
	return (&netmail.Address{Name: name, Address: a.Addr}).String()
}

func writeAddressField(b *bytes.Buffer, key string, addrs []Address) {
	if len(addrs) == 0 {
		return
	}
	list := make([]string, len(addrs))
	for i, a := range addrs {
		list[i] = formatAddress(a)
	}
	writeField(b, key, strings.Join(list, ", "))
}

// encodeText makes an unstructured field value: one line, at most
// maxTextBytes, RFC 2047-encoded when it is not ASCII.
func encodeText(s string) string {
	s = truncateUTF8(cleanText(strings.ToValidUTF8(s, "\uFFFD")), maxTextBytes)
	if hasHighBytes(s) {
		return mime.QEncoding.Encode("utf-8", s)
	}
	return s
}

// writeField writes "Key: value" folded at spaces, so that lines stay
// near 78 characters. value holds no CR or LF (see cleanText); folding
// only inserts CRLF before an existing space.
func writeField(b *bytes.Buffer, key, value string) {
	b.WriteString(key)
	b.WriteByte(':')
	col := len(key) + 1
	for _, word := range strings.Split(value, " ") {
		if word != "" && col > len(key)+1 && col+1+len(word) > foldAt {
			b.WriteString("\r\n")
			col = 0
		}
		b.WriteByte(' ')
		b.WriteString(word)
		col += 1 + len(word)
	}
	b.WriteString("\r\n")
}

func writeQP(b *bytes.Buffer, s string) {
	w := quotedprintable.NewWriter(b)
	// Writes to a bytes.Buffer do not fail.
	_, _ = w.Write([]byte(s))
	_ = w.Close()
}

// outText is a body made ready for quoted-printable: valid UTF-8, LF line
// ends (the encoder writes CRLF), ending in a line end.
func outText(s string) string {
	s = normalizeText(strings.ToValidUTF8(s, "\uFFFD"))
	if s != "" && !strings.HasSuffix(s, "\n") {
		s += "\n"
	}
	return s
}

func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return strings.TrimSpace(s[:n])
}

func trimBrackets(id string) string {
	return strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(id), "<"), ">")
}

// validMsgID reports whether id can be written between angle brackets:
// printable ASCII without spaces or brackets, with an "@".
func validMsgID(id string) bool {
	if id == "" || len(id) > 250 || !strings.Contains(id, "@") {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c <= ' ' || c >= 0x7f || c == '<' || c == '>' {
			return false
		}
	}
	return true
}

func isFieldName(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		if c := k[i]; c <= ' ' || c >= 0x7f || c == ':' {
			return false
		}
	}
	return true
}
