package templates

import (
	"fmt"
	"strings"
)

// Undeliverable tells the admins that a moderator's digest was refused
// for good (a 5xx from the MTA, such as 552 "message too big") and that
// its items were put back to be listed in the moderator's next digest.
type Undeliverable struct {
	SiteName  string
	Moderator string
	Error     string  // the server's answer
	Bytes     int     // the digest's size
	Comments  []int64 // the stable ids of the comments it listed
	Feedback  int     // how many feedback messages it listed
	// Failures counts the digests refused this way in the last day,
	// this one included.
	Failures int
}

// Undeliverable renders the admins' mail about a refused digest.
func (s *Set) Undeliverable(u *Undeliverable) (*Rendered, error) {
	return s.render("undeliverable", u)
}

// CommentIDs lists the comments: "#1001, #1002".
func (u *Undeliverable) CommentIDs() string {
	ids := make([]string, len(u.Comments))
	for i, id := range u.Comments {
		ids[i] = fmt.Sprintf("#%d", id)
	}
	return strings.Join(ids, ", ")
}
