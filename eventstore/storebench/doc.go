// Package storebench measures the event stores side by side in one run
// (BENCHMARKS.md, "Embedded and PostgreSQL side by side"): durable appends
// from 64 concurrent writers, a full read of a 100,000-event log, and the
// read of one 50-event stream. It has only benchmarks:
//
//	KEFU_TEST_PG=postgres://… go test ./eventstore/storebench -run '^$' -bench . -benchtime 3s
//
// Without KEFU_TEST_PG only the embedded store is measured.
package storebench
