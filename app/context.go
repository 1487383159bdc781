package app

import "context"

// Actor is who issues a command: the authenticated user and their role, or
// a process manager's name.
type Actor struct {
	User string
	Role string
}

type (
	actorKey          struct{}
	correlationKey    struct{}
	idempotencyKeyKey struct{}
)

// WithActor returns a context that carries actor; the repository stores it
// in the metadata of every event it appends.
func WithActor(ctx context.Context, actor Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, actor)
}

// ActorFrom returns the actor ctx carries.
func ActorFrom(ctx context.Context) (Actor, bool) {
	a, ok := ctx.Value(actorKey{}).(Actor)
	return a, ok
}

// WithCorrelationID returns a context whose commands record id as the
// events' correlationId (a request ID, or the ID of the event a process
// manager reacts to).
func WithCorrelationID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, correlationKey{}, id)
}

// CorrelationIDFrom returns the correlation ID ctx carries.
func CorrelationIDFrom(ctx context.Context) (string, bool) {
	id, ok := ctx.Value(correlationKey{}).(string)
	return id, ok && id != ""
}

// WithIdempotencyKey returns a context whose next command is idempotent
// under key: its events get IDs derived from the customer, the key and
// their index, so that repeating the command (a client retry after a
// timeout) appends nothing and returns the first attempt's result. A key
// belongs to one command on one customer.
func WithIdempotencyKey(ctx context.Context, key string) context.Context {
	return context.WithValue(ctx, idempotencyKeyKey{}, key)
}

// IdempotencyKeyFrom returns the idempotency key ctx carries.
func IdempotencyKeyFrom(ctx context.Context) (string, bool) {
	k, ok := ctx.Value(idempotencyKeyKey{}).(string)
	return k, ok && k != ""
}
