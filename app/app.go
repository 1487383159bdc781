// Package app is kefu's application: the commands (app/command, one
// handler per use case that writes) and the queries (app/query, one
// handler per area that reads) the API binds to, and the one thing that
// ties them: after a command, waiting until the read models show it (read
// your writes).
package app

import (
	"context"
	"fmt"
	"time"

	"github.com/kefu-crm/kefu/app/command"
	"github.com/kefu-crm/kefu/app/query"
	"github.com/kefu-crm/kefu/eventstore"
)

// Application is the whole of the use cases.
type Application struct {
	Commands command.Commands
	Queries  query.Queries
	// Projections is how far the read models have applied the log.
	Projections Projections
	// Now is the application's clock.
	Now func() time.Time
}

// Projections waits for the read models (projections.Runtime).
type Projections interface {
	// WaitFor returns once every read model has applied the event at pos
	// (or ctx ends).
	WaitFor(ctx context.Context, pos eventstore.Position, names ...string) error
}

// LateError: a command's write is durable, but the request ended before the
// read models showed it. It says so — a client that retried a command
// without an idempotency key would record it twice.
type LateError struct {
	ID       string
	Revision uint64
	Err      error
}

func (e *LateError) Error() string {
	return fmt.Sprintf("the change was recorded (%s is at version %d) but the request ended before the read models showed it; "+
		"query it instead of retrying, or retry with the same idempotencyKey", e.ID, e.Revision)
}

func (e *LateError) Unwrap() error { return e.Err }

// Await returns once the read models have applied what res appended.
func (a *Application) Await(ctx context.Context, res command.Result) error {
	if err := a.Projections.WaitFor(ctx, res.Position); err != nil {
		if ctx.Err() != nil {
			return &LateError{ID: res.ID, Revision: res.Revision, Err: err}
		}
		return err
	}
	return nil
}
