// Package bench holds modbot's end-to-end benchmarks against a real
// Dovecot: ingest throughput beside mbsync, and IDLE latency beside a
// bare IDLE client. They are benchmarks, not tests: run them with
//
//	go test ./cmd/modbot/bench -run '^$' -bench . -benchtime 1x
//
// and read the figures they report. Without Dovecot they are skipped.
package bench
