package eventstore

import "context"

// Locker is an optional extension of Store: a store shared by several kefu
// processes (PostgreSQL) hands a named lock to one of them at a time, so
// that one instance leads the process managers (package lead). Stores a
// single process owns (embedded, memstore) need none: their one process
// always leads.
type Locker interface {
	// TryLock tries once to take the lock name. It returns ok=false, and
	// no error, while another process holds it.
	TryLock(ctx context.Context, name string) (l Lock, ok bool, err error)
}

// Lock is a held lock.
type Lock interface {
	// Lost is closed when the lock can no longer be vouched for (the
	// connection that holds it dropped): stop the work it guards.
	Lost() <-chan struct{}
	// Unlock gives the lock up; it is safe after Lost.
	Unlock() error
}
