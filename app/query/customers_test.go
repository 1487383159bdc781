package query_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kefu-crm/kefu/app/command"
	"github.com/kefu-crm/kefu/app/query"
	"github.com/kefu-crm/kefu/domain/aggregate"
	"github.com/kefu-crm/kefu/domain/campaign"
	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/eventstore/codec"
	"github.com/kefu-crm/kefu/eventstore/memstore"
	"github.com/kefu-crm/kefu/pii"
	"github.com/kefu-crm/kefu/projections/lifecycle"
	"github.com/kefu-crm/kefu/projections/readmodels"
)

var now = time.Date(2025, 6, 1, 10, 0, 0, 0, time.UTC)

// countingStore counts the stream reads of the queries.
type countingStore struct {
	eventstore.Store
	reads atomic.Int64
}

func (s *countingStore) ReadStream(ctx context.Context, stream string, r eventstore.StreamRead) ([]eventstore.Event, error) {
	s.reads.Add(1)
	return s.Store.ReadStream(ctx, stream, r)
}

// book writes a customer with a purchase and a complaint through the
// commands, folds the log into the read models and returns the queries
// over them.
func book(t *testing.T, opts ...func(*query.Deps)) (query.Queries, *countingStore) {
	t.Helper()
	ctx := t.Context()
	store := &countingStore{Store: memstore.New(memstore.Options{})}
	keys := pii.NewVault(pii.NewMemKeystore(), pii.VaultOptions{})
	cd, err := codec.New(codec.Options{Protector: keys}, codec.SpecsOf(customer.Events()), codec.SpecsOf(campaign.Events()))
	if err != nil {
		t.Fatal(err)
	}
	set, err := readmodels.New(lifecycle.DefaultPolicy(), nil)
	if err != nil {
		t.Fatal(err)
	}
	deps := query.Deps{Set: set, Store: store, Codec: cd, Clock: func() time.Time { return now }}
	for _, o := range opts {
		o(&deps)
	}
	q, err := query.New(deps)
	if err != nil {
		t.Fatal(err)
	}
	cmds, err := command.New(command.Config{Store: store, Codec: cd, Clock: func() time.Time { return now }}, command.Deps{
		Complaints: command.OwnersFunc(set.Complaints.CustomerOf),
		FollowUps:  command.OwnersFunc(func(string) (string, bool) { return "", false }),
		ReplyClock: customer.ReplyClockFunc(func(t time.Time) (time.Time, bool) { return t.Add(4 * time.Hour), false }),
		Keys:       keys, Directory: q.Directory, Stages: q.Stages,
	})
	if err != nil {
		t.Fatal(err)
	}
	tier, _ := customer.ParseTier("GOLD")
	if _, err := cmds.RegisterCustomer.Handle(ctx, "c1", customer.Register{Name: "王芳", Tier: tier, Timezone: "Asia/Shanghai", Locale: "zh-CN", OccurredAt: now.AddDate(0, -2, 0)}); err != nil {
		t.Fatal(err)
	}
	for i, at := range []time.Time{now.AddDate(0, -1, -7), now.AddDate(0, -1, 0)} {
		if _, err := cmds.RecordPurchase.Handle(ctx, "c1", nil, customer.RecordPurchase{OrderID: "o-" + string(rune('1'+i)),
			Amount: customer.Money{AmountMinor: 100, Currency: "CNY"}, OccurredAt: at}); err != nil {
			t.Fatal(err)
		}
	}
	phone, _ := customer.ParseChannel("PHONE")
	general, _ := customer.ParseSeverity("GENERAL")
	if _, err := cmds.FileComplaint.Handle(ctx, "c1", nil, customer.FileComplaint{ComplaintID: "k1", Channel: phone, Category: "delivery",
		Severity: general, Description: "lost", Owner: "alice"}); err != nil {
		t.Fatal(err)
	}
	rebuildSet(t, store, set)
	set.AdvanceTo(now)
	store.reads.Store(0)
	return q, store
}

// A customer read now costs no stream read until a field that needs the
// customer's stream folded (stage, its history, loyalty) is asked for; the
// fold then runs once for all of them.
func TestCustomerDetailsAreLazy(t *testing.T) {
	q, store := book(t)
	ctx := t.Context()
	c, err := q.Customers.Get(ctx, "c1", nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Tier != "GOLD" || c.PurchaseCount != 2 || c.Details == nil {
		t.Fatalf("customer = %+v", c)
	}
	if n := store.reads.Load(); n != 0 {
		t.Fatalf("reading the customer read the stream %d times", n)
	}
	d, err := c.Details(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if d.Stage != "COMPLAINING" || len(d.StageHistory) != 3 || d.StageHistory[1].To != "ACTIVE" {
		t.Errorf("details = %+v", d)
	}
	first := store.reads.Load()
	if first == 0 {
		t.Fatal("the details were computed without reading the stream")
	}
	if _, err := c.Details(ctx); err != nil {
		t.Fatal(err)
	}
	if n := store.reads.Load(); n != first {
		t.Errorf("a second call of Details read the stream again (%d reads, then %d)", first, n)
	}
	// As of a past instant, the stream is folded up to it.
	before := now.AddDate(0, 0, -10)
	past, err := q.Customers.Get(ctx, "c1", &before)
	if err != nil {
		t.Fatal(err)
	}
	if past.Stage != "ACTIVE" {
		t.Errorf("as of ten days ago: stage %s, want ACTIVE", past.Stage)
	}
}

// An unknown customer is a NotFoundError; a future asOf an
// InvalidInputError naming asOf.
func TestCustomerRefusals(t *testing.T) {
	q, _ := book(t)
	ctx := t.Context()
	if _, err := q.Customers.Get(ctx, "nobody", nil); !errors.Is(err, aggregate.ErrNotFound) {
		t.Errorf("unknown customer: %v", err)
	}
	later := now.Add(time.Hour)
	var ie *aggregate.InvalidInputError
	if _, err := q.Customers.Get(ctx, "c1", &later); !errors.As(err, &ie) || ie.Field != "asOf" {
		t.Errorf("future asOf: %v", err)
	}
}
