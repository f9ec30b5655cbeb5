// Package templates holds every text a person reads: the moderators'
// digests and confirmations, the notices to commenters and readers, the
// admins' reports, escalations, refused-digest notes and command
// confirmations, the web pages, the Atom feed's titles, the subject of the
// mail the comment form sends, and what `modbot demo` prints. The texts
// are template files embedded in the binary; a site can replace any of
// them by putting a file of the same name in an override directory
// (templates.dir). Two kinds of text are still made in Go: the reasons
// modbot gives (why a command was not applied, why a message is
// feedback), which the templates quote as data, and the note beside a
// quarantined message, which queue writes whole.
//
// A message named "x" is x.subject.tmpl and x.txt.tmpl (text/template)
// and, optionally, x.html.tmpl (html/template). Adding one is adding the
// files, a data type and a method that calls Set.render. A web page is
// page_<name>.html.tmpl inside the layout page.html.tmpl (see web.go).
//
// The package only renders: it must not import mail or queue, read mail,
// or decide anything. Its data types are plain copies of what it shows.
package templates
