package web

import (
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"modbot/queue"
)

// BenchmarkPostPage renders the page of a post with 2,000 published
// comments, a third of them replies, through the handler.
func BenchmarkPostPage(b *testing.B) {
	f := newFixture(&testing.T{}, Options{})
	var cs []queue.Comment
	for i := 1; i <= 2000; i++ {
		c := queue.Comment{ID: int64(i), AuthorName: fmt.Sprintf("Reader %d", i),
			Body:        "A comment of a few lines, with a link https://example.com/x and <b>markup</b> to escape.\nSecond line.\n\nSecond paragraph.",
			PublishedAt: testNow.Add(time.Duration(i) * time.Minute)}
		if i%3 == 0 {
			c.ParentID = ptr(int64(i - 1))
		}
		cs = append(cs, c)
	}
	f.store.comments["uk-meta-encryption"] = cs
	b.ResetTimer()
	for b.Loop() {
		rec := httptest.NewRecorder()
		f.h.ServeHTTP(rec, httptest.NewRequest("GET", "/posts/uk-meta-encryption", nil))
		if rec.Code != 200 {
			b.Fatal(rec.Code)
		}
	}
}
