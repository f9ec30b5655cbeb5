// Package web serves modbot's two HTTP listeners. The public one holds
// the comment side of the site: each post's page with its published
// comments threaded, the JSON API and Atom feed, the comment form, the
// embeddable widget, the unsubscribe and subscription confirmation pages
// that mail links to, and a health check. The other serves the health
// check and the Prometheus metrics, which the public listener never
// serves.
//
// It reaches the store through small interfaces and never changes state
// on a GET; the only writes are the POSTs that unsubscribe and confirm a
// subscription. The comment form changes nothing here either: it mails the
// submission to the moderator inbox, which stays the one place where
// every submission arrives. Every word a person reads comes from
// package templates.
package web
