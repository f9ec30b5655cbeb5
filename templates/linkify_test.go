package templates

import (
	"reflect"
	"testing"
)

func TestLinkify(t *testing.T) {
	link := func(u string) BodySpan { return BodySpan{Text: u, URL: u} }
	text := func(s string) BodySpan { return BodySpan{Text: s} }
	tests := []struct {
		name, in string
		want     []BodyParagraph
	}{
		{"plain", "hello", []BodyParagraph{{{text("hello")}}}},
		{"link in text", "see https://ex.example/a?b=1 now", []BodyParagraph{{{text("see "), link("https://ex.example/a?b=1"), text(" now")}}}},
		{"trailing dot", "at http://ex.example.", []BodyParagraph{{{text("at "), link("http://ex.example"), text(".")}}}},
		{"parens", "(https://en.wikipedia.org/wiki/Foo_(bar)) x", []BodyParagraph{{{text("("), link("https://en.wikipedia.org/wiki/Foo_(bar)"), text(") x")}}}},
		{"javascript is text", "javascript:alert(1)", []BodyParagraph{{{text("javascript:alert(1)")}}}},
		{"data is text", "data:text/html,<script>alert(1)</script>", []BodyParagraph{{{text("data:text/html,<script>alert(1)</script>")}}}},
		{"quote ends a link", `https://ex.example/"onmouseover="alert(1)`, []BodyParagraph{{{link("https://ex.example/"), text(`"onmouseover="alert(1)`)}}}},
		{"angle ends a link", `https://ex.example/<script>`, []BodyParagraph{{{link("https://ex.example/"), text(`<script>`)}}}},
		{"user info is text", "https://bank.example@evil.example/", []BodyParagraph{{{text("https://bank.example@evil.example/")}}}},
		{"no host", "http:// nothing", []BodyParagraph{{{text("http:// nothing")}}}},
		{"inside a word", "xhttps://ex.example", []BodyParagraph{{{text("xhttps://ex.example")}}}},
		{"upper case", "HTTPS://EX.EXAMPLE/A", []BodyParagraph{{{link("HTTPS://EX.EXAMPLE/A")}}}},
		{"bidi override ends a link", "https://ex.example/\u202egpj.exe", []BodyParagraph{{{link("https://ex.example/"), text("\u202egpj.exe")}}}},
		{"two links", "http://a.example http://b.example", []BodyParagraph{{{link("http://a.example"), text(" "), link("http://b.example")}}}},
		{"paragraphs and lines", "one\r\ntwo\n\n\n three \n", []BodyParagraph{{{text("one")}, {text("two")}}, {{text(" three")}}}},
		{"empty", " \n\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Linkify(tt.in); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Linkify(%q)\n got %#v\nwant %#v", tt.in, got, tt.want)
			}
		})
	}
}

func TestBodyHTML(t *testing.T) {
	tests := []struct{ body, target, want string }{
		{"a <b>&\"'\n\nsecond", "", "<p>a &lt;b&gt;&amp;&#34;&#39;</p>\n<p>second</p>\n"},
		{"see https://ex.example/?a=1&b='2'", "", `<p>see <a href="https://ex.example/?a=1&amp;b=&#39;2" rel="nofollow ugc noopener">https://ex.example/?a=1&amp;b=&#39;2</a>&#39;</p>` + "\n"},
		{"x https://ex.example y\nz", "_blank", `<p>x <a href="https://ex.example" rel="nofollow ugc noopener" target="_blank">https://ex.example</a> y<br>` + "\nz</p>\n"},
		{`<a href="javascript:alert(1)">x</a>`, "", "<p>&lt;a href=&#34;javascript:alert(1)&#34;&gt;x&lt;/a&gt;</p>\n"},
	}
	for _, tt := range tests {
		if got := string(BodyHTML(tt.body, tt.target)); got != tt.want {
			t.Errorf("BodyHTML(%q)\n got %q\nwant %q", tt.body, got, tt.want)
		}
	}
}
