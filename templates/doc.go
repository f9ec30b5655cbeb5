// Package templates holds every text a person reads: the moderators'
// digest now, and later the confirmations, notifications and web pages.
// The texts are template files embedded in the binary; a site can replace
// any of them by putting a file of the same name in an override directory.
//
// A message named "x" is three files: x.subject.tmpl and x.txt.tmpl
// (text/template) and x.html.tmpl (html/template, optional). Adding one
// is adding the files, a data type and a method that calls Set.render.
//
// The package only renders: it must not import mail or queue, read mail,
// or decide anything. Its data types are plain copies of what it shows.
package templates
