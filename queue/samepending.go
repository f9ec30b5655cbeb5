package queue

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"unicode"
	"unicode/utf8"

	"modbot/queue/precheck"
)

// samePendingMin is the shortest text compared with the waiting
// submissions: two readers may well both write "Thank you for this."
const samePendingMin = 100

// bodyHash identifies a comment's text with case and spacing ignored: the
// text lower-cased with every run of spaces made one space, in one pass.
// It is "" for a text shorter than samePendingMin.
func bodyHash(body string) string {
	folded := make([]byte, 0, len(body))
	n, space := 0, false
	for _, r := range body {
		if unicode.IsSpace(r) {
			space = n > 0
			continue
		}
		if space {
			folded = append(folded, ' ')
			n, space = n+1, false
		}
		folded = utf8.AppendRune(folded, unicode.ToLower(r))
		n++
	}
	if n < samePendingMin {
		return ""
	}
	h := sha256.Sum256(folded)
	return hex.EncodeToString(h[:])
}

// samePending flags a submission whose text is that of another one still
// waiting (pending or held): the same text sent as several comments, from
// one address or many. Rule 10's check compares with published comments
// only, which copies sent in one burst are not yet.
func (in *Ingester) samePending(ctx context.Context, hash string) (*precheck.Hit, error) {
	if hash == "" {
		return nil, nil
	}
	var id int64
	err := in.st().db.GetContext(ctx, &id, sqlSamePending, hash)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("same text pending: %w", err)
	}
	title := "No repetitive or lengthy copied text"
	if r, ok := in.Rules[precheck.RuleRepetition]; ok {
		title = r.Title
	}
	return &precheck.Hit{Rule: precheck.RuleRepetition, Title: title, Severity: precheck.Flag,
		Explanation: fmt.Sprintf("the same text as comment #%d, which is also waiting for moderation", id)}, nil
}
