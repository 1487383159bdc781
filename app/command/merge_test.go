package command_test

import (
	"context"
	"errors"
	"testing"

	"github.com/kefu-crm/kefu/app/command"
	"github.com/kefu-crm/kefu/domain/aggregate"
	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/eventstore/embedded"
	"github.com/kefu-crm/kefu/eventstore/memstore"
	"github.com/kefu-crm/kefu/pii"
)

var mergeCmd = customer.MergeCustomers{By: "am-li", Reason: "same phone"}

func stream(id string) string { return eventstore.StreamID(customer.StreamCategory, id) }

// Given two registered customers on the embedded store, a merge appends
// one event to each stream; a repeated key replays; a stale expected
// version, a merge into itself or of a merged customer append nothing.
func TestMergeCustomers(t *testing.T) {
	st, err := embedded.Open(t.TempDir(), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	f := newFixture(t, st, pii.NewMemKeystore(), 0)
	ctx := t.Context()
	for _, id := range []string{"s-1", "m-1", "m-2", "x-1"} {
		register(t, f, id)
	}
	h := f.cmds.MergeCustomers
	head := func() eventstore.Position {
		p, err := st.Head(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	refused := func(name string, want error, survivor string, merged []string, expected []uint64) {
		t.Helper()
		before := head()
		_, err := h.Handle(ctx, survivor, merged, expected, mergeCmd)
		if !errors.Is(err, want) {
			t.Errorf("%s: %v, want %v", name, err, want)
		}
		if after := head(); after != before {
			t.Errorf("%s: head moved from %d to %d", name, before, after)
		}
	}
	refused("into itself", aggregate.ErrInvalidInput, "s-1", []string{"m-1", "s-1"}, nil)
	refused("unknown", aggregate.ErrNotFound, "s-1", []string{"m-1", "nobody"}, nil)
	refused("stale version", command.ErrConflict, "s-1", []string{"m-1", "m-2"}, []uint64{0, 0, 3})
	refused("wrong number of versions", aggregate.ErrInvalidInput, "s-1", []string{"m-1", "m-2"}, []uint64{0})

	kctx := command.WithIdempotencyKey(ctx, "merge-1")
	res, err := h.Handle(kctx, "s-1", []string{"m-1", "m-2"}, []uint64{0, 0, 0}, mergeCmd)
	if err != nil {
		t.Fatal(err)
	}
	if res.ID != "s-1" || res.Revision != 1 || len(res.Events) != 1 || res.Events[0].Event.Type != customer.TypeCustomersMergedIn {
		t.Fatalf("result %+v", res)
	}
	for id, want := range map[string]int{"s-1": 2, "m-1": 2, "m-2": 2, "x-1": 1} {
		if n := streamLen(t, st, stream(id)); n != want {
			t.Errorf("%s has %d events, want %d", id, n, want)
		}
	}
	// The same key again replays the first result.
	again, err := h.Handle(kctx, "s-1", []string{"m-1", "m-2"}, []uint64{0, 0, 0}, mergeCmd)
	if err != nil || again.Revision != res.Revision || again.Position != res.Position {
		t.Errorf("replay: %+v, %v; want %+v", again, err, res)
	}
	// The same key with another request is a conflict.
	if _, err := h.Handle(kctx, "s-1", []string{"m-1"}, nil, mergeCmd); !errors.Is(err, command.ErrConflict) {
		t.Errorf("key reuse: %v, want a conflict", err)
	}
	refused("already merged", aggregate.ErrFailedPrecondition, "x-1", []string{"m-1"}, nil)
	refused("into a merged customer", aggregate.ErrFailedPrecondition, "m-1", []string{"x-1"}, nil)
	refused("a cycle", aggregate.ErrFailedPrecondition, "m-2", []string{"s-1"}, nil)

	// Commands on a merged id name the survivor.
	_, err = logContact(ctx, f, "m-1", nil, "hello")
	var me *customer.MergedError
	if !errors.As(err, &me) || me.Into != "s-1" {
		t.Errorf("contact on a merged customer: %v, want a MergedError naming s-1", err)
	}
}

// racing is a store on which another writer appends to a stream just
// before each all-or-nothing append, once per call of race.
type racing struct {
	*memstore.Store
	race func()
}

func (r *racing) AppendAtomic(ctx context.Context, items []eventstore.StreamAppend) ([]eventstore.AppendResult, error) {
	if race := r.race; race != nil {
		r.race = nil
		race()
	}
	return r.Store.AppendAtomic(ctx, items)
}

// Given a merge during which a merged customer gets a new event (a
// concurrent writer between load and append), the all-or-nothing append
// refuses the whole merge — the survivor is not left half-merged — and
// without expected versions the handler decides again and gets through.
func TestMergeAtomicOnRace(t *testing.T) {
	st := &racing{Store: memstore.New(memstore.Options{})}
	f := newFixture(t, st, pii.NewMemKeystore(), 0)
	ctx := t.Context()
	register(t, f, "s-1")
	register(t, f, "m-1")
	meanwhile := func() {
		if _, err := logContact(ctx, f, "m-1", nil, "meanwhile"); err != nil {
			t.Error(err)
		}
	}
	st.race = meanwhile
	_, err := f.cmds.MergeCustomers.Handle(ctx, "s-1", []string{"m-1"}, []uint64{0, 0}, mergeCmd)
	var ce *command.ConflictError
	if !errors.As(err, &ce) || ce.ID != "m-1" || ce.Actual != 1 || ce.Expected == nil || *ce.Expected != 0 {
		t.Fatalf("merge raced on m-1: %v, want a ConflictError on m-1 (expected 0, at 1)", err)
	}
	if n := streamLen(t, f.store, stream("s-1")); n != 1 {
		t.Errorf("s-1 has %d events after a refused merge, want 1", n)
	}
	st.race = meanwhile
	res, err := f.cmds.MergeCustomers.Handle(ctx, "s-1", []string{"m-1"}, nil, mergeCmd)
	if err != nil {
		t.Fatalf("merge without expected versions after a lost race: %v", err)
	}
	if res.Revision != 1 || streamLen(t, f.store, stream("m-1")) != 4 {
		t.Errorf("after the retried merge: survivor at %d, m-1 has %d events (want 1 and 4)", res.Revision, streamLen(t, f.store, stream("m-1")))
	}
}

// nonAtomic is a store without an all-or-nothing multi-stream append (as
// EventStoreDB through the kurrent adapter) whose append to one stream
// fails once, after the appends before it went through: a merge cut off
// half-way.
type nonAtomic struct {
	eventstore.Store
	failOn string
}

var errCutOff = errors.New("connection lost")

func (s *nonAtomic) Append(ctx context.Context, stream string, expected eventstore.Expected, records ...eventstore.Record) (eventstore.AppendResult, error) {
	if stream == s.failOn {
		s.failOn = ""
		return eventstore.AppendResult{}, errCutOff
	}
	return s.Store.Append(ctx, stream, expected, records...)
}

// Given a store without all-or-nothing appends and a merge cut off after
// the merged customers' streams were appended but before the survivor's,
// when the client sends the merge again with the same idempotency key
// (and the expected versions it read first), then the merge completes:
// each merged stream holds its CustomerMerged once, the survivor its
// CustomersMergedIn, and a third send replays the result.
func TestMergeResumesOnANonAtomicStore(t *testing.T) {
	st := &nonAtomic{Store: memstore.New(memstore.Options{})}
	f := newFixture(t, st, pii.NewMemKeystore(), 0)
	ctx := command.WithIdempotencyKey(t.Context(), "merge-s1")
	for _, id := range []string{"s-1", "m-1", "m-2"} {
		register(t, f, id)
	}
	if _, err := eventstore.AppendAtomic(ctx, st, nil); !errors.Is(err, eventstore.ErrNotAtomic) {
		t.Fatalf("the test store is atomic: %v", err)
	}
	st.failOn = stream("s-1")
	expected := []uint64{0, 0, 0}
	if _, err := f.cmds.MergeCustomers.Handle(ctx, "s-1", []string{"m-1", "m-2"}, expected, mergeCmd); !errors.Is(err, errCutOff) {
		t.Fatalf("first send: %v, want the cut-off", err)
	}
	for id, want := range map[string]int{"m-1": 2, "m-2": 2, "s-1": 1} {
		if n := streamLen(t, st, stream(id)); n != want {
			t.Fatalf("after the cut-off %s has %d events, want %d (merged streams appended, the survivor not)", id, n, want)
		}
	}
	res, err := f.cmds.MergeCustomers.Handle(ctx, "s-1", []string{"m-1", "m-2"}, expected, mergeCmd)
	if err != nil {
		t.Fatalf("second send with the same key: %v", err)
	}
	for id, want := range map[string]int{"m-1": 2, "m-2": 2, "s-1": 2} {
		if n := streamLen(t, st, stream(id)); n != want {
			t.Errorf("after the second send %s has %d events, want %d", id, n, want)
		}
	}
	s, err := f.cmds.Customers.Load(ctx, "s-1")
	if err != nil {
		t.Fatal(err)
	}
	if got := s.MergedFrom(); len(got) != 2 {
		t.Errorf("survivor merged from %v, want m-1 and m-2", got)
	}
	again, err := f.cmds.MergeCustomers.Handle(ctx, "s-1", []string{"m-1", "m-2"}, expected, mergeCmd)
	if err != nil || again.Revision != res.Revision || again.Position != res.Position {
		t.Errorf("third send: %+v %v, want the second's result %+v", again, err, res)
	}
}

// After a chain of merges (b into a, then a into d), a command on b, and a
// merge into b, are refused naming d, the customer the book shows for b
// now, not a (merged away itself): a client that follows extensions.into
// reaches a customer that accepts writes.
func TestCommandOnAMergedIdNamesTheLastSurvivor(t *testing.T) {
	st, err := embedded.Open(t.TempDir(), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	f := newFixture(t, st, pii.NewMemKeystore(), 0)
	ctx := t.Context()
	for _, id := range []string{"a", "b", "d"} {
		register(t, f, id)
	}
	if _, err := f.cmds.MergeCustomers.Handle(ctx, "a", []string{"b"}, nil, mergeCmd); err != nil {
		t.Fatal(err)
	}
	if _, err := f.cmds.MergeCustomers.Handle(ctx, "d", []string{"a"}, nil, mergeCmd); err != nil {
		t.Fatal(err)
	}
	check := func(name string, err error) {
		t.Helper()
		var me *customer.MergedError
		if !errors.As(err, &me) || me.ID != "b" || me.Into != "d" {
			t.Errorf("%s on b: %v, want a MergedError naming d", name, err)
		}
	}
	_, err = logContact(ctx, f, "b", nil, "hello")
	check("log contact", err)
	_, err = f.cmds.MergeCustomers.Handle(ctx, "b", []string{"d"}, nil, mergeCmd)
	check("merge into b", err)
	_, err = f.cmds.UnmergeCustomers.Handle(ctx, "b", []string{"a"}, nil, customer.UnmergeCustomers{By: "am-li", Reason: "not one"})
	check("unmerge from b", err)
}
