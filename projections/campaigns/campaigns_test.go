package campaigns_test

import (
	"context"
	"testing"
	"time"

	"github.com/kefu-crm/kefu/app/command"
	"github.com/kefu-crm/kefu/automation/greeting"
	"github.com/kefu-crm/kefu/domain/campaign"
	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/eventstore/codec"
	"github.com/kefu-crm/kefu/eventstore/memstore"
	"github.com/kefu-crm/kefu/projections"
	"github.com/kefu-crm/kefu/projections/campaigns"
)

type dir []greeting.Recipient

func (d dir) Each(ctx context.Context, fn func(greeting.Recipient) error) error {
	for _, r := range d {
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

func TestCountsFromTheLog(t *testing.T) {
	ctx := t.Context()
	cd, err := codec.New(codec.Options{}, codec.SpecsOf(customer.Events()), codec.SpecsOf(campaign.Events()))
	if err != nil {
		t.Fatal(err)
	}
	st := memstore.New(memstore.Options{})
	// given five customers: 3 consenting, 1 not, 1 erased
	var d dir
	reg := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, p := range []struct {
		consent, erase bool
	}{{true, false}, {true, false}, {true, false}, {false, false}, {true, true}} {
		id := string(rune('a' + i))
		c, _ := customer.New(id)
		if err := c.Register(customer.Register{Name: "n" + id, Phone: "1380000000" + id[:0] + "1", Tier: customer.TierGold, Timezone: "Asia/Shanghai", Locale: "zh-CN", MarketingConsent: p.consent, OccurredAt: reg}, reg); err != nil {
			t.Fatal(err)
		}
		if p.erase {
			_ = c.Erase(customer.Erase{By: "x", Reason: "y", OccurredAt: reg}, reg)
		}
		var recs []eventstore.Record
		for _, ch := range c.Changes() {
			r, _ := cd.Encode(ctx, "customer-"+id, ch.Event, codec.Envelope{OccurredAt: ch.OccurredAt})
			recs = append(recs, r)
		}
		if _, err := st.Append(ctx, "customer-"+id, eventstore.NoStream(), recs...); err != nil {
			t.Fatal(err)
		}
		d = append(d, campaign.RecipientOf(c, nil))
	}
	stages := campaign.StageFunc(func(string) string { return "ACTIVE" })
	nobody := command.OwnersFunc(func(string) (string, bool) { return "", false })
	cmds, err := command.New(command.Config{Store: st, Codec: cd, Clock: func() time.Time { return time.Date(2025, 1, 10, 0, 0, 0, 0, time.UTC) }},
		command.Deps{Complaints: nobody, FollowUps: nobody, Keys: noKeys{}, Directory: d, Stages: stages,
			ReplyClock: customer.ReplyClockFunc(func(t time.Time) (time.Time, bool) { return t, false })})
	if err != nil {
		t.Fatal(err)
	}
	tmpl := []campaign.Template{{Channel: "SMS", Body: "{{name}}"}}
	first, err := cmds.ScheduleCampaign.Handle(ctx, campaign.Schedule{Name: "one", Occasion: "CN:spring_festival", By: "m", Templates: tmpl})
	if err != nil {
		t.Fatal(err)
	}
	second, err := cmds.ScheduleCampaign.Handle(ctx, campaign.Schedule{Name: "two", Occasion: "CN:dragon_boat", By: "m", Templates: tmpl})
	if err != nil {
		t.Fatal(err)
	}
	m := campaigns.New()
	feed := func() {
		t.Helper()
		if err := st.ReadAll(ctx, m.Position(), func(ev eventstore.Event) error {
			if !m.Wants(ev.Type) {
				return nil
			}
			dec, err := cd.Decode(ctx, ev)
			if err != nil {
				return err
			}
			return m.Apply(ctx, projections.Decoded{Event: ev, Payload: dec.Payload})
		}); err != nil {
			t.Fatal(err)
		}
	}
	feed()
	if ids, _ := m.ActiveCampaigns(ctx); len(ids) != 2 {
		t.Fatalf("active %v", ids)
	}
	// the audience is known from the scheduling on
	if c, _ := m.Get(first.ID); c.AudienceSize != 5 || c.Status != campaign.StatusScheduled {
		t.Fatalf("scheduled: %+v, want audienceSize 5", c)
	}
	// when the first campaign runs and completes
	disp, err := greeting.New(greeting.Config{Customers: cmds.Customers, CampaignStreams: cmds.Campaigns, Directory: d, Stages: stages, Sender: greeting.Route{Default: nopSender{}}, Campaigns: m})
	if err != nil {
		t.Fatal(err)
	}
	for _, at := range []time.Time{time.Date(2025, 1, 29, 2, 0, 0, 0, time.UTC), time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC)} {
		if err := disp.Tick(ctx, at); err != nil {
			t.Fatal(err)
		}
		feed()
	}
	// then the read model's counts include the erased skip from Completed
	c, ok := m.Get(first.ID)
	if !ok || c.Status != campaign.StatusCompleted || c.Sent != 3 || c.Skipped != 2 || c.AudienceSize != 5 ||
		c.SkippedByReason["NO_CONSENT"] != 1 || c.SkippedByReason["ERASED"] != 1 || c.StartedAt == nil {
		t.Fatalf("campaign %+v", c)
	}
	// and campaigns list newest first
	p, err := m.List("", 1)
	if err != nil || len(p.Items) != 1 || p.Items[0].ID != second.ID || !p.HasNextPage || p.TotalCount != 2 {
		t.Fatalf("page %+v %v", p, err)
	}
	p2, _ := m.List(p.Cursors[0], 5)
	if len(p2.Items) != 1 || p2.Items[0].ID != first.ID || p2.HasNextPage {
		t.Fatalf("page 2 %+v", p2)
	}
	// a rebuild from zero gives the same digest
	again := campaigns.New()
	m2 := m
	m = again
	feed()
	if m.Digest() != m2.Digest() {
		t.Fatal("rebuild digest differs")
	}
}

type nopSender struct{}

func (nopSender) Send(context.Context, greeting.Message) (greeting.Receipt, error) {
	return greeting.Receipt{Attempts: 1}, nil
}

// TestAudienceSizeAndExclusions: audienceSize is the count recorded at
// scheduling, then at the start (or the customers handled, when more), and
// once completed the customers handled; the exclusions come from
// GreetingCampaignCompleted, as nothing about them is on customer streams.
func TestAudienceSizeAndExclusions(t *testing.T) {
	ctx := t.Context()
	m := campaigns.New()
	pos := eventstore.Position(0)
	at := time.Date(2025, 1, 29, 2, 0, 0, 0, time.UTC)
	apply := func(stream string, payload any) campaigns.Campaign {
		t.Helper()
		pos++
		if err := m.Apply(ctx, projections.Decoded{Event: eventstore.Event{StreamID: stream, Position: pos, OccurredAt: at}, Payload: payload}); err != nil {
			t.Fatal(err)
		}
		c, ok := m.Get("c1")
		if !ok {
			t.Fatal("campaign c1 not in the model")
		}
		return c
	}
	four := 4
	steps := []struct {
		name    string
		stream  string
		payload any
		want    int // audienceSize
	}{
		{"scheduled", "campaign-c1", &campaign.GreetingCampaignScheduled{CampaignID: "c1", Name: "n", Occasion: "CN:spring_festival", Kind: campaign.KindHoliday, AudienceSize: 3}, 3},
		{"started", "campaign-c1", &campaign.GreetingCampaignStarted{AudienceSize: &four}, 4},
		{"one sent", "customer-a", &customer.GreetingSent{CampaignID: "c1"}, 4},
		{"one skipped", "customer-b", &customer.GreetingSkipped{CampaignID: "c1", Reason: "NO_CONSENT"}, 4},
		{"one failed", "customer-c", &customer.GreetingFailed{CampaignID: "c1", Reason: "HTTP_400"}, 4},
		{"more handled than counted", "customer-d", &customer.GreetingSent{CampaignID: "c1"}, 4},
		{"a fifth", "customer-e", &customer.GreetingSent{CampaignID: "c1"}, 5},
		{"completed", "campaign-c1", &campaign.GreetingCampaignCompleted{Counts: campaign.Counts{AudienceSize: 6, Sent: 3, Failed: 1, Skipped: 2,
			SkippedByReason: map[string]int{"NO_CONSENT": 1, "ERASED": 1}, Excluded: 7, ExcludedByReason: map[string]int{"STAGE_EXCLUDED": 5, "TIER_EXCLUDED": 2}}}, 6},
	}
	var c campaigns.Campaign
	for _, s := range steps {
		c = apply(s.stream, s.payload)
		if c.AudienceSize != s.want {
			t.Errorf("after %s: audienceSize %d, want %d", s.name, c.AudienceSize, s.want)
		}
	}
	if c.Status != campaign.StatusCompleted || c.Sent != 3 || c.Failed != 1 || c.Skipped != 2 || c.SkippedByReason["ERASED"] != 1 ||
		c.Excluded != 7 || c.ExcludedByReason["STAGE_EXCLUDED"] != 5 || c.ExcludedByReason["TIER_EXCLUDED"] != 2 {
		t.Errorf("completed: %+v", c)
	}
	if got := c.ExcludedByReasonSorted(); len(got) != 2 || got[0] != (campaigns.ReasonCount{Reason: "STAGE_EXCLUDED", Count: 5}) {
		t.Errorf("ExcludedByReasonSorted = %v", got)
	}
}

type noKeys struct{}

func (noKeys) Destroy(context.Context, string) error { return nil }
