package greeting_test

import (
	"errors"
	"fmt"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kefu-crm/kefu/app/command"
	"github.com/kefu-crm/kefu/automation/greeting"
	"github.com/kefu-crm/kefu/domain/aggregate"
	"github.com/kefu-crm/kefu/domain/campaign"
	"github.com/kefu-crm/kefu/eventstore"
)

// campaignEvents decodes a campaign's stream.
func campaignEvents(t *testing.T, e *env, id string) []campaign.Event {
	t.Helper()
	evs, err := e.store.ReadStream(e.ctx, "campaign-"+id, eventstore.StreamRead{})
	if err != nil {
		t.Fatal(err)
	}
	var out []campaign.Event
	for _, ev := range evs {
		d, err := e.codec.Decode(e.ctx, ev)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, d.Payload.(campaign.Event))
	}
	return out
}

// TestExclusionsAreCountedNotRecorded: customers outside the audience —
// by stage (including a stage no template is meant for) or tier, whatever
// else is true of them — get no event on their streams, also with two
// dispatchers racing; the campaign's stream counts them (and the audience,
// at scheduling and again at the start).
func TestExclusionsAreCountedNotRecorded(t *testing.T) {
	e := newEnv(t, nil)
	e.add(t,
		person{id: "in-1", consent: true, phone: "13800000001"},
		person{id: "in-2", consent: true, phone: "13800000002"},
		person{id: "in-noconsent", phone: "13800000003"},
		person{id: "x-lost-noconsent", phone: "13800000004"}, // LOST: outside the stages
		person{id: "x-std-erased", consent: true, tier: "STANDARD", phone: "13800000005", erased: true},
		person{id: "x-std-flagged", tier: "STANDARD", flagged: true, phone: "13800000006"},
		person{id: "x-silent", consent: true, phone: "13800000007"}, // SILENT: in the stages, no template for it
	)
	e.stage["x-lost-noconsent"] = "LOST"
	e.stage["x-silent"] = "SILENT"
	id := schedule(t, e.ctx, e.svc, func(s *campaign.Schedule) {
		s.Audience.Stages = []string{"ACTIVE", "SILENT"}
		s.Audience.Tiers = []string{"GOLD"}
		s.Templates = []campaign.Template{{Stages: []string{"ACTIVE"}, Channel: "SMS", Body: "{{name}}"}}
	})
	if evs := campaignEvents(t, e, id); evs[0].(*campaign.GreetingCampaignScheduled).AudienceSize != 3 {
		t.Errorf("scheduled with audienceSize %d, want 3", evs[0].(*campaign.GreetingCampaignScheduled).AudienceSize)
	}
	// A customer joins the audience before sending starts.
	e.add(t, person{id: "in-late", consent: true, phone: "13800000008", tz: "America/New_York"})

	snd := &recorder{}
	d1, d2 := e.dispatcher(t, snd, id), e.dispatcher(t, snd, id)
	// Shanghai's morning, New York's, and after the day everywhere.
	for _, at := range []time.Time{time.Date(2025, 1, 29, 2, 0, 0, 0, time.UTC), time.Date(2025, 1, 29, 15, 0, 0, 0, time.UTC), time.Date(2025, 1, 31, 0, 0, 0, 0, time.UTC)} {
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, d := range []*greeting.Dispatcher{d1, d2} {
			wg.Go(func() { errs[i] = d.Tick(e.ctx, at) })
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
	}
	got := greetings(t, e.ctx, e.store, e.codec, id)
	for _, cid := range []string{"x-lost-noconsent", "x-std-erased", "x-std-flagged", "x-silent"} {
		if len(got[cid]) != 0 {
			t.Errorf("%s is outside the audience and got %d event(s): %+v", cid, len(got[cid]), got[cid])
		}
	}
	for _, cid := range []string{"in-1", "in-2", "in-noconsent", "in-late"} {
		if len(got[cid]) != 1 {
			t.Errorf("%s: %d events, want 1", cid, len(got[cid]))
		}
	}
	if n := len(snd.byCustomer()); n != 3 {
		t.Errorf("%d customers got a message, want 3", n)
	}

	evs := campaignEvents(t, e, id)
	if len(evs) != 3 {
		t.Fatalf("campaign stream has %d events, want Scheduled, Started, Completed", len(evs))
	}
	if s, ok := evs[1].(*campaign.GreetingCampaignStarted); !ok || s.AudienceSize == nil || *s.AudienceSize != 4 {
		t.Errorf("started: %+v, want the audience counted again: 4", evs[1])
	}
	done, ok := evs[2].(*campaign.GreetingCampaignCompleted)
	if !ok {
		t.Fatalf("last event %T", evs[2])
	}
	want := campaign.Counts{AudienceSize: 4, Sent: 3, Skipped: 1, SkippedByReason: map[string]int{"NO_CONSENT": 1},
		Excluded: 4, ExcludedByReason: map[string]int{"STAGE_EXCLUDED": 2, "TIER_EXCLUDED": 2}}
	c := done.Counts
	if c.AudienceSize != want.AudienceSize || c.Sent != want.Sent || c.Failed != 0 || c.Skipped != want.Skipped || c.Excluded != want.Excluded ||
		!maps.Equal(c.SkippedByReason, want.SkippedByReason) || !maps.Equal(c.ExcludedByReason, want.ExcludedByReason) {
		t.Errorf("completed with %+v, want %+v", c, want)
	}
}

// TestScheduleIdempotencyKey: one key, one campaign; the same key with
// another definition is a *command.KeyReuseError naming the key, also when the
// two requests race.
func TestScheduleIdempotencyKey(t *testing.T) {
	e := newEnv(t, nil)
	e.add(t, person{id: "a", consent: true, phone: "13800000001"})
	cmd := func(name string) campaign.Schedule {
		return campaign.Schedule{Name: name, Occasion: "CN:spring_festival", By: "m",
			Templates: []campaign.Template{{Channel: "SMS", Body: "{{name}}"}}}
	}
	first, err := e.svc.Schedule(e.ctx, cmd("one"), "k1")
	if err != nil {
		t.Fatal(err)
	}
	if first.Definition().AudienceSize != 1 {
		t.Errorf("audienceSize %d, want 1", first.Definition().AudienceSize)
	}
	again, err := e.svc.Schedule(e.ctx, cmd("one"), "k1")
	if err != nil || again.ID() != first.ID() {
		t.Fatalf("retry: %v, %v", again, err)
	}
	if n := len(campaignEvents(t, e, first.ID())); n != 1 {
		t.Errorf("%d events after the retry, want 1", n)
	}
	_, err = e.svc.Schedule(e.ctx, cmd("two"), "k1")
	var kc *command.KeyReuseError
	if !errors.As(err, &kc) || !errors.Is(err, command.ErrConflict) || kc.Key != "k1" || kc.ID != first.ID() || !strings.Contains(err.Error(), `"k1"`) {
		t.Fatalf("another definition under the key: %v, want a KeyReuseError naming k1", err)
	}
	if n := len(campaignEvents(t, e, first.ID())); n != 1 {
		t.Errorf("%d events after the conflict, want 1", n)
	}
	// Bad input under a used key is bad input, not a conflict.
	bad := cmd("one")
	bad.Templates[0].Body = "{{nme}}"
	if _, err := e.svc.Schedule(e.ctx, bad, "k1"); !errors.Is(err, aggregate.ErrInvalidInput) {
		t.Errorf("bad input under a used key: %v, want ErrInvalidInput", err)
	}

	// Racing: whoever stores first wins; the other definition conflicts.
	for round := range 20 {
		key := fmt.Sprintf("race-%d", round)
		var wg sync.WaitGroup
		type res struct {
			c   *campaign.Campaign
			err error
		}
		out := make([]res, 4)
		for i := range out {
			wg.Go(func() {
				c, err := e.svc.Schedule(e.ctx, cmd(fmt.Sprintf("def %d", i%2)), key)
				out[i] = res{c, err}
			})
		}
		wg.Wait()
		ids := map[string]bool{}
		for i, r := range out {
			switch {
			case errors.Is(r.err, command.ErrConflict):
			case r.err != nil:
				t.Fatalf("round %d racer %d: %v", round, i, r.err)
			case r.c.Definition().Name != fmt.Sprintf("def %d", i%2):
				t.Fatalf("round %d racer %d asked for def %d and got %q", round, i, i%2, r.c.Definition().Name)
			default:
				ids[r.c.ID()] = true
			}
		}
		if len(ids) != 1 {
			t.Fatalf("round %d: campaigns %v, want one", round, ids)
		}
	}
}
