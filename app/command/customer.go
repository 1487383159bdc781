package command

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/kefu-crm/kefu/domain/aggregate"
	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/eventstore/codec"
)

// Customers is the repository of customer streams.
type Customers = Repository[*customer.Customer, customer.Event]

// NewCustomers returns the repository of customer streams.
func NewCustomers(cfg Config) (*Customers, error) {
	return NewRepository(Kind[*customer.Customer, customer.Event]{
		Name: "customer", Category: customer.StreamCategory, Rehydrate: customer.Rehydrate,
	}, cfg)
}

// CustomerVerb runs one verb of the Customer aggregate: the handler of
// every customer use case that needs nothing but the verb (log a contact,
// record a purchase, mark lost …).
type CustomerVerb[C any] struct {
	repo *Customers
	verb func(*customer.Customer, C, time.Time) error
}

// NewCustomerVerb returns the handler of verb.
func NewCustomerVerb[C any](repo *Customers, verb func(*customer.Customer, C, time.Time) error) CustomerVerb[C] {
	return CustomerVerb[C]{repo: repo, verb: verb}
}

// Handle runs the verb on the customer; expected is the revision the
// caller last saw (nil: none; see Repository.Update). The command's text
// is checked first (aggregate.CheckText) and its digest recorded with an
// idempotency key.
func (h CustomerVerb[C]) Handle(ctx context.Context, customerID string, expected *uint64, cmd C) (Result, error) {
	return run(ctx, h.repo, customerID, expected, cmd, func(c *customer.Customer, now time.Time) error { return h.verb(c, cmd, now) })
}

// run is the shape of every customer command: check the text, record the
// request's digest, load–decide–append.
func run(ctx context.Context, repo *Customers, customerID string, expected *uint64, cmd any, decide func(*customer.Customer, time.Time) error) (Result, error) {
	if err := aggregate.CheckText(cmd); err != nil {
		return Result{}, err
	}
	ctx = WithRequest(ctx, cmd)
	res, err := repo.Update(ctx, customerID, expected, func(c *customer.Customer) error { return decide(c, repo.Now()) })
	return res, lastSurvivor(ctx, repo, err)
}

// lastSurvivor makes a refusal on a merged customer (a
// *customer.MergedError, which names the customer it was merged into)
// name the end of the chain of merges instead — the customer the book
// shows for it now — so a client that writes there is not refused again
// because that one was merged away too. Any other error is returned as it
// is.
func lastSurvivor(ctx context.Context, repo *Customers, err error) error {
	var me *customer.MergedError
	if !errors.As(err, &me) {
		return err
	}
	into := me.Into
	for range 64 { // merges cannot cycle; bound the walk all the same
		c, lerr := repo.Load(ctx, into)
		if lerr != nil {
			break
		}
		next, ok := c.MergedInto()
		if !ok {
			break
		}
		into = next
	}
	if into == me.Into {
		return err
	}
	return &customer.MergedError{Action: me.Action, ID: me.ID, Into: into}
}

// RegisterCustomer opens a customer's stream.
type RegisterCustomer struct{ repo *Customers }

// Handle registers the customer customerID; an empty customerID is chosen
// (derived from the caller's idempotency key, so a retried registration
// names the same customer).
func (h RegisterCustomer) Handle(ctx context.Context, customerID string, cmd customer.Register) (Result, error) {
	if customerID == "" {
		customerID = NewID(ctx, "c", "")
	}
	return run(ctx, h.repo, customerID, nil, cmd, func(c *customer.Customer, now time.Time) error { return c.Register(cmd, now) })
}

// Owners finds the customer a complaint or follow-up belongs to (the
// complaints and follow-ups read models).
type Owners interface {
	CustomerOf(id string) (customerID string, ok bool)
}

// OwnersFunc adapts a function to Owners.
type OwnersFunc func(id string) (string, bool)

// CustomerOf calls f.
func (f OwnersFunc) CustomerOf(id string) (string, bool) { return f(id) }

// OwnedVerb runs a verb on the customer that owns the complaint or
// follow-up the command names: the handler of the complaint steps and of
// completing a follow-up.
type OwnedVerb[C any] struct {
	repo   *Customers
	kind   string // "complaint", "follow-up"
	owners Owners
	idOf   func(C) string
	verb   func(*customer.Customer, C, time.Time) error
}

// NewOwnedVerb returns the handler of verb for the kind of entity whose ID
// idOf reads from the command.
func NewOwnedVerb[C any](repo *Customers, kind string, owners Owners, idOf func(C) string, verb func(*customer.Customer, C, time.Time) error) OwnedVerb[C] {
	return OwnedVerb[C]{repo: repo, kind: kind, owners: owners, idOf: idOf, verb: verb}
}

// Handle finds the owner (NOT_FOUND when none) and runs the verb there.
func (h OwnedVerb[C]) Handle(ctx context.Context, expected *uint64, cmd C) (Result, error) {
	id := h.idOf(cmd)
	customerID, ok := h.owners.CustomerOf(id)
	if !ok {
		return Result{}, &aggregate.NotFoundError{Kind: h.kind, ID: id}
	}
	res, err := run(ctx, h.repo, customerID, expected, cmd, func(c *customer.Customer, now time.Time) error { return h.verb(c, cmd, now) })
	res.Entity = id
	return res, err
}

// FileComplaint files a complaint, its reply-due time from the working
// calendar.
type FileComplaint struct {
	repo   *Customers
	owners Owners
	reply  customer.ReplyClock
}

// Handle files cmd on the customer. An empty cmd.ComplaintID is chosen
// (derived from the caller's idempotency key). Complaint IDs are global:
// one another customer has is refused; the same request retried with its
// key replays instead.
func (h FileComplaint) Handle(ctx context.Context, customerID string, expected *uint64, cmd customer.FileComplaint) (Result, error) {
	key, _ := IdempotencyKeyFrom(ctx)
	if cmd.ComplaintID == "" {
		cmd.ComplaintID = NewID(ctx, "k", customerID)
	}
	if owner, taken := h.owners.CustomerOf(cmd.ComplaintID); taken && (key == "" || owner != customerID) {
		return Result{}, &aggregate.PreconditionError{Action: "file complaint " + cmd.ComplaintID, Reason: "a complaint with this id already exists"}
	}
	res, err := run(ctx, h.repo, customerID, expected, cmd, func(c *customer.Customer, now time.Time) error { return c.FileComplaint(cmd, h.reply, now) })
	res.Entity = cmd.ComplaintID
	return res, err
}

// ScheduleFollowUp books a follow-up by hand.
type ScheduleFollowUp struct{ repo *Customers }

// Handle books cmd on the customer; an empty cmd.FollowUpID is chosen
// (derived from the caller's idempotency key).
func (h ScheduleFollowUp) Handle(ctx context.Context, customerID string, expected *uint64, cmd customer.ScheduleFollowUp) (Result, error) {
	if cmd.FollowUpID == "" {
		cmd.FollowUpID = NewID(ctx, "fu", customerID)
	}
	res, err := run(ctx, h.repo, customerID, expected, cmd, func(c *customer.Customer, now time.Time) error { return c.ScheduleFollowUp(cmd, now) })
	res.Entity = cmd.FollowUpID
	return res, err
}

// KeyDestroyer destroys a customer's personal-data key (pii.Vault).
type KeyDestroyer interface {
	Destroy(ctx context.Context, customerID string) error
}

// EraseCustomer records CustomerErased and then destroys the customer's
// personal-data key, after which every personal field in the customer's
// history reads as the erasure marker.
type EraseCustomer struct {
	repo *Customers
	keys KeyDestroyer
}

// Handle erases the customer. If the key's destruction failed after the
// event was stored, calling it again finishes it (and still reports the
// domain's "already erased" refusal).
func (h EraseCustomer) Handle(ctx context.Context, customerID string, expected *uint64, cmd customer.Erase) (Result, error) {
	already := false
	res, err := run(ctx, h.repo, customerID, expected, cmd, func(c *customer.Customer, now time.Time) error {
		already = c.Erased()
		return c.Erase(cmd, now)
	})
	if err != nil && !already {
		return Result{}, err
	}
	if derr := h.keys.Destroy(ctx, customerID); derr != nil {
		return Result{}, fmt.Errorf("erase customer %s: destroy key: %w", customerID, derr)
	}
	return res, err
}

// NewID makes an entity ID ("c-…", "k-…", "fu-…"): derived from the
// caller's idempotency key in ctx when there is one — scoped to the caller
// and to the customer it is for (scope; "" for a new customer), since
// callers pick keys independently and entity IDs are global — so a retried
// create names the same entity; random otherwise.
func NewID(ctx context.Context, prefix, scope string) string {
	if key, ok := IdempotencyKeyFrom(ctx); ok {
		u := codec.DeterministicID("id/"+prefix, ScopeKey(ctx, scope+"\x00"+key))
		return prefix + "-" + hex.EncodeToString(u[:6])
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	return prefix + "-" + hex.EncodeToString(b[:])
}
