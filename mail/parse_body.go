package mail

// This file walks the MIME tree of a message for Parse: multiparts,
// attached messages and the leaf parts that become Text, HTML or
// Attachments.

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"path"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/textproto"
)

// entity reads one MIME entity whose header h has been read; body is the
// rest of it. path numbers the part as IMAP does ([] for the message
// itself); depth counts the containers around it. Parts inside an
// attached message (inner) are read for the limits' sake only.
func (w *walker) entity(h textproto.Header, body io.Reader, path []int, depth int, inner bool, defaultType string) error {
	label := partLabel(path)
	if depth > w.opts.MaxDepth {
		return &parseError{msg: fmt.Sprintf("MIME nesting deeper than %d", w.opts.MaxDepth), limit: true}
	}
	mediaType, params := w.contentType(h, label, defaultType)
	if len(path) == 0 && !inner {
		w.m.ContentType = mediaType
		if mediaType == "multipart/report" {
			w.m.ReportType = strings.ToLower(params["report-type"])
		}
	}
	switch {
	case strings.HasPrefix(mediaType, "multipart/"):
		return w.multipart(body, path, depth, inner, mediaType, params)
	case mediaType == "message/rfc822" || mediaType == "message/global":
		return w.attachedMessage(h, body, path, depth, inner, mediaType, params)
	default:
		return w.leaf(h, body, label, inner, mediaType, params)
	}
}

func partLabel(path []int) string {
	if len(path) == 0 {
		return "body"
	}
	var b strings.Builder
	b.WriteString("part ")
	for i, n := range path {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(strconv.Itoa(n))
	}
	return b.String()
}

// contentType reads the Content-Type field, leniently: go-message and
// mime.ParseMediaType drop a whole field over one bad parameter, which
// would lose a multipart's boundary.
func (w *walker) contentType(h textproto.Header, label, defaultType string) (string, map[string]string) {
	v := h.Get("Content-Type")
	if strings.TrimSpace(v) == "" {
		return defaultType, map[string]string{}
	}
	mediaType, params, ok := parseParams(v)
	if !validMediaType(mediaType) {
		w.warnf("%s: unreadable Content-Type %q, read as %s", label, clip(v, 60), defaultType)
		return defaultType, map[string]string{}
	}
	if !ok {
		w.warnf("%s: malformed Content-Type %q, read leniently", label, clip(v, 80))
	}
	return mediaType, params
}

// parseParams reads a "value; key=value; ..." field such as Content-Type.
// ok is false when the strict parser refused it and the lenient one,
// which keeps the first of repeated parameters and unbalanced quotes,
// was used.
func parseParams(v string) (value string, params map[string]string, ok bool) {
	value, params, err := mime.ParseMediaType(v)
	if err == nil {
		return strings.ToLower(value), params, true
	}
	parts := splitParams(v)
	value = strings.ToLower(strings.TrimSpace(parts[0]))
	params = make(map[string]string)
	for _, p := range parts[1:] {
		k, val, found := strings.Cut(p, "=")
		k = strings.ToLower(strings.TrimSpace(k))
		if !found || k == "" {
			continue
		}
		val = strings.TrimSpace(val)
		if len(val) >= 2 && val[0] == '"' && val[len(val)-1] == '"' {
			val = val[1 : len(val)-1]
			val = strings.NewReplacer(`\"`, `"`, `\\`, `\`).Replace(val)
		} else {
			val = strings.Trim(val, `"`)
		}
		if _, dup := params[k]; !dup {
			params[k] = val
		}
	}
	return value, params, false
}

// splitParams splits at semicolons outside quotes.
func splitParams(v string) []string {
	var (
		out     []string
		start   int
		inQuote bool
	)
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '\\':
			if inQuote {
				i++
			}
		case '"':
			inQuote = !inQuote
		case ';':
			if !inQuote {
				out = append(out, v[start:i])
				start = i + 1
			}
		}
	}
	return append(out, v[start:])
}

func validMediaType(t string) bool {
	typ, sub, ok := strings.Cut(t, "/")
	return ok && isToken(typ) && isToken(sub)
}

func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`()<>@,;:\"/[]?=`, c) >= 0 {
			return false
		}
	}
	return true
}

func (w *walker) multipart(body io.Reader, path []int, depth int, inner bool, mediaType string, params map[string]string) error {
	label := partLabel(path)
	boundary := params["boundary"]
	if boundary == "" {
		return malformed("%s: %s without boundary", label, mediaType)
	}
	childType := "text/plain"
	if mediaType == "multipart/digest" {
		childType = "message/rfc822"
	}
	mr := textproto.NewMultipartReader(body, boundary)
	for i := 1; ; i++ {
		child := append(path[:len(path):len(path)], i)
		p, err := mr.NextPart()
		if err == io.EOF {
			return nil
		}
		if err != nil && strings.Contains(err.Error(), "malformed MIME header") {
			return malformed("%s: %s", partLabel(child), clip(strings.TrimPrefix(err.Error(), "message: "), 120))
		}
		if err != nil {
			eof := strings.HasSuffix(err.Error(), "EOF")
			switch {
			case eof && w.truncated:
				return nil // missing closing boundary, already warned about
			case eof && i == 1:
				return malformed("%s: no part found for boundary %q", label, clip(boundary, 70))
			case eof:
				w.truncated = true
				w.warnf("%s: missing closing boundary, kept what was read", label)
				return nil
			}
			return malformed("%s: %s", label, clip(strings.TrimPrefix(err.Error(), "message: "), 120))
		}
		w.parts++
		if w.parts > w.opts.MaxParts {
			return &parseError{msg: fmt.Sprintf("more than %d parts", w.opts.MaxParts), limit: true}
		}
		pr := &partReader{r: p, w: w, label: partLabel(child)}
		if err := w.entity(p.Header, pr, child, depth+1, inner, childType); err != nil {
			return err
		}
	}
}

// partReader notices the end of input inside a part: the missing closing
// boundary that a message cut short, or written carelessly, has.
type partReader struct {
	r     io.Reader
	w     *walker
	label string
}

func (p *partReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if err == io.ErrUnexpectedEOF && !p.w.truncated {
		p.w.truncated = true
		p.w.warnf("%s: missing closing boundary, kept what was read", p.label)
	}
	return n, err
}

// attachedMessage reads a message/rfc822 part: it counts as one
// attachment, and its own parts count towards the limits. Problems inside
// it other than the limits are warnings: a bounce quoting a broken
// message is still a bounce.
func (w *walker) attachedMessage(h textproto.Header, body io.Reader, path []int, depth int, inner bool, mediaType string, params map[string]string) error {
	label := partLabel(path)
	enc := transferEncoding(h)
	dec, ok := transferDecoder(enc, body)
	if !ok {
		w.warnf("%s: unknown transfer encoding %s, attached message not read", label, clip(enc, 40))
	}
	cr := &countingReader{r: dec}
	if ok {
		br := bufio.NewReader(cr)
		ih, err := textproto.ReadHeader(br)
		switch {
		case err != nil && !w.truncated:
			w.warnf("%s: attached message: %s", label, clip(strings.TrimPrefix(err.Error(), "message: "), 100))
		case err == nil:
			w.returnedHeader(ih, inner)
			if err := w.entity(ih, br, path, depth+1, true, "text/plain"); err != nil {
				if isLimit(err) {
					return err
				}
				w.warnf("%s: attached message: %v", label, err)
			}
		}
		w.drain(br, label)
	} else {
		w.drain(cr, label)
	}
	if !inner {
		w.m.Attachments = append(w.m.Attachments, Attachment{
			Filename:    w.filename(h, params),
			ContentType: mediaType,
			Size:        cr.n,
		})
	}
	return nil
}

// leaf reads a part that is neither multipart nor an attached message.
func (w *walker) leaf(h textproto.Header, body io.Reader, label string, inner bool, mediaType string, params map[string]string) error {
	disp, _, _ := parseParams(h.Get("Content-Disposition"))
	filename := w.filename(h, params)
	attachment := disp == "attachment" || disp != "inline" && filename != ""
	isBody := !inner && !attachment &&
		(mediaType == "text/plain" && !w.haveText || mediaType == "text/html" && !w.haveHTML)

	enc := transferEncoding(h)
	dec, ok := transferDecoder(enc, body)
	if !ok {
		if isBody {
			return malformed("%s: unknown transfer encoding %s", label, clip(enc, 40))
		}
		w.warnf("%s: unknown transfer encoding %s, size counted undecoded", label, clip(enc, 40))
	}
	if !isBody && !inner && w.m.DeliveryStatus == "" &&
		(mediaType == "message/delivery-status" || mediaType == "message/global-delivery-status") {
		// Kept: it names the recipients whose delivery failed.
		b, _ := io.ReadAll(io.LimitReader(dec, 64<<10))
		n := int64(len(b)) + w.drain(dec, label)
		w.m.DeliveryStatus = string(b)
		w.m.Attachments = append(w.m.Attachments, Attachment{Filename: filename, ContentType: mediaType, Size: n})
		return nil
	}
	if !isBody && !inner && w.m.ContentType == "multipart/report" && w.m.ReturnedMessageID == "" &&
		(mediaType == "text/rfc822-headers" || mediaType == "message/global-headers") {
		// The returned message's header: its Message-ID says which
		// message the report is about.
		b, _ := io.ReadAll(io.LimitReader(dec, 64<<10))
		n := int64(len(b)) + w.drain(dec, label)
		if ih, err := textproto.ReadHeader(bufio.NewReader(io.MultiReader(bytes.NewReader(b), strings.NewReader("\r\n\r\n")))); err == nil {
			w.returnedHeader(ih, false)
		}
		w.m.Attachments = append(w.m.Attachments, Attachment{Filename: filename, ContentType: mediaType, Size: n})
		return nil
	}
	if !isBody {
		n := w.drain(dec, label)
		if !inner {
			w.m.Attachments = append(w.m.Attachments, Attachment{Filename: filename, ContentType: mediaType, Size: n})
		}
		return nil
	}

	text := w.readText(dec, body, label, params["charset"])
	if mediaType == "text/html" {
		w.m.HTML, w.haveHTML = text, true
		return nil
	}
	if strings.EqualFold(params["format"], "flowed") {
		text = unflow(text, strings.EqualFold(params["delsp"], "yes"))
	}
	w.m.Text, w.haveText = text, true
	return nil
}

// returnedHeader keeps the Message-ID of the message a delivery report
// (a top-level multipart/report) returns.
func (w *walker) returnedHeader(h textproto.Header, inner bool) {
	if inner || w.m.ContentType != "multipart/report" || w.m.ReturnedMessageID != "" {
		return
	}
	if ids := parseMsgIDs(h.Get("Message-Id")); len(ids) > 0 {
		w.m.ReturnedMessageID = ids[0]
	}
}

func (w *walker) filename(h textproto.Header, ctParams map[string]string) string {
	_, dp, _ := parseParams(h.Get("Content-Disposition"))
	name := dp["filename"]
	if name == "" {
		name = ctParams["name"]
	}
	if name == "" {
		return ""
	}
	name = w.dec.decode(name)
	// A name is a label, never a path to write to.
	name = path.Base(strings.ReplaceAll(name, `\`, "/"))
	if name == "." || name == "/" || name == ".." {
		return ""
	}
	return name
}

// readText reads a text body of at most MaxTextBytes, decoded to UTF-8
// with LF line ends, and drains the rest of raw.
func (w *walker) readText(dec, raw io.Reader, label, charset string) string {
	cs := strings.ToLower(strings.TrimSpace(charset))
	var (
		r       = dec
		unknown bool
	)
	switch cs {
	case "", "utf-8", "utf8", "us-ascii", "ascii":
	default:
		unknown = true
		if message.CharsetReader != nil {
			if cr, err := message.CharsetReader(cs, dec); err == nil && cr != nil {
				r, unknown = cr, false
			}
		}
	}
	limit := w.opts.MaxTextBytes
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	w.readErr(label, err)
	if int64(len(b)) > limit {
		b = b[:limit]
		// Do not leave half a character at the cut.
		for i := 0; i < utf8.UTFMax-1 && len(b) > 0; i++ {
			if r, size := utf8.DecodeLastRune(b); r != utf8.RuneError || size != 1 {
				break
			}
			b = b[:len(b)-1]
		}
		w.warnf("%s: text longer than %d bytes, the rest dropped", label, limit)
	}
	if err == nil {
		w.drain(raw, label)
	}
	s, latin1 := toUTF8(string(b))
	switch {
	case unknown && latin1:
		w.warnf("%s: unknown charset %q, read as Latin-1", label, clip(cs, 40))
	case unknown:
		w.warnf("%s: unknown charset %q, read as UTF-8", label, clip(cs, 40))
	case latin1:
		w.warnf("%s: text is not valid %s, read as Latin-1", label, orUTF8(cs))
	}
	return normalizeText(s)
}

func orUTF8(cs string) string {
	if cs == "" {
		return "UTF-8"
	}
	return cs
}

// drain reads r to its end and returns how many bytes it gave.
func (w *walker) drain(r io.Reader, label string) int64 {
	n, err := io.Copy(io.Discard, r)
	w.readErr(label, err)
	return n
}

// readErr turns an error met while decoding a part into a warning: the
// part keeps what was decoded before it.
func (w *walker) readErr(label string, err error) {
	if err == nil || errors.Is(err, io.ErrUnexpectedEOF) && w.truncated {
		return
	}
	w.warnf("%s: %s, kept what was read", label, clip(err.Error(), 80))
}

func transferEncoding(h textproto.Header) string {
	return strings.ToLower(strings.TrimSpace(h.Get("Content-Transfer-Encoding")))
}

// transferDecoder undoes a Content-Transfer-Encoding; ok is false for an
// encoding it does not know, and r is returned as it is.
func transferDecoder(enc string, r io.Reader) (_ io.Reader, ok bool) {
	switch enc {
	case "", "7bit", "8bit", "binary":
		return r, true
	case "quoted-printable":
		return quotedprintable.NewReader(r), true
	case "base64":
		return base64.NewDecoder(base64.StdEncoding, &blankStripper{r: r}), true
	}
	return r, false
}

// blankStripper drops spaces and tabs, which some senders indent base64
// lines with; the base64 decoder itself skips only CR and LF.
type blankStripper struct{ r io.Reader }

func (s *blankStripper) Read(p []byte) (int, error) {
	for {
		n, err := s.r.Read(p)
		j := 0
		for _, c := range p[:n] {
			if c != ' ' && c != '\t' {
				p[j] = c
				j++
			}
		}
		if j > 0 || err != nil || n == 0 {
			return j, err
		}
	}
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
