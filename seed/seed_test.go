package seed_test

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/kefu-crm/kefu/domain/calendar"
	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/seed"
)

func config(t testing.TB, n int) seed.Config {
	t.Helper()
	wc, err := calendar.NewWorkingCalendar(calendar.WorkingCalendarConfig{})
	if err != nil {
		t.Fatal(err)
	}
	return seed.Config{
		Customers:  n,
		Seed:       42,
		End:        time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC),
		ReplyClock: customer.ReplyClockFunc(func(filed time.Time) (time.Time, bool) { return wc.ReplyDue(filed) }),
	}
}

func collect(t *testing.T, cfg seed.Config) ([]seed.History, seed.Summary) {
	t.Helper()
	var hs []seed.History
	sum, err := seed.Generate(context.Background(), cfg, func(h seed.History) error {
		hs = append(hs, h)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return hs, sum
}

func TestDeterministic(t *testing.T) {
	cfg := config(t, 300)
	a, sa := collect(t, cfg)
	b, sb := collect(t, cfg)
	if sa != sb {
		t.Fatalf("summaries differ:\n%+v\n%+v", sa, sb)
	}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if string(ja) != string(jb) {
		t.Fatal("the same config produced different histories")
	}
	cfg.Seed = 43
	c, _ := collect(t, cfg)
	jc, _ := json.Marshal(c)
	if string(ja) == string(jc) {
		t.Fatal("a different seed produced the same history")
	}
	// One customer alone equals its place in the whole.
	h, _, err := seed.One(config(t, 300), 17)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(h, a[17]) {
		t.Fatal("seed.One(17) differs from the 18th history of Generate")
	}
}

// Every generated history is a valid stream: it rehydrates, and its events
// are ordered in time and never after End.
func TestHistoriesAreValidStreams(t *testing.T) {
	cfg := config(t, 500)
	hs, sum := collect(t, cfg)
	events := 0
	for _, h := range hs {
		hist := make([]customer.Historic, len(h.Changes))
		for i, ch := range h.Changes {
			hist[i] = customer.Historic{Event: ch.Event, Revision: uint64(i), OccurredAt: ch.OccurredAt}
			if i > 0 && ch.OccurredAt.Before(h.Changes[i-1].OccurredAt) {
				t.Fatalf("%s: event %d at %s before event %d", h.CustomerID, i, ch.OccurredAt, i-1)
			}
			if ch.OccurredAt.After(cfg.End) {
				t.Fatalf("%s: event %d at %s after the end", h.CustomerID, i, ch.OccurredAt)
			}
		}
		if _, err := customer.Rehydrate(h.CustomerID, hist); err != nil {
			t.Fatalf("%s: %v", h.CustomerID, err)
		}
		events += len(h.Changes)
	}
	if events != sum.Events {
		t.Fatalf("summary counts %d events, histories hold %d", sum.Events, events)
	}
}

// The history follows the source material's shape.
func TestStatisticsFollowTheSourceMaterial(t *testing.T) {
	_, s := collect(t, config(t, 4000))
	t.Logf("%+v", s)
	if s.Purchases < 3*s.Customers {
		t.Errorf("%d purchases for %d customers: too few to fit a churn model", s.Purchases, s.Customers)
	}
	if s.Complaints == 0 || s.Complaints*10 > s.Customers {
		t.Errorf("%d complaints for %d customers: most customers never complain", s.Complaints, s.Customers)
	}
	if s.Grumbles <= s.Complaints {
		t.Errorf("%d grumbles ≤ %d complaints: more grumble than complain", s.Grumbles, s.Complaints)
	}
	if s.ResolvedSatisfied == 0 || s.ResolvedUnsatisfied == 0 || s.Declined == 0 {
		t.Errorf("every outcome should occur: %+v", s)
	}
	if s.WentSilent == 0 || s.FollowUps == 0 || s.Referrals == 0 {
		t.Errorf("silence, follow-ups and referrals should occur: %+v", s)
	}
}

func TestConfigValidation(t *testing.T) {
	if _, err := seed.Generate(context.Background(), seed.Config{}, func(seed.History) error { return nil }); err == nil {
		t.Fatal("an empty config was accepted")
	}
}

func TestActivity(t *testing.T) {
	base := config(t, 200)
	_, s0 := collect(t, base)
	one := base
	one.Activity = 1
	_, s1 := collect(t, one)
	if s0 != s1 {
		t.Fatalf("Activity 1 differs from the default:\n%+v\n%+v", s0, s1)
	}
	dense := base
	dense.Activity = 6
	a, sa := collect(t, dense)
	b, _ := collect(t, dense)
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if string(ja) != string(jb) {
		t.Fatal("a dense config is not deterministic")
	}
	if sa.Events < 3*s0.Events {
		t.Fatalf("Activity 6 gave %d events, the default %d: want at least 3×", sa.Events, s0.Events)
	}
	bad := base
	bad.Activity = -1
	if err := bad.Validate(); err == nil {
		t.Fatal("a negative Activity was accepted")
	}
}
