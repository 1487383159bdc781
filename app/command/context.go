package command

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
	requestHashKey    struct{}
	causationKey      struct{}
)

// WithCausationID returns a context whose commands record id as the
// events' causationId (the campaign a dispatcher acts for, the event a
// process manager reacts to).
func WithCausationID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, causationKey{}, id)
}

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
// under key: its events get IDs derived from the customer, the caller (the
// actor's user), the key and their index, so that repeating the command (a
// client retry after a timeout) appends nothing and returns the first
// attempt's result. A key belongs to one command of one caller on one
// customer: another caller's same key is another command, and the same
// caller's key sent with a different request is a *KeyReuseError.
func WithIdempotencyKey(ctx context.Context, key string) context.Context {
	return context.WithValue(ctx, idempotencyKeyKey{}, key)
}

// IdempotencyKeyFrom returns the idempotency key ctx carries.
func IdempotencyKeyFrom(ctx context.Context) (string, bool) {
	k, ok := ctx.Value(idempotencyKeyKey{}).(string)
	return k, ok && k != ""
}

// ScopeKey is key qualified by the caller in ctx (the actor's user), for
// IDs derived from an idempotency key: two callers who happen to pick the
// same key name different things.
func ScopeKey(ctx context.Context, key string) string {
	if key == "" {
		return ""
	}
	a, _ := ActorFrom(ctx)
	return a.User + "\x00" + key
}

// WithRequest returns a context whose next command records a digest of
// req — what the caller asked — beside its idempotency key, so that the
// key sent again with another request is refused (a *KeyReuseError), not
// taken for a retry. The handlers set it from their command.
func WithRequest(ctx context.Context, req any) context.Context {
	return context.WithValue(ctx, requestHashKey{}, requestHash(req))
}

func requestHashFrom(ctx context.Context) string {
	h, _ := ctx.Value(requestHashKey{}).(string)
	return h
}
