package wxr

import (
	"cmp"
	"fmt"
	"html"
	"net/url"
	"slices"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"modbot/queue"
)

// anonymous is the name WordPress shows for a comment without one.
const anonymous = "Anonymous"

// Plan is what an export brings into the published store.
type Plan struct {
	Posts    []queue.ImportPost
	Comments []queue.ImportComment
	// Skipped counts the comments left out, by reason: "pending",
	// "spam", "trash", "pingback", "trackback", "empty".
	Skipped map[string]int
	// Renamed maps a post's wp:post_name to the slug it gets where the
	// two differ (modbot's slugs are a-z, 0-9 and '-').
	Renamed map[string]string
	// Reattached counts kept replies whose parent was left out: they
	// answer the nearest kept comment above it instead, or the post.
	Reattached int
	// LocalDates counts comments without a GMT date, whose local date
	// was taken as UTC.
	LocalDates int
}

// Convert decides what of exp is imported: every approved comment that
// is not a pingback or trackback, with the posts they belong to. Posts
// without such comments are left out.
func Convert(exp *Export) *Plan {
	p := &Plan{Skipped: map[string]int{}, Renamed: map[string]string{}}
	site := strings.TrimRight(cmp.Or(exp.BaseSiteURL, exp.Link), "/")
	source := func(id string) string { return "wxr:" + site + "#" + id }
	used := map[string]bool{}
	for i := range exp.Items {
		it := &exp.Items[i]
		byID := make(map[string]*Comment, len(it.Comments))
		keep := make(map[string]bool, len(it.Comments))
		for j := range it.Comments {
			c := &it.Comments[j]
			byID[c.ID] = c
			if why := skipReason(c); why != "" {
				p.Skipped[why]++
				continue
			}
			keep[c.ID] = true
		}
		if len(keep) == 0 {
			continue
		}
		slug := uniqueSlug(it, used)
		if slug != it.PostName {
			p.Renamed[cmp.Or(it.PostName, "(none, post "+it.PostID+")")] = slug
		}
		p.Posts = append(p.Posts, queue.ImportPost{Slug: slug, Title: cmp.Or(strings.TrimSpace(html.UnescapeString(it.Title)), slug), URL: it.Link})
		for j := range it.Comments {
			c := &it.Comments[j]
			if !keep[c.ID] {
				continue
			}
			parent, moved := keptParent(c, byID, keep)
			if moved {
				p.Reattached++
			}
			if c.DateLocal {
				p.LocalDates++
			}
			ic := queue.ImportComment{
				SourceID:    source(c.ID),
				PostSlug:    slug,
				AuthorName:  cmp.Or(strings.TrimSpace(html.UnescapeString(c.Author)), anonymous),
				Body:        Text(c.Content),
				PublishedAt: c.Date.UTC(),
			}
			if parent != "" {
				ic.ParentSourceID = source(parent)
			}
			p.Comments = append(p.Comments, ic)
		}
	}
	return p
}

func skipReason(c *Comment) string {
	switch {
	case c.IsPing():
		return c.Type
	case c.Approved == "0" || strings.EqualFold(c.Approved, "hold"):
		return "pending"
	case strings.EqualFold(c.Approved, "spam"):
		return "spam"
	case strings.Contains(strings.ToLower(c.Approved), "trash"):
		return "trash"
	case !c.IsApproved():
		return "not approved (" + c.Approved + ")"
	case Text(c.Content) == "":
		return "empty"
	}
	return ""
}

// keptParent returns the id of the nearest ancestor of c that is kept,
// "" for none, and whether that differs from c's own parent. A parent
// not in the file at all is returned as it is: an earlier import may
// have brought it.
func keptParent(c *Comment, byID map[string]*Comment, keep map[string]bool) (id string, moved bool) {
	if !c.HasParent() {
		return "", false
	}
	cur := c.Parent
	// A loop in the parent links ends the walk after len(byID) steps.
	for steps := 0; steps <= len(byID); steps++ {
		p, ok := byID[cur]
		if !ok || keep[cur] {
			return cur, cur != c.Parent
		}
		if !p.HasParent() {
			return "", true
		}
		cur = p.Parent
	}
	return "", true
}

// uniqueSlug is Slug, made unique among the slugs used so far by a
// number at its end.
func uniqueSlug(it *Item, used map[string]bool) string {
	s := Slug(it)
	base := strings.TrimRight(s[:min(len(s), 56)], "-")
	for n := 2; used[s]; n++ {
		s = fmt.Sprintf("%s-%d", base, n)
	}
	used[s] = true
	return s
}

// Slug is a post's slug for modbot: wp:post_name when it is one already,
// else that name decoded, stripped of accents and of everything but a-z,
// 0-9 and '-', else "wp-<post id>".
func Slug(it *Item) string {
	name := it.PostName
	if u, err := url.PathUnescape(name); err == nil {
		name = u
	}
	var b strings.Builder
	dash := false
	for _, r := range norm.NFD.String(strings.ToLower(name)) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case unicode.Is(unicode.Mn, r):
			// an accent, split off its letter by NFD
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
	}
	s := strings.Trim(b.String(), "-")
	if len(s) > 64 {
		s = strings.TrimRight(s[:64], "-")
	}
	if s == "" || strings.HasPrefix(s, "d-") || strings.HasPrefix(s, "u-") {
		id := strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, it.PostID)
		return "wp-" + cmp.Or(id, "post")
	}
	return s
}

// SkippedList lists the skip reasons with their counts ("2 spam"), most
// common first.
func (p *Plan) SkippedList() []string {
	reasons := make([]string, 0, len(p.Skipped))
	for why := range p.Skipped {
		reasons = append(reasons, why)
	}
	slices.SortFunc(reasons, func(a, b string) int {
		return cmp.Or(cmp.Compare(p.Skipped[b], p.Skipped[a]), cmp.Compare(a, b))
	})
	out := make([]string, len(reasons))
	for i, why := range reasons {
		out[i] = fmt.Sprintf("%d %s", p.Skipped[why], why)
	}
	return out
}
