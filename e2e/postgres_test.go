package e2e_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kefu-crm/kefu/internal/testenv"

	"github.com/jackc/pgx/v5"
)

// pgSchema returns a fresh schema name, dropped when t ends.
func pgSchema(t *testing.T, conn string) string {
	t.Helper()
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	schema := "kefu_e2e_" + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(t.Context()), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, conn)
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return schema
}

// withSchema adds kefu's schema parameter to a connection URL.
func withSchema(conn, schema string) string {
	sep := "?"
	if strings.Contains(conn, "?") {
		sep = "&"
	}
	return conn + sep + "schema=" + schema
}

// TestServeOnPostgres: `kefu serve --store postgres://…` on a fresh data
// directory keeps the log and the data keys in PostgreSQL — a customer
// registered through GraphQL is read back, personal data included, after a
// restart, and by a server on another, empty data directory (read models
// rebuilt from the table), and no embedded store was created.
func TestServeOnPostgres(t *testing.T) {
	conn := testenv.Postgres(t)
	schema := pgSchema(t, conn)
	store := withSchema(conn, schema)
	ctx := journey(t, 3*time.Minute)
	dir := t.TempDir()
	args := []string{"--store", store}

	s := startServer(t, ctx, serveOpts{dir: dir, args: args})
	c := s.client("")
	in := map[string]any{"id": "pg-1", "name": "Wang Fang", "phone": "+8613800138000", "accountManager": "amy",
		"occurredAt": stamp(time.Now().Add(-time.Hour))}
	c.must(ctx, nil, `mutation($in: RegisterCustomerInput!) { registerCustomer(input: $in) { version } }`, map[string]any{"in": in})
	type view struct {
		Customer *struct {
			ID, Name, Phone, AccountManager string
			Version                         int
		}
	}
	const q = `query($id: ID!) { customer(id: $id) { id name phone accountManager version } }`
	read := func(c *client) view {
		var v view
		eventually(t, ctx, 20*time.Second, "customer pg-1 readable", func() (bool, string) {
			c.must(ctx, &v, q, map[string]any{"id": "pg-1"})
			return v.Customer != nil, js(v)
		})
		return v
	}
	first := read(c)
	if first.Customer.Name != "Wang Fang" || first.Customer.Phone != "+8613800138000" || first.Customer.AccountManager != "amy" {
		t.Fatalf("customer after registering: %s", js(first))
	}
	s.stop()

	s2 := startServer(t, ctx, serveOpts{dir: dir, args: args})
	if again := read(s2.client("")); js(again) != js(first) {
		t.Fatalf("after a restart: %s, want %s", js(again), js(first))
	}
	s2.stop()

	other := t.TempDir()
	s3 := startServer(t, ctx, serveOpts{dir: other, args: args})
	if fresh := read(s3.client("")); js(fresh) != js(first) {
		t.Fatalf("from a fresh data directory on the same store: %s, want %s", js(fresh), js(first))
	}
	s3.stop()

	for _, d := range []string{dir, other} {
		if _, err := os.Stat(filepath.Join(d, "events")); !os.IsNotExist(err) {
			t.Fatalf("%s/events exists (%v): the embedded store was opened beside PostgreSQL", d, err)
		}
	}
	pg, err := pgx.Connect(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close(ctx)
	var events, keys int
	if err := pg.QueryRow(ctx, `SELECT count(*) FROM `+schema+`.events WHERE stream_id = 'customer-pg-1'`).Scan(&events); err != nil {
		t.Fatal(err)
	}
	if err := pg.QueryRow(ctx, `SELECT count(*) FROM `+schema+`.data_keys WHERE subject = 'pg-1' AND key IS NOT NULL`).Scan(&keys); err != nil {
		t.Fatal(err)
	}
	if events < 1 || keys != 1 {
		t.Fatalf("PostgreSQL holds %d events of customer-pg-1 and %d data keys, want ≥ 1 and 1", events, keys)
	}
	// The name is sealed in the log, not stored in clear.
	var clear int
	if err := pg.QueryRow(ctx, `SELECT count(*) FROM `+schema+`.events WHERE position('Wang Fang' IN convert_from(data, 'UTF8')) > 0`).Scan(&clear); err != nil {
		t.Fatal(err)
	}
	if clear != 0 {
		t.Fatalf("%d events hold the customer's name in clear", clear)
	}
}

// TestMigrateToPostgres: an operator moves a data directory's book to
// PostgreSQL with `kefu migrate --to postgres://…` and serves it from
// there: the same customers, the same lifecycle report and the same
// personal data as the embedded store served; running the migration again
// copies nothing twice.
func TestMigrateToPostgres(t *testing.T) {
	conn := testenv.Postgres(t)
	schema := pgSchema(t, conn)
	store := withSchema(conn, schema)
	ctx := journey(t, 4*time.Minute)
	src := t.TempDir()
	kefu(t, ctx, "seed", "--data", src, "--customers", "400", "--seed", "5", "--workers", "16")
	first := kefu(t, ctx, "migrate", "--from", src, "--to", store)
	if !strings.Contains(first.stdout, "migrated ") || !strings.Contains(first.stdout, "(0 already there)") {
		t.Fatalf("first migration:\n%s", first.stdout)
	}
	var head int
	if _, err := fmt.Sscanf(first.stdout[strings.Index(first.stdout, "source position"):], "source position %d", &head); err != nil || head < 400 {
		t.Fatalf("no source position in the migration's summary (%v):\n%s", err, first.stdout)
	}
	// Again over the whole log (as after an interruption without a
	// checkpoint): every event recognised, none stored twice.
	kefu(t, ctx, "migrate", "--from", src, "--to", store, "--restart")
	pg, err := pgx.Connect(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close(ctx)
	var rows, last int
	if err := pg.QueryRow(ctx, `SELECT count(*), coalesce(max(position), 0) FROM `+schema+`.events`).Scan(&rows, &last); err != nil {
		t.Fatal(err)
	}
	if rows != head || last != head {
		t.Fatalf("PostgreSQL holds %d events up to position %d after migrating twice, want the source's %d", rows, last, head)
	}

	const q = `{ lifecycleReport(from: "2024-01-01T00:00:00Z", to: "2026-12-01T00:00:00Z", bucket: MONTH) { buckets { start population { stage count } transitions { from to count } } }
		customers(first: 5) { totalCount edges { node { id name phone stage loyalty { score } } } } }`
	answer := func(s *server) string {
		var d json.RawMessage
		s.client("").must(ctx, &d, q, nil)
		return string(d)
	}
	embedded := startServer(t, ctx, serveOpts{dir: src})
	want := answer(embedded)
	embedded.stop()
	onPG := startServer(t, ctx, serveOpts{dir: t.TempDir(), args: []string{"--store", store}})
	if got := answer(onPG); got != want {
		t.Fatalf("served from PostgreSQL:\n%s\nwant what the data directory served:\n%s", got, want)
	}
}
