package bench

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

var sentences = []string{
	"End-to-end encryption protects everyone, children included.",
	"The government wants a back door and calls it safety.",
	"Law enforcement has other tools; they just need to use them.",
	"I have been on the registry for twelve years and I still read every article here.",
	"Please read the full report before jumping to conclusions: https://www.eff.org/deeplinks/2023/12/encryption",
	"My probation officer never once asked about messaging apps.",
	"THIS IS WHY WE CANNOT TRUST THEM WITH OUR PRIVATE MESSAGES.",
	"Meta said the rollout will take months for a billion users.",
	"What a load of s*t from the Home Office again.",
	"Thanks to the moderators for keeping this forum civil.",
}

// submission makes the n-th benchmark message: a few KB of plain text,
// the post named by plus address, the way most commenters send it.
func submission(r *rand.Rand, n int) []byte {
	var body strings.Builder
	paras := 4 + r.IntN(9)
	for p := 0; p < paras; p++ {
		for s := 0; s < 4+r.IntN(6); s++ {
			body.WriteString(sentences[r.IntN(len(sentences))])
			body.WriteByte(' ')
		}
		body.WriteString("\r\n\r\n")
	}
	return []byte(fmt.Sprintf("Return-Path: <c%d@people.example>\r\n"+
		"Delivered-To: moderator+uk-meta-encryption@forum.example\r\n"+
		"From: Commenter %d <c%d@people.example>\r\n"+
		"To: moderator+uk-meta-encryption@forum.example\r\n"+
		"Subject: Re: UK accuses Meta (%d)\r\n"+
		"Message-ID: <bench-%d@people.example>\r\n"+
		"Date: Mon, 02 Jan 2026 15:04:05 +0000\r\n"+
		"MIME-Version: 1.0\r\n"+
		"Content-Type: text/plain; charset=utf-8; format=flowed\r\n"+
		"Content-Transfer-Encoding: 8bit\r\n"+
		"\r\n%s", n%97, n%97, n%97, n, n, body.String()))
}
