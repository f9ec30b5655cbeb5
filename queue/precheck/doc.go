// Package precheck runs automatic checks of a comment against the site's
// rules before a moderator sees it. Each hit names the rule, quotes the
// evidence as a byte span of the comment, and says in one line why it
// matched, so the digest can show the moderator what to look at.
//
// Checks only advise: they never approve or reject anything, and they must
// not do I/O or keep state between calls. The package must not import
// mail, queue or templates; the queue calls it with plain strings.
package precheck
