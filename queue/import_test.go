package queue

import (
	"context"
	"strconv"
	"testing"
	"time"
)

func TestImportKeepsThreadsAndIsIdempotent(t *testing.T) {
	s := openTestStore(t)
	ctx := context.Background()
	if err := s.SyncPosts(ctx, []Post{{Slug: "known", Title: "Configured title"}}); err != nil {
		t.Fatal(err)
	}
	at := func(h int) time.Time { return time.Date(2019, 5, 1, h, 0, 0, 0, time.UTC) }
	posts := []ImportPost{{Slug: "known", Title: "Old title"}, {Slug: "new-post", Title: "New post", URL: "https://blog.example/new-post/"}}
	// Out of order on purpose: a reply listed before its parent, and a
	// reply older than its parent (clocks differ).
	comments := []ImportComment{
		{SourceID: "w#3", ParentSourceID: "w#2", PostSlug: "known", AuthorName: "Zoë", Body: "Deepest", PublishedAt: at(1)},
		{SourceID: "w#1", PostSlug: "known", AuthorName: "Ann", Body: "Top", PublishedAt: at(2)},
		{SourceID: "w#2", ParentSourceID: "w#1", PostSlug: "known", AuthorName: "Bo", Body: "Reply", PublishedAt: at(3)},
		{SourceID: "w#4", ParentSourceID: "w#99", PostSlug: "new-post", AuthorName: "Cy", Body: "Parent unknown", PublishedAt: at(4)},
		{SourceID: "w#5", ParentSourceID: "w#6", PostSlug: "new-post", AuthorName: "Di", Body: "Circle a", PublishedAt: at(5)},
		{SourceID: "w#6", ParentSourceID: "w#5", PostSlug: "new-post", AuthorName: "Ed", Body: "Circle b", PublishedAt: at(6)},
	}
	var calls [][2]int
	res, err := s.ImportComments(ctx, posts, comments, func(done, total int) { calls = append(calls, [2]int{done, total}) })
	if err != nil {
		t.Fatal(err)
	}
	if res.Imported != 6 || res.Existing != 0 || res.Orphans != 2 || len(res.NewPosts) != 1 || res.NewPosts[0] != "new-post" {
		t.Errorf("result %+v", res)
	}
	if len(calls) == 0 || calls[len(calls)-1] != [2]int{6, 6} {
		t.Errorf("progress calls %v", calls)
	}
	p, _ := s.Post(ctx, "known")
	if p.Title != "Configured title" {
		t.Errorf("import replaced a configured post's title: %q", p.Title)
	}

	byBody := func(slug string) map[string]Comment {
		cs, err := s.Comments(ctx, slug)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]Comment{}
		for _, c := range cs {
			m[c.Body] = c
		}
		return m
	}
	known := byBody("known")
	if len(known) != 3 {
		t.Fatalf("known has %d comments", len(known))
	}
	top, reply, deep := known["Top"], known["Reply"], known["Deepest"]
	if top.ParentID != nil || reply.ParentID == nil || *reply.ParentID != top.ID || deep.ParentID == nil || *deep.ParentID != reply.ID {
		t.Errorf("thread lost: top %+v reply %+v deep %+v", top, reply, deep)
	}
	if deep.AuthorName != "Zoë" || !deep.PublishedAt.Equal(at(1)) {
		t.Errorf("author or date lost: %+v", deep)
	}
	other := byBody("new-post")
	if c := other["Parent unknown"]; c.ParentID != nil {
		t.Errorf("orphan kept a parent: %+v", c)
	}
	a, b := other["Circle a"], other["Circle b"]
	if (a.ParentID == nil) == (b.ParentID == nil) {
		t.Errorf("a circle must be cut once: %+v %+v", a, b)
	}

	// Again, with one more reply to an already imported comment.
	comments = append(comments, ImportComment{SourceID: "w#7", ParentSourceID: "w#1", PostSlug: "known", AuthorName: "Fay", Body: "Late", PublishedAt: at(7)})
	res, err = s.ImportComments(ctx, posts, comments[len(comments)-1:], nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Imported != 1 || len(res.NewPosts) != 0 {
		t.Errorf("second import %+v", res)
	}
	if late := byBody("known")["Late"]; late.ParentID == nil || *late.ParentID != top.ID {
		t.Errorf("reply to a comment from an earlier import lost its parent: %+v", late)
	}
	res, err = s.ImportComments(ctx, posts, comments, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Imported != 0 || res.Existing != 7 {
		t.Errorf("third import %+v; want everything existing", res)
	}
	var n int
	s.pool.Get(&n, `SELECT COUNT(*) FROM comments`)
	if n != 7 {
		t.Errorf("%d comments after three imports, want 7", n)
	}
}

func TestImportRefusesCommentsWithoutSource(t *testing.T) {
	s := openTestStore(t)
	_, err := s.ImportComments(context.Background(), nil, []ImportComment{{PostSlug: "x", Body: "b"}}, nil)
	if err == nil {
		t.Error("a comment without source id was accepted: it could never be recognised again")
	}
}

// A thread far deeper than any recursion limit imports in order.
func TestImportDeepThread(t *testing.T) {
	s := openTestStore(t)
	var cs []ImportComment
	const depth = 5000
	for i := depth; i > 0; i-- {
		c := ImportComment{SourceID: strconv.Itoa(i), PostSlug: "p", AuthorName: "a", Body: strconv.Itoa(i), PublishedAt: time.Unix(int64(depth-i), 0)}
		if i > 1 {
			c.ParentSourceID = strconv.Itoa(i - 1)
		}
		cs = append(cs, c)
	}
	res, err := s.ImportComments(context.Background(), []ImportPost{{Slug: "p", Title: "P"}}, cs, nil)
	if err != nil || res.Imported != depth || res.Orphans != 0 {
		t.Fatalf("%+v %v", res, err)
	}
	var bad int
	s.pool.Get(&bad, `SELECT COUNT(*) FROM comments c JOIN comments p ON c.parent_id = p.id WHERE CAST(c.body AS INTEGER) != CAST(p.body AS INTEGER) + 1`)
	if bad != 0 {
		t.Errorf("%d comments under the wrong parent", bad)
	}
}
