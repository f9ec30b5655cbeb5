// Package web serves modbot's HTTP listener: health and Prometheus
// metrics, and the comment side of the site: each post's page with its
// published comments threaded, the JSON API and Atom feed, the comment
// form, the embeddable widget, and the unsubscribe and subscription
// confirmation pages that mail links to.
//
// It reads the store through small interfaces and never changes state on
// a GET. The comment form changes nothing here either: it mails the
// submission to the moderator inbox, which stays the one place where
// every submission arrives. Every word a person reads comes from
// package templates.
package web
