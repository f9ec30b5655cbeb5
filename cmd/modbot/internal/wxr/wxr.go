// Package wxr brings a WordPress site's comments into modbot. It reads
// WordPress's export file (WXR: RSS 2.0 with the wp: elements of export
// versions 1.0 to 1.2) — the site, its posts and each post's comments
// with their threading, authors and dates — and turns it into what the
// published store imports: approved comments only, as plain text, under
// slugs modbot accepts, without email addresses.
package wxr

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"golang.org/x/net/html/charset"
)

// Export is a whole WXR file.
type Export struct {
	Title       string // the site's name
	Link        string // the site's address
	BaseSiteURL string // wp:base_site_url, the site's own address for its ids
	Items       []Item
}

// Item is a post, page or other content item.
type Item struct {
	Title    string
	Link     string
	PostID   string // wp:post_id
	PostName string // wp:post_name: the slug, percent-encoded when not ASCII
	PostType string // post, page, attachment, ...
	Status   string // publish, draft, ...
	Comments []Comment
}

// Comment is one wp:comment.
type Comment struct {
	ID          string // wp:comment_id, unique in the site
	Parent      string // wp:comment_parent; "" or "0" for none
	Author      string
	AuthorEmail string
	AuthorURL   string
	// Date is comment_date_gmt, or, where that is missing or zero (old
	// exports), comment_date read as UTC; DateLocal says so.
	Date      time.Time
	DateLocal bool
	Content   string // as WordPress stores it: text with some HTML
	Approved  string // "1", "0" (pending), "spam", "trash", "post-trashed"
	Type      string // "", "comment", "pingback", "trackback", ...
}

// IsApproved reports whether WordPress shows the comment.
func (c *Comment) IsApproved() bool {
	return c.Approved == "1" || strings.EqualFold(c.Approved, "approve")
}

// IsPing reports whether the comment is a pingback or trackback, which
// is a site's notice, not a person's comment.
func (c *Comment) IsPing() bool { return c.Type == "pingback" || c.Type == "trackback" }

// HasParent reports whether the comment answers another.
func (c *Comment) HasParent() bool { return c.Parent != "" && c.Parent != "0" }

// dateLayout is how WordPress writes dates: MySQL DATETIME.
const dateLayout = "2006-01-02 15:04:05"

// Parse reads a WXR file. The file may be in any encoding its XML
// declaration names; HTML entities such as &nbsp; are understood.
func Parse(r io.Reader) (*Export, error) {
	d := xml.NewDecoder(r)
	d.CharsetReader = charset.NewReaderLabel
	d.Entity = xml.HTMLEntity
	exp := &Export{}
	var stack []string
	sawRSS := false
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("wxr: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			name := t.Name.Local
			if len(stack) == 0 {
				if name != "rss" {
					return nil, fmt.Errorf("wxr: the file is <%s>, not a WordPress export (<rss>)", name)
				}
				sawRSS = true
			}
			if name == "item" {
				it, err := decodeItem(d)
				if err != nil {
					return nil, fmt.Errorf("wxr: item %d: %w", len(exp.Items)+1, err)
				}
				exp.Items = append(exp.Items, it)
				continue
			}
			if len(stack) == 2 && stack[1] == "channel" {
				var dst *string
				switch name {
				case "title":
					dst = &exp.Title
				case "link":
					dst = &exp.Link
				case "base_site_url":
					dst = &exp.BaseSiteURL
				}
				if dst != nil {
					if err := decodeText(d, &t, dst); err != nil {
						return nil, fmt.Errorf("wxr: channel %s: %w", name, err)
					}
					continue
				}
			}
			stack = append(stack, name)
		case xml.EndElement:
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		}
	}
	if !sawRSS {
		return nil, errors.New("wxr: the file is empty or not XML")
	}
	return exp, nil
}

func decodeText(d *xml.Decoder, start *xml.StartElement, dst *string) error {
	var s string
	if err := d.DecodeElement(&s, start); err != nil {
		return err
	}
	*dst = strings.TrimSpace(s)
	return nil
}

// decodeItem reads an <item> by the local names of its children, so that
// every WXR version's namespace is read alike.
func decodeItem(d *xml.Decoder) (Item, error) {
	var it Item
	err := eachChild(d, func(t *xml.StartElement) error {
		var dst *string
		switch t.Name.Local {
		case "title":
			dst = &it.Title
		case "link":
			dst = &it.Link
		case "post_id":
			dst = &it.PostID
		case "post_name":
			dst = &it.PostName
		case "post_type":
			dst = &it.PostType
		case "status":
			dst = &it.Status
		case "comment":
			c, err := decodeComment(d)
			if err != nil {
				return fmt.Errorf("comment %d: %w", len(it.Comments)+1, err)
			}
			it.Comments = append(it.Comments, c)
			return nil
		default:
			return d.Skip()
		}
		return decodeText(d, t, dst)
	})
	return it, err
}

// decodeComment reads a <wp:comment>. Names are matched without regard
// to case: WordPress writes comment_id, its database says comment_ID,
// and hand-made exports use either.
func decodeComment(d *xml.Decoder) (Comment, error) {
	var c Comment
	var date, dateGMT string
	err := eachChild(d, func(t *xml.StartElement) error {
		var dst *string
		switch strings.ToLower(t.Name.Local) {
		case "comment_id":
			dst = &c.ID
		case "comment_parent":
			dst = &c.Parent
		case "comment_author":
			dst = &c.Author
		case "comment_author_email":
			dst = &c.AuthorEmail
		case "comment_author_url":
			dst = &c.AuthorURL
		case "comment_date":
			dst = &date
		case "comment_date_gmt":
			dst = &dateGMT
		case "comment_content":
			var s string
			if err := d.DecodeElement(&s, t); err != nil {
				return err
			}
			c.Content = s // spacing is the commenter's
			return nil
		case "comment_approved":
			dst = &c.Approved
		case "comment_type":
			dst = &c.Type
		default:
			return d.Skip()
		}
		return decodeText(d, t, dst)
	})
	if err != nil {
		return c, err
	}
	if c.ID == "" {
		return c, errors.New("no comment_id")
	}
	if t, ok := parseDate(dateGMT); ok {
		c.Date = t
	} else if t, ok := parseDate(date); ok {
		c.Date, c.DateLocal = t, true
	} else {
		return c, fmt.Errorf("comment %s: no date (comment_date_gmt %q, comment_date %q)", c.ID, dateGMT, date)
	}
	return c, nil
}

func parseDate(s string) (time.Time, bool) {
	if s == "" || strings.HasPrefix(s, "0000-00-00") {
		return time.Time{}, false
	}
	t, err := time.Parse(dateLayout, s)
	return t, err == nil
}

// eachChild calls f with each child element of the element just opened,
// until its end. f must consume the child (decode it or Skip it).
func eachChild(d *xml.Decoder, f func(*xml.StartElement) error) error {
	for {
		tok, err := d.Token()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return io.ErrUnexpectedEOF
			}
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if err := f(&t); err != nil {
				return err
			}
		case xml.EndElement:
			return nil
		}
	}
}
