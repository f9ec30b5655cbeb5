package mail

import (
	"reflect"
	"testing"
)

func TestParseAdminCommands(t *testing.T) {
	lines := []string{"Block Spammer@Evil.Example", "unblock friend@people.example", "add moderator carol@mods.example",
		"remove moderator bob@mods.example", "pause digests", "resume digests", "Thanks for the report!", "block", "block not-an-address",
		"add moderator", "pause everything"}
	var r Reply
	for _, l := range lines {
		r.Lines = append(r.Lines, ReplyLine{Text: l})
	}
	cmds, errs := ParseAdminCommands(r)
	var got []string
	for _, c := range cmds {
		got = append(got, string(c.Verb)+" "+c.Addr)
	}
	want := []string{"block spammer@evil.example", "unblock friend@people.example", "add moderator carol@mods.example",
		"remove moderator bob@mods.example", "pause digests ", "resume digests "}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("commands %q, want %q", got, want)
	}
	if len(errs) != 4 {
		t.Errorf("errors %+v, want 4 (block, block not-an-address, add moderator, pause everything)", errs)
	}
}
