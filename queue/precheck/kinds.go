package precheck

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
)

// checkSpec is one [[rule.check]] table. Which keys a check may set
// depends on its kind (kinds below).
type checkSpec struct {
	Kind     string `toml:"kind"`
	ID       string `toml:"id"`
	Replace  bool   `toml:"replace"`
	Severity string `toml:"severity"`
	Explain  string `toml:"explain"`

	Terms  []string          `toml:"terms"`
	Stems  []string          `toml:"stems"`
	Allow  []string          `toml:"allow"`
	Names  []string          `toml:"names"`
	Labels map[string]string `toml:"labels"`

	MinLetters int     `toml:"min_letters"`
	MinShare   float64 `toml:"min_share"`

	Shorteners    []string `toml:"shorteners"`
	PlainSeverity string   `toml:"plain_severity"`

	FirstNames []string `toml:"first_names"`
	Titles     []string `toml:"titles"`
	NotNames   []string `toml:"not_names"`
	MaxLength  int      `toml:"max_length"`

	Common []string `toml:"common"`

	PlaceholderDomains []string `toml:"placeholder_domains"`
	PlaceholderLocals  []string `toml:"placeholder_locals"`
	DisposableDomains  []string `toml:"disposable_domains"`

	ContextSeverity string `toml:"context_severity"`
	MaxDistance     int    `toml:"max_distance"`

	MinChars        int     `toml:"min_chars"`
	Similarity      float64 `toml:"similarity"`
	BlockChars      int     `toml:"block_chars"`
	RepeatChars     int     `toml:"repeat_chars"`
	ArticleChars    int     `toml:"article_chars"`
	ArticleSeverity string  `toml:"article_severity"`

	at place
}

// commonKeys may be set in a check of any kind.
var commonKeys = []string{"kind", "id", "replace", "severity"}

// kinds lists the check kinds and the keys each takes besides commonKeys.
var kinds = map[string][]string{
	"terms":         {"terms", "stems", "allow", "names", "explain"},
	"labels":        {"labels", "allow", "explain"},
	"capitals":      {"min_letters", "min_share"},
	"links":         {"shorteners", "plain_severity"},
	"names":         {"first_names", "titles", "not_names", "allow", "explain"},
	"display_name":  {"max_length", "first_names"},
	"abbreviations": {"common"},
	"email":         {"placeholder_domains", "placeholder_locals", "disposable_domains"},
	"arrest_links":  {"terms", "allow", "context_severity"},
	"addressing":    {"max_distance"},
	"repetition":    {"min_chars", "similarity", "block_chars", "repeat_chars", "article_chars", "article_severity"},
}

func kindNames() string {
	return strings.Join(slices.Sorted(maps.Keys(kinds)), ", ")
}

// checkKeys checks the check's kind and that it sets only keys its kind
// takes.
func (c *checkSpec) checkKeys(rule int) []error {
	if !c.at.set("kind") {
		return []error{c.at.errorf("", "rule %d: a check needs a kind (one of %s)", rule, kindNames())}
	}
	keys, ok := kinds[c.Kind]
	if !ok {
		return []error{c.at.errorf("kind", "rule %d: unknown check kind %q (want one of %s)", rule, c.Kind, kindNames())}
	}
	var errs []error
	for _, k := range c.at.idx.keys[c.at.path] {
		if !slices.Contains(commonKeys, k) && !slices.Contains(keys, k) {
			errs = append(errs, c.at.errorf(k, "rule %d: a %s check has no key %q (it takes %s)",
				rule, c.Kind, k, strings.Join(append(slices.Clone(commonKeys), keys...), ", ")))
		}
	}
	return errs
}

// mergeCheck returns old with the keys over sets laid over it: lists are
// extended, maps merged, other values replaced.
func mergeCheck(old, over *checkSpec) *checkSpec {
	merged := *old
	mv := reflect.ValueOf(&merged).Elem()
	ov := reflect.ValueOf(over).Elem()
	t := mv.Type()
	for i := range t.NumField() {
		key := strings.Split(t.Field(i).Tag.Get("toml"), ",")[0]
		if key == "" || key == "-" || key == "replace" || !over.at.set(key) {
			continue
		}
		f, o := mv.Field(i), ov.Field(i)
		switch f.Kind() {
		case reflect.Slice:
			f.Set(reflect.AppendSlice(reflect.AppendSlice(reflect.MakeSlice(f.Type(), 0, f.Len()+o.Len()), f), o))
		case reflect.Map:
			m := reflect.MakeMap(f.Type())
			for _, src := range []reflect.Value{f, o} {
				it := src.MapRange()
				for it.Next() {
					m.SetMapIndex(it.Key(), it.Value())
				}
			}
			f.Set(m)
		default:
			f.Set(o)
		}
	}
	merged.at = over.at
	return &merged
}

// build makes the check, or says what is wrong with its values.
func (c *checkSpec) build(r *ruleSpec) (Check, []error) {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, c.at.errorf(key, "rule %d: %s check: %s", r.Number, c.Kind, fmt.Sprintf(format, args...)))
	}
	sev := func(key, v string, def Severity) Severity {
		if v == "" {
			return def
		}
		switch s := Severity(v); s {
		case Note, Flag, Hold:
			return s
		}
		bad(key, "severity %q is not one of note, flag, hold", v)
		return def
	}
	terms := func(key string, list []string, stem bool) {
		for _, t := range list {
			if why := checkTerm(t, stem); why != "" {
				bad(key, "%q %s", t, why)
			}
		}
	}
	positive := func(key string, v int) {
		if v < 0 {
			bad(key, "must not be negative")
		}
	}
	share := func(key string, v float64) {
		if v < 0 || v > 1 {
			bad(key, "%v is not between 0 and 1", v)
		}
	}
	severity := sev("severity", c.Severity, Severity(r.Severity))
	var ck Check
	switch c.Kind {
	case "terms":
		if len(c.Terms) == 0 && len(c.Stems) == 0 {
			bad("terms", "no terms or stems")
		}
		terms("terms", c.Terms, false)
		terms("stems", c.Stems, true)
		terms("allow", c.Allow, false)
		ck = &Terms{Rule: r.Number, Title: r.Title, Severity: severity, Terms: c.Terms, Stems: c.Stems,
			Allow: c.Allow, Names: c.Names, Explain: c.Explain}
	case "labels":
		if len(c.Labels) == 0 {
			bad("labels", "no labels")
		}
		for l, alt := range c.Labels {
			if why := checkTerm(l, false); why != "" {
				bad("labels", "%q %s", l, why)
			}
			if strings.TrimSpace(alt) == "" {
				bad("labels", "%q has no person-first alternative", l)
			}
		}
		terms("allow", c.Allow, false)
		ck = &Labels{Rule: r.Number, Title: r.Title, Severity: severity, Labels: c.Labels, Allow: c.Allow, Explain: c.Explain}
	case "capitals":
		positive("min_letters", c.MinLetters)
		share("min_share", c.MinShare)
		ck = &Capitals{Rule: r.Number, Title: r.Title, Severity: severity, MinLetters: c.MinLetters, MinShare: c.MinShare}
	case "links":
		ck = &Links{Rule: r.Number, Title: r.Title, Severity: severity,
			PlainSeverity: sev("plain_severity", c.PlainSeverity, Note), Shorteners: nilIfEmpty(c.Shorteners)}
	case "names":
		ck = &Names{Rule: r.Number, Title: r.Title, Severity: severity, FirstNames: c.FirstNames,
			Titles: c.Titles, NotNames: c.NotNames, Allow: c.Allow, Explain: c.Explain}
	case "display_name":
		positive("max_length", c.MaxLength)
		ck = &DisplayName{Rule: r.Number, Title: r.Title, Severity: severity, MaxLength: c.MaxLength, FirstNames: c.FirstNames}
	case "abbreviations":
		ck = &Abbreviations{Rule: r.Number, Title: r.Title, Severity: severity, Common: nilIfEmpty(c.Common)}
	case "email":
		ck = &Email{Rule: r.Number, Title: r.Title, Severity: severity,
			PlaceholderDomains: nilIfEmpty(c.PlaceholderDomains), PlaceholderLocals: nilIfEmpty(c.PlaceholderLocals),
			DisposableDomains: nilIfEmpty(c.DisposableDomains)}
	case "arrest_links":
		if len(c.Terms) == 0 {
			bad("terms", "no terms")
		}
		terms("terms", c.Terms, false)
		terms("allow", c.Allow, false)
		ck = &ArrestLinks{Rule: r.Number, Title: r.Title, Severity: severity,
			ContextSeverity: sev("context_severity", c.ContextSeverity, Flag), Terms: c.Terms, Allow: c.Allow}
	case "addressing":
		positive("max_distance", c.MaxDistance)
		ck = &Addressing{Rule: r.Number, Title: r.Title, Severity: severity, MaxDistance: c.MaxDistance}
	case "repetition":
		positive("min_chars", c.MinChars)
		positive("block_chars", c.BlockChars)
		positive("repeat_chars", c.RepeatChars)
		positive("article_chars", c.ArticleChars)
		share("similarity", c.Similarity)
		ck = &Repetition{Rule: r.Number, Title: r.Title, Severity: severity, MinChars: c.MinChars,
			Similarity: c.Similarity, BlockChars: c.BlockChars, RepeatChars: c.RepeatChars, ArticleChars: c.ArticleChars,
			ArticleSeverity: sev("article_severity", c.ArticleSeverity, Note)}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return ck, nil
}

// nilIfEmpty makes an unset list nil, so the check uses its default.
func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}
