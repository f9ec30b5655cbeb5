package precheck

// The seed site's rule numbers and short titles for the built-in checks.
// A site's own ruleset (a later TOML file) overrides them per check.
const (
	RuleSwearing = 3
	RuleCapitals = 11
	RuleLinks    = 12

	TitleSwearing = "Swear words should be starred out"
	TitleCapitals = "Please do not post in all Caps"
	TitleLinks    = "Full links only, no abbreviated / obfuscated links"
)

// orDefault returns v, or def when v is the zero value.
func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}
