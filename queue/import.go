package queue

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jmoiron/sqlx"
)

// ImportPost is a post that imported comments belong to. A post the store
// already has keeps its title and address.
type ImportPost struct {
	Slug  string
	Title string
	URL   string
}

// ImportComment is one published comment brought in from another system.
// It has no email address: the published store never holds one.
type ImportComment struct {
	// SourceID names the comment uniquely in its source, e.g.
	// "wxr:https://blog.example#123"; a second import of the same
	// SourceID adds nothing.
	SourceID string
	// ParentSourceID is the SourceID of the comment this one answers; ""
	// for a comment on the post itself.
	ParentSourceID string
	PostSlug       string
	AuthorName     string
	Body           string
	PublishedAt    time.Time
}

// ImportResult counts what an import did.
type ImportResult struct {
	Imported int // comments added
	Existing int // comments imported before (same SourceID), left as they were
	// Orphans were added at the top of their post: their parent was in
	// neither the import nor the store, or the parent links ran in a
	// circle.
	Orphans  int
	NewPosts []string // slugs of the posts created
}

// importBatch is how many comments one transaction adds: a running
// daemon waits for the store no longer than one batch takes, and an
// interrupted import keeps what it committed (running it again finishes
// it).
const importBatch = 200

// ImportComments adds comments to the published store, each parent
// before its replies, and creates the posts the store lacks. It is
// idempotent: comments imported before are recognised by SourceID.
// progress, when set, is called after each committed batch with how many
// comments are done.
func (s *Store) ImportComments(ctx context.Context, posts []ImportPost, comments []ImportComment, progress func(done, total int)) (ImportResult, error) {
	var res ImportResult
	for i, c := range comments {
		if c.SourceID == "" {
			return res, fmt.Errorf("import: comment %d has no source id", i)
		}
		if c.PostSlug == "" {
			return res, fmt.Errorf("import: comment %s names no post", c.SourceID)
		}
	}
	if err := s.tx(ctx, func(tx *sqlx.Tx) error {
		for _, p := range posts {
			r, err := tx.ExecContext(ctx, `INSERT INTO posts (slug, title, url) VALUES (?, ?, ?) ON CONFLICT (slug) DO NOTHING`,
				p.Slug, p.Title, p.URL)
			if err != nil {
				return fmt.Errorf("import post %s: %w", p.Slug, err)
			}
			if n, _ := r.RowsAffected(); n > 0 {
				res.NewPosts = append(res.NewPosts, p.Slug)
			}
		}
		return nil
	}); err != nil {
		return ImportResult{}, err
	}

	order, cut := parentsFirst(comments)
	ids := make(map[string]int64, len(comments))
	total := len(order)
	for start := 0; start < total; start += importBatch {
		batch := order[start:min(start+importBatch, total)]
		var added, existing, orphans int
		err := s.tx(ctx, func(tx *sqlx.Tx) error {
			added, existing, orphans = 0, 0, 0
			for _, i := range batch {
				c := &comments[i]
				id, err := sourceComment(ctx, tx, c.SourceID)
				if err != nil {
					return err
				}
				if id != 0 {
					ids[c.SourceID] = id
					existing++
					continue
				}
				var parent *int64
				if c.ParentSourceID != "" && !cut[i] {
					pid, ok := ids[c.ParentSourceID]
					if !ok {
						// Imported by an earlier run from another file.
						if pid, err = sourceComment(ctx, tx, c.ParentSourceID); err != nil {
							return err
						}
					}
					if pid != 0 {
						parent = &pid
					}
				}
				if c.ParentSourceID != "" && parent == nil {
					orphans++
				}
				r, err := tx.ExecContext(ctx, `INSERT INTO comments (post_slug, parent_id, author_name, body, published_at, source_id)
					VALUES (?, ?, ?, ?, ?, ?)`, c.PostSlug, parent, c.AuthorName, c.Body, c.PublishedAt.UTC(), c.SourceID)
				if err != nil {
					return fmt.Errorf("import comment %s: %w", c.SourceID, err)
				}
				if ids[c.SourceID], err = r.LastInsertId(); err != nil {
					return fmt.Errorf("import comment %s: %w", c.SourceID, err)
				}
				added++
			}
			return nil
		})
		if err != nil {
			// Ids handed out in the rolled-back transaction are void.
			return res, err
		}
		res.Imported += added
		res.Existing += existing
		res.Orphans += orphans
		if progress != nil {
			progress(start+len(batch), total)
		}
	}
	return res, nil
}

// sourceComment returns the id of the comment imported from sourceID, or
// 0 when there is none.
func sourceComment(ctx context.Context, q sqlx.QueryerContext, sourceID string) (int64, error) {
	var id int64
	err := sqlx.GetContext(ctx, q, &id, `SELECT id FROM comments WHERE source_id = ?`, sourceID)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("import: look up %s: %w", sourceID, err)
	}
	return id, nil
}

// parentsFirst orders the comments oldest first, except that a parent
// always comes before its replies. cut marks the comments whose parent
// link closes a circle: they go in without a parent.
func parentsFirst(cs []ImportComment) (order []int, cut []bool) {
	idx := make([]int, len(cs))
	bySource := make(map[string]int, len(cs))
	for i := range cs {
		idx[i] = i
		if _, dup := bySource[cs[i].SourceID]; !dup {
			bySource[cs[i].SourceID] = i
		}
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		return cmp.Or(cs[a].PublishedAt.Compare(cs[b].PublishedAt), cmp.Compare(cs[a].SourceID, cs[b].SourceID))
	})
	const (
		unseen = iota
		visiting
		placed
	)
	state := make([]int, len(cs))
	cut = make([]bool, len(cs))
	order = make([]int, 0, len(cs))
	place := func(i int) {
		// Walk up to the oldest unplaced ancestor without recursion: a
		// thread can be thousands of replies deep.
		chain := []int{i}
		state[i] = visiting
		for {
			p, ok := bySource[cs[chain[len(chain)-1]].ParentSourceID]
			if !ok || cs[chain[len(chain)-1]].ParentSourceID == "" || state[p] == placed {
				break
			}
			if state[p] == visiting {
				cut[chain[len(chain)-1]] = true
				break
			}
			state[p] = visiting
			chain = append(chain, p)
		}
		for j := len(chain) - 1; j >= 0; j-- {
			state[chain[j]] = placed
			order = append(order, chain[j])
		}
	}
	for _, i := range idx {
		if state[i] == unseen {
			place(i)
		}
	}
	return order, cut
}
