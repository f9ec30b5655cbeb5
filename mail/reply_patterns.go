package mail

// This file holds what ExtractReply recognises in the lines of a reply:
// quote attributions, original-message and forward separators, the header
// blocks mail programs put above an unmarked quote, signatures, and the
// shapes of modbot's own digest that tell which item a quoted line
// belongs to. The phrases are what mail programs write in English, German,
// French, Spanish, Dutch and, where cheap, in other languages. The lines
// of modbot's own mail quoted without marks are recognised from the
// templates (reply_templates.go).

import (
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"modbot/templates"
)

// replyInvisible removes characters that show as nothing: zero-width
// spaces and joiners, the BOM, soft hyphens and the "ᐧ" some tracking
// add-ons put on a line of its own.
var replyInvisible = strings.NewReplacer(
	"\u200b", "", "\u200c", "", "\u200d", "", "\u2060", "",
	"\ufeff", "", "\u00ad", "", "\u1427", "",
)

// replyClean is a line as the recognisers see it: without invisible
// characters and surrounding white space (no-break spaces included).
func replyClean(s string) string {
	if strings.IndexFunc(s, func(r rune) bool { return r >= 0x80 }) >= 0 {
		s = replyInvisible.Replace(s)
	}
	return strings.TrimSpace(s)
}

// isSigDelimiter reports the "-- " line that starts a signature (RFC 3676,
// section 4.3); many programs and people drop the trailing space.
func isSigDelimiter(raw string) bool {
	return strings.TrimRight(raw, " \t") == "--"
}

// isRuleLine reports a line drawn with one repeated character, such as the
// underscores Outlook puts above a quote, "-----", "*****" or the "====="
// that separates the items of a digest. What follows such a line is a
// quote or a signature.
func isRuleLine(s string) bool {
	if len(s) < 2 {
		return false
	}
	c := s[0]
	if strings.IndexByte("-_=*~+#", c) < 0 {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i] != c && !(s[i] == ' ' && c != '#') {
			return false
		}
	}
	return strings.Count(s, string(c)) >= 2
}

// isFence reports a Markdown code fence, inside which nothing is a
// separator or a signature.
func isFence(s string) bool {
	return strings.HasPrefix(s, "```") || strings.HasPrefix(s, "~~~")
}

// separatorRE matches the line above a quoted or forwarded message, e.g.
// "-----Original Message-----" or "---------- Forwarded message ---------".
var separatorRE = regexp.MustCompile(`(?i)^[*_]*-{2,}\s*(` +
	`original message|ursprüngliche nachricht|original-nachricht|originalnachricht|` +
	`message d'origine|message d’origine|message original|mensaje original|` +
	`oorspronkelijk bericht|origineel bericht|oorspronkelijk e-mailbericht|` +
	`messaggio originale|mensagem original|originalmeddelande|opprinnelig melding|` +
	`oprindelig meddelelse|alkuperäinen viesti|původní zpráva|oryginalna wiadomość|` +
	`исходное сообщение|forwarded message|weitergeleitete nachricht|message transféré|` +
	`mensaje reenviado|doorgestuurd bericht|messaggio inoltrato|mensagem encaminhada` +
	`)\s*-{2,}[*_]*$`)

// forwardIntroRE matches Apple Mail's line above a forwarded message.
var forwardIntroRE = regexp.MustCompile(`(?i)^(begin forwarded message|anfang der weitergeleiteten nachricht|` +
	`début du message réexpédié|début du message transféré|inicio del mensaje reenviado|` +
	`begin doorgestuurd bericht|begin van doorgestuurd bericht|inizio messaggio inoltrato)\s*:$`)

// separator reports whether s introduces a quoted or forwarded message.
func separator(s string) bool {
	return separatorRE.MatchString(s) || forwardIntroRE.MatchString(s)
}

// Header field kinds in the block Outlook and others write above an
// unmarked quote ("From: … Sent: … To: … Subject: …").
const (
	hdrOther = iota + 1
	hdrFrom
	hdrDate
	hdrTo
	hdrSubject
)

var headerFieldKinds = map[string]int{
	// From
	"from": hdrFrom, "von": hdrFrom, "de": hdrFrom, "van": hdrFrom, "da": hdrFrom,
	"från": hdrFrom, "fra": hdrFrom, "от": hdrFrom, "od": hdrFrom, "lähettäjä": hdrFrom,
	"absender": hdrFrom, "expéditeur": hdrFrom, "remitente": hdrFrom, "afzender": hdrFrom,
	// Sent, Date
	"sent": hdrDate, "date": hdrDate, "gesendet": hdrDate, "datum": hdrDate,
	"envoyé": hdrDate, "envoyé le": hdrDate, "date d'envoi": hdrDate, "enviado": hdrDate,
	"enviado el": hdrDate, "enviada": hdrDate, "fecha": hdrDate, "verzonden": hdrDate,
	"verstuurd": hdrDate, "inviato": hdrDate, "data": hdrDate, "skickat": hdrDate,
	"sendt": hdrDate, "отправлено": hdrDate, "дата": hdrDate, "wysłano": hdrDate,
	"lähetetty": hdrDate,
	// To
	"to": hdrTo, "an": hdrTo, "à": hdrTo, "a": hdrTo, "para": hdrTo, "aan": hdrTo,
	"till": hdrTo, "til": hdrTo, "кому": hdrTo, "do": hdrTo, "vastaanottaja": hdrTo,
	"empfänger": hdrTo, "destinataire": hdrTo,
	// Subject
	"subject": hdrSubject, "betreff": hdrSubject, "objet": hdrSubject, "asunto": hdrSubject,
	"onderwerp": hdrSubject, "oggetto": hdrSubject, "assunto": hdrSubject, "ämne": hdrSubject,
	"emne": hdrSubject, "тема": hdrSubject, "temat": hdrSubject, "aihe": hdrSubject,
	// Others that may stand in the block
	"cc": hdrOther, "bcc": hdrOther, "kopie": hdrOther, "copie": hdrOther, "kopia": hdrOther,
	"копия": hdrOther, "reply-to": hdrOther, "antwort an": hdrOther, "risposta": hdrOther,
	"répondre à": hdrOther, "responder a": hdrOther, "beantwoorden aan": hdrOther,
	"importance": hdrOther, "wichtigkeit": hdrOther, "priority": hdrOther,
}

// headerFieldRE matches "From: x", "*From:* x", "De : x" (French spacing).
var headerFieldRE = regexp.MustCompile(`^[*_]{0,2}([^\s:*_][^:*]{0,24}?)\s*[*_]{0,2}\s*[:：]`)

// headerFieldKind returns the kind of header field s starts with, or 0.
func headerFieldKind(s string) int {
	m := headerFieldRE.FindStringSubmatch(s)
	if m == nil {
		return 0
	}
	return headerFieldKinds[strings.ToLower(strings.TrimSpace(m[1]))]
}

// attributionVerbs are the words of "X wrote:" in the languages mail
// programs write it in; matched as whole words.
var attributionVerbs = map[string]bool{
	"wrote": true, "writes": true, "schrieb": true, "geschrieben": true,
	"écrit": true, "escribió": true, "escreveu": true, "scritto": true,
	"scrisse": true, "schreef": true, "geschreven": true, "skrev": true,
	"napisał": true, "napisała": true, "napsal": true, "napsala": true,
	"написал": true, "написала": true, "написав": true, "пише": true,
	"kirjoitti": true, "yazdı": true, "írta": true,
}

// attributionSuffixes are attribution verbs written without spaces.
var attributionSuffixes = []string{"写道", "寫道", "のメッセージ", "님이 작성"}

// attributionOpenerRE matches how an attribution line may begin.
var attributionOpenerRE = regexp.MustCompile(`(?i)^(on|at|am|le|el|op|il|em|den|dnia|w dniu|dne|d\.|il giorno)\s`)

var dateishRE = regexp.MustCompile(`\d{1,4}[./-]\d{1,2}[./-]\d{2,4}|\d{1,2}[:.]\d{2}\b`)

// isoDateAttributionRE matches the attribution older Gmail wrote: a date
// and a name, sometimes without any verb ("2016-03-03 17:21 GMT+01:00 Some
// One", "2013/7/20 sam <sam@example.org>").
var isoDateAttributionRE = regexp.MustCompile(`^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}\s`)

// strongAttributionStart reports a line that begins the way attributions
// do ("On …", "Am …", a date, "----"), rather than merely holding an
// address or the word "wrote".
func strongAttributionStart(s string) bool {
	return attributionOpenerRE.MatchString(s) || strings.HasPrefix(s, "--") ||
		s != "" && s[0] >= '0' && s[0] <= '9'
}

// mayStartAttribution reports whether s can be the first line of an
// attribution, so that joining it with the lines after it is worth trying.
func mayStartAttribution(s string) bool {
	if s == "" {
		return false
	}
	if attributionOpenerRE.MatchString(s) || strings.HasPrefix(s, "--") ||
		strings.ContainsRune(s, '@') || s[0] >= '0' && s[0] <= '9' {
		return true
	}
	return hasAttributionVerb(s)
}

func hasAttributionVerb(s string) bool {
	lower := strings.ToLower(s)
	for _, suf := range attributionSuffixes {
		if strings.Contains(lower, suf) {
			return true
		}
	}
	found := false
	replyWords(lower, func(w string) bool {
		found = attributionVerbs[w]
		return !found
	})
	return found
}

// replyWords calls f with each run of letters in s until f returns false.
func replyWords(s string, f func(string) bool) {
	start := -1
	for i, r := range s {
		if unicode.IsLetter(r) {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			if !f(s[start:i]) {
				return
			}
			start = -1
		}
	}
	if start >= 0 {
		f(s[start:])
	}
}

// isAttribution reports whether s, one line or several joined with
// spaces, is the line a mail program writes above a quote: "On <date>,
// <name> wrote:", "Am <date> schrieb <name>:", "Le <date>, <name> a écrit
// :", "El <date>, <name> escribió:", "Op <date> schreef <name>:", "----
// On <date> <name> wrote ----" and the like.
func isAttribution(s string) bool {
	if len(s) > 400 {
		return false
	}
	dashed := false
	if strings.HasPrefix(s, "--") {
		dashed = true
		s = strings.TrimSpace(strings.TrimLeft(s, "-"))
		s = strings.TrimSpace(strings.TrimRight(s, "-"))
	}
	if s == "" {
		return false
	}
	if isoDateAttributionRE.MatchString(s) && len(s) <= 200 &&
		(strings.Contains(s, "GMT") || strings.HasSuffix(s, ">") || strings.HasSuffix(s, ":")) {
		return true
	}
	last, _ := utf8.DecodeLastRuneInString(s)
	if last != ':' && last != '：' && !dashed {
		return false
	}
	if !hasAttributionVerb(s) {
		return false
	}
	return strings.ContainsRune(s, '@') || strings.ContainsAny(s, "0123456789") ||
		attributionOpenerRE.MatchString(s)
}

// isWeakAttribution reports a line that ends in a colon and names an
// address or a date: above a quote it is an attribution even without a
// verb, e.g. `26.06.2014, 14:41, "Alexander L" <a@example.com>:`.
func isWeakAttribution(s string) bool {
	if len(s) > 300 {
		return false
	}
	last, _ := utf8.DecodeLastRuneInString(s)
	if last != ':' && last != '：' {
		return false
	}
	return strings.ContainsRune(s, '@') || dateishRE.MatchString(s)
}

// signatureRE matches the one-line signatures phones and mail apps add.
var signatureRE = regexp.MustCompile(`(?i)^[(<\[]*\s*(` +
	`sent (from|via|with|by|using) .{1,100}|` +
	`get outlook for .{1,60}|` +
	`\S+ from mobile|from my .{1,30}|` +
	`(envoyé|envoye) (de|depuis) (mon|ma|yahoo|l'application|outlook) .{0,60}|` +
	`von meinem .{1,60} gesendet|gesendet von .{1,60}|gesendet mit .{1,60}|` +
	`diese nachricht wurde von .{1,80} gesendet\.?|` +
	`enviado (desde|de|con) .{1,60}|enviada (desde|de) .{1,60}|obtener outlook para .{1,40}|` +
	`verzonden (vanaf|met|van|via) .{1,60}|verstuurd (vanaf|met|van|via) .{1,60}|` +
	`outlook voor (ios|android).{0,40}|` +
	`inviato da .{1,60}|sendt fra .{1,60}|skickat från .{1,60}|` +
	`wysłane z .{1,60}|отправлено с .{1,60}|` +
	`從我的 iphone 傳送|发自我的.{1,30}|iphoneから送信` +
	`)\s*[)>\]]*$`)

// isSignatureLine reports a line that is a phone's or app's signature.
func isSignatureLine(s string) bool {
	if len(s) > 160 {
		return false
	}
	// Markdown links, as some programs write them in the plain part:
	// "Get [Outlook for Android](https://aka.ms/…)".
	s = markdownBrackets.Replace(s)
	return signatureRE.MatchString(s)
}

var markdownBrackets = strings.NewReplacer("[", "", "]", "")

// Quoted digest lines that tell ExtractReply which item an interleaved
// line answers. They are matched at the very start of the line after its
// quote markers: the digest prints them there, and indents or bars every
// line that carries what a commenter wrote.
var (
	// digestItemHeaderRE is an item header as the text part prints it
	// ("3. #1042 — ") and as the HTML part's heading reads as text ("3
	// #1042 — "): a number without leading zeros, the stable id, an em
	// dash.
	digestItemHeaderRE = regexp.MustCompile(`^([1-9][0-9]{0,5})\.? #([1-9][0-9]{0,15}) — `)
	digestFeedbackRE   = regexp.MustCompile(`^(\d{1,6})\.? From \S`)
	digestHTMLFbRE     = regexp.MustCompile(`^(\d{1,6}) \S`)
)

// digestItemHeader reads the number and the #id of a quoted item header;
// raw is the line after its quote markers, not trimmed.
func digestItemHeader(raw string) (number int, id int64, ok bool) {
	m := digestItemHeaderRE.FindStringSubmatch(raw)
	if m == nil {
		return 0, 0, false
	}
	id, err := strconv.ParseInt(m[2], 10, 64)
	if err != nil {
		return 0, 0, false
	}
	return atoiSmall(m[1]), id, true
}

// isDataLine reports a quoted line of commenter data; clean is the line
// as replyClean leaves it.
func isDataLine(clean string) bool {
	return strings.HasPrefix(clean, templates.DataBar)
}

// digestSection reports a quoted heading of a digest section: after it,
// lines no longer answer the item above. feedback is set for the section
// that lists feedback messages.
func digestSection(s string) (feedback, ok bool) {
	lower := strings.ToLower(s)
	switch {
	case strings.HasPrefix(lower, "feedback for the moderators"):
		return true, true
	case strings.HasPrefix(lower, "decided by other moderators"),
		lower == "how to reply":
		return false, true
	}
	return false, false
}
