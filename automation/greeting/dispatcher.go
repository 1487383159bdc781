package greeting

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/kefu-crm/kefu/app/command"
	"github.com/kefu-crm/kefu/domain/aggregate"
	"github.com/kefu-crm/kefu/domain/campaign"
	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/eventstore/codec"
)

// CampaignLister names the campaigns that may have work: SCHEDULED or
// RUNNING ones (the campaigns read model implements it). The dispatcher
// re-reads each campaign's own stream before acting, so a lagging list only
// delays work.
type CampaignLister interface {
	ActiveCampaigns(ctx context.Context) ([]string, error)
}

// Config wires a Dispatcher.
type Config struct {
	// Customers and CampaignStreams are the repositories the dispatcher
	// loads customers and campaigns from and appends their outcomes and
	// steps through (the application's one write path).
	Customers       *command.Customers
	CampaignStreams *command.Campaigns
	// Directory enumerates the customers.
	Directory Directory
	// Stages gives each customer's lifecycle stage at send time.
	Stages StageSource
	// Sender delivers greetings (Route by channel; the outbox by default).
	Sender Sender
	// Campaigns lists the campaigns to look at on each tick.
	Campaigns CampaignLister
	// Policy is the quiet-hours and MISSED policy; zero fields take the
	// defaults.
	Policy Policy
	// Workers is how many customers are loaded, decided and sent
	// concurrently; 0 means 256. Their outcomes are appended in batches
	// (eventstore.AppendMany), so a worker does not wait for the store.
	Workers int
	// Interval is Run's tick; 0 means 30 s.
	Interval time.Duration
	// Clock is Run's clock; nil means time.Now.
	Clock func() time.Time
	// Logger receives per-tick errors; nil discards them.
	Logger *slog.Logger
	// Name is the actor in the metadata of appended events; "" means Actor.
	Name string
}

// Validate reports every problem of c.
func (c Config) Validate() error {
	var errs []error
	if c.Customers == nil || c.CampaignStreams == nil {
		errs = append(errs, errors.New("greeting: Customers and CampaignStreams are required"))
	}
	if c.Directory == nil {
		errs = append(errs, errors.New("greeting: Directory is nil"))
	}
	if c.Stages == nil {
		errs = append(errs, errors.New("greeting: Stages is nil"))
	}
	if c.Sender == nil {
		errs = append(errs, errors.New("greeting: Sender is nil"))
	}
	if c.Campaigns == nil {
		errs = append(errs, errors.New("greeting: Campaigns is nil"))
	}
	if c.Workers < 0 {
		errs = append(errs, errors.New("greeting: Workers is negative"))
	}
	if c.Interval < 0 {
		errs = append(errs, errors.New("greeting: Interval is negative"))
	}
	if _, err := c.Policy.Compile(); err != nil {
		errs = append(errs, fmt.Errorf("Policy: %w", err))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	return nil
}

// Dispatcher is the greeting process manager. On each tick it reads every
// active campaign from its stream and greets the customers whose send
// instant has come: the campaign's date (or, for BIRTHDAY and ANNIVERSARY,
// the customer's occasion in the window) at sendAtLocal in the customer's
// timezone, moved out of the quiet hours.
//
// Exactly once per customer per campaign: before sending, the dispatcher
// loads the customer's stream; an outcome already recorded there means
// "done". The outcome (GreetingSent, GreetingFailed, GreetingSkipped) is
// appended with the deterministic ID GreetingID(campaign, customer), so a
// retried, restarted or concurrent dispatcher writes it at most once. The
// same ID is the delivery's idempotency key: a crash between the send and
// the append, or two dispatchers racing on one customer, can deliver the
// message to the sender twice — with the same key, which the outbox and
// any well-behaved gateway dedupe. Delivery to the gateway is
// at-least-once; recording is exactly-once.
//
// Progress lives in the store, not in the process: after a restart the
// first tick reloads the due customers, finds their outcomes, and goes on
// with the rest. Outcomes are recorded for the audience only: customers the
// campaign covers but its stages or tiers leave out are counted as excluded
// (STAGE_EXCLUDED, TIER_EXCLUDED) and nothing is written to their streams;
// erased customers are counted as skipped (ERASED) and nothing is recorded
// either (the customer aggregate accepts no event after erasure). Those
// counts are the dispatcher's tally until GreetingCampaignCompleted records
// them on the campaign's stream; after a restart the first tick counts
// them again.
type Dispatcher struct {
	cfg    Config
	pol    campaign.SendRules
	zones  *campaign.Zones
	logger *slog.Logger
	name   string

	mu sync.Mutex // one tick at a time
	// runsMu guards the runs map, which only ticks change, so that
	// Progress does not wait for a tick (sends to a slow gateway).
	runsMu sync.Mutex
	runs   map[string]*run
}

// run is the in-process progress of one campaign.
type run struct {
	// handled: the customers this process has handled for the campaign
	// (in ticks that completed). A set, not a time watermark: a customer
	// the directory lists late (the read model had not caught up yet), or
	// whose timezone moved their send instant into the past, is still
	// handled on a later tick.
	handled map[string]struct{}
	started bool

	mu sync.Mutex
	// counts covers the ticks that completed; pending the customers
	// handled by the tick in progress. A failed tick is redone for the
	// same customers, so its tally is not added to counts (that would
	// count its customers twice); the largest such tally since the last
	// completed tick is kept in retried so that Progress never goes down.
	counts  campaign.Counts
	pending campaign.Counts
	retried campaign.Counts
	names   map[string]string // occasion name by locale
}

// occasionName caches OccasionName per locale.
func (r *run) occasionName(def *campaign.GreetingCampaignScheduled, locale string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if n, ok := r.names[locale]; ok {
		return n
	}
	if r.names == nil {
		r.names = map[string]string{}
	}
	n := campaign.OccasionName(def, locale)
	r.names[locale] = n
	return n
}

// channelOf maps a template's channel to the customer enum without
// customer.ParseChannel's allocations (this is on the hot path).
func channelOf(s string) customer.Channel {
	switch s {
	case "SMS":
		return customer.ChannelSMS
	case "EMAIL":
		return customer.ChannelEmail
	case "WECHAT":
		return customer.ChannelWeChat
	}
	ch, _ := customer.ParseChannel(s)
	return ch
}

// New returns a dispatcher.
func New(cfg Config) (*Dispatcher, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	pol, _ := cfg.Policy.Compile()
	if cfg.Workers == 0 {
		cfg.Workers = 256
	}
	if cfg.Interval == 0 {
		cfg.Interval = 30 * time.Second
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	name := cfg.Name
	if name == "" {
		name = Actor
	}
	return &Dispatcher{
		cfg: cfg, pol: pol,
		zones: &campaign.Zones{}, logger: logger, name: name, runs: map[string]*run{},
	}, nil
}

// Run ticks every Interval until ctx ends; tick errors are logged and the
// work is retried on the next tick. It returns nil when ctx ends.
func (d *Dispatcher) Run(ctx context.Context) error {
	t := time.NewTicker(d.cfg.Interval)
	defer t.Stop()
	for {
		if err := d.Tick(ctx, d.cfg.Clock()); err != nil && ctx.Err() == nil {
			d.logger.Error("greeting dispatch failed; retrying on the next tick", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Tick does the work due at now for every active campaign.
func (d *Dispatcher) Tick(ctx context.Context, now time.Time) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	ids, err := d.cfg.Campaigns.ActiveCampaigns(ctx)
	if err != nil {
		return fmt.Errorf("greeting: list campaigns: %w", err)
	}
	// A campaign's progress is kept until the list no longer names it,
	// so that Progress still has the final counts while the read model
	// catches up with the campaign's completion.
	d.runsMu.Lock()
	if len(d.runs) > 0 {
		listed := make(map[string]bool, len(ids))
		for _, id := range ids {
			listed[id] = true
		}
		for id := range d.runs {
			if !listed[id] {
				delete(d.runs, id)
			}
		}
	}
	d.runsMu.Unlock()
	var errs []error
	for _, id := range ids {
		if err := d.tickCampaign(ctx, id, now); err != nil {
			errs = append(errs, fmt.Errorf("greeting: campaign %s: %w", id, err))
		}
	}
	return errors.Join(errs...)
}

// Progress returns the counts this process has seen for a campaign so far
// (zero when it has not worked on it).
func (d *Dispatcher) Progress(campaignID string) campaign.Counts {
	d.runsMu.Lock()
	r := d.runs[campaignID]
	d.runsMu.Unlock()
	if r == nil {
		return campaign.Counts{}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.counts
	c.SkippedByReason = cloneCounts(c.SkippedByReason)
	c.ExcludedByReason = cloneCounts(c.ExcludedByReason)
	if total(r.pending) >= total(r.retried) {
		addCounts(&c, r.pending)
	} else {
		addCounts(&c, r.retried)
	}
	return c
}

// total is the number of customers counted: the audience handled and the
// customers excluded from it.
func total(c campaign.Counts) int { return c.Sent + c.Failed + c.Skipped + c.Excluded }

func newCounts() campaign.Counts {
	return campaign.Counts{SkippedByReason: map[string]int{}, ExcludedByReason: map[string]int{}}
}

// addCounts adds b to a (whose maps must not be nil).
func addCounts(a *campaign.Counts, b campaign.Counts) {
	a.AudienceSize += b.AudienceSize
	a.Sent += b.Sent
	a.Failed += b.Failed
	a.Skipped += b.Skipped
	a.Excluded += b.Excluded
	for k, n := range b.SkippedByReason {
		a.SkippedByReason[k] += n
	}
	for k, n := range b.ExcludedByReason {
		a.ExcludedByReason[k] += n
	}
}

// begin starts a tick's tally; that of a failed tick is only kept for
// Progress.
func (r *run) begin() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if total(r.pending) > total(r.retried) {
		r.retried = r.pending
	}
	r.pending = newCounts()
}

// commit adds the tally of a tick that handled every customer due.
func (r *run) commit() {
	r.mu.Lock()
	defer r.mu.Unlock()
	addCounts(&r.counts, r.pending)
	r.pending, r.retried = newCounts(), campaign.Counts{}
}

var errCancelled = errors.New("campaign cancelled")

// cancelCheckEvery is how many customers are handed to workers between two
// re-reads of the campaign stream (to stop after a cancellation).
const cancelCheckEvery = 2048

func (d *Dispatcher) tickCampaign(ctx context.Context, id string, now time.Time) error {
	c, err := d.cfg.CampaignStreams.Load(ctx, id)
	if err != nil {
		return err
	}
	if !c.Exists() || c.Status() == campaign.StatusCompleted || c.Status() == campaign.StatusCancelled {
		return nil // its run, if any, is dropped once the list no longer names it
	}
	def := c.Definition()
	if now.Before(def.Date.In(time.UTC).Add(-14 * time.Hour)) {
		return nil // not even the easternmost timezone has reached the day
	}
	r := d.runs[id] // only ticks write the map, and d.mu is held
	if r == nil {
		r = &run{counts: newCounts(), handled: map[string]struct{}{}}
		d.runsMu.Lock()
		d.runs[id] = r
		d.runsMu.Unlock()
	}
	r.begin()
	r.started = r.started || c.Status() == campaign.StatusRunning
	sendAt, err := campaign.ParseClock(def.SendAtLocal)
	if err != nil {
		return err
	}

	type item struct {
		rec     Recipient
		instant time.Time
	}
	work := make(chan item, d.cfg.Workers)
	var (
		wg      sync.WaitGroup
		errMu   sync.Mutex
		failed  []error
		nFailed int
	)
	fail := func(customerID string, err error) {
		errMu.Lock()
		nFailed++
		if len(failed) < 5 {
			failed = append(failed, fmt.Errorf("customer %s: %w", customerID, err))
		}
		errMu.Unlock()
	}
	rec := d.newRecorder(ctx, def, r, now, fail)
	for range d.cfg.Workers {
		wg.Go(func() {
			for it := range work {
				g := &greetState{planned: it.rec, instant: it.instant}
				if err := d.greet(ctx, def, r, now, g, rec.submit); err != nil {
					fail(it.rec.CustomerID, err)
				}
			}
		})
	}
	future, handed := false, 0
	var round []string // customers handed out in this tick
	eachErr := d.cfg.Directory.Each(ctx, func(rec Recipient) error {
		day, ok := campaign.Covers(def, &rec)
		if !ok {
			return nil
		}
		inst := d.pol.SendInstant(day, sendAt, d.zones.Get(rec.Timezone))
		if inst.After(now) {
			future = true
			return nil
		}
		if _, done := r.handled[rec.CustomerID]; done {
			return nil
		}
		if !r.started {
			if err := d.start(ctx, id, def, now); err != nil {
				return err
			}
			r.started = true
		}
		if handed++; handed%cancelCheckEvery == 0 {
			c, err := d.cfg.CampaignStreams.Load(ctx, id)
			if err != nil {
				return err
			}
			if c.Status() == campaign.StatusCancelled {
				return errCancelled
			}
		}
		select {
		case work <- item{rec, inst}:
			round = append(round, rec.CustomerID)
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	close(work)
	wg.Wait()
	rec.close() // waits for the outcomes in flight to be recorded
	if errors.Is(eachErr, errCancelled) {
		return nil
	}
	if eachErr != nil {
		return eachErr
	}
	if nFailed > 0 {
		return fmt.Errorf("%d customer(s) not handled, retried on the next tick: %w", nFailed, errors.Join(failed...))
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	for _, id := range round {
		r.handled[id] = struct{}{}
	}
	r.commit()
	last := def.Date
	if def.WindowDays > 0 {
		last = def.Date.AddDays(def.WindowDays - 1)
	}
	if future || now.Before(last.In(time.UTC).Add(38*time.Hour)) {
		return nil
	}
	return d.complete(ctx, id, r, now)
}

// as is the context of the dispatcher's appends: its name as the actor,
// caused by the campaign, with the event's key.
func (d *Dispatcher) as(ctx context.Context, causation, key string) context.Context {
	ctx = command.WithActor(ctx, command.Actor{User: d.name, Role: "SYSTEM"})
	ctx = command.WithCausationID(ctx, causation)
	return command.WithIdempotencyKey(ctx, key)
}

// start records GreetingCampaignStarted with the audience counted again
// from the directory and the stages as sending starts (every customer of
// it, due yet or not).
func (d *Dispatcher) start(ctx context.Context, id string, def *campaign.GreetingCampaignScheduled, now time.Time) error {
	size, _, err := campaign.CountAudience(ctx, d.cfg.Directory, d.cfg.Stages, def)
	if err != nil {
		return fmt.Errorf("count the audience: %w", err)
	}
	return d.updateCampaign(ctx, id, "started", func(c *campaign.Campaign) error { return c.Start(d.name, size, now) }, now)
}

func (d *Dispatcher) complete(ctx context.Context, id string, r *run, now time.Time) error {
	r.mu.Lock()
	counts := r.counts
	counts.SkippedByReason = cloneCounts(counts.SkippedByReason)
	counts.ExcludedByReason = cloneCounts(counts.ExcludedByReason)
	r.mu.Unlock()
	if err := d.updateCampaign(ctx, id, "completed", func(c *campaign.Campaign) error {
		if !c.Exists() || c.Status() == campaign.StatusScheduled {
			// Nobody was due: start and complete together.
			if err := c.Start(d.name, counts.AudienceSize, now); err != nil {
				return err
			}
		}
		return c.Complete(counts, d.name, now)
	}, now); err != nil {
		return err
	}
	return nil
}

// updateCampaign applies a dispatcher verb with deterministic event IDs; a
// refusal because another dispatcher already did it is success. All of
// the verb's events go in one append, so Started and Completed (recorded
// together when nobody was due) are never torn apart; each event's ID is
// derived from its type, not its place in this batch, so a retry that now
// records fewer events cannot reuse the ID of one already stored.
func (d *Dispatcher) updateCampaign(ctx context.Context, id, step string, fn func(*campaign.Campaign) error, now time.Time) error {
	_, err := d.cfg.CampaignStreams.Update(d.as(ctx, id, id+"/"+step), id, nil, fn, command.Options[campaign.Event]{
		EventID: func(_ int, e campaign.Event) uuid.UUID {
			return codec.DeterministicID(command.NamespaceCampaign, id+"/"+e.EventType())
		},
	})
	if errors.Is(err, aggregate.ErrFailedPrecondition) {
		return nil // already done (or cancelled) by someone else
	}
	if err != nil {
		return fmt.Errorf("greeting: campaign %s: %s: %w", id, step, err)
	}
	return nil
}

// greetState is what the handling of one customer has decided and done so
// far; it survives a reload after a conflicting append, so that the outcome
// is recorded again without sending again.
type greetState struct {
	planned Recipient
	instant time.Time
	dec     campaign.Decision
	decided bool
	failure *DeliveryError
	attempt int
	tries   int
}

// outcome is a customer's greeting outcome, encoded and ready to append.
type outcome struct {
	append         eventstore.StreamAppend
	status, reason string
	state          *greetState
}

// maxTries bounds the reloads of one customer after conflicting appends.
const maxTries = 5

// greet greets one customer whose instant has come (or decides why not) and
// records the outcome: through submit when it is not nil (the recorder
// appends it in a batch and handles a conflict), else with its own Append.
func (d *Dispatcher) greet(ctx context.Context, def *campaign.GreetingCampaignScheduled, r *run, now time.Time, g *greetState, submit func(context.Context, outcome) error) error {
	id := g.planned.CustomerID
	eid := GreetingID(def.CampaignID, id)
	repo := d.cfg.Customers
	actx := d.as(ctx, def.CampaignID, eid.String())
	eventID := command.Options[customer.Event]{EventID: func(int, customer.Event) uuid.UUID { return eid }}
	for g.tries < maxTries {
		g.tries++
		c, err := repo.Load(ctx, id)
		if err != nil {
			return err
		}
		if _, found := c.Version(); !found {
			return nil // listed but not (yet) in the store: not part of the campaign
		}
		if gr, done := c.Greeting(def.CampaignID); done {
			r.count(gr.Status.String(), gr.Reason)
			return nil
		}
		if !g.decided {
			rec := campaign.RecipientOf(c, d.zones)
			g.dec = campaign.Decide(def, &rec, d.cfg.Stages.StageOf(id), now.Sub(g.instant), d.pol)
			g.decided = true
			if g.dec.Exclude != "" {
				// Outside the audience: counted, nothing recorded.
				r.count(statusExcluded, g.dec.Exclude)
				return nil
			}
			if g.dec.Skip == ReasonErased {
				r.count("SKIPPED", ReasonErased)
				return nil
			}
			if g.dec.Skip == "" {
				msg := Message{
					IdempotencyKey: eid.String(), CampaignID: def.CampaignID, CustomerID: id,
					Occasion: def.Occasion, OccasionName: r.occasionName(def, rec.Locale),
					Channel: g.dec.Channel, To: g.dec.To, Locale: rec.Locale, Template: g.dec.Template,
				}
				msg.Body = campaign.Render(def.Templates[g.dec.Template].Body, rec.Name, msg.OccasionName)
				receipt, err := d.cfg.Sender.Send(ctx, msg)
				switch {
				case errors.As(err, &g.failure):
					g.attempt = g.failure.Attempts
				case err != nil:
					return err // nothing recorded; retried later with the same key
				default:
					g.attempt = receipt.Attempts
				}
			}
		}
		dec := g.dec
		ch := channelOf(dec.Channel)
		var status, reason string
		switch {
		case dec.Skip != "":
			status, reason = "SKIPPED", dec.Skip
			err = c.RecordGreetingSkipped(customer.RecordGreetingSkipped{CampaignID: def.CampaignID, Occasion: def.Occasion, Reason: dec.Skip, Channel: ch, OccurredAt: now}, now)
		case g.failure != nil:
			status, reason = "FAILED", g.failure.Reason
			err = c.RecordGreetingFailed(customer.RecordGreetingFailed{CampaignID: def.CampaignID, Occasion: def.Occasion, Channel: ch, Reason: g.failure.Reason, Attempts: g.attempt, OccurredAt: now}, now)
		default:
			status = "SENT"
			err = c.RecordGreetingSent(customer.RecordGreetingSent{CampaignID: def.CampaignID, Occasion: def.Occasion, Channel: ch, Template: dec.Template, Attempts: g.attempt, OccurredAt: now}, now)
		}
		if err != nil {
			return err
		}
		sa, err := repo.Encode(actx, c, eventID)
		if err != nil {
			return err
		}
		if submit != nil {
			return submit(ctx, outcome{append: sa, status: status, reason: reason, state: g})
		}
		_, err = repo.Append(ctx, sa)
		if errors.Is(err, eventstore.ErrConcurrency) {
			continue // the customer changed meanwhile: reload and record again (never re-send)
		}
		if err != nil {
			return err
		}
		r.count(status, reason)
		return nil
	}
	return fmt.Errorf("too many concurrent changes to %s", repo.Stream(id))
}

// statusExcluded counts a customer outside the audience (a status of the
// tally only, never recorded on a stream).
const statusExcluded = "EXCLUDED"

// count adds one customer to the tally of the tick in progress: an outcome
// (SENT, FAILED, SKIPPED with its reason) of the audience, or an exclusion
// (statusExcluded with its reason), which is not part of the audience.
func (r *run) count(status, reason string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if status == statusExcluded {
		r.pending.Excluded++
		r.pending.ExcludedByReason[reason]++
		return
	}
	r.pending.AudienceSize++
	switch status {
	case "SENT":
		r.pending.Sent++
	case "FAILED":
		r.pending.Failed++
	default:
		r.pending.Skipped++
		r.pending.SkippedByReason[reason]++
	}
}

func cloneCounts(m map[string]int) map[string]int {
	out := make(map[string]int, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
