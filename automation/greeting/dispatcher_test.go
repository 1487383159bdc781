package greeting_test

import (
	"context"
	"errors"
	"maps"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kefu-crm/kefu/automation/greeting"
	"github.com/kefu-crm/kefu/domain/aggregate"
	"github.com/kefu-crm/kefu/domain/campaign"
	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/eventstore/embedded"
)

func TestDispatchOutcomes(t *testing.T) {
	// given customers of every kind, a 春节 campaign for GOLD/VIP
	e := newEnv(t, nil)
	e.add(t,
		person{id: "sent", consent: true, phone: "13800000001"},
		person{id: "noconsent", phone: "13800000002"},
		person{id: "flagged", consent: true, flagged: true, phone: "13800000003"},
		person{id: "lost", consent: true, phone: "13800000004"},
		person{id: "standard", consent: true, tier: "STANDARD", phone: "13800000005"},
		person{id: "nophone", consent: true, email: "a@example.com"},
		person{id: "erased", consent: true, phone: "13800000006", erased: true},
		person{id: "grumbler", consent: true, phone: "13800000007"},
		person{id: "english", consent: true, locale: "en-US", name: "Ann", phone: "13800000008"},
		person{id: "gatewayfail", consent: true, phone: "13800000009"},
		person{id: "newyork", consent: true, tz: "America/New_York", phone: "13800000010"},
	)
	e.stage["lost"] = "LOST"
	e.stage["grumbler"] = "GRUMBLING"
	id := schedule(t, e.ctx, e.svc, func(s *campaign.Schedule) { s.Audience.Tiers = []string{"GOLD", "VIP"} })
	snd := &recorder{fail: func(m greeting.Message) error {
		if m.CustomerID == "gatewayfail" {
			return &greeting.DeliveryError{Channel: m.Channel, Attempts: 5, Reason: "HTTP_503"}
		}
		return nil
	}}
	d := e.dispatcher(t, snd, id)

	// when the dispatcher ticks at 10:00 in Shanghai (02:00 UTC) on the day
	if err := d.Tick(e.ctx, time.Date(2025, 1, 29, 2, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	// then Shanghai's customers of the audience are handled, New York's are
	// not yet, and those outside the audience get nothing on their streams
	got := greetings(t, e.ctx, e.store, e.codec, id)
	want := map[string]string{
		"sent": "SENT", "noconsent": "NO_CONSENT", "flagged": "CONDUCT_FLAGGED",
		"nophone": "NO_CHANNEL", "grumbler": "SENT", "english": "SENT", "gatewayfail": "FAILED:HTTP_503",
	}
	check := func(want map[string]string) {
		t.Helper()
		for cid, w := range want {
			evs := got[cid]
			if len(evs) != 1 {
				t.Errorf("%s: %d greeting events, want 1", cid, len(evs))
				continue
			}
			var outcome string
			switch ev := evs[0].(type) {
			case *customer.GreetingSent:
				outcome = "SENT"
			case *customer.GreetingFailed:
				outcome = "FAILED:" + ev.Reason
			case *customer.GreetingSkipped:
				outcome = ev.Reason
			}
			if outcome != w {
				t.Errorf("%s: %s, want %s", cid, outcome, w)
			}
		}
		for _, cid := range []string{"erased", "lost", "standard"} {
			if n := len(got[cid]); n != 0 {
				t.Errorf("%s: %d greeting events, want none", cid, n)
			}
		}
	}
	check(want)
	if len(got["newyork"]) != 0 {
		t.Errorf("newyork %d events; want none yet", len(got["newyork"]))
	}
	if p := d.Progress(id); p.Excluded != 2 || p.ExcludedByReason["STAGE_EXCLUDED"] != 1 || p.ExcludedByReason["TIER_EXCLUDED"] != 1 ||
		p.AudienceSize != 8 || p.Sent+p.Failed+p.Skipped != 8 {
		t.Errorf("progress %+v, want 8 of the audience handled and 2 excluded (STAGE_EXCLUDED, TIER_EXCLUDED)", p)
	}
	msgs := snd.byCustomer()
	if b := msgs["sent"].Body; b != "客户sent，祝您春节快乐！" {
		t.Errorf("body %q", b)
	}
	if b := msgs["grumbler"].Body; b != "客户grumbler，春节期间如有任何问题请随时联系我们。" {
		t.Errorf("care body %q", b)
	}
	if b := msgs["english"].Body; b != "Ann，祝您Spring Festival快乐！" {
		t.Errorf("english body %q", b)
	}
	if k := msgs["sent"].IdempotencyKey; k != greeting.GreetingID(id, "sent").String() {
		t.Errorf("idempotency key %s", k)
	}
	if st, _ := campaignStatus(t, e, id); st != campaign.StatusRunning {
		t.Errorf("status %s, want RUNNING", st)
	}

	// when New York's 09:00 has come (14:00 UTC), and later the campaign is over
	if err := d.Tick(e.ctx, time.Date(2025, 1, 29, 15, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	if err := d.Tick(e.ctx, time.Date(2025, 1, 31, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	got = greetings(t, e.ctx, e.store, e.codec, id)
	want["newyork"] = "SENT"
	check(want)
	if n := len(snd.byCustomer()); n != 4 {
		t.Errorf("%d customers got a message, want 4", n)
	}
	st, counts := campaignStatus(t, e, id)
	if st != campaign.StatusCompleted {
		t.Fatalf("status %s", st)
	}
	wantCounts := campaign.Counts{AudienceSize: 9, Sent: 4, Failed: 1, Skipped: 4, Excluded: 2,
		SkippedByReason:  map[string]int{"NO_CONSENT": 1, "CONDUCT_FLAGGED": 1, "NO_CHANNEL": 1, "ERASED": 1},
		ExcludedByReason: map[string]int{"STAGE_EXCLUDED": 1, "TIER_EXCLUDED": 1}}
	if counts.AudienceSize != wantCounts.AudienceSize || counts.Sent != wantCounts.Sent || counts.Failed != wantCounts.Failed ||
		counts.Skipped != wantCounts.Skipped || counts.Excluded != wantCounts.Excluded ||
		!maps.Equal(counts.SkippedByReason, wantCounts.SkippedByReason) || !maps.Equal(counts.ExcludedByReason, wantCounts.ExcludedByReason) {
		t.Errorf("counts %+v, want %+v", counts, wantCounts)
	}
}

func TestQuietHoursAndMissed(t *testing.T) {
	tests := []struct {
		name   string
		sendAt string
		tick   time.Time // UTC; Shanghai is UTC+8
		want   string    // "" = nothing yet
	}{
		{"22:00 moves to 08:00: due at 08:00 local", "22:00", time.Date(2025, 1, 29, 0, 0, 0, 0, time.UTC), "SENT"},
		{"22:00 moved to 08:00: not due at 07:59 local", "22:00", time.Date(2025, 1, 28, 23, 59, 0, 0, time.UTC), ""},
		{"06:30 moves to 08:00: not due at 07:00 local", "06:30", time.Date(2025, 1, 28, 23, 0, 0, 0, time.UTC), ""},
		{"09:00 not due at 08:59", "09:00", time.Date(2025, 1, 29, 0, 59, 0, 0, time.UTC), ""},
		{"24 h late still sent", "09:00", time.Date(2025, 1, 30, 1, 0, 0, 0, time.UTC), "SENT"},
		{"more than 24 h late is MISSED", "09:00", time.Date(2025, 1, 30, 1, 1, 0, 0, time.UTC), "MISSED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			e.add(t, person{id: "a", consent: true, phone: "13800000001"})
			id := schedule(t, e.ctx, e.svc, func(s *campaign.Schedule) { s.SendAtLocal = tt.sendAt })
			snd := &recorder{}
			if err := e.dispatcher(t, snd, id).Tick(e.ctx, tt.tick); err != nil {
				t.Fatal(err)
			}
			evs := greetings(t, e.ctx, e.store, e.codec, id)["a"]
			got := ""
			if len(evs) == 1 {
				switch ev := evs[0].(type) {
				case *customer.GreetingSent:
					got = "SENT"
				case *customer.GreetingSkipped:
					got = ev.Reason
				}
			}
			if got != tt.want || len(evs) > 1 {
				t.Fatalf("outcome %q (%d events), want %q", got, len(evs), tt.want)
			}
			if (len(snd.msgs) == 1) != (tt.want == "SENT") {
				t.Errorf("%d messages", len(snd.msgs))
			}
		})
	}
}

func TestBirthdayWindowAndAccountManager(t *testing.T) {
	e := newEnv(t, nil)
	e.add(t,
		person{id: "in", consent: true, phone: "13800000001", birthday: "1990-02-28", am: "alice"},
		person{id: "leap", consent: true, phone: "13800000002", birthday: "2000-02-29", am: "alice"},
		person{id: "out", consent: true, phone: "13800000003", birthday: "1990-06-03", am: "alice"},
		person{id: "nobday", consent: true, phone: "13800000004", am: "alice"},
		person{id: "otheram", consent: true, phone: "13800000005", birthday: "1990-02-03", am: "bob"},
	)
	id := schedule(t, e.ctx, e.svc, func(s *campaign.Schedule) {
		s.Occasion, s.WindowDays = "BIRTHDAY", 30
		s.Date = mustDate("2025-02-01")
		s.Audience.AccountManager = "alice"
	})
	snd := &recorder{}
	d := e.dispatcher(t, snd, id)
	// 2025-02-28 10:00 Shanghai: both birthdays in the window are due (the
	// 29 February one on the 28th in 2025).
	if err := d.Tick(e.ctx, time.Date(2025, 2, 28, 2, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	msgs := snd.byCustomer()
	if len(msgs) != 2 || msgs["in"].Body == "" || msgs["leap"].Body != "客户leap，祝您生日快乐！" {
		t.Fatalf("messages %+v", msgs)
	}
	if err := d.Tick(e.ctx, time.Date(2025, 3, 5, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	st, counts := campaignStatus(t, e, id)
	if st != campaign.StatusCompleted || counts.AudienceSize != 2 || counts.Sent != 2 {
		t.Fatalf("status %s counts %+v", st, counts)
	}
}

func TestCancellationStopsRemainingSends(t *testing.T) {
	e := newEnv(t, nil)
	e.add(t, person{id: "sh", consent: true, phone: "13800000001"}, person{id: "ny", consent: true, phone: "13800000002", tz: "America/New_York"})
	id := schedule(t, e.ctx, e.svc, nil)
	snd := &recorder{}
	d := e.dispatcher(t, snd, id)
	if err := d.Tick(e.ctx, time.Date(2025, 1, 29, 2, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Cancel(e.ctx, id, campaign.Cancel{By: "marketing", Reason: "wrong text"}); err != nil {
		t.Fatal(err)
	}
	for _, at := range []time.Time{time.Date(2025, 1, 29, 15, 0, 0, 0, time.UTC), time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC)} {
		if err := d.Tick(e.ctx, at); err != nil {
			t.Fatal(err)
		}
	}
	if msgs := snd.byCustomer(); len(msgs) != 1 || msgs["sh"].CustomerID == "" {
		t.Fatalf("messages %v, want only sh", msgs)
	}
	if st, _ := campaignStatus(t, e, id); st != campaign.StatusCancelled {
		t.Fatalf("status %s", st)
	}
	if _, err := e.svc.Cancel(e.ctx, id, campaign.Cancel{By: "m", Reason: "again"}); !errors.Is(err, aggregate.ErrFailedPrecondition) {
		t.Fatalf("second cancel: %v", err)
	}
}

// exactlyOnce asserts one outcome event per customer and at most one
// distinct delivered key per customer.
func exactlyOnce(t *testing.T, e *env, id string, n int, outbox *greeting.Outbox) {
	t.Helper()
	got := greetings(t, e.ctx, e.store, e.codec, id)
	if len(got) != n {
		t.Errorf("%d customers have an outcome, want %d", len(got), n)
	}
	for cid, evs := range got {
		if len(evs) != 1 {
			t.Errorf("%s: %d outcome events", cid, len(evs))
		}
		if _, ok := evs[0].(*customer.GreetingSent); !ok {
			t.Errorf("%s: %T", cid, evs[0])
		}
	}
	if outbox != nil && outbox.Len() != n {
		t.Errorf("outbox has %d messages, want %d", outbox.Len(), n)
	}
	lines := readOutbox(t, outbox.Path())
	if len(lines) != n {
		t.Errorf("outbox file has %d lines, want %d", len(lines), n)
	}
}

func population(t *testing.T, e *env, n int) {
	for i := range n {
		e.add(t, person{id: "c" + itoa(i), consent: true, phone: "138" + itoa(i)})
	}
}

func TestRestartMidCampaign(t *testing.T) {
	dir := t.TempDir()
	st, err := embedded.Open(dir, embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, st)
	population(t, e, 200)
	id := schedule(t, e.ctx, e.svc, nil)
	at := time.Date(2025, 1, 29, 2, 0, 0, 0, time.UTC)

	// given a dispatcher stopped after 50 sends
	ob, err := greeting.OpenOutbox(dir, greeting.OutboxOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(e.ctx)
	var sent atomic.Int64
	stopping := senderFunc(func(c context.Context, m greeting.Message) (greeting.Receipt, error) {
		if sent.Add(1) > 50 {
			stop()
			return greeting.Receipt{}, c.Err()
		}
		return ob.Send(c, m)
	})
	d1 := e.dispatcher(t, stopping, id)
	if err := d1.Tick(ctx, at); err == nil {
		t.Fatal("the interrupted tick reported no error")
	}
	_ = ob.Close()
	_ = st.Close()

	// when the process restarts: store and outbox reopened, a new dispatcher
	st2, err := embedded.Open(dir, embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	e.use(t, st2)
	ob2, err := greeting.OpenOutbox(dir, greeting.OutboxOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer ob2.Close()
	before := ob2.Len()
	if before < 1 || before > 50+8 {
		t.Fatalf("outbox has %d messages before the restart", before)
	}
	d2 := e.dispatcher(t, ob2, id)
	if err := d2.Tick(e.ctx, at.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	// then every customer is greeted exactly once and the campaign completes
	exactlyOnce(t, e, id, 200, ob2)
	if err := d2.Tick(e.ctx, time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	if st, counts := campaignStatus(t, e, id); st != campaign.StatusCompleted || counts.Sent != 200 || counts.AudienceSize != 200 {
		t.Fatalf("status %s counts %+v", st, counts)
	}
}

func TestCrashBetweenSendAndRecord(t *testing.T) {
	dir := t.TempDir()
	e := newEnv(t, nil)
	population(t, e, 100)
	id := schedule(t, e.ctx, e.svc, nil)
	at := time.Date(2025, 1, 29, 2, 0, 0, 0, time.UTC)
	ob, err := greeting.OpenOutbox(dir, greeting.OutboxOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// given a sender that delivers every message but "crashes" after
	// delivering the 30th..40th, before the outcome can be recorded
	var n atomic.Int64
	crashing := senderFunc(func(c context.Context, m greeting.Message) (greeting.Receipt, error) {
		r, err := ob.Send(c, m)
		if k := n.Add(1); err == nil && k >= 30 && k <= 40 {
			return greeting.Receipt{}, errInjected
		}
		return r, err
	})
	if err := e.dispatcher(t, crashing, id).Tick(e.ctx, at); !errors.Is(err, errInjected) {
		t.Fatalf("tick: %v", err)
	}
	if got := len(greetings(t, e.ctx, e.store, e.codec, id)); got != 100-11 {
		t.Fatalf("%d outcomes recorded, want 89", got)
	}
	_ = ob.Close()
	// when a new dispatcher (after restart) runs with the reopened outbox
	ob2, err := greeting.OpenOutbox(dir, greeting.OutboxOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer ob2.Close()
	var dups atomic.Int64
	counting := senderFunc(func(c context.Context, m greeting.Message) (greeting.Receipt, error) {
		r, err := ob2.Send(c, m)
		if r.Duplicate {
			dups.Add(1)
		}
		return r, err
	})
	if err := e.dispatcher(t, counting, id).Tick(e.ctx, at.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	// then the 11 re-deliveries carry the same keys and are deduped
	if dups.Load() != 11 {
		t.Errorf("%d duplicates, want 11", dups.Load())
	}
	exactlyOnce(t, e, id, 100, ob2)
}

func TestTwoDispatchersConcurrently(t *testing.T) {
	dir := t.TempDir()
	st, err := embedded.Open(dir, embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	e := newEnv(t, st)
	population(t, e, 300)
	id := schedule(t, e.ctx, e.svc, nil)
	ob, err := greeting.OpenOutbox(dir, greeting.OutboxOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer ob.Close()
	// given two dispatchers on the same store and gateway (the outbox)
	var delivered atomic.Int64
	counting := senderFunc(func(c context.Context, m greeting.Message) (greeting.Receipt, error) {
		delivered.Add(1)
		return ob.Send(c, m)
	})
	d1, d2 := e.dispatcher(t, counting, id), e.dispatcher(t, counting, id)
	// when both tick at once
	at := time.Date(2025, 1, 29, 2, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, d := range []*greeting.Dispatcher{d1, d2} {
		wg.Go(func() { errs[i] = d.Tick(e.ctx, at) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	// then each customer has one recorded outcome and one delivered message
	exactlyOnce(t, e, id, 300, ob)
	t.Logf("sender called %d times for 300 customers (re-deliveries deduped by key)", delivered.Load())
	// and both completing at once leaves one Completed event
	done := time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC)
	for _, d := range []*greeting.Dispatcher{d1, d2} {
		wg.Go(func() { _ = d.Tick(e.ctx, done) })
	}
	wg.Wait()
	evs, err := st.ReadStream(e.ctx, "campaign-"+id, eventStoreRead())
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, ev := range evs {
		types = append(types, ev.Type)
	}
	if len(types) != 3 || types[1] != campaign.TypeGreetingCampaignStarted || types[2] != campaign.TypeGreetingCampaignCompleted {
		t.Fatalf("campaign stream %v", types)
	}
}
