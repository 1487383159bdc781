// Package lead makes one kefu instance at a time run the process managers
// (the greeting dispatcher, the follow-up scheduler) when several
// instances share one event store.
//
// Their correctness does not depend on it: every outcome and every booked
// follow-up is appended with a deterministic event ID, so instances racing
// on one customer record it once. What one leader adds is fewer wasted
// loads and conflicts and, above all, one delivery per greeting: two
// dispatchers racing on a customer can both hand the greeting to the
// gateway before one of them records it (same idempotency key, which a
// gateway dedupes, but a second message all the same).
//
// The lead is a lock of the store (eventstore.Locker; on PostgreSQL a
// session-level advisory lock). Instances that do not hold it try again
// every Retry; when the holder dies, its session ends, the lock is free and
// the next try takes it — the failover time is about Retry plus the new
// leader's first tick. A holder that loses its connection to the store
// stops the work at once (Lock.Lost), before another instance can have the
// lock for longer than one connection check. A store without Locker is
// owned by one process, which always leads.
package lead

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/kefu-crm/kefu/eventstore"
)

// Config configures Run.
type Config struct {
	// Locker is the store's lock; nil means this process always leads.
	Locker eventstore.Locker
	// Name is the lock's name.
	Name string
	// Retry is how often a follower tries to take the lock; 0 means 1 s.
	Retry time.Duration
	// Logger receives the changes of leadership; nil discards them.
	Logger *slog.Logger
}

// State is whether this process leads, readable concurrently.
type State struct {
	leading atomic.Bool
	changes atomic.Int64
}

// Leading reports whether this process holds the lead now.
func (s *State) Leading() bool { return s.leading.Load() }

// Acquired counts the times this process took the lead.
func (s *State) Acquired() int64 { return s.changes.Load() }

func (s *State) set(v bool) {
	if v && !s.leading.Load() {
		s.changes.Add(1)
	}
	s.leading.Store(v)
}

// Run runs work while this process holds the lead, until ctx ends: it takes
// the lock (trying every Retry), runs work with a context that ends when
// the lock is lost, and after losing it tries again. An error of work ends
// its term: it is logged, the lock released, and work starts again when the
// lock is taken again. Run returns nil when ctx ends.
func Run(ctx context.Context, cfg Config, st *State, work func(context.Context) error) error {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	retry := cfg.Retry
	if retry <= 0 {
		retry = time.Second
	}
	if cfg.Locker == nil {
		st.set(true)
		defer st.set(false)
		return work(ctx)
	}
	for {
		l, ok, err := cfg.Locker.TryLock(ctx, cfg.Name)
		switch {
		case err != nil && ctx.Err() == nil:
			log.Warn("could not try for the lead; trying again", "lock", cfg.Name, "err", err)
		case ok:
			term(ctx, cfg.Name, log, st, l, work)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(retry):
		}
	}
}

// term is one term of leadership: work runs until it returns, the lock is
// lost or ctx ends.
func term(ctx context.Context, name string, log *slog.Logger, st *State, l eventstore.Lock, work func(context.Context) error) {
	log.Info("leading the process managers", "lock", name)
	st.set(true)
	defer st.set(false)
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- work(wctx) }()
	var err error
	select {
	case <-l.Lost():
		log.Warn("lost the lead (the store connection holding it failed); another instance may take it", "lock", name)
		cancel()
		<-done
		_ = l.Unlock()
		return
	case err = <-done:
	case <-ctx.Done():
		cancel()
		err = <-done
	}
	if err != nil && ctx.Err() == nil {
		log.Error("process managers stopped; giving up the lead", "lock", name, "err", err)
	}
	if uerr := l.Unlock(); uerr != nil && ctx.Err() == nil {
		log.Warn("releasing the lead", "lock", name, "err", uerr)
	}
}
