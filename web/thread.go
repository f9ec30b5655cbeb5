package web

import (
	"strconv"

	"modbot/queue"
	"modbot/templates"
)

// maxDepth is how many levels of replies are indented. Deeper replies
// are shown level with their parent, saying whom they answer, so a long
// exchange stays readable on a narrow phone.
const maxDepth = 3

// thread nests comments (oldest first) under their parents. A comment
// whose parent is not published, or whose parents form a loop, starts a
// thread of its own: nothing is ever left out.
func thread(cs []queue.Comment, base string, embed bool) []*templates.PageComment {
	t := threader{
		byID: make(map[int64]*queue.Comment, len(cs)),
		kids: make(map[int64][]int64),
		seen: make(map[int64]bool, len(cs)),
		base: base,
	}
	if embed {
		t.target = "_blank"
	}
	for i := range cs {
		t.byID[cs[i].ID] = &cs[i]
	}
	var roots []int64
	for _, c := range cs {
		if p := c.ParentID; p != nil && *p != c.ID && t.byID[*p] != nil {
			t.kids[*p] = append(t.kids[*p], c.ID)
		} else {
			roots = append(roots, c.ID)
		}
	}
	var out []*templates.PageComment
	for _, id := range roots {
		t.place(id, 0, nil, &out)
	}
	// Only a loop of parents leaves comments unplaced.
	for _, c := range cs {
		if !t.seen[c.ID] {
			t.place(c.ID, 0, nil, &out)
		}
	}
	return out
}

type threader struct {
	byID   map[int64]*queue.Comment
	kids   map[int64][]int64
	seen   map[int64]bool
	base   string // the page replies are written on
	target string
}

// place appends comment id to out, and its replies under it: nested
// while depth allows, else after it in out, each naming its parent.
func (t *threader) place(id int64, depth int, parent *queue.Comment, out *[]*templates.PageComment) {
	if t.seen[id] {
		return
	}
	t.seen[id] = true
	c := t.byID[id]
	v := &templates.PageComment{
		ID: c.ID, Name: c.AuthorName, Published: c.PublishedAt.UTC(), Body: c.Body,
		ReplyURL:   t.base + "?parent=" + strconv.FormatInt(c.ID, 10) + "#form",
		LinkTarget: t.target,
	}
	if parent != nil {
		v.InReplyTo = &templates.CommentRef{ID: parent.ID, Name: parent.AuthorName}
	}
	*out = append(*out, v)
	for _, k := range t.kids[id] {
		if depth < maxDepth {
			t.place(k, depth+1, nil, &v.Children)
		} else {
			t.place(k, depth, c, out)
		}
	}
}
