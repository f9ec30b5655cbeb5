package queue

import (
	"context"
	"fmt"
	"time"
)

// Comment is a published comment as the website shows it. It carries no
// email address: the published store never holds one.
type Comment struct {
	ID          int64     `db:"id" json:"id"`
	PostSlug    string    `db:"post_slug" json:"-"`
	ParentID    *int64    `db:"parent_id" json:"parent"`
	AuthorName  string    `db:"author_name" json:"author_name"`
	Body        string    `db:"body" json:"body"`
	PublishedAt time.Time `db:"published_at" json:"published_at"`
}

// Posts returns the posts that take comments.
func (s *Store) Posts(ctx context.Context) ([]Post, error) {
	var ps []Post
	if err := s.db.SelectContext(ctx, &ps, `SELECT slug, title, url, text FROM posts ORDER BY slug`); err != nil {
		return nil, fmt.Errorf("posts: %w", err)
	}
	return ps, nil
}

// Post returns the post with slug, or nil when there is none.
func (s *Store) Post(ctx context.Context, slug string) (*Post, error) {
	return getPost(ctx, s.db, slug)
}

// Comments returns a post's published comments, oldest first.
func (s *Store) Comments(ctx context.Context, slug string) ([]Comment, error) {
	var cs []Comment
	if err := s.db.SelectContext(ctx, &cs, `SELECT id, post_slug, parent_id, author_name, body, published_at
		FROM comments WHERE post_slug = ? ORDER BY published_at, id`, slug); err != nil {
		return nil, fmt.Errorf("comments of %s: %w", slug, err)
	}
	return cs, nil
}
