package command_test

import (
	"errors"
	"testing"
	"time"

	"github.com/kefu-crm/kefu/app/command"
	"github.com/kefu-crm/kefu/domain/aggregate"
	"github.com/kefu-crm/kefu/domain/campaign"
	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/eventstore/embedded"
	"github.com/kefu-crm/kefu/eventstore/memstore"
	"github.com/kefu-crm/kefu/pii"
)

var unmergeCmd = customer.UnmergeCustomers{By: "am-li", Reason: "two people after all"}

// commandsAt are the handlers over f's store and codec with the clock at
// t and the merge policy pol.
func commandsAt(t *testing.T, f *fixture, at time.Time, pol customer.MergePolicy) command.Commands {
	t.Helper()
	cmds, err := command.New(command.Config{Store: f.store, Codec: f.codec, Clock: func() time.Time { return at }, Merge: pol}, command.Deps{
		Complaints: command.OwnersFunc(func(string) (string, bool) { return "", false }),
		FollowUps:  command.OwnersFunc(func(string) (string, bool) { return "", false }),
		ReplyClock: customer.ReplyClockFunc(func(t time.Time) (time.Time, bool) { return t.Add(4 * time.Hour), false }),
		Keys:       f.vault,
		Directory:  noDirectory{},
		Stages:     campaign.StageFunc(func(string) string { return "" }),
	})
	if err != nil {
		t.Fatal(err)
	}
	return cmds
}

// Given m-1 and m-2 merged into s-1, an unmerge of m-1 appends one event
// to s-1 and m-1 and none to m-2; refusals (stale versions, not merged,
// itself, past the window, empty reason) append nothing; a repeated key
// replays; commands on m-1 are accepted again.
func TestUnmergeCustomers(t *testing.T) {
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
	if _, err := f.cmds.MergeCustomers.Handle(ctx, "s-1", []string{"m-1", "m-2"}, nil, mergeCmd); err != nil {
		t.Fatal(err)
	}
	head := func() eventstore.Position {
		p, err := st.Head(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	later := commandsAt(t, f, now.Add(48*time.Hour), customer.MergePolicy{})
	h := later.UnmergeCustomers
	refused := func(name string, h command.UnmergeCustomers, want error, survivor string, ids []string, expected []uint64, cmd customer.UnmergeCustomers) error {
		t.Helper()
		before := head()
		_, err := h.Handle(ctx, survivor, ids, expected, cmd)
		if !errors.Is(err, want) {
			t.Errorf("%s: %v, want %v", name, err, want)
		}
		if after := head(); after != before {
			t.Errorf("%s: head moved from %d to %d", name, before, after)
		}
		return err
	}
	refused("stale version", h, command.ErrConflict, "s-1", []string{"m-1"}, []uint64{0, 1}, unmergeCmd)
	refused("wrong number of versions", h, aggregate.ErrInvalidInput, "s-1", []string{"m-1"}, []uint64{1}, unmergeCmd)
	refused("not merged", h, aggregate.ErrFailedPrecondition, "s-1", []string{"x-1"}, nil, unmergeCmd)
	refused("itself", h, aggregate.ErrInvalidInput, "s-1", []string{"s-1"}, nil, unmergeCmd)
	refused("unknown", h, aggregate.ErrNotFound, "s-1", []string{"nobody"}, nil, unmergeCmd)
	refused("bad id", h, aggregate.ErrInvalidInput, "s-1", []string{"no/slash"}, nil, unmergeCmd)
	refused("no by", h, aggregate.ErrInvalidInput, "s-1", []string{"m-1"}, nil, customer.UnmergeCustomers{Reason: "x"})
	refused("from the merged side", h, aggregate.ErrFailedPrecondition, "m-1", []string{"s-1"}, nil, unmergeCmd)
	// 48h after the merge a one-day window has closed; the error says when.
	short := commandsAt(t, f, now.Add(48*time.Hour), customer.MergePolicy{UnmergeWindow: 24 * time.Hour})
	err = refused("past the window", short.UnmergeCustomers, aggregate.ErrFailedPrecondition, "s-1", []string{"m-1"}, nil, unmergeCmd)
	var we *customer.UnmergeWindowError
	if !errors.As(err, &we) || !we.ClosedAt.Equal(now.Add(24*time.Hour)) {
		t.Errorf("past the window: %v, want an UnmergeWindowError closed at %s", err, now.Add(24*time.Hour))
	}

	kctx := command.WithIdempotencyKey(ctx, "unmerge-1")
	res, err := h.Handle(kctx, "s-1", []string{"m-1"}, []uint64{1, 1}, unmergeCmd)
	if err != nil {
		t.Fatal(err)
	}
	if res.ID != "s-1" || res.Revision != 2 || len(res.Events) != 1 || res.Events[0].Event.Type != customer.TypeCustomersUnmerged {
		t.Fatalf("result %+v", res)
	}
	for id, want := range map[string]int{"s-1": 3, "m-1": 3, "m-2": 2, "x-1": 1} {
		if n := streamLen(t, st, stream(id)); n != want {
			t.Errorf("%s has %d events, want %d", id, n, want)
		}
	}
	again, err := h.Handle(kctx, "s-1", []string{"m-1"}, []uint64{1, 1}, unmergeCmd)
	if err != nil || again.Revision != res.Revision || again.Position != res.Position {
		t.Errorf("replay: %+v, %v; want %+v", again, err, res)
	}
	refused("again without the key", h, aggregate.ErrFailedPrecondition, "s-1", []string{"m-1"}, nil, unmergeCmd)
	if _, err := logContact(ctx, f, "m-1", nil, "hello again"); err != nil {
		t.Errorf("contact on the restored customer: %v", err)
	}
	if _, err := logContact(ctx, f, "m-2", nil, "hello"); !errors.As(err, new(*customer.MergedError)) {
		t.Errorf("contact on m-2, still merged: %v, want a MergedError", err)
	}
}

func TestConfigRefusesNegativeUnmergeWindow(t *testing.T) {
	f := newMemFixture(t)
	_, err := command.New(command.Config{Store: f.store, Codec: f.codec, Merge: customer.MergePolicy{UnmergeWindow: -time.Hour}}, command.Deps{})
	if !errors.Is(err, command.ErrInvalidConfig) {
		t.Errorf("negative unmerge window: %v, want ErrInvalidConfig", err)
	}
}

// Given a store without all-or-nothing appends and an unmerge cut off
// after the restored customer's stream was appended but before the
// survivor's, when the client sends it again with the same idempotency
// key and expected versions, then the unmerge completes once on each
// stream.
func TestUnmergeResumesOnANonAtomicStore(t *testing.T) {
	st := &nonAtomic{Store: memstore.New(memstore.Options{})}
	f := newFixture(t, st, pii.NewMemKeystore(), 0)
	for _, id := range []string{"s-1", "m-1"} {
		register(t, f, id)
	}
	if _, err := f.cmds.MergeCustomers.Handle(t.Context(), "s-1", []string{"m-1"}, nil, mergeCmd); err != nil {
		t.Fatal(err)
	}
	ctx := command.WithIdempotencyKey(t.Context(), "unmerge-s1")
	st.failOn = stream("s-1")
	expected := []uint64{1, 1}
	if _, err := f.cmds.UnmergeCustomers.Handle(ctx, "s-1", []string{"m-1"}, expected, unmergeCmd); !errors.Is(err, errCutOff) {
		t.Fatalf("first send: %v, want the cut-off", err)
	}
	if n, m := streamLen(t, st, stream("s-1")), streamLen(t, st, stream("m-1")); n != 2 || m != 3 {
		t.Fatalf("after the cut-off s-1 has %d events and m-1 %d, want 2 and 3", n, m)
	}
	if _, err := f.cmds.UnmergeCustomers.Handle(ctx, "s-1", []string{"m-1"}, expected, unmergeCmd); err != nil {
		t.Fatalf("second send with the same key: %v", err)
	}
	if n, m := streamLen(t, st, stream("s-1")), streamLen(t, st, stream("m-1")); n != 3 || m != 3 {
		t.Errorf("after the second send s-1 has %d events and m-1 %d, want 3 and 3", n, m)
	}
	s, err := f.cmds.Customers.Load(t.Context(), "s-1")
	if err != nil {
		t.Fatal(err)
	}
	if got := s.MergedFrom(); len(got) != 0 {
		t.Errorf("survivor still merged from %v", got)
	}
}
