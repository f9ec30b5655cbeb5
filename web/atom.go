package web

import (
	"bytes"
	"encoding/xml"
	"net/http"
	"strconv"
	"time"

	"modbot/templates"
)

// An Atom 1.0 feed (RFC 4287) of a post's comments. encoding/xml escapes
// every name and body and replaces characters XML cannot carry, so the
// feed stays well-formed whatever commenters wrote.
type atomFeed struct {
	XMLName xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	Title   string      `xml:"title"`
	ID      string      `xml:"id"`
	Updated string      `xml:"updated"`
	Links   []atomLink  `xml:"link"`
	Author  atomPerson  `xml:"author"`
	Entries []atomEntry `xml:"entry"`
}

type atomLink struct {
	Rel  string `xml:"rel,attr,omitempty"`
	Type string `xml:"type,attr,omitempty"`
	Href string `xml:"href,attr"`
}

type atomPerson struct {
	Name string `xml:"name"`
}

type atomEntry struct {
	Title     string     `xml:"title"`
	ID        string     `xml:"id"`
	Published string     `xml:"published"`
	Updated   string     `xml:"updated"`
	Link      atomLink   `xml:"link"`
	Author    atomPerson `xml:"author"`
	Content   atomText   `xml:"content"`
}

type atomText struct {
	Type string `xml:"type,attr"`
	Text string `xml:",chardata"`
}

func atomTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// feed serves GET /posts/<slug>.atom, newest comment first.
func (s *Server) feed(w http.ResponseWriter, r *http.Request, slug string) {
	post, comments, ok := s.loadPost(w, r, slug, view{})
	if !ok {
		return
	}
	page := s.baseURL(r) + "/posts/" + slug
	title, err := s.Templates.FeedTitle(&templates.PostFeed{SiteName: s.Site.Name, PostTitle: post.Title})
	if err != nil {
		s.serverError(w, r, view{}, "render feed", err)
		return
	}
	f := atomFeed{
		Title: title, ID: page,
		Links: []atomLink{
			{Rel: "self", Type: "application/atom+xml", Href: page + ".atom"},
			{Rel: "alternate", Type: "text/html", Href: page},
		},
		Author: atomPerson{Name: s.Site.Name},
	}
	updated := time.Time{}
	for i := len(comments) - 1; i >= 0; i-- {
		c := comments[i]
		et, err := s.Templates.FeedEntryTitle(&templates.PostFeedEntry{PostTitle: post.Title, Name: c.AuthorName})
		if err != nil {
			s.serverError(w, r, view{}, "render feed", err)
			return
		}
		link := page + "#c" + strconv.FormatInt(c.ID, 10)
		f.Entries = append(f.Entries, atomEntry{
			Title: et, ID: link, Published: atomTime(c.PublishedAt), Updated: atomTime(c.PublishedAt),
			Link:    atomLink{Rel: "alternate", Type: "text/html", Href: link},
			Author:  atomPerson{Name: c.AuthorName},
			Content: atomText{Type: "text", Text: c.Body},
		})
		if c.PublishedAt.After(updated) {
			updated = c.PublishedAt
		}
	}
	if updated.IsZero() {
		updated = s.now()
	}
	f.Updated = atomTime(updated)
	var b bytes.Buffer
	b.WriteString(xml.Header)
	enc := xml.NewEncoder(&b)
	enc.Indent("", "  ")
	if err := enc.Encode(f); err != nil {
		s.serverError(w, r, view{}, "encode feed", err)
		return
	}
	b.WriteByte('\n')
	w.Header().Set("Content-Type", "application/atom+xml; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	if r.Method != http.MethodHead {
		_, _ = w.Write(b.Bytes())
	}
}
