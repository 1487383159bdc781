// Package postgres is kefu's event store on a PostgreSQL database (13 or
// later), through github.com/jackc/pgx/v5; it is the only package that
// imports the driver. Several kefu processes may share one database.
//
// # Tables
//
// Open creates, in its schema (Options.Schema, "kefu" by default):
//
//	events     position bigint PRIMARY KEY   -- the port's Position, dense: 1, 2, 3 …
//	           stream_id text, revision bigint  UNIQUE (stream_id, revision)
//	           event_id uuid UNIQUE, type text, schema_version int,
//	           occurred_at timestamptz, occurred_ns smallint, recorded_at timestamptz,
//	           data bytea, metadata bytea
//	log_head   one row: the position of the last event (the "position counter")
//	data_keys  subject text PRIMARY KEY, key bytea (NULL once destroyed), destroyed_at
//
// Data and metadata are kept byte for byte as bytea (jsonb would reorder
// keys and drop duplicates; the codec's bytes are the truth): query them with
// convert_from(data, 'UTF8')::jsonb. occurred_at has PostgreSQL's microsecond
// precision, occurred_ns the nanoseconds below it, so OccurredAt round-trips
// exactly.
//
// # Global order without gaps: one position counter
//
// With a bigserial position a transaction can take position 11, another take
// 12 and commit first: a reader that has seen 12 moves its checkpoint past
// 11 and never sees it when it commits. kefu's projections and process
// managers checkpoint by position, so they must never observe a later
// position before an earlier one.
//
// Every append transaction here starts by locking the single log_head row
// (SELECT … FOR UPDATE), assigns the positions after it, inserts the events,
// moves the counter and commits. The row lock is released only after the
// commit is durable and visible, so the next appender — in this process or
// any other — assigns its positions only after every lower position is
// visible to every new snapshot. Positions are dense and a reader that has
// seen position n has seen everything ≤ n; Head is the counter, read in one
// statement, so no read passes it.
//
// The price is that appenders are serialised on one row, one commit (one WAL
// flush) at a time. The other scheme — bigserial plus the writing
// transaction's xid8 and reading only below pg_snapshot_xmin(pg_current_snapshot())
// — lets commits overlap, but its order is (xid, position), which cannot be
// exposed as one dense uint64 Position, and readers lag behind the oldest
// open transaction anywhere in the database. kefu's writes are small; the
// store gets its throughput back by group commit instead: concurrent Append
// and AppendBatch calls of one process are queued and a single writer
// applies everything queued in one transaction (each item still checked, and
// failing, on its own), so 64 concurrent writers cost a few commits, not 64.
// AppendAtomic (eventstore.AtomicAppender: a merge of customers, one event
// on each stream) rides the same transaction with its items decided
// together: one failing item takes the call's other items back out before
// the insert, and leaves the other callers' appends as they were.
//
// Under the lock nothing else writes, so the checks are decided in Go with
// eventstore.ResolveRetry and Expected.Check on what the transaction reads:
// the unique constraints are the backstop, not the mechanism. A transaction
// that fails (a dropped connection, even during COMMIT) is retried: the
// event IDs make the retry idempotent.
//
// # Subscriptions
//
// The append transaction also calls pg_notify on the schema's channel. One
// connection per Store LISTENs and wakes every Subscribe; the events table is
// the truth — a subscriber always reads from its last position, and it also
// re-reads every Options.PollInterval without a notification. When the
// listening connection drops, it reconnects with backoff and wakes every
// subscriber once it listens again (notifications sent meanwhile are lost,
// the re-read is not). A read that fails because a connection dropped is
// retried by Subscribe with backoff instead of ending it.
//
// # Personal-data keys
//
// Keystore keeps each customer's data key in data_keys. Destroy sets the key
// to NULL and records the time; the subject is then destroyed for good. The
// old row version, with the key's bytes, stays in the table's heap until
// VACUUM (autovacuum, or `VACUUM kefu.data_keys`) reclaims it and the page is
// reused, in the WAL until it is recycled, and in base backups and WAL
// archives until they expire: erasure is complete only then.
//
// # One leader among several processes
//
// Store implements eventstore.Locker with session-level advisory locks
// (pg_try_advisory_lock on a hash of the schema and the lock's name), each
// on a connection of its own outside the pool: the lock lives exactly as
// long as that session, so a killed process gives it up as soon as the
// server sees its connection close, without a lease to expire. kefu serve
// uses it so that one instance runs the process managers (package
// automation/lead).
package postgres
