package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/kefu-crm/kefu/eventstore"
)

// Options configures a Store. The zero value is ready to use.
type Options struct {
	// Schema holds the tables; empty means "kefu". It is created when
	// missing. Stores on different schemas of one database are separate logs.
	Schema string
	// Clock gives RecordedAt; nil means time.Now.
	Clock func() time.Time
	// Logger reports reconnections; nil discards.
	Logger *slog.Logger
	// PageSize is how many events one query of ReadAll or Subscribe
	// fetches; 0 means 500.
	PageSize int
	// PollInterval is how often a subscriber re-reads the log without a
	// notification; 0 means 2 s.
	PollInterval time.Duration
	// MaxConns bounds the connection pool (the writer and the listener
	// included); 0 means 8.
	MaxConns int
	// MaxBatchEvents bounds how many events the writer gathers into one
	// transaction from concurrent appends; 0 means 4096. One AppendBatch
	// call is never split.
	MaxBatchEvents int
}

var schemaSyntax = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,47}$`)

// Validate reports every invalid field.
func (o Options) Validate() error {
	var errs []error
	if o.Schema != "" && !schemaSyntax.MatchString(o.Schema) {
		errs = append(errs, fmt.Errorf("postgres: schema %q: want [a-z_][a-z0-9_]{0,47}", o.Schema))
	}
	if o.PageSize < 0 {
		errs = append(errs, fmt.Errorf("postgres: negative page size %d", o.PageSize))
	}
	if o.PollInterval < 0 {
		errs = append(errs, fmt.Errorf("postgres: negative poll interval %s", o.PollInterval))
	}
	if o.MaxConns < 0 || o.MaxConns == 1 {
		errs = append(errs, fmt.Errorf("postgres: max conns %d: want 0 or at least 2", o.MaxConns))
	}
	if o.MaxBatchEvents < 0 {
		errs = append(errs, fmt.Errorf("postgres: negative max batch events %d", o.MaxBatchEvents))
	}
	return errors.Join(errs...)
}

func (o Options) withDefaults() Options {
	if o.Schema == "" {
		o.Schema = "kefu"
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.PageSize == 0 {
		o.PageSize = 500
	}
	if o.PollInterval == 0 {
		o.PollInterval = 2 * time.Second
	}
	if o.MaxConns == 0 {
		o.MaxConns = 8
	}
	if o.MaxBatchEvents == 0 {
		o.MaxBatchEvents = 4096
	}
	return o
}

// Store is the event log in one schema of a PostgreSQL database. It is safe
// for concurrent use, and several processes may open the same schema.
type Store struct {
	pool *pgxpool.Pool
	opts Options
	sql  statements
	// channel is the LISTEN/NOTIFY channel of the schema.
	channel string

	// life ends at Close: the writer, the listener and their queries stop.
	life       context.Context
	stop       context.CancelFunc
	queue      chan *pending
	done       chan struct{} // closed by Close
	writerDone chan struct{} // closed when the writer has stopped
	workers    sync.WaitGroup
	closeMu    sync.Mutex
	closed     bool
	changeMu   sync.Mutex
	changed    chan struct{} // closed and replaced on every wake-up
}

var (
	_ eventstore.Store         = (*Store)(nil)
	_ eventstore.BatchAppender = (*Store)(nil)
)

// Open connects to the database named by connString (a postgres:// URL or
// a key=value DSN, as libpq takes them), creates the schema's tables when
// they are missing, and starts the store's writer and listener. ctx bounds
// the connection and the schema setup; the store lives until Close.
//
// A URL may name the schema with the parameter schema=NAME (kefu's, not
// libpq's: it is removed before connecting); Options.Schema, when set,
// must agree with it.
func Open(ctx context.Context, connString string, opts Options) (*Store, error) {
	connString, schema, err := SplitSchema(connString)
	if err != nil {
		return nil, err
	}
	switch {
	case schema == "":
	case opts.Schema == "":
		opts.Schema = schema
	case opts.Schema != schema:
		return nil, fmt.Errorf("postgres: the connection string names schema %q, the options %q", schema, opts.Schema)
	}
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	cfg, err := pgxpool.ParseConfig(connString)
	if err != nil {
		return nil, fmt.Errorf("postgres: connection string: %w", err)
	}
	cfg.MaxConns = int32(opts.MaxConns)
	if cfg.ConnConfig.RuntimeParams == nil {
		cfg.ConnConfig.RuntimeParams = map[string]string{}
	}
	if cfg.ConnConfig.RuntimeParams["application_name"] == "" {
		cfg.ConnConfig.RuntimeParams["application_name"] = "kefu"
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	s := &Store{
		pool:       pool,
		opts:       opts,
		sql:        newStatements(opts.Schema),
		channel:    opts.Schema + "_events",
		queue:      make(chan *pending, 1024),
		done:       make(chan struct{}),
		writerDone: make(chan struct{}),
		changed:    make(chan struct{}),
	}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	s.life, s.stop = context.WithCancel(context.WithoutCancel(ctx))
	s.workers.Add(2)
	go s.writer()
	go s.listen()
	return s, nil
}

// IsURL reports whether s is a PostgreSQL connection URL (postgres:// or
// postgresql://), as `kefu serve --store` tells the backends apart.
func IsURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// SplitSchema removes kefu's schema=NAME parameter from a connection URL
// and returns it ("" when absent); a key=value DSN is returned as it is.
func SplitSchema(connString string) (conn, schema string, err error) {
	if !IsURL(connString) {
		return connString, "", nil
	}
	u, err := url.Parse(connString)
	if err != nil {
		return "", "", fmt.Errorf("postgres: connection URL: %w", err)
	}
	q := u.Query()
	if !q.Has("schema") {
		return connString, "", nil
	}
	schema = q.Get("schema")
	if !schemaSyntax.MatchString(schema) {
		return "", "", fmt.Errorf("postgres: schema %q in the connection URL: want [a-z_][a-z0-9_]{0,47}", schema)
	}
	q.Del("schema")
	u.RawQuery = q.Encode()
	return u.String(), schema, nil
}

// Schema returns the DDL Open runs for schema (idempotent).
func Schema(schema string) string {
	return newStatements(schema).ddl
}

// migrate creates the tables, serialised by an advisory lock so that
// instances starting together do not race on the catalog.
func (s *Store) migrate(ctx context.Context) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext($1))`, "kefu-schema-"+s.opts.Schema); err != nil {
		return fmt.Errorf("postgres: lock schema setup: %w", err)
	}
	if _, err := tx.Exec(ctx, s.sql.ddl); err != nil {
		return fmt.Errorf("postgres: create tables in schema %s: %w", s.opts.Schema, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: create tables in schema %s: %w", s.opts.Schema, err)
	}
	return nil
}

// Pool is the store's connection pool (for the keystore and tests).
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// SchemaName is the schema the store's tables live in.
func (s *Store) SchemaName() string { return s.opts.Schema }

// Head implements eventstore.Store.
func (s *Store) Head(ctx context.Context) (eventstore.Position, error) {
	if err := s.check(ctx); err != nil {
		return 0, err
	}
	var head int64
	if err := s.pool.QueryRow(ctx, s.sql.head).Scan(&head); err != nil {
		return 0, s.fail(ctx, "read head", err)
	}
	return eventstore.Position(head), nil
}

// Close implements eventstore.Store: it stops the writer (appends still
// queued fail with ErrClosed), the listener and the subscribers, and closes
// the pool.
func (s *Store) Close() error {
	s.closeMu.Lock()
	if s.closed {
		s.closeMu.Unlock()
		return eventstore.ErrClosed
	}
	s.closed = true
	close(s.done)
	s.closeMu.Unlock()
	s.stop()
	s.workers.Wait()
	s.pool.Close()
	return nil
}

func (s *Store) isClosed() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// check is every call's preamble.
func (s *Store) check(ctx context.Context) error {
	if s.isClosed() {
		return eventstore.ErrClosed
	}
	return ctx.Err()
}

// fail maps a driver error: the caller's context, the store's closing, or
// the error with what was being done.
func (s *Store) fail(ctx context.Context, op string, err error) error {
	switch {
	case s.isClosed():
		return eventstore.ErrClosed
	case ctx.Err() != nil:
		return ctx.Err()
	}
	return fmt.Errorf("postgres: %s: %w", op, err)
}

// transient reports whether err is a lost or refused connection (worth
// retrying) rather than a statement's own failure.
func transient(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		// Class 08: connection exception; 57P01-03: admin shutdown, crash
		// shutdown, cannot connect now; 40001/40P01: serialization
		// failure, deadlock.
		switch {
		case len(pgErr.Code) == 5 && pgErr.Code[:2] == "08",
			pgErr.Code == "57P01", pgErr.Code == "57P02", pgErr.Code == "57P03",
			pgErr.Code == "40001", pgErr.Code == "40P01":
			return true
		}
		return false
	}
	// Anything else from the driver is the network or the pool.
	return true
}

// wake wakes every subscriber.
func (s *Store) wake() {
	s.changeMu.Lock()
	close(s.changed)
	s.changed = make(chan struct{})
	s.changeMu.Unlock()
}

func (s *Store) changes() <-chan struct{} {
	s.changeMu.Lock()
	defer s.changeMu.Unlock()
	return s.changed
}

// statements are the SQL texts of one schema.
type statements struct {
	ddl, head, lockHead, setHead, notify                  string
	lookupIDs, streamHeads, insert                        string
	readFwd, readBwd, streamExists, readAll               string
	keyGet, keyPut, keyDestroy, keyDestroyedAt, keysCount string
}

func newStatements(schema string) statements {
	q := pgx.Identifier{schema}.Sanitize()
	events, head, keys := q+".events", q+".log_head", q+".data_keys"
	cols := `position, stream_id, revision, event_id, type, schema_version, occurred_at, occurred_ns, recorded_at, data, metadata`
	return statements{
		ddl: `CREATE SCHEMA IF NOT EXISTS ` + q + `;
CREATE TABLE IF NOT EXISTS ` + events + ` (
	position       bigint      PRIMARY KEY CHECK (position > 0),
	stream_id      text        NOT NULL,
	revision       bigint      NOT NULL CHECK (revision >= 0),
	event_id       uuid        NOT NULL UNIQUE,
	type           text        NOT NULL,
	schema_version integer     NOT NULL CHECK (schema_version >= 1),
	occurred_at    timestamptz NOT NULL,
	occurred_ns    smallint    NOT NULL DEFAULT 0 CHECK (occurred_ns BETWEEN 0 AND 999),
	recorded_at    timestamptz NOT NULL,
	data           bytea       NOT NULL,
	metadata       bytea       NOT NULL,
	UNIQUE (stream_id, revision)
);
CREATE TABLE IF NOT EXISTS ` + head + ` (
	one      boolean PRIMARY KEY DEFAULT true CHECK (one),
	position bigint  NOT NULL
);
INSERT INTO ` + head + ` (one, position) VALUES (true, 0) ON CONFLICT DO NOTHING;
CREATE TABLE IF NOT EXISTS ` + keys + ` (
	subject      text PRIMARY KEY,
	key          bytea CHECK (key IS NULL OR length(key) = 32),
	created_at   timestamptz NOT NULL DEFAULT now(),
	destroyed_at timestamptz,
	CHECK ((key IS NULL) = (destroyed_at IS NOT NULL))
);`,
		head:     `SELECT position FROM ` + head,
		lockHead: `SELECT position FROM ` + head + ` FOR UPDATE`,
		setHead:  `UPDATE ` + head + ` SET position = $1`,
		notify:   `SELECT pg_notify($1, $2)`,
		lookupIDs: `SELECT event_id, stream_id, revision, position FROM ` + events +
			` WHERE event_id = ANY($1::uuid[])`,
		streamHeads: `SELECT s, (SELECT e.revision FROM ` + events + ` e WHERE e.stream_id = s ORDER BY e.revision DESC LIMIT 1)
			FROM unnest($1::text[]) AS s`,
		insert: `INSERT INTO ` + events + ` (` + cols + `)
			SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::uuid[], $5::text[], $6::integer[],
				$7::timestamptz[], $8::smallint[], $9::timestamptz[], $10::bytea[], $11::bytea[])`,
		readFwd: `SELECT ` + cols + ` FROM ` + events +
			` WHERE stream_id = $1 AND revision >= $2 ORDER BY revision LIMIT $3`,
		readBwd: `SELECT ` + cols + ` FROM ` + events +
			` WHERE stream_id = $1 AND revision <= $2 ORDER BY revision DESC LIMIT $3`,
		streamExists: `SELECT EXISTS (SELECT 1 FROM ` + events + ` WHERE stream_id = $1)`,
		readAll: `SELECT ` + cols + ` FROM ` + events +
			` WHERE position > $1 AND position <= $2 ORDER BY position LIMIT $3`,
		keyGet: `SELECT key FROM ` + keys + ` WHERE subject = $1`,
		keyPut: `INSERT INTO ` + keys + ` (subject, key) VALUES ($1, $2) ON CONFLICT (subject) DO NOTHING`,
		keyDestroy: `INSERT INTO ` + keys + ` (subject, key, destroyed_at) VALUES ($1, NULL, now())
			ON CONFLICT (subject) DO UPDATE SET key = NULL, destroyed_at = coalesce(` + keys + `.destroyed_at, now())`,
		keyDestroyedAt: `SELECT destroyed_at FROM ` + keys + ` WHERE subject = $1`,
		keysCount:      `SELECT count(*) FROM ` + keys + ` WHERE key IS NOT NULL`,
	}
}
