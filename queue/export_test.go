package queue

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestExportCommentsAndAuditLog(t *testing.T) {
	m := newModeration(t, "Good point about encryption.", "What a load of shit.", "Edit me: encyrption.")
	alice := m.token["alice@mods.example"]
	m.reply("Alice <alice@mods.example>", alice, "approve 1\nreject 2 rule 3 rule 12: please star it out\nedit 3: Edit me: encryption.")
	ctx := context.Background()
	if _, err := m.s.ImportComments(ctx, []ImportPost{{Slug: "uk-meta-encryption", Title: "x"}}, []ImportComment{{
		SourceID: "wxr:1", PostSlug: "uk-meta-encryption", AuthorName: "Old Timer", Body: "From the old site",
		PublishedAt: time.Date(2019, 1, 2, 3, 4, 5, 0, time.UTC),
	}}, nil); err != nil {
		t.Fatal(err)
	}

	var buf bytes.Buffer
	res, err := m.s.Export(ctx, &buf)
	if err != nil {
		t.Fatal(err)
	}
	if res.Comments != 3 || res.Decisions != 3 || res.Versions != 3 {
		t.Errorf("result %+v", res)
	}
	var comments []ExportedComment
	var decisions []ExportedDecision
	var versions []ExportedVersion
	sc := bufio.NewScanner(&buf)
	for sc.Scan() {
		line := sc.Bytes()
		if bytes.Contains(line, []byte("@people.example")) {
			t.Errorf("a commenter's address in the export: %s", line)
		}
		var probe struct{ Type string }
		if err := json.Unmarshal(line, &probe); err != nil {
			t.Fatalf("not JSON: %s", line)
		}
		switch probe.Type {
		case "comment":
			var c ExportedComment
			json.Unmarshal(line, &c)
			comments = append(comments, c)
		case "decision":
			var d ExportedDecision
			json.Unmarshal(line, &d)
			decisions = append(decisions, d)
		case "version":
			var v ExportedVersion
			json.Unmarshal(line, &v)
			versions = append(versions, v)
		default:
			t.Errorf("line of type %q: %s", probe.Type, line)
		}
	}
	if len(comments) != 3 || len(decisions) != 3 || len(versions) != 3 {
		t.Fatalf("%d comments, %d decisions, %d versions", len(comments), len(decisions), len(versions))
	}
	if v := versions[2]; v.Submission != 1003 || v.Version != 1 || strings.TrimSpace(v.Body) != "Edit me: encyrption." || v.At.IsZero() {
		t.Errorf("version %+v", v)
	}
	if d := decisions[2]; d.Version != 1 {
		t.Errorf("the edit decision records version %d, want 1", d.Version)
	}
	if c := comments[0]; c.Post != "uk-meta-encryption" || strings.TrimSpace(c.Body) != "Good point about encryption." ||
		c.AuthorName != "Commenter 0" || c.Submission == nil || *c.Submission != 1001 || c.PublishedAt.IsZero() {
		t.Errorf("first comment %+v", c)
	}
	if c := comments[2]; c.Submission != nil || c.AuthorName != "Old Timer" || !c.PublishedAt.Equal(time.Date(2019, 1, 2, 3, 4, 5, 0, time.UTC)) {
		t.Errorf("imported comment %+v", c)
	}
	rej := decisions[1]
	if rej.Submission != 1002 || rej.Action != "reject" || rej.Moderator != "alice@mods.example" ||
		len(rej.Rules) != 2 || rej.Rules[0] != 3 || rej.Rules[1] != 12 || rej.Reason != "please star it out" ||
		rej.ReplyMessageID == "" || rej.At.IsZero() || rej.FromState != "pending" || rej.ToState != "rejected" {
		t.Errorf("reject decision %+v", rej)
	}
	if ed := decisions[2]; ed.Action != "edit" || strings.TrimSpace(ed.OriginalBody) != "Edit me: encyrption." {
		t.Errorf("edit decision %+v", ed)
	}
	if d := decisions[0]; d.Rules == nil || len(d.Rules) != 0 {
		t.Errorf("approve decision rules %v; want []", d.Rules)
	}
}
