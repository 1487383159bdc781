package query_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/kefu-crm/kefu/app/command"
	"github.com/kefu-crm/kefu/app/query"
	"github.com/kefu-crm/kefu/domain/campaign"
	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/eventstore/codec"
	"github.com/kefu-crm/kefu/eventstore/memstore"
	"github.com/kefu-crm/kefu/pii"
	"github.com/kefu-crm/kefu/projections/lifecycle"
	"github.com/kefu-crm/kefu/projections/readmodels"
	"github.com/kefu-crm/kefu/projections/transitions"
)

// mergeOutcome is what the property compares: stage, loyalty, purchases
// and the timeline's event types (registrations and the merge's own
// events aside).
type mergeOutcome struct {
	Stage         string
	StageHistory  []string
	Score         int
	Level         string
	CSAT          string
	Recovered     int
	PurchaseCount int
	Value         []query.Money
	LastInbound   string
	Timeline      []string
}

// For random histories split between two customers A and B, B merged into
// A reads — live and as of now, by either id — as one customer U who had
// the union history.
func TestMergedCustomerIsTheUnionProperty(t *testing.T) {
	for seed := range uint64(40) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { checkMergeUnion(t, seed) })
	}
}

func checkMergeUnion(t *testing.T, seed uint64) {
	ctx := t.Context()
	rng := rand.New(rand.NewPCG(seed, 7))
	store, set, q, cmds := newMergeBook(t, func() time.Time { return now })
	must := mustResult(t)
	tier, _ := customer.ParseTier("STANDARD")
	phone, _ := customer.ParseChannel("PHONE")
	general, _ := customer.ParseSeverity("GENERAL")
	inbound, _ := customer.ParseDirection("INBOUND")
	outbound, _ := customer.ParseDirection("OUTBOUND")
	start := now.AddDate(0, 0, -(30 + rng.IntN(400)))
	reg := func(id string, at time.Time) {
		must(cmds.RegisterCustomer.Handle(ctx, id, customer.Register{Name: "n", Tier: tier, Timezone: "Asia/Shanghai", Locale: "zh-CN", OccurredAt: at}))
	}
	reg("A", start)
	reg("U", start)
	bAt := start.Add(time.Duration(1+rng.IntN(48)) * time.Hour)
	bRegistered := false
	at := start
	steps := 1 + rng.IntN(14)
	for i := range steps {
		at = at.Add(time.Duration(1+rng.IntN(30*24)) * time.Hour)
		if at.After(now) {
			break
		}
		who := "A"
		if rng.IntN(2) == 0 {
			who = "B"
		}
		if who == "B" && !bRegistered {
			if at.Before(bAt) {
				at = bAt.Add(time.Minute)
			}
			reg("B", bAt)
			bRegistered = true
		}
		kind := rng.IntN(5)
		amount, outward, score := int64(100+rng.IntN(10000)), rng.IntN(2) == 0, 1+rng.IntN(5)
		for _, id := range []string{who, "U"} {
			switch kind {
			case 0, 1:
				must(cmds.RecordPurchase.Handle(ctx, id, nil, customer.RecordPurchase{OrderID: fmt.Sprintf("o%d", i),
					Amount: customer.Money{AmountMinor: amount, Currency: "CNY"}, OccurredAt: at}))
			case 2:
				dir := inbound
				if outward {
					dir = outbound
				}
				must(cmds.LogContact.Handle(ctx, id, nil, customer.LogContact{Channel: phone, Direction: dir, Agent: "a", OccurredAt: at}))
			case 3:
				must(cmds.FileComplaint.Handle(ctx, id, nil, customer.FileComplaint{ComplaintID: fmt.Sprintf("k%d-%s", i, id), Channel: phone,
					Category: "c", Severity: general, Description: "d", Owner: "a", OccurredAt: at}))
			case 4:
				must(cmds.RecordSatisfaction.Handle(ctx, id, nil, customer.RecordSatisfaction{Score: score, OccurredAt: at}))
			}
		}
	}
	if !bRegistered {
		reg("B", bAt)
	}
	must(cmds.MergeCustomers.Handle(ctx, "A", []string{"B"}, nil, customer.MergeCustomers{By: "a", Reason: "same person"}))

	rebuildSet(t, store, set)
	set.AdvanceTo(now)
	checkLifecycleReadModel(t, set)

	outcome := func(id string, asOf *time.Time) mergeOutcome {
		t.Helper()
		o, _ := readOutcome(t, q, id, asOf)
		return o
	}
	at2 := now
	want := outcome("U", nil)
	for _, c := range []struct {
		id   string
		asOf *time.Time
	}{{"A", nil}, {"B", nil}, {"A", &at2}, {"B", &at2}} {
		got := outcome(c.id, c.asOf)
		if !mergeEqual(got, want) {
			t.Errorf("%d steps; merged customer read as %s (asOf %v):\n%+v\none customer with the union history:\n%+v", steps, c.id, c.asOf, got, want)
		}
	}
}

// checkLifecycleReadModel: the lifecycle read model — what stage counts,
// stage filters and the lifecycle report read — holds the survivor as U
// and the merged customer nowhere.
func checkLifecycleReadModel(t *testing.T, set *readmodels.Set) {
	t.Helper()
	a, okA := set.Lifecycle.Get("A")
	u, okU := set.Lifecycle.Get("U")
	if !okA || !okU || a.Stage != u.Stage || !a.Since.Equal(u.Since) || !a.Next.Equal(u.Next) || a.NextStage != u.NextStage || a.Grievances != u.Grievances {
		t.Errorf("lifecycle read model: survivor %+v, one customer with the union history %+v", a, u)
	}
	if b, _ := set.Lifecycle.Get("B"); b.Stage != lifecycle.StageNone || !set.Lifecycle.Retired("B") {
		t.Errorf("lifecycle read model: the merged customer still counts: %+v", b)
	}
	la, okA := set.Loyalty.Get("A")
	lu, okU := set.Loyalty.Get("U")
	if !okA || !okU || la != lu {
		t.Errorf("loyalty index: survivor %+v, one customer with the union history %+v", la, lu)
	}
	if lb, ok := set.Loyalty.Get("B"); ok {
		t.Errorf("loyalty index: the merged customer still scored: %+v", lb)
	}
	counts := set.Lifecycle.Counts()
	total := 0
	for _, st := range lifecycle.Stages() {
		total += counts[st]
	}
	if total != 2 || counts[u.Stage] != 2 {
		t.Errorf("stage counts %v: want the survivor and U, both %s", counts, u.Stage)
	}
	rep, err := set.Transitions.LifecycleReport(now.AddDate(0, 0, -1), now, transitions.Day, transitions.ReportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pop := rep.Buckets[len(rep.Buckets)-1].Population
	total = 0
	for _, st := range lifecycle.Stages() {
		total += pop[st]
	}
	if total != 2 || pop[u.Stage] != 2 {
		t.Errorf("lifecycle report population %v: want the survivor and U, both %s", pop, u.Stage)
	}
}

// newMergeBook is a book on an in-memory store under clock: the store, the
// read models (folded by Rebuild), the queries and the commands.
func newMergeBook(t *testing.T, clock func() time.Time) (*memstore.Store, *readmodels.Set, query.Queries, command.Commands) {
	t.Helper()
	store := memstore.New(memstore.Options{})
	keys := pii.NewVault(pii.NewMemKeystore(), pii.VaultOptions{})
	cd, err := codec.New(codec.Options{Protector: keys}, codec.SpecsOf(customer.Events()), codec.SpecsOf(campaign.Events()))
	if err != nil {
		t.Fatal(err)
	}
	set, err := readmodels.New(lifecycle.DefaultPolicy(), nil)
	if err != nil {
		t.Fatal(err)
	}
	q, err := query.New(query.Deps{Set: set, Store: store, Codec: cd, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	cmds, err := command.New(command.Config{Store: store, Codec: cd, Clock: clock}, command.Deps{
		Complaints: command.OwnersFunc(set.Complaints.CustomerOf),
		FollowUps:  command.OwnersFunc(func(string) (string, bool) { return "", false }),
		ReplyClock: customer.ReplyClockFunc(func(t time.Time) (time.Time, bool) { return t.Add(4 * time.Hour), false }),
		Keys:       keys, Directory: q.Directory, Stages: q.Stages,
	})
	if err != nil {
		t.Fatal(err)
	}
	return store, set, q, cmds
}

// rebuildSet folds the whole log of store into set.
func rebuildSet(t *testing.T, store eventstore.Store, set *readmodels.Set) {
	t.Helper()
	d, err := readmodels.PlainDecoder()
	if err != nil {
		t.Fatal(err)
	}
	head, err := store.Head(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if err := set.Rebuild(t.Context(), store, d, head, nil); err != nil {
		t.Fatal(err)
	}
}

// mustResult fails the test on a command's error.
func mustResult(t *testing.T) func(command.Result, error) {
	return func(_ command.Result, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
}

// readOutcome reads what the merge properties compare of a customer, as
// of asOf (nil: now), and the customer read.
func readOutcome(t *testing.T, q query.Queries, id string, asOf *time.Time) (mergeOutcome, query.Customer) {
	t.Helper()
	ctx := t.Context()
	c, err := q.Customers.Get(ctx, id, asOf)
	if err != nil {
		t.Fatalf("Get(%s): %v", id, err)
	}
	det := query.CustomerDetails{Stage: c.Stage, StageSince: c.StageSince, StageHistory: c.StageHistory, Loyalty: c.Loyalty}
	if c.Details != nil {
		if det, err = c.Details(ctx); err != nil {
			t.Fatal(err)
		}
	}
	o := mergeOutcome{Stage: det.Stage, Score: det.Loyalty.Score, Level: det.Loyalty.Level, Recovered: det.Loyalty.RecoveredComplaints,
		PurchaseCount: c.PurchaseCount, Value: c.LifetimeValue}
	for _, s := range det.StageHistory {
		o.StageHistory = append(o.StageHistory, s.To+"@"+s.At.UTC().Format(time.RFC3339))
	}
	if det.Loyalty.CSATAverage != nil {
		o.CSAT = fmt.Sprintf("%.4f", *det.Loyalty.CSATAverage)
	}
	if c.LastInboundAt != nil {
		o.LastInbound = c.LastInboundAt.UTC().Format(time.RFC3339)
	}
	tl, err := q.Customers.Timeline(ctx, c.ID, query.TimelineFilter{AsOf: asOf, OldestFirst: true}, query.Page{First: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range tl.Edges {
		switch e.Node.Type {
		case customer.TypeCustomerMerged, customer.TypeCustomersMergedIn, customer.TypeCustomerUnmerged, customer.TypeCustomersUnmerged, "CustomerRegistered":
		default:
			o.Timeline = append(o.Timeline, e.Node.Type)
		}
	}
	return o, c
}

func mergeEqual(a, b mergeOutcome) bool {
	return a.Stage == b.Stage && slices.Equal(a.StageHistory, b.StageHistory) && a.Score == b.Score && a.Level == b.Level &&
		a.CSAT == b.CSAT && a.Recovered == b.Recovered && a.PurchaseCount == b.PurchaseCount && slices.Equal(a.Value, b.Value) &&
		a.LastInbound == b.LastInbound && slices.Equal(a.Timeline, b.Timeline)
}
