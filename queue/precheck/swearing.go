package precheck

// Swearing finds swear words that are not starred out: a Terms check with
// the rule-3 defaults. Words are matched whole ("Scunthorpe", "assessment"
// and "class" are fine), case-folded, with leetspeak ("sh1t", "@ss",
// "$hit"), spaced letters ("s h i t") and stretched letters ("shiiit")
// folded first. A word with a star in it is already starred out ("f*k",
// "s*t", "a**") unless the stars only wrap it ("*shit*").
// The zero value uses the defaults.
type Swearing struct {
	Rule     int      // default RuleSwearing
	Title    string   // default TitleSwearing
	Severity Severity // default Flag

	// Words are matched as whole words, plurals included (default
	// DefaultSwearWords).
	Words []string
	// Stems are matched anywhere inside a word, for roots that make
	// compounds but hide in no innocent word (default DefaultSwearStems).
	Stems []string
	// Innocent words contain a stem but are not swearing (default
	// DefaultInnocentWords).
	Innocent []string
	// Names are words that are also first names: written with a capital
	// in the middle of a sentence ("Dick Cheney") they are not counted
	// (default DefaultSwearNames).
	Names []string
	// Explain is the explanation, as for Terms (default "swear word not
	// starred out (starred: {starred})").
	Explain string

	compiled compiledTerms
}

// DefaultSwearWords are the whole words Swearing looks for.
var DefaultSwearWords = []string{
	"ass", "asses", "assed", "asshole", "assholes", "arse", "arsehole", "arseholes",
	"dumbass", "jackass", "smartass", "badass", "halfassed",
	"bitch", "bitches", "bitched", "bitching", "bitchy",
	"bastard", "bastards",
	"bollocks",
	"crap", "craps", "crapped", "crapping", "crappy",
	"cunt", "cunts",
	"damn", "damned", "damnit", "dammit", "goddamn", "goddamned", "goddam",
	"dick", "dicks", "dickhead", "dickheads",
	"piss", "pissed", "pisses", "pissing",
	"twat", "twats", "wanker", "wankers",
	"wtf", "stfu",
}

// DefaultSwearStems are matched inside words, so "motherfucking" and
// "bullshit" need no entry of their own.
var DefaultSwearStems = []string{"fuck", "shit"}

// DefaultInnocentWords contain a stem and are not swearing.
var DefaultInnocentWords = []string{"shiitake", "shitake", "shittim", "shittah"}

// DefaultSwearNames are swear words that are also first names.
var DefaultSwearNames = []string{"dick", "dicks"}

func (s *Swearing) terms() *termSet {
	return s.compiled.get(func() *termSet {
		return newTermSet(orDefaultSlice(s.Words, DefaultSwearWords), orDefaultSlice(s.Stems, DefaultSwearStems),
			orDefaultSlice(s.Innocent, DefaultInnocentWords), orDefaultSlice(s.Names, DefaultSwearNames), nil)
	})
}

// Check implements Check. A Swearing must not be copied after its first
// Check.
func (s *Swearing) Check(in *Input) []Hit { return checkTerms(s, &s.compiled, in) }

func (s *Swearing) termHits(t *text, ms []termMatch) []Hit {
	explain := orDefault(s.Explain, "swear word not starred out (starred: {starred})")
	return s.terms().hits(t, ms, func(h *Hit, term int) {
		h.Rule = orDefault(s.Rule, RuleSwearing)
		h.Title = orDefault(s.Title, TitleSwearing)
		h.Severity = orDefault(s.Severity, Flag)
		h.Explanation = s.terms().explain(explain, h.Evidence, term)
	})
}

func orDefaultSlice(v, def []string) []string {
	if v == nil {
		return def
	}
	return v
}
