package precheck

// The seed site's rule numbers and short titles for the checks written in
// Go. A check's zero value uses them; a ruleset sets its own.
const (
	RuleLabels        = 4
	RuleRepetition    = 10
	RuleCapitals      = 11
	RuleLinks         = 12
	RuleNames         = 14
	RuleDisplayName   = 15
	RuleAbbreviations = 18
	RuleEmail         = 19
	RuleArrestLinks   = 21
	RuleAddressing    = 22

	TitleLabels        = "No derogatory labels; use person-first language"
	TitleRepetition    = "No repetitive or lengthy copied text"
	TitleCapitals      = "Please do not post in all Caps"
	TitleLinks         = "Full links only, no abbreviated / obfuscated links"
	TitleNames         = "No names that are not in the article"
	TitleDisplayName   = "Short user name: no links, no real names"
	TitleAbbreviations = "Expand an abbreviation the first time it is used"
	TitleEmail         = "A real email address is required"
	TitleArrestLinks   = "No links to articles about arrests or accusations"
	TitleAddressing    = "Address commenters by their exact display name"
)

// orDefault returns v, or def when v is the zero value.
func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// orDefaultSlice returns v, or def when v is nil (an empty list is a
// list).
func orDefaultSlice(v, def []string) []string {
	if v == nil {
		return def
	}
	return v
}
