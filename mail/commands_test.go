package mail

import (
	"reflect"
	"strings"
	"testing"

	"modbot/internal/editdist"
)

// replyOf builds a Reply from lines; a line "N| text" stands under the
// quoted digest item N.
func replyOf(lines ...string) Reply {
	var r Reply
	for _, l := range lines {
		item := 0
		if i := strings.Index(l, "| "); i > 0 && i < 3 {
			item = atoiSmall(l[:i])
			l = l[i+2:]
		}
		r.Lines = append(r.Lines, ReplyLine{Text: l, Item: item})
	}
	return r
}

// cmdNormalised returns the commands one target a line, and the errors'
// reasons, as reply-check shows them.
func cmdNormalised(cmds []Command, errs []CommandError) []string {
	var out []string
	for _, c := range cmds {
		for _, e := range c.Expand() {
			out = append(out, e.String())
		}
	}
	for _, e := range errs {
		out = append(out, "error: "+e.Reason)
	}
	return out
}

func TestParseCommands(t *testing.T) {
	tests := []struct {
		name  string
		lines []string
		want  []string
	}{
		// approve
		{"approve one", []string{"approve 3"}, []string{"approve 3"}},
		{"approve two", []string{"approve 1 3"}, []string{"approve 1", "approve 3"}},
		{"approve range and list", []string{"approve 1-3, 5"}, []string{"approve 1", "approve 2", "approve 3", "approve 5"}},
		{"approve range with spaces and en dash", []string{"approve 1 – 3"}, []string{"approve 1", "approve 2", "approve 3"}},
		{"approve commas and and", []string{"approve 1, 2 and 4"}, []string{"approve 1", "approve 2", "approve 4"}},
		{"approve ampersand", []string{"approve 1 & 2"}, []string{"approve 1", "approve 2"}},
		{"approve repeats once", []string{"approve 2 2 1-2"}, []string{"approve 2", "approve 1"}},
		{"approve all", []string{"approve all"}, []string{"approve all"}},
		{"approve id", []string{"approve #1042"}, []string{"approve #1042"}},
		{"approve numbers and ids", []string{"approve 1, #1042"}, []string{"approve 1", "approve #1042"}},
		{"approve number with the id seen", []string{"approve 3 (#1042)"}, []string{"approve 3 (#1042)"}},
		{"numbers with ids seen", []string{"approve 3 ( #1042 ), 4(#1043) 5"}, []string{"approve 3 (#1042)", "approve 4 (#1043)", "approve 5"}},
		{"reject number with the id seen", []string{"reject 3 (#1042) rule 11: caps"}, []string{`reject 3 (#1042) rule=11 reason="caps"`}},
		{"id seen after a range", []string{"approve 1-3 (#1042)"}, []string{`error: "approve 1-3 (#1042)" is not a list of numbers`}},
		{"id seen unclosed", []string{"approve 3 (#1042"}, []string{`error: "approve 3 (#1042" is not a list of numbers`}},
		{"approve with reason", []string{"approve 3: fine after all"}, []string{`approve 3 reason="fine after all"`}},
		{"approve colon decoration", []string{"approve: 1 3"}, []string{"approve 1", "approve 3"}},
		{"approve no space", []string{"approve3"}, []string{"approve 3"}},
		{"approve full stop", []string{"Approve 3."}, []string{"approve 3"}},
		{"upper case", []string{"APPROVE 3"}, []string{"approve 3"}},
		{"leading zeros", []string{"approve 007"}, []string{"approve 7"}},
		{"bullets", []string{"- approve 1", "* approve 2", "• approve 3", "  - approve 4"}, []string{"approve 1", "approve 2", "approve 3", "approve 4"}},
		{"no-break spaces", []string{"approve\u00a01\u00a02"}, []string{"approve 1", "approve 2"}},

		// reject
		{"reject rule", []string{"reject 2 rule 11"}, []string{"reject 2 rule=11"}},
		{"reject reason", []string{"reject 4: off topic"}, []string{`reject 4 reason="off topic"`}},
		{"reject rules and note", []string{"reject 2 rule 3 rule 12: note"}, []string{`reject 2 rule=3 rule=12 reason="note"`}},
		{"reject rules list", []string{"reject 2 rules 3, 12"}, []string{"reject 2 rule=3 rule=12"}},
		{"reject rule and", []string{"reject 2 rule 3 and 12"}, []string{"reject 2 rule=3 rule=12"}},
		{"reject rule hash", []string{"reject 2 rule #3"}, []string{"reject 2 rule=3"}},
		{"reject several", []string{"reject 1-2 rule 11: caps"}, []string{`reject 1 rule=11 reason="caps"`, `reject 2 rule=11 reason="caps"`}},
		{"reject quote in reason", []string{`reject 4: "spam" & co`}, []string{`reject 4 reason="\"spam\" & co"`}},
		{"reject empty reason", []string{"reject 4:"}, []string{"reject 4"}},
		{"reject plain", []string{"reject 4"}, []string{"reject 4"}},

		// edit and reply
		{"edit", []string{"edit 5: new text"}, []string{`edit 5 text="new text"`}},
		{"edit continues", []string{"edit 5: first", "second", "", "third"}, []string{`edit 5 text="first\nsecond"`}},
		{"edit text below", []string{"edit 5:", "the text", "more"}, []string{`edit 5 text="the text\nmore"`}},
		{"edit stops at command", []string{"edit 5: first", "approve 1"}, []string{`edit 5 text="first"`, "approve 1"}},
		{"edit stops at near miss", []string{"edit 5: first", "aprove 1"}, []string{`edit 5 text="first"`, `error: unknown command "aprove" (did you mean "approve"?)`}},
		{"edit id", []string{"edit #1042: x"}, []string{`edit #1042 text="x"`}},
		{"edit keeps colons", []string{"edit 5: a: b"}, []string{`edit 5 text="a: b"`}},
		{"reply", []string{"reply 8: thanks"}, []string{`reply 8 text="thanks"`}},
		{"reply continues", []string{"reply 8: Dear reader,", "it is published now.", "", "approve 1"}, []string{`reply 8 text="Dear reader,\nit is published now."`, "approve 1"}},

		// hold, spam, undo
		{"hold", []string{"hold 6"}, []string{"hold 6"}},
		{"hold with reason", []string{"hold 6: ask Bob"}, []string{`hold 6 reason="ask Bob"`}},
		{"spam", []string{"spam 7"}, []string{"spam 7"}},
		{"spam several", []string{"spam 7 8"}, []string{"spam 7", "spam 8"}},
		{"undo", []string{"undo"}, []string{"undo"}},
		{"undo id", []string{"undo #1042"}, []string{"undo #1042"}},
		{"undo number", []string{"undo 3"}, []string{"undo 3"}},

		// normalised forms read back
		{"cmdNormalised reject", []string{`reject 2 rule=3 rule=12 reason="note"`}, []string{`reject 2 rule=3 rule=12 reason="note"`}},
		{"cmdNormalised edit", []string{`edit 5 text="a\nb \"c\""`}, []string{`edit 5 text="a\nb \"c\""`}},
		{"cmdNormalised approve reason", []string{`approve 3 reason="ok"`}, []string{`approve 3 reason="ok"`}},

		// under an interleaved item
		{"bare approve under item", []string{"3| approve"}, []string{"approve 3"}},
		{"bare reject rule under item", []string{"2| reject rule 11"}, []string{"reject 2 rule=11"}},
		{"bare reject reason under item", []string{"4| reject: off topic"}, []string{`reject 4 reason="off topic"`}},
		{"bare edit under item", []string{"4| edit: new", "4| text"}, []string{`edit 4 text="new\ntext"`}},
		{"bare reply under item", []string{"5| reply: thanks"}, []string{`reply 5 text="thanks"`}},
		{"bare undo under item", []string{"3| undo"}, []string{"undo 3"}},
		{"number wins over item", []string{"3| approve 1"}, []string{"approve 1"}},

		// conversation
		{"conversation", []string{"Thanks!", "Looks fine to me", "", "Alice", "3| Looks fine", "How are you?", "Really 3 of them?"}, nil},
		{"words near a verb", []string{"Into the bin with them", "Sam", "Spa 3 days", "Edits 3 and 4 are fine by me"}, nil},
		{"a verb then words", []string{"Hold on, I will check."}, []string{`error: "Hold on, I will check." is not a list of numbers`}},
		{"name under item", []string{"3| Sam", "3| Tim"}, nil},

		// errors
		{"typo", []string{"aprove 1"}, []string{`error: unknown command "aprove" (did you mean "approve"?)`}},
		{"typo swap", []string{"rejcet 2 rule 11"}, []string{`error: unknown command "rejcet" (did you mean "reject"?)`}},
		{"typo short verb", []string{"hodl 3"}, []string{`error: unknown command "hodl" (did you mean "hold"?)`}},
		{"typo alone under item", []string{"3| Approved"}, []string{`error: unknown command "Approved" (did you mean "approve"?)`}},
		{"synonym", []string{"publish 3"}, []string{`error: unknown command "publish" (did you mean "approve"?)`}},
		{"synonym delete", []string{"delete 3"}, []string{`error: unknown command "delete" (did you mean "reject"?)`}},
		{"open range", []string{"approve 1-"}, []string{`error: "approve 1-" is not a list of numbers`}},
		{"words", []string{"approve the first one"}, []string{`error: "approve the first one" is not a list of numbers`}},
		{"trailing and", []string{"approve 1 and"}, []string{`error: "approve 1 and" is not a list of numbers`}},
		{"zero", []string{"approve 0"}, []string{"error: item numbers start at 1 and go up to 100000"}},
		{"huge", []string{"approve 99999999999999999999"}, []string{"error: item numbers start at 1 and go up to 100000"}},
		{"backwards", []string{"approve 5-2"}, []string{"error: the range 5-2 runs backwards"}},
		{"long range", []string{"approve 1-5000"}, []string{"error: the range 1-5000 is too long (at most 1000 items)"}},
		{"id zero", []string{"approve #0"}, []string{`error: "approve #0" is not a list of numbers`}},
		{"bare approve", []string{"approve"}, []string{`error: "approve" needs an item number, e.g. "approve 3"`}},
		{"bare reject", []string{"reject: rude"}, []string{`error: "reject" needs an item number, e.g. "reject 2 rule 11: reason"`}},
		{"all with number", []string{"approve all 3"}, []string{`error: "all" stands alone, without numbers`}},
		{"reject all", []string{"reject all"}, []string{`error: "all" works with approve only`}},
		{"rule without number", []string{"reject 2 rule"}, []string{`error: a rule number must follow "rule", e.g. "reject 2 rule 11"`}},
		{"rule zero", []string{"reject 2 rule 0"}, []string{"error: rule numbers go from 1 to 1000"}},
		{"rule on approve", []string{"approve 2 rule 3"}, []string{"error: only reject takes rules"}},
		{"reason without colon", []string{"reject 4 off topic"}, []string{`error: put a reason after a colon, e.g. "reject 2 rule 11: reason"`}},
		{"edit without colon", []string{"edit 3 new text"}, []string{`error: put the text after a colon, e.g. "edit 5: corrected text"`}},
		{"edit without text", []string{"edit 3"}, []string{`error: put the text after a colon, e.g. "edit 5: corrected text"`}},
		{"edit empty", []string{"edit 3:", "", "approve 1"}, []string{"approve 1", `error: the text is missing: write it after the colon, e.g. "edit 5: corrected text"`}},
		{"edit two items", []string{"edit 3 4: x"}, []string{"error: edit takes one item number"}},
		{"edit reason=", []string{`edit 3 reason="x"`}, []string{"error: edit takes text=, not reason="}},
		{"text= on approve", []string{`approve 3 text="x"`}, []string{"error: only edit and reply take text="}},
		{"unquoted reason=", []string{`reject 3 reason=x`}, []string{"error: the reason after reason= must be in double quotes"}},
		{"verb in a sentence", []string{"Reply to Tim was fine"}, []string{`error: put the text after a colon, e.g. "reply 8: your answer"`}},
		{"typo with reason", []string{"rejct 4: rude"}, []string{`error: unknown command "rejct" (did you mean "reject"?)`}},
		{"typo with all", []string{"aprove all"}, []string{`error: unknown command "aprove" (did you mean "approve"?)`}},
		{"typo with rule", []string{"rejekt 2 rule 11."}, []string{`error: unknown command "rejekt" (did you mean "reject"?)`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := cmdNormalised(ParseCommands(replyOf(tt.lines...)))
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseCommands(%q)\n got %q\nwant %q", tt.lines, got, tt.want)
			}
		})
	}
}

func TestParseCommandsLinesAndRaw(t *testing.T) {
	r := replyOf("Hi,", "", "  - approve 1-2", "edit 3: a", "b", "aprove 4")
	cmds, errs := ParseCommands(r)
	if len(cmds) != 2 || len(errs) != 1 {
		t.Fatalf("got %d commands, %d errors", len(cmds), len(errs))
	}
	if c := cmds[0]; c.Line != 3 || c.Raw != "  - approve 1-2" {
		t.Errorf("first command at line %d raw %q", c.Line, c.Raw)
	}
	for _, e := range cmds[0].Expand() {
		if e.Line != 3 || e.Raw != "  - approve 1-2" || len(e.Targets) != 1 {
			t.Errorf("expanded %+v", e)
		}
	}
	if c := cmds[1]; c.Line != 4 || c.Text != "a\nb" {
		t.Errorf("edit at line %d text %q", c.Line, c.Text)
	}
	if e := errs[0]; e.Line != 6 || e.Raw != "aprove 4" || e.Reason != `unknown command "aprove" (did you mean "approve"?)` {
		t.Errorf("error %+v", e)
	}
}

func TestCommandString(t *testing.T) {
	tests := []struct {
		c    Command
		want string
	}{
		{Command{Verb: VerbApprove, Targets: []Target{{Number: 3}}}, "approve 3"},
		{Command{Verb: VerbApprove, All: true}, "approve all"},
		{Command{Verb: VerbApprove, Targets: []Target{{ID: 1042}}}, "approve #1042"},
		{Command{Verb: VerbReject, Targets: []Target{{Number: 2}}, Rules: []int{11}}, "reject 2 rule=11"},
		{Command{Verb: VerbReject, Targets: []Target{{Number: 4}}, Reason: "off topic"}, `reject 4 reason="off topic"`},
		{Command{Verb: VerbReject, Targets: []Target{{Number: 2}}, Rules: []int{3, 12}, Reason: "note"}, `reject 2 rule=3 rule=12 reason="note"`},
		{Command{Verb: VerbEdit, Targets: []Target{{Number: 5}}, Text: "a \"b\"\nc"}, `edit 5 text="a \"b\"\nc"`},
		{Command{Verb: VerbHold, Targets: []Target{{Number: 6}}}, "hold 6"},
		{Command{Verb: VerbSpam, Targets: []Target{{Number: 7}}}, "spam 7"},
		{Command{Verb: VerbUndo}, "undo"},
		{Command{Verb: VerbUndo, Targets: []Target{{ID: 1042}}}, "undo #1042"},
		{Command{Verb: VerbReply, Targets: []Target{{Number: 8}}, Text: "thanks"}, `reply 8 text="thanks"`},
		{Command{Verb: VerbApprove, Targets: []Target{{Number: 1}, {Number: 2}}}, "approve 1 2"},
		{Command{Verb: VerbApprove, Targets: []Target{{Number: 3, ID: 1042}}}, "approve 3 (#1042)"},
	}
	for _, tt := range tests {
		if got := tt.c.String(); got != tt.want {
			t.Errorf("String() = %s, want %s", got, tt.want)
		}
	}
	// Expand keeps rules, reason and text on each part.
	c := Command{Verb: VerbReject, Targets: []Target{{Number: 1}, {ID: 9}}, Rules: []int{3}, Reason: "r", Line: 2, Raw: "x"}
	got := c.Expand()
	if len(got) != 2 || got[1].String() != `reject #9 rule=3 reason="r"` || got[1].Line != 2 {
		t.Errorf("Expand() = %v", got)
	}
	got[0].Rules[0] = 99
	if c.Rules[0] != 3 {
		t.Error("Expand shares the Rules slice")
	}
}

// A bare command under a quoted item header carries the number and the
// #id printed there; explicit numbers are left as typed.
func TestBareCommandCarriesQuotedID(t *testing.T) {
	r := Reply{Lines: []ReplyLine{
		{Text: "approve", Item: 3, ItemID: 1042},
		{Text: "reject rule 11: caps", Item: 3, ItemID: 1042},
		{Text: "hold 4", Item: 3, ItemID: 1042},
		{Text: "reply: thanks", Item: 5},
	}}
	got := cmdNormalised(ParseCommands(r))
	want := []string{"approve 3 (#1042)", `reject 3 (#1042) rule=11 reason="caps"`, "hold 4", `reply 5 text="thanks"`}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestFormatCommands(t *testing.T) {
	cmds, errs := ParseCommands(replyOf("approve 1-2", "aprove 3"))
	want := "approve 1\napprove 2\nerror: line \"aprove 3\": unknown command \"aprove\" (did you mean \"approve\"?)\n"
	if got := FormatCommands(cmds, errs); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	if got := FormatCommands(nil, nil); got != "none\n" {
		t.Errorf("got %q for nothing", got)
	}
}

func TestOSADistance(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		d    int
	}{
		{"approve", "approve", 0}, {"aprove", "approve", 1}, {"rejcet", "reject", 1},
		{"", "edit", 4}, {"really", "reply", 2}, {"hodl", "hold", 1}, {"ünd", "und", 1},
	} {
		if got := editdist.OSA(tt.a, tt.b); got != tt.d {
			t.Errorf("editdist.OSA(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.d)
		}
	}
}
