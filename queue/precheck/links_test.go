package precheck

import (
	"slices"
	"testing"
)

func TestLinks(t *testing.T) {
	runEvidenceCases(t, &Links{}, []evidenceCase{
		{"none", "No links here, just prose.", nil},
		{"full link", "See https://www.theguardian.com/technology/2023/dec/07/meta-encryption for more.", []string{"https://www.theguardian.com/technology/2023/dec/07/meta-encryption"}},
		{"http", "at http://example.org/a?b=c&d=e#frag", []string{"http://example.org/a?b=c&d=e#frag"}},
		{"trailing period", "Read https://example.com/page.", []string{"https://example.com/page"}},
		{"in parentheses", "(see https://example.com/x)", []string{"https://example.com/x"}},
		{"own parentheses", "https://en.wikipedia.org/wiki/Crypto_(disambiguation).", []string{"https://en.wikipedia.org/wiki/Crypto_(disambiguation)"}},
		{"in quotes", "“https://example.com/q”", []string{"https://example.com/q"}},
		{"two links", "https://a.example.com and https://b.example.org/", []string{"https://a.example.com", "https://b.example.org/"}},
		{"shortener with scheme", "https://bit.ly/3abcDEF", []string{"https://bit.ly/3abcDEF"}},
		{"shortener bare", "look: bit.ly/3abc and t.co/xyz and tinyurl.com/y7 and is.gd/a", []string{"bit.ly/3abc", "t.co/xyz", "tinyurl.com/y7", "is.gd/a"}},
		{"shortener host only", "go to goo.gl", []string{"goo.gl"}},
		{"hxxp", "hxxp://evil.example.com/x", []string{"hxxp://evil.example.com/x"}},
		{"hxxps bracket dot", "hxxps://evil[.]example[.]com/path", []string{"hxxps://evil[.]example[.]com/path"}},
		{"bracket colon", "http[:]//example.com", []string{"http[:]//example.com"}},
		{"starred scheme", "h**ps://example.com/x", []string{"h**ps://example.com/x"}},
		{"upper-case scheme", "HTTPS://EXAMPLE.COM/X", []string{"HTTPS://EXAMPLE.COM/X"}},
		{"spelled chain", "www dot example dot com", []string{"www dot example dot com"}},
		{"port", "on example.com:8080/admin now", []string{"example.com:8080/admin"}},
		{"bracket dot", "visit example[.]com today", []string{"example[.]com"}},
		{"paren dot", "visit example(.)org", []string{"example(.)org"}},
		{"dot word", "visit example dot com for details", []string{"example dot com"}},
		{"bracket dot word", "visit example [dot] org/page", []string{"example [dot] org/page"}},
		{"www", "go to www.example.com now", []string{"www.example.com"}},
		{"www odd tld", "go to www.example.me.", []string{"www.example.me"}},
		{"bare domain", "it is on example.com", []string{"example.com"}},
		{"bare with path", "see news.example.co/story/1", []string{"news.example.co/story/1"}},
		{"capitalised host", "Google.com has it", []string{"Google.com"}},
		{"idn", "über.de ist gut", []string{"über.de"}},

		// Not links.
		{"e.g.", "Some things, e.g. this, i.e. that.", nil},
		{"U.S.", "The U.S. and the U.K. and the E.U.", nil},
		{"decimals", "It grew 3.14 percent, v2.0, 1.5bn users.", nil},
		{"abbreviations", "Mr. Smith, a.m., p.m., etc., Ph.D., No.1", nil},
		{"missing space", "I agree.The law is bad.and so on.", nil},
		{"file names", "see report.pdf and main.go and notes.txt and file.cc", nil},
		{"weak tld without path", "Go ahead and do.it or log.in", nil},
		{"email", "write to jane.doe@example.com", nil},
		{"obfuscated email from rule 20", "via email to moderator [at] all4consolaws [dot] org", nil},
		{"dot com era", "back in the dot com era", nil},
		{"node.js", "written in Node.js and ASP.NET", nil},
		{"scheme alone", "the http:// prefix", nil},
	})
}

func TestLinksSeverity(t *testing.T) {
	body := "https://example.com/a bit.ly/x hxxp://b.example.com www.example.org c[.]example.com"
	hits := New(&Links{}).Run(&Input{Body: body})
	var got []Severity
	for _, h := range hits {
		got = append(got, h.Severity)
		if h.Rule != RuleLinks || h.Title != TitleLinks {
			t.Errorf("hit %+v: wrong rule or title", h)
		}
	}
	want := []Severity{Note, Flag, Flag, Flag, Flag}
	if !slices.Equal(got, want) {
		t.Fatalf("severities %v, want %v (hits %+v)", got, want, hits)
	}

	custom := &Links{PlainSeverity: Flag, Severity: Hold, Shorteners: []string{"short.example"}}
	hits = New(custom).Run(&Input{Body: "https://example.com/a https://short.example/x"})
	if len(hits) != 2 || hits[0].Severity != Flag || hits[1].Severity != Hold {
		t.Fatalf("custom severities: %+v", hits)
	}
}
