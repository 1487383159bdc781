package postgres_test

import (
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/eventstore/postgres"
	"github.com/kefu-crm/kefu/internal/testenv"
)

// TestLockOneHolderAtATime: of two stores on one schema (two kefu
// processes), one takes the lock and the other is refused until the first
// unlocks; a holder whose connection the server ends sees Lost and the
// lock passes on; a lock of another name or schema is independent.
func TestLockOneHolderAtATime(t *testing.T) {
	conn := testenv.Postgres(t)
	schema := freshSchema(t, conn)
	a := open(t, conn, schema, postgres.Options{})
	defer a.Close()
	b := open(t, conn, schema, postgres.Options{})
	defer b.Close()
	other := open(t, conn, freshSchema(t, conn), postgres.Options{})
	defer other.Close()
	ctx := t.Context()

	try := func(s *postgres.Store, name string) (eventstore.Lock, bool) {
		t.Helper()
		l, ok, err := s.TryLock(ctx, name)
		if err != nil {
			t.Fatalf("TryLock(%s): %v", name, err)
		}
		return l, ok
	}
	la, ok := try(a, "lead")
	if !ok {
		t.Fatal("the first TryLock was refused")
	}
	if _, ok := try(b, "lead"); ok {
		t.Fatal("a second process took a held lock")
	}
	lo, ok := try(b, "other-name")
	if !ok {
		t.Fatal("a lock of another name was refused")
	}
	if err := lo.Unlock(); err != nil {
		t.Fatal(err)
	}
	ls, ok := try(other, "lead")
	if !ok {
		t.Fatal("the same name in another schema was refused")
	}
	defer ls.Unlock()
	if err := la.Unlock(); err != nil {
		t.Fatalf("Unlock: %v", err)
	}
	lb, ok := try(b, "lead")
	if !ok {
		t.Fatal("the lock was not free after Unlock")
	}

	// The server ends the holder's session: Lost closes, and the lock is
	// free for the next process at once.
	c, err := pgx.Connect(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	var n int
	if err := c.QueryRow(ctx, `SELECT count(*) FROM (SELECT pg_terminate_backend(l.pid) FROM pg_locks l
		JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND a.application_name = 'kefu-lock'
		AND a.datname = current_database() AND l.granted) k`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 2 { // b's lead and other's lead
		t.Fatalf("terminated %d lock holders, want 2", n)
	}
	select {
	case <-lb.Lost():
	case <-time.After(10 * time.Second):
		t.Fatal("Lost did not close after the holder's session ended")
	}
	_ = lb.Unlock() // closes the dead connection; the lock is gone already
	la2, ok := try(a, "lead")
	if !ok {
		t.Fatal("the lock of a dead session was not free")
	}
	if err := la2.Unlock(); err != nil {
		t.Fatal(err)
	}
}
