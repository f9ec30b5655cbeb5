package precheck

import (
	"strings"
	"testing"
)

func TestCapitals(t *testing.T) {
	long := strings.Repeat("This sentence is written in an ordinary calm voice. ", 6)
	runEvidenceCases(t, &Capitals{}, []evidenceCase{
		{"empty", "", nil},
		{"calm", "I think the government wants to read our messages.", nil},
		{"one acronym", "Why not just pass all internet data through the NSA? Just a straight up KGB?", nil},
		{"acronyms in a row", "The FBI, CIA and NSA all agree.", nil},
		{"short shout", "NO WAY!", nil},
		{"shout under the minimum", "STOP THIS NOW", nil},
		{"whole comment", "  THIS IS AN OUTRAGE AND EVERYONE SHOULD KNOW IT!\n", []string{"THIS IS AN OUTRAGE AND EVERYONE SHOULD KNOW IT!"}},
		{"whole with a few lower", "THE GOVERNMENT is LYING TO ALL OF US ABOUT THIS", []string{"THE GOVERNMENT is LYING TO ALL OF US ABOUT THIS"}},
		{"mostly lower with caps words", "The NCA and the FBI and the KGB, and maybe the NSA, are all the same to me.", nil},
		{"numbers do not count", "1234567890 1234567890 1234567890 OK", nil},
		{"one paragraph of a long comment",
			long + "\n\nTHEY WILL NEVER STOP SPYING ON US. NEVER!\n\n" + long,
			[]string{"THEY WILL NEVER STOP SPYING ON US. NEVER!"}},
		{"shouted sentence inside a paragraph",
			long + "AND THAT IS WHY I WILL NOT COMPLY. " + long,
			[]string{"AND THAT IS WHY I WILL NOT COMPLY."}},
		{"hard-wrapped shouted paragraph",
			long + "\n\nTHIS IS WRAPPED\nACROSS SEVERAL LINES\nOF MAIL TEXT\n\n" + long,
			[]string{"THIS IS WRAPPED\nACROSS SEVERAL LINES\nOF MAIL TEXT"}},
		{"two shouted paragraphs",
			"I AM VERY ANGRY ABOUT ALL OF THIS.\n\n" + long + "\n\nAND I WILL SAY IT AGAIN LOUDLY!",
			[]string{"I AM VERY ANGRY ABOUT ALL OF THIS.", "AND I WILL SAY IT AGAIN LOUDLY!"}},
		{"U.S. does not break a shout", long + "THE U.S. GOVERNMENT IS WATCHING YOU. " + long, []string{"THE U.S. GOVERNMENT IS WATCHING YOU."}},
		{"greek capitals", "ΑΥΤΟ ΕΙΝΑΙ ΑΠΑΡΑΔΕΚΤΟ ΚΑΙ ΝΤΡΟΠΗ", []string{"ΑΥΤΟ ΕΙΝΑΙ ΑΠΑΡΑΔΕΚΤΟ ΚΑΙ ΝΤΡΟΠΗ"}},
		{"german lower", "Das ist eine ganz normale Äußerung über Überwachung.", nil},
		{"uncased script", "这是一个很长的中文评论，没有大小写字母，所以不能算是大写。", nil},
		{"title case", "This Is Written In Title Case For Some Reason Or Other", nil},
	})
}

func TestCapitalsOptions(t *testing.T) {
	c := &Capitals{Rule: 7, Title: "Loud", Severity: Hold, MinLetters: 5, MinShare: 0.9}
	hits := New(c).Run(&Input{Body: "Quiet words here. STOP IT."})
	if len(hits) != 1 || hits[0].Evidence != "STOP IT." || hits[0].Rule != 7 || hits[0].Title != "Loud" || hits[0].Severity != Hold {
		t.Fatalf("hits = %+v", hits)
	}
	if !strings.Contains(hits[0].Explanation, "100%") {
		t.Errorf("explanation %q does not give the share", hits[0].Explanation)
	}
}
