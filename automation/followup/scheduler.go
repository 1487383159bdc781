package followup

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kefu-crm/kefu/domain/aggregate"
	"github.com/kefu-crm/kefu/domain/calendar"
	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/projections"
	"github.com/kefu-crm/kefu/projections/lifecycle"
)

// Name is the scheduler's permanent projection name (it names its
// checkpoint file and watermill handler).
const Name = "followup-scheduler"

// Sentinel errors. Test with errors.Is.
var (
	// ErrInvalidConfig: New was given unusable dependencies or policy.
	ErrInvalidConfig = errors.New("followup: invalid config")
	// ErrAlreadyScheduled: the customer already has a follow-up with the
	// action's ID. The scheduler counts the action as done.
	ErrAlreadyScheduled = errors.New("followup: already scheduled")
	// ErrBadSnapshot: Restore was given bytes Snapshot did not write.
	ErrBadSnapshot = errors.New("followup: bad snapshot")
)

// Action is a follow-up the scheduler wants to exist.
type Action struct {
	CustomerID  string `json:"customerId"`
	FollowUpID  string `json:"followUpId"`
	ComplaintID string `json:"complaintId,omitempty"`
	// Reason is zero for a retry: it takes the reason of RetryOf.
	Reason customer.FollowUpReason `json:"reason"`
	// RetryOf names the follow-up this one tries again; its reason,
	// complaint and owner are copied when the command runs.
	RetryOf string    `json:"retryOf,omitempty"`
	DueAt   time.Time `json:"dueAt"`
	Note    string    `json:"note,omitempty"`
	// Cause says what triggered the action (the triggering event's ID, or
	// "tick"/"stage" for time-driven ones); it becomes the command's
	// correlation ID.
	Cause string `json:"cause,omitempty"`
}

func (a Action) key() string { return a.CustomerID + "/" + a.FollowUpID }

// Commander schedules follow-ups: RepositoryCommander in production.
type Commander interface {
	// Schedule records the follow-up a describes. It returns nil when it
	// was recorded, an error matching ErrAlreadyScheduled when the
	// customer already has a follow-up with that ID, a domain refusal
	// (aggregate.ErrFailedPrecondition, ErrNotFound, ErrInvalidInput) that
	// retrying cannot fix, or any other error for a failure worth
	// retrying later.
	Schedule(ctx context.Context, a Action) error
}

// StageSource gives a customer's current lifecycle stage (the lifecycle
// read model); ok is false for an unknown customer.
type StageSource interface {
	StageOf(customerID string) (stage lifecycle.Stage, ok bool)
}

// StageFunc adapts a function to StageSource.
type StageFunc func(customerID string) (lifecycle.Stage, bool)

// StageOf calls f.
func (f StageFunc) StageOf(customerID string) (lifecycle.Stage, bool) { return f(customerID) }

// Replenishment is a customer's predicted next purchase of one item
// category (projections/replenish).
type Replenishment struct {
	CustomerID, Category, Item string
	// LastPurchaseAt is the latest purchase day of the category; it names
	// the purchase cycle (and the follow-up's ID).
	LastPurchaseAt time.Time
	ExpectedAt     time.Time
	// Shape is the Erlang shape k of the prior the prediction used: how
	// regular the category's buying is (see Policy.ReplenishMinShape).
	Shape float64
}

// ReplenishmentSource lists the predicted next purchases expected on or
// before by, as of asOf (the replenishment read model).
type ReplenishmentSource interface {
	ReplenishmentsDue(asOf, by time.Time) []Replenishment
}

// ContactSource says whether a customer may be called about a
// replenishment: ok is false for an unknown customer; consent is the
// marketing consent; grievances counts open complaints, unsettled ones
// (closed UNSATISFIED or declined) and an unanswered grumble (the
// lifecycle's notion of a grievance, DESIGN §4).
type ContactSource interface {
	Contact(customerID string) (consent bool, grievances int, ok bool)
}

// Deps are the scheduler's collaborators.
type Deps struct {
	// Commander records follow-ups. Required.
	Commander Commander
	// Calendar is the working calendar (win-back and holiday due times).
	// Required.
	Calendar *calendar.WorkingCalendar
	// Stages, if set, lets the worker drop a win-back whose customer is
	// no longer SILENT (or LOST) when its command would run.
	Stages StageSource
	// Replenishment and Contacts, when both are set, let the scheduler
	// book REPLENISHMENT follow-ups (see the package documentation).
	Replenishment ReplenishmentSource
	Contacts      ContactSource
	// Clock is now; nil means time.Now.
	Clock func() time.Time
	// Logger; nil discards.
	Logger *slog.Logger
}

// Config tunes the scheduler.
type Config struct {
	// Policy is the rules; the zero Policy means DefaultPolicy().
	Policy *Policy
	// TickInterval is how often Run plans holiday follow-ups and retries
	// failed commands (default 1 minute). New actions wake it at once.
	TickInterval time.Duration
}

// Stats counts what the scheduler did since it was created (not saved).
type Stats struct {
	Planned   int // actions planned
	Scheduled int // follow-ups recorded by a command
	Already   int // commands refused as duplicates (already done)
	Cancelled int // pending actions whose follow-up appeared in the log first
	Stale     int // actions dropped because their due time is too far past
	Obsolete  int // win-backs dropped because the customer is no longer silent, replenishments because they may no longer be called
	Refused   int // actions the domain refused for good (erased customer, no owner …)
	Failed    int // command attempts that failed and will be retried
}

// Scheduler is the follow-up process manager. It is a projections
// Projection (with Filter and Snapshotter) plus a worker, Run. It is safe
// for concurrent use.
type Scheduler struct {
	cmd    Commander
	cal    *calendar.WorkingCalendar
	stages StageSource
	replen ReplenishmentSource
	contac ContactSource
	clock  func() time.Time
	log    *slog.Logger
	pol    Policy
	tick   time.Duration
	wake   chan struct{}

	mu    sync.Mutex
	st    state
	stats Stats
}

// state is what the scheduler remembers; it is its snapshot.
type state struct {
	// Pending actions by customer/follow-up ID.
	Pending map[string]Action `json:"pending"`
	// Slots counts the recovery follow-ups planned per customer/complaint,
	// so a complaint resolved again continues the numbering.
	Slots map[string]int `json:"slots"`
	// Recovered is each customer's latest SATISFIED resolution.
	Recovered map[string]recovery `json:"recovered"`
	// Done remembers holiday and win-back follow-ups already recorded (by
	// customer/ID, with their due time) until they are too old to be
	// planned again, so repeated ticks and replayed stage changes cost no
	// command.
	Done map[string]time.Time `json:"done"`
}

type recovery struct {
	At          time.Time `json:"at"`
	ComplaintID string    `json:"complaintId"`
}

func newState() state {
	return state{Pending: map[string]Action{}, Slots: map[string]int{}, Recovered: map[string]recovery{}, Done: map[string]time.Time{}}
}

// New returns a scheduler.
func New(deps Deps, cfg Config) (*Scheduler, error) {
	var errs []error
	if deps.Commander == nil {
		errs = append(errs, fmt.Errorf("%w: no Commander", ErrInvalidConfig))
	}
	if deps.Calendar == nil {
		errs = append(errs, fmt.Errorf("%w: no Calendar", ErrInvalidConfig))
	}
	if cfg.TickInterval < 0 {
		errs = append(errs, fmt.Errorf("%w: TickInterval %v is negative", ErrInvalidConfig, cfg.TickInterval))
	}
	pol := DefaultPolicy()
	if cfg.Policy != nil {
		pol = *cfg.Policy
	}
	if err := pol.Validate(); err != nil {
		errs = append(errs, err)
	}
	if (deps.Replenishment == nil) != (deps.Contacts == nil) {
		errs = append(errs, fmt.Errorf("%w: Replenishment and Contacts go together", ErrInvalidConfig))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	s := &Scheduler{cmd: deps.Commander, cal: deps.Calendar, stages: deps.Stages, replen: deps.Replenishment, contac: deps.Contacts, clock: deps.Clock, log: deps.Logger,
		pol: pol, tick: cfg.TickInterval, wake: make(chan struct{}, 1), st: newState()}
	if s.clock == nil {
		s.clock = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if s.tick == 0 {
		s.tick = time.Minute
	}
	return s, nil
}

// Name is the permanent projection name.
func (s *Scheduler) Name() string { return Name }

// Wants selects the event types the scheduler reacts to.
func (s *Scheduler) Wants(eventType string) bool {
	switch eventType {
	case customer.TypeComplaintResolved, customer.TypeComplaintReopened, customer.TypeFollowUpScheduled,
		customer.TypeFollowUpCompleted, customer.TypeCustomerErased:
		return true
	}
	return false
}

// Apply plans the follow-ups an event calls for. It never issues commands.
func (s *Scheduler) Apply(_ context.Context, d projections.Decoded) error {
	cid, ok := strings.CutPrefix(d.Event.StreamID, customer.StreamCategory+"-")
	if !ok {
		return nil
	}
	at := d.Event.OccurredAt
	cause := d.Event.ID.String()
	now := s.clock()
	s.mu.Lock()
	defer s.mu.Unlock()
	switch e := d.Payload.(type) {
	case *customer.ComplaintResolved:
		offsets, what := s.pol.UnsatisfiedAfter, "UNSATISFIED"
		if e.Outcome == customer.Satisfied {
			offsets, what = s.pol.SatisfiedAfter, "SATISFIED"
			s.st.Recovered[cid] = recovery{At: at, ComplaintID: e.ComplaintID}
		}
		slot := cid + "/" + e.ComplaintID
		n := s.st.Slots[slot]
		for i, off := range offsets {
			s.planLocked(Action{
				CustomerID: cid, FollowUpID: customer.RecoveryFollowUpID(e.ComplaintID, n+i+1), ComplaintID: e.ComplaintID,
				Reason: customer.ReasonRecovery, DueAt: at.Add(off), Cause: cause,
				Note: fmt.Sprintf("回访 %d/%d after complaint %s was resolved %s", i+1, len(offsets), e.ComplaintID, what),
			}, now)
		}
		if len(offsets) > 0 {
			s.st.Slots[slot] = n + len(offsets)
		}
	case *customer.ComplaintReopened:
		if r, ok := s.st.Recovered[cid]; ok && r.ComplaintID == e.ComplaintID {
			delete(s.st.Recovered, cid)
		}
	case *customer.FollowUpScheduled:
		k := cid + "/" + e.FollowUpID
		if _, ok := s.st.Pending[k]; ok {
			delete(s.st.Pending, k)
			s.stats.Cancelled++
		}
		if remembered(e.Reason) {
			s.st.Done[k] = e.DueAt
		}
	case *customer.FollowUpCompleted:
		if e.Outcome != customer.FollowUpUnsatisfied && e.Outcome != customer.FollowUpNoAnswer {
			return nil
		}
		original, try := e.FollowUpID, 0
		if o, n, ok := customer.ParseRetryFollowUpID(e.FollowUpID); ok {
			original, try = o, n
		}
		if try >= s.pol.MaxRetries {
			return nil
		}
		s.planLocked(Action{
			CustomerID: cid, FollowUpID: customer.RetryFollowUpID(original, try+1), RetryOf: e.FollowUpID,
			DueAt: at.Add(s.pol.RetryAfter), Cause: cause,
			Note: fmt.Sprintf("try %d of %d: follow-up %s ended %s", try+2, s.pol.MaxRetries+1, e.FollowUpID, e.Outcome),
		}, now)
	case *customer.CustomerErased:
		for k, a := range s.st.Pending {
			if a.CustomerID == cid {
				delete(s.st.Pending, k)
			}
		}
		delete(s.st.Recovered, cid)
	}
	return nil
}

// planLocked adds a to the pending actions unless it is stale, pending or
// done. s.mu must be held.
func (s *Scheduler) planLocked(a Action, now time.Time) {
	k := a.key()
	if _, ok := s.st.Pending[k]; ok {
		return
	}
	if _, ok := s.st.Done[k]; ok {
		return
	}
	if s.stale(a, now) {
		s.stats.Stale++
		return
	}
	s.st.Pending[k] = a
	s.stats.Planned++
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *Scheduler) stale(a Action, now time.Time) bool {
	return a.DueAt.Before(now.Add(-s.pol.MaxLateness))
}

// StageChanged is the lifecycle projector's OnChange hook: when a customer
// enters SILENT it plans a win-back follow-up. It only takes the
// scheduler's lock and never calls the projector.
func (s *Scheduler) StageChanged(customerID string, c lifecycle.StageChange) {
	if c.To != lifecycle.StageSilent || c.Merge {
		// A merge joining two silent records is no new silence: the
		// merged record's win-back, if any, moves to the survivor.
		return
	}
	due := s.winBackDue(c.At)
	now := s.clock()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.planLocked(Action{
		CustomerID: customerID, FollowUpID: customer.WinBackFollowUpID(customerID, c.At), Reason: customer.ReasonWinBack,
		DueAt: due, Cause: "stage:SILENT", Note: "win-back: " + c.Reason,
	}, now)
}

// winBackDue is the start of the first working day after at's day.
func (s *Scheduler) winBackDue(at time.Time) time.Time {
	loc := s.cal.Location()
	d := s.cal.NextWorkday(calendar.DateOf(at.In(loc)))
	return s.dayStart(d)
}

func (s *Scheduler) dayStart(d calendar.Date) time.Time {
	start, _ := s.cal.WorkingHours()
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, s.cal.Location()).Add(start)
}

// holidayDue is the start of the last working day before the holiday.
func (s *Scheduler) holidayDue(h calendar.Date) time.Time {
	d := h.AddDays(-1)
	for i := 0; i < 60 && !s.cal.IsWorkday(d); i++ {
		d = d.AddDays(-1)
	}
	return s.dayStart(d)
}

// Tick plans the holiday follow-ups due by now, forgets what is too old to
// matter, and runs the pending commands. It returns the errors of commands
// that failed and stay pending.
func (s *Scheduler) Tick(ctx context.Context, now time.Time) error {
	s.planHolidays(now)
	s.planReplenishments(now)
	return s.execute(ctx, now)
}

// remembered reports whether follow-ups of reason r are time-driven
// (planned again on every tick or replay), so Done must remember them.
func remembered(r customer.FollowUpReason) bool {
	return r == customer.ReasonHoliday || r == customer.ReasonWinBack || r == customer.ReasonReplenishment
}

// planReplenishments plans a REPLENISHMENT follow-up at the start of the
// working day ReplenishLead before each predicted next purchase expected
// by now + ReplenishLead, in categories bought on a rhythm (prior shape ≥
// ReplenishMinShape), for customers who may be called (contactable).
// A prediction whose call would already be stale (the customer is long
// overdue) is skipped without counting: it is asked again every tick.
func (s *Scheduler) planReplenishments(now time.Time) {
	if s.replen == nil {
		return
	}
	due := s.replen.ReplenishmentsDue(now, now.Add(s.pol.ReplenishLead))
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range due {
		a := Action{
			CustomerID: r.CustomerID, FollowUpID: customer.ReplenishmentFollowUpID(r.CustomerID, r.Category, r.LastPurchaseAt),
			Reason: customer.ReasonReplenishment, DueAt: s.replenishDue(r.ExpectedAt), Cause: "tick:replenishment",
			Note: fmt.Sprintf("补货提醒 %s: last bought %q on %s, next purchase expected about %s",
				r.Category, r.Item, r.LastPurchaseAt.UTC().Format(time.DateOnly), r.ExpectedAt.In(s.cal.Location()).Format(time.DateOnly)),
		}
		if r.Shape < s.pol.ReplenishMinShape || s.stale(a, now) || !s.contactable(a.CustomerID) {
			continue
		}
		s.planLocked(a, now)
	}
}

// replenishDue is the start of the working day ReplenishLead before
// expected (or the last working day before it).
func (s *Scheduler) replenishDue(expected time.Time) time.Time {
	d := calendar.DateOf(expected.Add(-s.pol.ReplenishLead).In(s.cal.Location()))
	for i := 0; i < 60 && !s.cal.IsWorkday(d); i++ {
		d = d.AddDays(-1)
	}
	return s.dayStart(d)
}

// contactable reports whether a replenishment call may go to the
// customer: known, consenting, no grievance.
func (s *Scheduler) contactable(customerID string) bool {
	consent, grievances, ok := s.contac.Contact(customerID)
	return ok && consent && grievances == 0
}

// planHolidays plans a HOLIDAY follow-up for every customer recovered in
// the RecoveredWithin before each major holiday that starts within
// HolidayLead of now.
func (s *Scheduler) planHolidays(now time.Time) {
	loc := s.cal.Location()
	today := calendar.DateOf(now.In(loc))
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, key := range s.pol.Holidays {
		for _, y := range []int{today.Year, today.Year + 1} {
			h, err := calendar.Lookup(key, y)
			if err != nil || !today.Before(h.Date) {
				continue
			}
			start := time.Date(h.Date.Year, h.Date.Month, h.Date.Day, 0, 0, 0, 0, loc)
			if start.Sub(now) > s.pol.HolidayLead {
				continue
			}
			due := s.holidayDue(h.Date)
			since := start.Add(-s.pol.RecoveredWithin)
			name := h.LocalName
			if name == "" {
				name = h.Name
			}
			for _, cid := range sortedKeys(s.st.Recovered) {
				r := s.st.Recovered[cid]
				if !r.At.After(since) || !r.At.Before(start) {
					continue
				}
				s.planLocked(Action{
					CustomerID: cid, FollowUpID: customer.HolidayFollowUpID(cid, key, y), ComplaintID: r.ComplaintID,
					Reason: customer.ReasonHoliday, DueAt: due, Cause: "tick:" + key + ":" + strconv.Itoa(y),
					Note: fmt.Sprintf("节前问候 %s %d: recovered after complaint %s", name, y, r.ComplaintID),
				}, now)
			}
		}
	}
	// Forget what can no longer be planned.
	for k, r := range s.st.Recovered {
		if r.At.Before(now.Add(-s.pol.RecoveredWithin)) {
			delete(s.st.Recovered, k)
		}
	}
	for k, due := range s.st.Done {
		if due.Before(now.Add(-s.pol.MaxLateness)) {
			delete(s.st.Done, k)
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// execute runs the pending commands, oldest due first, without holding
// the lock while a command runs (its append flows back into Apply).
func (s *Scheduler) execute(ctx context.Context, now time.Time) error {
	s.mu.Lock()
	todo := make([]Action, 0, len(s.st.Pending))
	for _, a := range s.st.Pending {
		todo = append(todo, a)
	}
	s.mu.Unlock()
	slices.SortFunc(todo, func(a, b Action) int {
		if c := a.DueAt.Compare(b.DueAt); c != 0 {
			return c
		}
		return cmp.Compare(a.key(), b.key())
	})
	var errs []error
	for _, a := range todo {
		if err := ctx.Err(); err != nil {
			return errors.Join(append(errs, err)...)
		}
		if s.stale(a, now) {
			s.finish(a, func(st *Stats) { st.Stale++ }, false)
			continue
		}
		if a.Reason == customer.ReasonReplenishment && s.contac != nil && !s.contactable(a.CustomerID) {
			s.finish(a, func(st *Stats) { st.Obsolete++ }, false)
			continue
		}
		if a.Reason == customer.ReasonWinBack && s.stages != nil {
			if st, ok := s.stages.StageOf(a.CustomerID); ok && st != lifecycle.StageSilent && st != lifecycle.StageLost {
				s.finish(a, func(st *Stats) { st.Obsolete++ }, false)
				continue
			}
		}
		err := s.cmd.Schedule(ctx, a)
		switch {
		case err == nil:
			s.finish(a, func(st *Stats) { st.Scheduled++ }, true)
		case errors.Is(err, ErrAlreadyScheduled):
			s.finish(a, func(st *Stats) { st.Already++ }, true)
		case errors.Is(err, aggregate.ErrFailedPrecondition), errors.Is(err, aggregate.ErrNotFound), errors.Is(err, aggregate.ErrInvalidInput):
			s.log.WarnContext(ctx, "follow-up refused", "customer", a.CustomerID, "followUp", a.FollowUpID, "err", err)
			s.finish(a, func(st *Stats) { st.Refused++ }, false)
		default:
			if ctx.Err() != nil {
				return errors.Join(append(errs, ctx.Err())...)
			}
			s.mu.Lock()
			s.stats.Failed++
			s.mu.Unlock()
			s.log.ErrorContext(ctx, "scheduling follow-up failed; will retry", "customer", a.CustomerID, "followUp", a.FollowUpID, "err", err)
			errs = append(errs, fmt.Errorf("followup: %s of customer %s: %w", a.FollowUpID, a.CustomerID, err))
		}
	}
	return errors.Join(errs...)
}

// finish removes a from the pending actions and counts it; done
// remembers holiday and win-back follow-ups.
func (s *Scheduler) finish(a Action, count func(*Stats), done bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := a.key()
	delete(s.st.Pending, k)
	if done && remembered(a.Reason) {
		s.st.Done[k] = a.DueAt
	}
	count(&s.stats)
}

// Run waits for ready (the runtime's Ready channel: catch-up is over; nil
// means at once), then ticks every TickInterval and whenever an action is
// planned, until ctx ends. Command failures are logged and retried at the
// next tick; Run returns nil when ctx ends.
func (s *Scheduler) Run(ctx context.Context, ready <-chan struct{}) error {
	if ready != nil {
		select {
		case <-ready:
		case <-ctx.Done():
			return nil
		}
	}
	t := time.NewTicker(s.tick)
	defer t.Stop()
	for {
		if err := s.Tick(ctx, s.clock()); err != nil && ctx.Err() == nil {
			s.log.WarnContext(ctx, "follow-up tick", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-s.wake:
		}
	}
}

// Pending returns the pending actions, oldest due first.
func (s *Scheduler) Pending() []Action {
	s.mu.Lock()
	out := make([]Action, 0, len(s.st.Pending))
	for _, a := range s.st.Pending {
		out = append(out, a)
	}
	s.mu.Unlock()
	slices.SortFunc(out, func(a, b Action) int {
		if c := a.DueAt.Compare(b.DueAt); c != 0 {
			return c
		}
		return cmp.Compare(a.key(), b.key())
	})
	return out
}

// Stats returns the counters.
func (s *Scheduler) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// snapshotVersion is the snapshot format; Restore refuses others.
const snapshotVersion = 1

type snapshot struct {
	Version int `json:"v"`
	state
}

// Snapshot encodes the state (JSON, maps in key order, so equal states
// give equal bytes).
func (s *Scheduler) Snapshot() ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return json.Marshal(snapshot{Version: snapshotVersion, state: s.st})
}

// Restore replaces the state with a snapshot. The runtime calls it before
// any event flows.
func (s *Scheduler) Restore(b []byte) error {
	var snap snapshot
	if err := json.Unmarshal(b, &snap); err != nil {
		return fmt.Errorf("%w: %w", ErrBadSnapshot, err)
	}
	if snap.Version != snapshotVersion {
		return fmt.Errorf("%w: version %d, want %d", ErrBadSnapshot, snap.Version, snapshotVersion)
	}
	st := newState()
	for k, v := range snap.Pending {
		st.Pending[k] = v
	}
	for k, v := range snap.Slots {
		st.Slots[k] = v
	}
	for k, v := range snap.Recovered {
		st.Recovered[k] = v
	}
	for k, v := range snap.Done {
		st.Done[k] = v
	}
	s.mu.Lock()
	s.st = st
	s.mu.Unlock()
	return nil
}

// Digest is the SHA-256 of the snapshot.
func (s *Scheduler) Digest() [32]byte {
	b, err := s.Snapshot()
	if err != nil { // cannot happen: the state is plain data
		return sha256.Sum256([]byte(err.Error()))
	}
	return sha256.Sum256(b)
}

var (
	_ projections.Projection  = (*Scheduler)(nil)
	_ projections.Filter      = (*Scheduler)(nil)
	_ projections.Snapshotter = (*Scheduler)(nil)
)

// ReplenishmentFunc adapts a function to ReplenishmentSource.
type ReplenishmentFunc func(asOf, by time.Time) []Replenishment

// ReplenishmentsDue calls f.
func (f ReplenishmentFunc) ReplenishmentsDue(asOf, by time.Time) []Replenishment { return f(asOf, by) }

// ContactFunc adapts a function to ContactSource.
type ContactFunc func(customerID string) (consent bool, grievances int, ok bool)

// Contact calls f.
func (f ContactFunc) Contact(customerID string) (bool, int, bool) { return f(customerID) }
