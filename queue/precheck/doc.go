// Package precheck runs automatic checks of a comment against the site's
// rules before a moderator sees it. Each hit names the rule, quotes the
// evidence as a byte span of the comment, and says in one line why it
// matched, so the digest can show the moderator what to look at.
//
// A Ruleset, read from TOML (LoadRuleset), holds the site's rules (number,
// title, full text, severity) and the checks for each, built from a
// library of check kinds, each named by its kind key (kinds.go): terms
// (Terms; rule 3's swear words are one), labels (Labels), capitals,
// links, names, display_name, abbreviations, email, arrest_links,
// addressing and repetition (Capitals, Links, Names, DisplayName,
// Abbreviations, Email, ArrestLinks, Addressing, Repetition). The built-in
// ruleset (DefaultRuleset, default_rules.toml) covers the seed site's 22
// rules; a site's file overrides and extends it by rule number. An Engine
// runs the checks; it scans a comment's words once for the term lists of
// all of them, checks at most MaxCheckedBytes of a comment, and keeps at
// most MaxHitsPerRule hits of a rule and MaxHitsPerComment in all.
//
// Checks only advise: they never approve or reject anything, and they must
// not do I/O or keep state between calls (LoadRuleset reads its file once,
// at start). The package must not import mail, queue or templates; the
// queue calls it with plain strings.
package precheck
