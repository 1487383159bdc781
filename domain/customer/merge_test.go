package customer_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/kefu-crm/kefu/domain/aggregate"
	"github.com/kefu-crm/kefu/domain/customer"
)

// registered returns a registered customer id (loaded, no pending changes).
func registered(t *testing.T, id string, mod ...func(*customer.Register)) *customer.Customer {
	t.Helper()
	c, err := customer.New(id)
	if err != nil {
		t.Fatal(err)
	}
	if err := register(mod...)(c); err != nil {
		t.Fatal(err)
	}
	return reload(t, c)
}

// reload rebuilds c from its whole history: the events it was loaded from
// (kept by histories) and the changes it recorded since, as a repository
// would after appending them.
func reload(t *testing.T, c *customer.Customer) *customer.Customer {
	t.Helper()
	h := append(histories[c], c.Changes()...)
	var hs []customer.Historic
	for i, ch := range h {
		hs = append(hs, customer.Historic{Event: ch.Event, Revision: uint64(i), OccurredAt: ch.OccurredAt})
	}
	out, err := customer.Rehydrate(c.ID(), hs)
	if err != nil {
		t.Fatal(err)
	}
	histories[out] = h
	return out
}

// histories keeps the events each reloaded aggregate was rebuilt from.
var histories = map[*customer.Customer][]customer.Change{}

// rebuilt is the customer id rebuilt from evs.
func rebuilt(t *testing.T, id string, evs ...customer.Change) *customer.Customer {
	t.Helper()
	var h []customer.Historic
	for i, ch := range evs {
		h = append(h, customer.Historic{Event: ch.Event, Revision: uint64(i), OccurredAt: ch.OccurredAt})
	}
	c, err := customer.Rehydrate(id, h)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var mergeCmd = customer.MergeCustomers{By: "am-li", Reason: "same phone"}

func TestMergeRecordsBothSides(t *testing.T) {
	s := registered(t, "s-1")
	m1 := registered(t, "m-1", func(r *customer.Register) {
		r.Name = "王晓明"
		r.Email = "other@example.com"
		r.Tier = customer.TierVIP
	})
	m2 := registered(t, "m-2")
	cmd := mergeCmd
	cmd.Profile = []customer.ProfileChoice{{Field: "email", From: "m-1"}, {Field: "tier", From: "m-1"}, {Field: "name", From: "m-2"}}
	if err := customer.Merge(s, []*customer.Customer{m1, m2}, cmd, now); err != nil {
		t.Fatal(err)
	}
	for _, m := range []*customer.Customer{m1, m2} {
		ch := m.Changes()
		want := &customer.CustomerMerged{Into: "s-1", By: "am-li", Reason: "same phone"}
		if len(ch) != 1 || !reflect.DeepEqual(ch[0].Event, want) || !ch[0].OccurredAt.Equal(now) {
			t.Errorf("%s recorded %+v, want %+v at now", m.ID(), ch, want)
		}
		if into, ok := m.MergedInto(); !ok || into != "s-1" {
			t.Errorf("%s MergedInto = %q, %v", m.ID(), into, ok)
		}
	}
	ch := s.Changes()
	if len(ch) != 1 {
		t.Fatalf("survivor recorded %d events", len(ch))
	}
	in, ok := ch[0].Event.(*customer.CustomersMergedIn)
	if !ok {
		t.Fatalf("survivor recorded %T", ch[0].Event)
	}
	// name from m-2 equals the survivor's: the pick is recorded, no value
	// travels.
	wantChoices := []customer.ProfileChoice{{Field: "email", From: "m-1"}, {Field: "tier", From: "m-1"}, {Field: "name", From: "m-2"}}
	if !reflect.DeepEqual(in.From, []string{"m-1", "m-2"}) || !reflect.DeepEqual(in.Choices, wantChoices) ||
		in.Email == nil || *in.Email != "other@example.com" || in.Tier == nil || *in.Tier != customer.TierVIP || in.Name != nil {
		t.Errorf("CustomersMergedIn = %+v", in)
	}
	if s.Email() != "other@example.com" || s.Tier() != customer.TierVIP || s.Name() != "王小明" {
		t.Errorf("survivor profile after merge: %s %s %s", s.Email(), s.Tier(), s.Name())
	}
	if got := s.MergedFrom(); !reflect.DeepEqual(got, []string{"m-1", "m-2"}) {
		t.Errorf("MergedFrom = %v", got)
	}
	// The merge is a fact both streams rebuild from.
	r := reload(t, s)
	if r.Email() != "other@example.com" || !reflect.DeepEqual(r.MergedFrom(), []string{"m-1", "m-2"}) {
		t.Errorf("rehydrated survivor: %s %v", r.Email(), r.MergedFrom())
	}
	var pd customer.Personal = in
	if len(pd.PersonalData()) != 1 {
		t.Errorf("PersonalData of the merge = %d fields, want the email only", len(pd.PersonalData()))
	}
}

func TestMergeRefusals(t *testing.T) {
	merged := func(t *testing.T, id, into string) *customer.Customer {
		return rebuilt(t, id,
			customer.Change{Event: &customer.CustomerRegistered{CustomerID: id, Name: "x", Tier: customer.TierStandard, Timezone: "Asia/Shanghai", Locale: "zh-CN"}, OccurredAt: hoursAgo(50)},
			customer.Change{Event: &customer.CustomerMerged{Into: into, By: "am", Reason: "dup"}, OccurredAt: hoursAgo(10)})
	}
	erased := func(t *testing.T, id string) *customer.Customer {
		return rebuilt(t, id,
			customer.Change{Event: &customer.CustomerRegistered{CustomerID: id, Name: "x", Tier: customer.TierStandard, Timezone: "Asia/Shanghai", Locale: "zh-CN"}, OccurredAt: hoursAgo(50)},
			customer.Change{Event: &customer.CustomerErased{By: "dpo", Reason: "request"}, OccurredAt: hoursAgo(10)})
	}
	unknown := func(t *testing.T, id string) *customer.Customer {
		c, err := customer.New(id)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	for _, tt := range []struct {
		name     string
		survivor func(t *testing.T) *customer.Customer
		merged   func(t *testing.T) []*customer.Customer
		cmd      func(*customer.MergeCustomers)
		want     error
		contains string
	}{
		{name: "into itself", survivor: func(t *testing.T) *customer.Customer { return registered(t, "a") },
			merged: func(t *testing.T) []*customer.Customer { return []*customer.Customer{registered(t, "a")} },
			want:   aggregate.ErrInvalidInput, contains: "into itself"},
		{name: "nobody to merge", survivor: func(t *testing.T) *customer.Customer { return registered(t, "a") },
			merged: func(t *testing.T) []*customer.Customer { return nil }, want: aggregate.ErrInvalidInput},
		{name: "named twice", survivor: func(t *testing.T) *customer.Customer { return registered(t, "a") },
			merged: func(t *testing.T) []*customer.Customer {
				return []*customer.Customer{registered(t, "b"), registered(t, "b")}
			},
			want: aggregate.ErrInvalidInput},
		{name: "no reason", survivor: func(t *testing.T) *customer.Customer { return registered(t, "a") },
			merged: func(t *testing.T) []*customer.Customer { return []*customer.Customer{registered(t, "b")} },
			cmd:    func(c *customer.MergeCustomers) { c.Reason = " " }, want: aggregate.ErrInvalidInput},
		{name: "profile from a stranger", survivor: func(t *testing.T) *customer.Customer { return registered(t, "a") },
			merged: func(t *testing.T) []*customer.Customer { return []*customer.Customer{registered(t, "b")} },
			cmd:    func(c *customer.MergeCustomers) { c.Profile = []customer.ProfileChoice{{Field: "email", From: "z"}} }, want: aggregate.ErrInvalidInput},
		{name: "unknown profile field", survivor: func(t *testing.T) *customer.Customer { return registered(t, "a") },
			merged: func(t *testing.T) []*customer.Customer { return []*customer.Customer{registered(t, "b")} },
			cmd:    func(c *customer.MergeCustomers) { c.Profile = []customer.ProfileChoice{{Field: "password", From: "b"}} }, want: aggregate.ErrInvalidInput},
		{name: "unknown survivor", survivor: func(t *testing.T) *customer.Customer { return unknown(t, "a") },
			merged: func(t *testing.T) []*customer.Customer { return []*customer.Customer{registered(t, "b")} }, want: aggregate.ErrNotFound},
		{name: "unknown merged", survivor: func(t *testing.T) *customer.Customer { return registered(t, "a") },
			merged: func(t *testing.T) []*customer.Customer {
				return []*customer.Customer{registered(t, "b"), unknown(t, "c")}
			}, want: aggregate.ErrNotFound},
		{name: "into an erased customer", survivor: func(t *testing.T) *customer.Customer { return erased(t, "a") },
			merged: func(t *testing.T) []*customer.Customer { return []*customer.Customer{registered(t, "b")} },
			want:   aggregate.ErrFailedPrecondition, contains: "erased"},
		{name: "an erased customer", survivor: func(t *testing.T) *customer.Customer { return registered(t, "a") },
			merged: func(t *testing.T) []*customer.Customer { return []*customer.Customer{erased(t, "b")} },
			want:   aggregate.ErrFailedPrecondition, contains: "erased"},
		{name: "into an already merged customer", survivor: func(t *testing.T) *customer.Customer { return merged(t, "a", "z") },
			merged: func(t *testing.T) []*customer.Customer { return []*customer.Customer{registered(t, "b")} },
			want:   aggregate.ErrFailedPrecondition, contains: "merged into z"},
		{name: "an already merged customer", survivor: func(t *testing.T) *customer.Customer { return registered(t, "a") },
			merged: func(t *testing.T) []*customer.Customer { return []*customer.Customer{merged(t, "b", "z")} },
			want:   aggregate.ErrFailedPrecondition, contains: "already merged into z"},
		{name: "a cycle", survivor: func(t *testing.T) *customer.Customer { return merged(t, "a", "b") },
			merged: func(t *testing.T) []*customer.Customer { return []*customer.Customer{registered(t, "b")} },
			want:   aggregate.ErrFailedPrecondition, contains: "cycle"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, ms := tt.survivor(t), tt.merged(t)
			cmd := mergeCmd
			if tt.cmd != nil {
				tt.cmd(&cmd)
			}
			err := customer.Merge(s, ms, cmd, now)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Merge = %v, want %v", err, tt.want)
			}
			assertTyped(t, err)
			if tt.contains != "" && !strings.Contains(err.Error(), tt.contains) {
				t.Errorf("error %q does not say %q", err, tt.contains)
			}
			for _, c := range append([]*customer.Customer{s}, ms...) {
				if n := len(c.Changes()); n != 0 {
					t.Errorf("%s recorded %d events on a refused merge", c.ID(), n)
				}
			}
		})
	}
}

// Given a merged customer, customer-level commands are refused with a
// MergedError naming the survivor; the steps of a complaint opened there
// still go to its stream.
func TestCommandsOnMergedCustomer(t *testing.T) {
	c := registered(t, custID)
	if err := file("k-1", customer.SeverityGeneral)(c); err != nil {
		t.Fatal(err)
	}
	c = reload(t, c)
	s := registered(t, "s-1")
	if err := customer.Merge(s, []*customer.Customer{c}, mergeCmd, now); err != nil {
		t.Fatal(err)
	}
	before := len(c.Changes())
	for name, st := range map[string]step{
		"log contact":    contact("", customer.Inbound, now),
		"mark lost":      markLost(),
		"file complaint": file("k-2", customer.SeverityGeneral),
		"follow-up":      schedule("fu-1", "", "am-li"),
		// Erasing the merged record alone would leave the person's data in
		// the survivor's view: erase the survivor (which erases both).
		"erase": func(c *customer.Customer) error {
			return c.Erase(customer.Erase{By: "dpo", Reason: "asked to be forgotten"}, now)
		},
	} {
		err := st(c)
		var me *customer.MergedError
		if !errors.As(err, &me) || me.Into != "s-1" || me.ID != custID || !errors.Is(err, aggregate.ErrFailedPrecondition) {
			t.Errorf("%s on a merged customer: %v, want a MergedError naming s-1", name, err)
		}
		if err != nil && !strings.Contains(err.Error(), "s-1") {
			t.Errorf("%s: message %q does not name the survivor", name, err)
		}
	}
	if n := len(c.Changes()) - before; n != 0 {
		t.Fatalf("refused commands recorded %d events", n)
	}
	if err := ack("k-1")(c); err != nil {
		t.Errorf("acknowledging a complaint of a merged customer: %v", err)
	}
}
