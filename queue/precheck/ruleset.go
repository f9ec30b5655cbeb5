package precheck

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/pelletier/go-toml/v2"
)

// Rule is one of a site's comment rules, as commenters read it.
type Rule struct {
	Number   int
	Title    string   // short form, for digests
	Text     string   // the full text, quoted in rejection notices
	Severity Severity // of the rule's hits, unless a check sets its own
}

// Ruleset is a site's rules and the checks for them, loaded from TOML.
// It is immutable and safe for concurrent use.
type Ruleset struct {
	rules  []*ruleSpec // by number
	engine *Engine
}

// Engine returns the engine running the ruleset's checks.
func (r *Ruleset) Engine() *Engine { return r.engine }

// Rules returns the rules by number, those without checks included.
func (r *Ruleset) Rules() map[int]Rule {
	out := make(map[int]Rule, len(r.rules))
	for _, s := range r.rules {
		out[s.Number] = Rule{Number: s.Number, Title: s.Title, Text: s.Text, Severity: Severity(s.Severity)}
	}
	return out
}

//go:embed default_rules.toml
var defaultRulesTOML []byte

// DefaultRulesFile is the name the default ruleset has in errors.
const DefaultRulesFile = "default_rules.toml"

var defaultRuleset = sync.OnceValue(func() *Ruleset {
	rs, err := parseRuleset(DefaultRulesFile, defaultRulesTOML, nil)
	if err != nil {
		panic("precheck: the built-in ruleset is broken: " + err.Error())
	}
	return rs
})

// DefaultRuleset returns the built-in ruleset: the seed site's 22 rules.
func DefaultRuleset() *Ruleset { return defaultRuleset() }

// DefaultRulesTOML returns the text of the built-in ruleset, for admins
// to read and copy from (modbot check -print-rules prints it).
func DefaultRulesTOML() []byte { return bytes.Clone(defaultRulesTOML) }

// LoadRuleset reads a site's ruleset file. Unless the file says
// base = "none", its rules override and extend the default ruleset by
// rule number. path "" returns the default ruleset. Errors name the file
// and line.
func LoadRuleset(path string) (*Ruleset, error) {
	if path == "" {
		return DefaultRuleset(), nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read ruleset: %w", err)
	}
	return ParseRuleset(path, data)
}

// ParseRuleset is LoadRuleset for a file already read; name is used in
// errors.
func ParseRuleset(name string, data []byte) (*Ruleset, error) {
	return parseRuleset(name, data, DefaultRuleset())
}

// RulesetError is a problem in a ruleset file.
type RulesetError struct {
	File   string
	Line   int // 0 when unknown
	Reason string
}

func (e *RulesetError) Error() string {
	if e.Line == 0 {
		return e.File + ": " + e.Reason
	}
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Reason)
}

// rulesetFile is the TOML document.
type rulesetFile struct {
	// Base is "default" (build on the default ruleset) or "none".
	Base  string      `toml:"base"`
	Rules []*ruleSpec `toml:"rule"`
}

type ruleSpec struct {
	Number   int          `toml:"number"`
	Title    string       `toml:"title"`
	Text     string       `toml:"text"`
	Severity string       `toml:"severity"`
	Enabled  *bool        `toml:"enabled"`
	Checks   []*checkSpec `toml:"check"`

	at place // where it was written
}

// place is where a table was written: its file, index and path.
type place struct {
	file string
	idx  *tomlIndex
	path string
}

func (p place) errorf(key, format string, args ...any) *RulesetError {
	line := 0
	if p.idx != nil {
		line = p.idx.line(join(p.path, key))
	}
	return &RulesetError{File: p.file, Line: line, Reason: fmt.Sprintf(format, args...)}
}

// set reports whether the table sets key.
func (p place) set(key string) bool { return p.idx != nil && p.idx.has(p.path, key) }

// parseRuleset decodes data and lays it over base (nil: none).
func parseRuleset(name string, data []byte, base *Ruleset) (*Ruleset, error) {
	var f rulesetFile
	dec := toml.NewDecoder(bytes.NewReader(data)).DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, decodeError(name, err)
	}
	idx := indexTOML(data)
	var errs []error
	switch f.Base {
	case "", "default":
	case "none":
		base = nil
	default:
		errs = append(errs, place{name, idx, ""}.errorf("base", "base %q is not one of \"default\", \"none\"", f.Base))
	}
	seen := map[int]bool{}
	for i, r := range f.Rules {
		r.at = place{name, idx, fmt.Sprintf("rule[%d]", i)}
		switch {
		case !r.at.set("number"):
			errs = append(errs, r.at.errorf("", "rule without a number"))
			continue
		case r.Number < 1 || r.Number > 999:
			errs = append(errs, r.at.errorf("number", "rule number %d is not between 1 and 999", r.Number))
			continue
		case seen[r.Number]:
			errs = append(errs, r.at.errorf("number", "rule %d is defined twice in this file", r.Number))
			continue
		}
		seen[r.Number] = true
		for j, c := range r.Checks {
			c.at = place{name, idx, fmt.Sprintf("%s.check[%d]", r.at.path, j)}
			errs = append(errs, c.checkKeys(r.Number)...)
		}
	}
	if len(errs) > 0 {
		return nil, joinSorted(errs)
	}
	rules, errs := merge(base, f.Rules)
	if len(errs) > 0 {
		return nil, joinSorted(errs)
	}
	var checks []Check
	for _, r := range rules {
		if r.Enabled != nil && !*r.Enabled {
			continue
		}
		for _, c := range r.Checks {
			ck, cerrs := c.build(r)
			errs = append(errs, cerrs...)
			if ck != nil {
				checks = append(checks, ck)
			}
		}
	}
	if len(errs) > 0 {
		return nil, joinSorted(errs)
	}
	return &Ruleset{rules: rules, engine: New(checks...)}, nil
}

// merge lays the file's rules over base's: a rule's title, text,
// severity and enabled replace base's when set; a check replaces or
// extends the base check of the same id (or kind), or is added.
func merge(base *Ruleset, file []*ruleSpec) ([]*ruleSpec, []error) {
	byNum := map[int]*ruleSpec{}
	if base != nil {
		for _, r := range base.rules {
			byNum[r.Number] = r
		}
	}
	var errs []error
	for _, r := range file {
		old, ok := byNum[r.Number]
		if !ok {
			if r.Title == "" {
				errs = append(errs, r.at.errorf("", "rule %d: a new rule needs a title", r.Number))
			}
			nr := *r
			nr.Text = orDefault(r.Text, r.Title)
			nr.Severity = orDefault(r.Severity, string(Flag))
			byNum[r.Number] = &nr
			continue
		}
		nr := *old
		nr.Checks = slices.Clone(old.Checks)
		nr.at = r.at
		if r.at.set("title") {
			nr.Title = r.Title
		}
		if r.at.set("text") {
			nr.Text = r.Text
		}
		if r.at.set("severity") {
			nr.Severity = r.Severity
		}
		if r.Enabled != nil {
			nr.Enabled = r.Enabled
		}
		for _, c := range r.Checks {
			k, err := findCheck(nr.Checks, c)
			switch {
			case err != nil:
				errs = append(errs, err)
			case k < 0:
				nr.Checks = append(nr.Checks, c)
			case c.Replace:
				nr.Checks[k] = c
			default:
				nr.Checks[k] = mergeCheck(nr.Checks[k], c)
			}
		}
		byNum[r.Number] = &nr
	}
	var rules []*ruleSpec
	for _, r := range byNum {
		rules = append(rules, r)
	}
	sort.Slice(rules, func(i, j int) bool { return rules[i].Number < rules[j].Number })
	for _, r := range rules {
		switch Severity(r.Severity) {
		case Note, Flag, Hold:
		default:
			errs = append(errs, r.at.errorf("severity", "rule %d: severity %q is not one of note, flag, hold", r.Number, r.Severity))
		}
		if strings.TrimSpace(r.Title) == "" {
			errs = append(errs, r.at.errorf("title", "rule %d: empty title", r.Number))
		}
	}
	return rules, errs
}

// findCheck returns the index of the check in checks that c overrides
// or extends, or -1.
func findCheck(checks []*checkSpec, c *checkSpec) (int, error) {
	found := -1
	for k, o := range checks {
		switch {
		case c.ID != "" && o.ID == c.ID:
			return k, nil
		case c.ID == "" && o.Kind == c.Kind:
			if found >= 0 {
				return 0, c.at.errorf("kind", "the rule has several checks of kind %q: give this one the id of the one it changes", c.Kind)
			}
			found = k
		}
	}
	return found, nil
}

// decodeError turns go-toml's errors into RulesetErrors with lines.
func decodeError(name string, err error) error {
	var strict *toml.StrictMissingError
	if errors.As(err, &strict) {
		var errs []error
		for _, e := range strict.Errors {
			row, _ := e.Position()
			errs = append(errs, &RulesetError{File: name, Line: row, Reason: fmt.Sprintf("unknown key %q", strings.Join(e.Key(), "."))})
		}
		return errors.Join(errs...)
	}
	var de *toml.DecodeError
	if errors.As(err, &de) {
		row, _ := de.Position()
		// go-toml names Go types; say what the file got wrong instead.
		reason := goType.ReplaceAllString(strings.TrimPrefix(de.Error(), "toml: "), "$1")
		if k := de.Key(); len(k) > 0 {
			reason = strings.Join(k, ".") + ": " + reason
		}
		return &RulesetError{File: name, Line: row, Reason: reason}
	}
	return &RulesetError{File: name, Reason: err.Error()}
}

var goType = regexp.MustCompile(`struct field \S+ of type (\S+)`)

// joinSorted joins errors in the order of their lines.
func joinSorted(errs []error) error {
	slices.SortStableFunc(errs, func(a, b error) int {
		var ra, rb *RulesetError
		if errors.As(a, &ra) && errors.As(b, &rb) {
			return ra.Line - rb.Line
		}
		return 0
	})
	return errors.Join(errs...)
}
