package postgres

import (
	"context"
	"errors"
	"hash/fnv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kefu-crm/kefu/eventstore"
)

var _ eventstore.Locker = (*Store)(nil)

// lockCheck is how often a held lock's connection is checked, and
// lockCheckTimeout how long one check may take before the lock counts as
// lost.
const (
	lockCheck        = time.Second
	lockCheckTimeout = 2 * time.Second
)

// TryLock takes the session-level advisory lock of name in this schema
// (pg_try_advisory_lock on a 64-bit hash of schema and name) on a
// connection of its own, outside the pool. The lock lives as long as that
// connection: when the process dies, the server ends its session and the
// lock is free at once for the next process that tries. While held, the
// connection is checked every second; a check that fails or takes more
// than two seconds closes Lost, and the holder must stop, because the
// server may already have released the lock to another process.
func (s *Store) TryLock(ctx context.Context, name string) (eventstore.Lock, bool, error) {
	if err := s.check(ctx); err != nil {
		return nil, false, err
	}
	cfg := s.pool.Config().ConnConfig.Copy()
	cfg.RuntimeParams["application_name"] = "kefu-lock"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, false, s.fail(ctx, "lock", err)
	}
	key := lockKey(s.opts.Schema, name)
	var ok bool
	if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", key).Scan(&ok); err != nil || !ok {
		_ = conn.Close(context.WithoutCancel(ctx))
		if err != nil {
			return nil, false, s.fail(ctx, "lock", err)
		}
		return nil, false, nil
	}
	l := &lock{conn: conn, key: key, lost: make(chan struct{}), stop: make(chan struct{}), done: make(chan struct{})}
	go l.watch()
	return l, true, nil
}

// lockKey is the advisory lock's key: the FNV-1a hash of schema and name.
func lockKey(schema, name string) int64 {
	h := fnv.New64a()
	h.Write([]byte(schema))
	h.Write([]byte{0})
	h.Write([]byte(name))
	return int64(h.Sum64())
}

// lock is a held advisory lock; only watch uses conn until it returns.
type lock struct {
	conn     *pgx.Conn
	key      int64
	lost     chan struct{}
	stop     chan struct{}
	done     chan struct{}
	lostOnce sync.Once
	stopOnce sync.Once
}

func (l *lock) Lost() <-chan struct{} { return l.lost }

// watch checks the connection until Unlock or a failed check.
func (l *lock) watch() {
	defer close(l.done)
	t := time.NewTicker(lockCheck)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), lockCheckTimeout)
		_, err := l.conn.Exec(ctx, "SELECT 1")
		cancel()
		if err != nil {
			l.lostOnce.Do(func() { close(l.lost) })
			return
		}
	}
}

// Unlock stops the checks, releases the lock and closes its connection.
func (l *lock) Unlock() error {
	l.stopOnce.Do(func() { close(l.stop) })
	<-l.done
	ctx, cancel := context.WithTimeout(context.Background(), lockCheckTimeout)
	defer cancel()
	var err error
	select {
	case <-l.lost:
	default:
		var released bool
		err = l.conn.QueryRow(ctx, "SELECT pg_advisory_unlock($1)", l.key).Scan(&released)
		if err == nil && !released {
			err = errors.New("postgres: the advisory lock was not held at unlock")
		}
	}
	return errors.Join(err, l.conn.Close(ctx))
}
