package customer_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kefu-crm/kefu/domain/aggregate"
	"github.com/kefu-crm/kefu/domain/customer"
)

var unmergeCmd = customer.UnmergeCustomers{By: "am-li", Reason: "different people after all"}

// mergedPair merges m-1 and m-2 into s-1 at now and returns them reloaded.
func mergedPair(t *testing.T) (s, m1, m2 *customer.Customer) {
	t.Helper()
	s, m1, m2 = registered(t, "s-1"), registered(t, "m-1", func(r *customer.Register) { r.Email = "m1@example.com" }), registered(t, "m-2")
	cmd := mergeCmd
	cmd.Profile = []customer.ProfileChoice{{Field: "email", From: "m-1"}}
	if err := customer.Merge(s, []*customer.Customer{m1, m2}, cmd, now); err != nil {
		t.Fatal(err)
	}
	return reload(t, s), reload(t, m1), reload(t, m2)
}

func TestUnmergeRecordsBothSides(t *testing.T) {
	s, m1, m2 := mergedPair(t)
	later := now.Add(24 * time.Hour)
	if err := customer.Unmerge(s, []*customer.Customer{m1}, unmergeCmd, customer.DefaultMergePolicy(), later); err != nil {
		t.Fatal(err)
	}
	want := &customer.CustomerUnmerged{From: "s-1", By: "am-li", Reason: "different people after all"}
	if ch := m1.Changes(); len(ch) != 1 || !reflect.DeepEqual(ch[0].Event, want) || !ch[0].OccurredAt.Equal(later) {
		t.Errorf("m-1 recorded %+v, want %+v at the unmerge", ch, want)
	}
	wantIn := &customer.CustomersUnmerged{IDs: []string{"m-1"}, By: "am-li", Reason: "different people after all"}
	if ch := s.Changes(); len(ch) != 1 || !reflect.DeepEqual(ch[0].Event, wantIn) {
		t.Errorf("survivor recorded %+v, want %+v", ch, wantIn)
	}
	if len(m2.Changes()) != 0 {
		t.Errorf("m-2, still merged, recorded %+v", m2.Changes())
	}
	// Rebuilt from history: m-1 is its own customer again (with its own
	// profile), the survivor keeps m-2 and the email the merge took.
	s, m1 = reload(t, s), reload(t, m1)
	if into, ok := m1.MergedInto(); ok {
		t.Errorf("m-1 still merged into %s", into)
	}
	if m1.Email() != "m1@example.com" {
		t.Errorf("m-1's email = %q", m1.Email())
	}
	if got := s.MergedFrom(); !reflect.DeepEqual(got, []string{"m-2"}) {
		t.Errorf("survivor MergedFrom = %v, want [m-2]", got)
	}
	if _, ok := s.MergedAt("m-1"); ok {
		t.Error("survivor still has a merge time for m-1")
	}
	if s.Email() != "m1@example.com" {
		t.Errorf("survivor's email = %q: the profile the merge took stays", s.Email())
	}
	// Commands on the restored customer are accepted again.
	if err := contact("", customer.Inbound, now)(m1); err != nil {
		t.Errorf("logging a contact on the restored customer: %v", err)
	}
	// And it can be merged again (a new merge, a new window).
	if err := customer.Merge(s, []*customer.Customer{reload(t, m1)}, mergeCmd, later); err != nil {
		t.Errorf("merging the restored customer again: %v", err)
	}
}

func TestUnmergeWindow(t *testing.T) {
	pol := customer.MergePolicy{UnmergeWindow: 7 * 24 * time.Hour}
	for _, tt := range []struct {
		name  string
		after time.Duration
		pol   customer.MergePolicy
		ok    bool
	}{
		{name: "inside", after: 6 * 24 * time.Hour, pol: pol, ok: true},
		{name: "at the close", after: 7 * 24 * time.Hour, pol: pol, ok: true},
		{name: "past", after: 7*24*time.Hour + time.Second, pol: pol},
		{name: "default inside", after: 29 * 24 * time.Hour, ok: true},
		{name: "default past", after: 31 * 24 * time.Hour},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, m1, _ := mergedPair(t)
			err := customer.Unmerge(s, []*customer.Customer{m1}, unmergeCmd, tt.pol, now.Add(tt.after))
			if tt.ok {
				if err != nil {
					t.Fatalf("Unmerge %s after the merge: %v", tt.after, err)
				}
				return
			}
			var we *customer.UnmergeWindowError
			if !errors.As(err, &we) || !errors.Is(err, aggregate.ErrFailedPrecondition) {
				t.Fatalf("Unmerge %s after the merge = %v, want an UnmergeWindowError", tt.after, err)
			}
			assertTyped(t, err)
			window := tt.pol.UnmergeWindow
			if window == 0 {
				window = customer.DefaultUnmergeWindow
			}
			if !we.ClosedAt.Equal(now.Add(window)) || !we.MergedAt.Equal(now) || we.ID != "m-1" {
				t.Errorf("window error %+v, want closed at %s", we, now.Add(window))
			}
			if !strings.Contains(err.Error(), now.Add(window).UTC().Format(time.RFC3339)) {
				t.Errorf("message %q does not say when the window closed", err)
			}
			if len(s.Changes())+len(m1.Changes()) != 0 {
				t.Error("a refused unmerge recorded events")
			}
		})
	}
}

func TestMergePolicyValidate(t *testing.T) {
	if err := customer.DefaultMergePolicy().Validate(); err != nil {
		t.Errorf("default policy: %v", err)
	}
	if err := (customer.MergePolicy{}).Validate(); err != nil {
		t.Errorf("zero policy: %v", err)
	}
	if err := (customer.MergePolicy{UnmergeWindow: -time.Hour}).Validate(); err == nil {
		t.Error("a negative window is valid")
	}
}

func TestUnmergeRefusals(t *testing.T) {
	later := now.Add(time.Hour)
	erasedSurvivor := func(t *testing.T) (*customer.Customer, []*customer.Customer) {
		s, m1, _ := mergedPair(t)
		if err := s.Erase(customer.Erase{By: "dpo", Reason: "request"}, later); err != nil {
			t.Fatal(err)
		}
		return reload(t, s), []*customer.Customer{m1}
	}
	for _, tt := range []struct {
		name     string
		given    func(t *testing.T) (*customer.Customer, []*customer.Customer)
		cmd      func(*customer.UnmergeCustomers)
		want     error
		contains string
	}{
		{name: "nobody", given: func(t *testing.T) (*customer.Customer, []*customer.Customer) {
			s, _, _ := mergedPair(t)
			return s, nil
		}, want: aggregate.ErrInvalidInput},
		{name: "self", given: func(t *testing.T) (*customer.Customer, []*customer.Customer) {
			s, _, _ := mergedPair(t)
			return s, []*customer.Customer{s}
		}, want: aggregate.ErrInvalidInput, contains: "itself"},
		{name: "named twice", given: func(t *testing.T) (*customer.Customer, []*customer.Customer) {
			s, m1, _ := mergedPair(t)
			return s, []*customer.Customer{m1, m1}
		}, want: aggregate.ErrInvalidInput, contains: "twice"},
		{name: "no by", given: func(t *testing.T) (*customer.Customer, []*customer.Customer) {
			s, m1, _ := mergedPair(t)
			return s, []*customer.Customer{m1}
		}, cmd: func(c *customer.UnmergeCustomers) { c.By = "" }, want: aggregate.ErrInvalidInput},
		{name: "no reason", given: func(t *testing.T) (*customer.Customer, []*customer.Customer) {
			s, m1, _ := mergedPair(t)
			return s, []*customer.Customer{m1}
		}, cmd: func(c *customer.UnmergeCustomers) { c.Reason = " " }, want: aggregate.ErrInvalidInput},
		{name: "never merged", given: func(t *testing.T) (*customer.Customer, []*customer.Customer) {
			s, _, _ := mergedPair(t)
			return s, []*customer.Customer{registered(t, "x-1")}
		}, want: aggregate.ErrFailedPrecondition, contains: "not merged into s-1"},
		{name: "merged elsewhere", given: func(t *testing.T) (*customer.Customer, []*customer.Customer) {
			s, _, _ := mergedPair(t)
			other := registered(t, "o-1")
			x := registered(t, "x-1")
			if err := customer.Merge(other, []*customer.Customer{x}, mergeCmd, now); err != nil {
				t.Fatal(err)
			}
			return s, []*customer.Customer{reload(t, x)}
		}, want: aggregate.ErrFailedPrecondition, contains: "merged into o-1"},
		{name: "already unmerged", given: func(t *testing.T) (*customer.Customer, []*customer.Customer) {
			s, m1, _ := mergedPair(t)
			if err := customer.Unmerge(s, []*customer.Customer{m1}, unmergeCmd, customer.MergePolicy{}, later); err != nil {
				t.Fatal(err)
			}
			return reload(t, s), []*customer.Customer{reload(t, m1)}
		}, want: aggregate.ErrFailedPrecondition, contains: "not merged into s-1"},
		{name: "unknown", given: func(t *testing.T) (*customer.Customer, []*customer.Customer) {
			s, _, _ := mergedPair(t)
			c, err := customer.New("nobody")
			if err != nil {
				t.Fatal(err)
			}
			return s, []*customer.Customer{c}
		}, want: aggregate.ErrNotFound},
		{name: "erased survivor", given: erasedSurvivor, want: aggregate.ErrFailedPrecondition, contains: "erased"},
		{name: "survivor merged on", given: func(t *testing.T) (*customer.Customer, []*customer.Customer) {
			s, m1, _ := mergedPair(t)
			top := registered(t, "top")
			if err := customer.Merge(top, []*customer.Customer{s}, mergeCmd, now); err != nil {
				t.Fatal(err)
			}
			return reload(t, s), []*customer.Customer{m1}
		}, want: aggregate.ErrFailedPrecondition, contains: "merged into top"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, rs := tt.given(t)
			cmd := unmergeCmd
			if tt.cmd != nil {
				tt.cmd(&cmd)
			}
			before := map[*customer.Customer]int{}
			for _, c := range append([]*customer.Customer{s}, rs...) {
				before[c] = len(c.Changes())
			}
			err := customer.Unmerge(s, rs, cmd, customer.MergePolicy{}, later)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Unmerge = %v, want %v", err, tt.want)
			}
			assertTyped(t, err)
			if tt.contains != "" && !strings.Contains(err.Error(), tt.contains) {
				t.Errorf("error %q does not say %q", err, tt.contains)
			}
			for c, n := range before {
				if len(c.Changes()) != n {
					t.Errorf("%s recorded events on a refused unmerge", c.ID())
				}
			}
		})
	}
}
