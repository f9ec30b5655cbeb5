package web

import (
	"io"
	"net/http"
	"strconv"
	"strings"

	"modbot/queue"
	"modbot/templates"
)

// Limits of the comment form. The body's matches what a moderator can
// read in a digest without scrolling forever.
const (
	maxName  = 80
	maxEmail = 254
	maxBody  = 10000
)

func (s *Server) index(w http.ResponseWriter, r *http.Request) {
	posts, err := s.Comments.Posts(r.Context())
	if err != nil {
		s.serverError(w, r, view{}, "list posts", err)
		return
	}
	page := &templates.IndexPage{}
	for _, p := range posts {
		page.Posts = append(page.Posts, pagePost(&p))
	}
	s.render(w, r, http.StatusOK, view{}, func(w io.Writer, p templates.Page) error {
		page.Page = p
		return s.Templates.IndexPage(w, page)
	})
}

func pagePost(p *queue.Post) templates.PagePost {
	return templates.PagePost{Slug: p.Slug, Title: p.Title, URL: p.URL, Link: postPath(p.Slug, false)}
}

// post serves GET /posts/<slug> and GET /posts/<slug>.atom.
func (s *Server) post(w http.ResponseWriter, r *http.Request) {
	slug := r.PathValue("slug")
	if base, ok := strings.CutSuffix(slug, ".atom"); ok {
		s.feed(w, r, base)
		return
	}
	s.showPost(w, r, slug, false)
}

func (s *Server) embed(w http.ResponseWriter, r *http.Request) {
	s.showPost(w, r, r.PathValue("slug"), true)
}

func (s *Server) showPost(w http.ResponseWriter, r *http.Request, slug string, embed bool) {
	post, comments, ok := s.loadPost(w, r, slug, view{embed: embed})
	if !ok {
		return
	}
	form := templates.CommentForm{Notify: "none"}
	if p, err := strconv.ParseInt(r.URL.Query().Get("parent"), 10, 64); err == nil {
		form.Parent = p
	}
	s.showForm(w, r, http.StatusOK, post, comments, form, embed)
}

// loadPost reads a post and its comments, answering 404 or 500 itself
// when it cannot.
func (s *Server) loadPost(w http.ResponseWriter, r *http.Request, slug string, v view) (*queue.Post, []queue.Comment, bool) {
	if !slugRE.MatchString(slug) {
		s.notFoundIn(w, r, v)
		return nil, nil, false
	}
	post, err := s.Comments.Post(r.Context(), slug)
	if err != nil {
		s.serverError(w, r, v, "read post", err)
		return nil, nil, false
	}
	if post == nil {
		s.notFoundIn(w, r, v)
		return nil, nil, false
	}
	comments, err := s.Comments.Comments(r.Context(), slug)
	if err != nil {
		s.serverError(w, r, v, "read comments", err)
		return nil, nil, false
	}
	return post, comments, true
}

// showForm renders the post page with form, either fresh or filled in
// again with what the commenter sent and what was wrong with it.
func (s *Server) showForm(w http.ResponseWriter, r *http.Request, status int, post *queue.Post, comments []queue.Comment, form templates.CommentForm, embed bool) {
	path := postPath(post.Slug, embed)
	form.Action = "/posts/" + post.Slug + "/comments"
	form.Token = s.formToken(w, r, post.Slug)
	form.Embed = embed
	form.MaxName, form.MaxBody = maxName, maxBody
	form.CancelURL = path + "#form"
	if form.Parent != 0 {
		// Only a published comment of this post can be answered; a stale
		// or made-up number just gives the plain form.
		want := form.Parent
		form.Parent = 0
		for _, c := range comments {
			if c.ID == want {
				form.Parent, form.ParentName = c.ID, c.AuthorName
			}
		}
	}
	page := &templates.PostPage{
		Post:     pagePost(post),
		Comments: thread(comments, path, embed),
		Count:    len(comments),
		FeedURL:  "/posts/" + post.Slug + ".atom",
		Form:     form,
	}
	s.render(w, r, status, view{embed: embed}, func(w io.Writer, p templates.Page) error {
		page.Page = p
		return s.Templates.PostPage(w, page)
	})
}

// sent serves the page a commenter sees after sending a comment.
func (s *Server) sent(w http.ResponseWriter, r *http.Request) {
	embed := strings.HasPrefix(r.URL.Path, "/embed/")
	slug := r.PathValue("slug")
	v := view{embed: embed}
	if !slugRE.MatchString(slug) {
		s.notFoundIn(w, r, v)
		return
	}
	post, err := s.Comments.Post(r.Context(), slug)
	if err != nil {
		s.serverError(w, r, v, "read post", err)
		return
	}
	if post == nil {
		s.notFoundIn(w, r, v)
		return
	}
	page := &templates.SentPage{Post: pagePost(post), Back: postPath(slug, embed), Notify: notifyValue(r.URL.Query().Get("notify"))}
	s.render(w, r, http.StatusOK, v, func(w io.Writer, p templates.Page) error {
		page.Page = p
		return s.Templates.SentPage(w, page)
	})
}

func notifyValue(v string) string {
	switch v {
	case "replies", "all":
		return v
	}
	return "none"
}
