// Package web serves modbot's HTTP listener: health, Prometheus metrics,
// and (in later versions) the published comments' page, API and feed.
//
// It reads the store through package queue and never changes state on a
// GET.
package web
