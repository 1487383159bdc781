// Package server assembles kefu: it opens a data directory, builds the read
// models and runs them on the projection runtime, runs the process managers
// and the clock that moves time-driven stages, and serves the GraphQL API,
// /healthz and /metrics. cmd/kefu's serve command is a thin shell around it;
// end-to-end tests drive the same Handler over real HTTP.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	gql "github.com/graphql-go/graphql"
	"golang.org/x/sync/errgroup"

	"github.com/kefu-crm/kefu/app"
	"github.com/kefu-crm/kefu/app/command"
	"github.com/kefu-crm/kefu/app/query"
	"github.com/kefu-crm/kefu/automation/erasure"
	"github.com/kefu-crm/kefu/automation/followup"
	"github.com/kefu-crm/kefu/automation/greeting"
	"github.com/kefu-crm/kefu/automation/lead"
	"github.com/kefu-crm/kefu/domain/calendar"
	"github.com/kefu-crm/kefu/domain/campaign"
	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/eventstore/codec"
	"github.com/kefu-crm/kefu/graphql"
	"github.com/kefu-crm/kefu/internal/datadir"
	"github.com/kefu-crm/kefu/projections"
	"github.com/kefu-crm/kefu/projections/dupindex"
	"github.com/kefu-crm/kefu/projections/lifecycle"
	"github.com/kefu-crm/kefu/projections/readmodels"
)

// Config configures a Server. The zero value of every field but DataDir is
// a usable default.
type Config struct {
	// DataDir is the data directory (created when missing).
	DataDir string
	// StoreURL, when set (esdb://… or postgres://…), keeps events and keys
	// in EventStoreDB/KurrentDB or PostgreSQL; DataDir then holds
	// checkpoints and the outbox.
	StoreURL string
	// Logger receives structured logs; nil discards them.
	Logger *slog.Logger
	// Clock is the wall clock; nil means time.Now. Tests pass a controlled
	// clock to move time-driven stages.
	Clock func() time.Time
	// Policy holds the lifecycle thresholds; zero means the defaults.
	Policy *lifecycle.Policy
	// Merge holds the rules of merging duplicates (how long after a merge
	// unmergeCustomers may undo it); zero means
	// customer.DefaultMergePolicy().
	Merge customer.MergePolicy
	// Calendar configures working hours for complaint SLAs; zero means
	// 09:00–18:00 Asia/Shanghai with the official CN arrangements.
	Calendar calendar.WorkingCalendarConfig
	// Tokens enables bearer-token authentication; nil disables it (every
	// caller is a local ADMIN — only safe on loopback).
	Tokens *graphql.Tokens
	// Tick is how often the clock moves time-driven stages; 0 means 1s.
	Tick time.Duration
	// ChurnRefitGrowth is the policy for refitting the churn model: once
	// the purchase days added since the last fit reach this fraction of
	// the customers it was fitted on; 0 means 10%. The first fit comes as
	// soon as enough customers have purchases.
	ChurnRefitGrowth float64
	// ChurnRefitInterval debounces refits: at most one attempt per
	// interval; 0 means 30s.
	ChurnRefitInterval time.Duration
	// RequestTimeout bounds each GraphQL request; 0 means the handler's
	// default.
	RequestTimeout time.Duration
	// Limits bound each GraphQL document (size, nesting, fragments, the
	// answer's size); zero fields take graphql's defaults.
	Limits graphql.Limits
	// Greetings configures quiet hours and the MISSED threshold; zero
	// means greeting.DefaultPolicy().
	Greetings greeting.Policy
	// Sender delivers greetings; nil means the outbox file in the data
	// directory.
	Sender greeting.Sender
	// ChannelSenders deliver the greetings of particular channels (e.g.
	// EMAIL by SMTP); the other channels go to Sender.
	ChannelSenders map[string]greeting.Sender
	// DispatchInterval is how often the greeting dispatcher looks for due
	// sends; 0 means its default.
	DispatchInterval time.Duration
	// LeadRetry is how often an instance that does not lead the process
	// managers tries to take the lead on a shared store; 0 means 1 s.
	LeadRetry time.Duration
	// CORSOrigins are the web origins (scheme://host:port) whose pages may
	// call the API from a browser; see graphql.BrowserPolicy.
	CORSOrigins []string
	// AllowedHosts are Host header values accepted besides the loopback
	// names (a reverse proxy's public name); see graphql.BrowserPolicy.
	AllowedHosts []string
	// SeparateMetrics leaves /metrics off Handler: it is served by
	// MetricsHandler on a listener of its own.
	SeparateMetrics bool
	// Snapshots configures the read models' snapshot (snapshot.go).
	Snapshots SnapshotConfig
}

// Validate reports every problem with c.
func (c Config) Validate() error {
	var errs []error
	if c.DataDir == "" {
		errs = append(errs, errors.New("server: DataDir is required"))
	}
	if err := c.Snapshots.validate(); err != nil {
		errs = append(errs, err)
	}
	if c.Tick < 0 || c.ChurnRefitInterval < 0 || c.RequestTimeout < 0 || c.ChurnRefitGrowth < 0 {
		errs = append(errs, errors.New("server: Tick, ChurnRefitGrowth, ChurnRefitInterval and RequestTimeout must not be negative"))
	}
	if c.Policy != nil {
		if err := c.Policy.Validate(); err != nil {
			errs = append(errs, err)
		}
	}
	if err := c.Merge.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("server: %w", err))
	}
	if err := (graphql.BrowserPolicy{CORSOrigins: c.CORSOrigins, Hosts: c.AllowedHosts}).Validate(); err != nil {
		errs = append(errs, fmt.Errorf("server: %w", err))
	}
	return errors.Join(errs...)
}

// Server is a running kefu.
type Server struct {
	cfg   Config
	log   *slog.Logger
	clock func() time.Time

	dir     *datadir.Dir
	work    *calendar.WorkingCalendar
	app     *app.Application
	runtime *projections.Runtime
	metrics *Metrics
	handler http.Handler
	gql     *graphql.Handler
	schema  gql.Schema

	*readmodels.Set
	policy lifecycle.Policy

	// ready is closed once the read models have caught up and the churn
	// model in use agrees with the log.
	ready chan struct{}

	sched       *followup.Scheduler
	greetPolicy greeting.Policy
	sendRules   campaign.SendRules
	dispatch    *greeting.Dispatcher
	outbox      *greeting.Outbox
	// dupes is the duplicates' blind index.
	dupes *dupindex.Index
	// erasure destroys erased customers' keys.
	erasure *erasure.Projection
	// snap is the read models' snapshot (snapshot.go), guarded by snapMu.
	snapMu sync.Mutex
	snap   snapState
	// leader says whether this instance runs the process managers.
	leader lead.State

	// stopLogged holds the names of stopped read models already logged.
	stopLogged sync.Map

	closeOnce sync.Once
}

// New opens the data directory and assembles the server. Call Run to start
// the projections and clocks, and Close when done.
func New(ctx context.Context, cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: cfg.Logger, clock: cfg.Clock, ready: make(chan struct{})}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.clock == nil {
		s.clock = time.Now
	}
	s.policy = lifecycle.DefaultPolicy()
	if cfg.Policy != nil {
		s.policy = *cfg.Policy
	}
	var err error
	if s.work, err = calendar.NewWorkingCalendar(cfg.Calendar); err != nil {
		return nil, err
	}
	if s.dir, err = datadir.Open(cfg.DataDir, datadir.Options{Logger: s.log, Clock: s.clock, StoreURL: cfg.StoreURL}); err != nil {
		return nil, err
	}
	if err := s.build(ctx); err != nil {
		_ = s.dir.Close()
		return nil, err
	}
	return s, nil
}

// build wires the application: the read models, the queries over them,
// the commands (which read "whose complaint is this" and "who is in the
// book" from the read models), the process managers writing through the
// same commands, and the API over the whole.
func (s *Server) build(ctx context.Context) error {
	if err := s.newReadModels(ctx); err != nil {
		return err
	}
	// A snapshot of the read models, when there is a good one, saves
	// folding the log from the start (snapshot.go).
	if err := s.restoreSnapshot(ctx); err != nil {
		return err
	}
	s.metrics = NewMetrics()
	var err error
	if s.greetPolicy, s.sendRules, err = greetingPolicy(s.cfg.Greetings); err != nil {
		return err
	}
	queries, err := query.New(query.Deps{Set: s.Set, Store: s.dir.Store, Codec: s.dir.Codec, Clock: s.clock, SendRules: s.sendRules, Duplicates: s.dupes,
		// The dispatcher is built after the queries; a campaign sends
		// only once Run has started it.
		Progress: func(id string) campaign.Counts { return s.dispatch.Progress(id) }})
	if err != nil {
		return err
	}
	commands, err := command.New(command.Config{Store: s.dir.Store, Codec: s.dir.Codec, Clock: s.clock, Appended: s.metrics.ObserveAppend, Merge: s.cfg.Merge},
		command.Deps{
			Complaints: command.OwnersFunc(s.Complaints.CustomerOf),
			FollowUps: command.OwnersFunc(func(id string) (string, bool) {
				f, ok := s.FollowUps.Find(id)
				return f.Stream, ok
			}),
			ReplyClock: customer.ReplyClockFunc(s.work.ReplyDue),
			Keys:       s.dir.Vault,
			Directory:  queries.Directory,
			Stages:     queries.Stages,
		})
	if err != nil {
		return err
	}
	if s.sched, err = followup.New(followup.Deps{
		Commander: followup.RepositoryCommander{Repo: commands.Customers},
		Calendar:  s.work,
		Stages: followup.StageFunc(func(id string) (lifecycle.Stage, bool) {
			st, ok := s.Lifecycle.Get(id)
			return st.Stage, ok
		}),
		// Replenishment calls (补货提醒): the replenishment read model's
		// predictions, for customers with consent and no grievance.
		Replenishment: followup.ReplenishmentFunc(func(asOf, by time.Time) []followup.Replenishment {
			due := s.Replenish.DueBy(asOf, by)
			out := make([]followup.Replenishment, len(due))
			for i, d := range due {
				out[i] = followup.Replenishment{CustomerID: d.CustomerID, Category: d.Category, Item: d.Item, LastPurchaseAt: d.LastPurchaseAt, ExpectedAt: d.ExpectedAt, Shape: d.Prior.K}
			}
			return out
		}),
		Contacts: followup.ContactFunc(func(id string) (bool, int, bool) {
			c, ok := s.Customers.Get(id)
			if !ok {
				return false, 0, false
			}
			st, _ := s.Lifecycle.Get(id)
			return c.MarketingConsent, st.Grievances, true
		}),
		Clock:  s.clock,
		Logger: s.log,
	}, followup.Config{}); err != nil {
		return err
	}
	if err := s.buildGreetings(commands, queries); err != nil {
		return err
	}
	s.runtime, err = projections.New(projections.Deps{
		Store:   s.dir.Store,
		Decoder: s.decoder(),
		Projections: append(s.Set.Projections(),
			s.erasure,
			s.sched,
			s.dupes,
			snapshotGuard{s},
		),
		Logger: s.log,
		Clock:  s.clock,
	}, projections.Config{CheckpointDir: s.dir.CheckpointDir()})
	if err != nil {
		return err
	}
	if s.snap.restored {
		if err := s.runtime.Resume(eventstore.Position(s.snap.pos), s.snap.rec, s.snapshotted()...); err != nil {
			return err
		}
	}
	s.app = &app.Application{Commands: commands, Queries: queries, Projections: s.runtime, Now: s.clock}
	if err := s.metrics.Register(s.collectors()...); err != nil {
		return err
	}
	if s.schema, err = graphql.NewSchema(graphql.Deps{App: s.app, Logger: s.log}); err != nil {
		return fmt.Errorf("server: schema: %w", err)
	}
	if s.gql, err = graphql.NewHandler(s.schema, graphql.HandlerConfig{
		Tokens:    s.cfg.Tokens,
		Logger:    s.log,
		Timeout:   s.cfg.RequestTimeout,
		Limits:    s.cfg.Limits,
		OnRequest: s.metrics.observeGraphQL,
	}); err != nil {
		return err
	}
	s.handler, err = s.routes()
	return err
}

// App is the application the API serves (for tools and tests that drive
// the use cases directly).
func (s *Server) App() *app.Application { return s.app }

// Schema returns the GraphQL schema (for tools that introspect it).
func (s *Server) Schema() gql.Schema { return s.schema }

// Handler serves /graphql, /healthz and /metrics (see Config.SeparateMetrics).
func (s *Server) Handler() http.Handler { return s.handler }

// Ready is closed once the read models have caught up with the log (none
// stopped), the event store's file passed its check, the churn model in
// use is the book's, and the server answers from current data. Until then
// GraphQL answers UNAVAILABLE.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// Run runs the projections, the stage clock and the churn refits until ctx
// ends. It returns nil on a clean shutdown, and an error — matching
// datadir.ErrDamaged when the data directory is damaged — when the start
// finds a read model stopped on an event it could not read or the event
// store's file damaged: kefu does not serve a partial book.
func (s *Server) Run(ctx context.Context) error {
	// A restored snapshot holds the churn model its lifecycle was
	// folded under.
	if !s.snap.restored {
		if err := s.LoadChurn(s.churnFile()); err != nil {
			s.log.Warn("saved churn model ignored", "err", err)
		}
	}
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return s.runtime.Run(ctx) })
	verified := make(chan struct{})
	g.Go(func() error {
		if err := s.verifyStore(ctx); err != nil {
			return err
		}
		close(verified)
		return nil
	})
	g.Go(func() error {
		select {
		case <-s.runtime.Ready():
		case <-ctx.Done():
			return nil
		}
		if err := s.stoppedAtStart(ctx); err != nil {
			return err
		}
		select {
		case <-verified:
		case <-ctx.Done():
			return nil
		}
		s.log.Info("read models caught up", "customers", s.Customers.Len())
		s.advanceClock()
		// Restored from a snapshot, the model in use was fitted on the
		// book up to it: refit only if the events since call for it.
		if !s.snap.restored || s.RefitDue(s.clock(), s.refitPolicy()) {
			if err := s.refitChurn(ctx); err != nil {
				return err
			}
		}
		close(s.ready)
		return s.clockLoop(ctx)
	})
	g.Go(func() error {
		select {
		case <-s.ready:
		case <-ctx.Done():
			return nil
		}
		return s.churnLoop(ctx)
	})
	g.Go(func() error {
		select {
		case <-s.ready:
		case <-ctx.Done():
			return nil
		}
		return s.leadProcessManagers(ctx)
	})
	err := g.Wait()
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	if err == nil && s.isReady() && !s.cfg.Snapshots.NotAtShutdown {
		// The runtime has stopped: the read models are still.
		if serr := s.writeSnapshot(context.WithoutCancel(ctx)); serr != nil {
			s.log.Info("no snapshot of the read models at shutdown: the next start folds the events since the last one", "reason", serr)
		}
	}
	return err
}

func (s *Server) isReady() bool {
	select {
	case <-s.ready:
		return true
	default:
		return false
	}
}

// leadProcessManagers runs the greeting dispatcher and the follow-up
// scheduler while this instance leads them (package lead): always on a
// store of its own, on a shared store (PostgreSQL) on one instance at a
// time.
func (s *Server) leadProcessManagers(ctx context.Context) error {
	var locker eventstore.Locker
	if l, ok := s.dir.Store.(eventstore.Locker); ok {
		locker = l
	}
	cfg := lead.Config{Locker: locker, Name: "process-managers", Retry: s.cfg.LeadRetry, Logger: s.log}
	return lead.Run(ctx, cfg, &s.leader, func(ctx context.Context) error {
		g, ctx := errgroup.WithContext(ctx)
		g.Go(func() error { return s.dispatch.Run(ctx) })
		g.Go(func() error { return s.sched.Run(ctx, nil) })
		return g.Wait()
	})
}

// Leading reports whether this instance runs the process managers now.
func (s *Server) Leading() bool { return s.leader.Leading() }

// tick is how often the clock moves time-driven stages.
func (s *Server) tick() time.Duration {
	if s.cfg.Tick > 0 {
		return s.cfg.Tick
	}
	return time.Second
}

// clockLoop moves time-driven stages every tick.
func (s *Server) clockLoop(ctx context.Context) error {
	t := time.NewTicker(s.tick())
	defer t.Stop()
	lastLoyalty := s.clock()
	// Snapshots are written here, so that the clock stands still while
	// one is taken; the first soon after the start.
	snapEvery := s.cfg.Snapshots.withDefaults().Check
	nextSnap := time.Now()
	for {
		if time.Now().After(nextSnap) {
			nextSnap = time.Now().Add(snapEvery)
			if s.snapshotDue(s.appliedPosition(), time.Now()) {
				if err := s.writeSnapshot(ctx); err != nil && ctx.Err() == nil {
					s.log.Warn("read models' snapshot not written", "err", err)
				}
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		now := s.clock()
		s.AdvanceLifecycle(now)
		if now.Sub(lastLoyalty) >= time.Minute {
			s.Loyalty.Refresh(now)
			lastLoyalty = now
		}
	}
}

// churnLoop refits the churn model when the book has changed enough
// (readmodels.Set.RefitDue), off the request path; a rebase runs here too.
func (s *Server) churnLoop(ctx context.Context) error {
	t := time.NewTicker(s.tick())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		if !s.RefitDue(s.clock(), s.refitPolicy()) {
			continue
		}
		if err := s.refitChurn(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			s.log.Error("churn model refit failed; the previous model stays in use", "err", err)
		}
	}
}

// advanceClock moves the read models to the current time.
func (s *Server) advanceClock() {
	now := s.clock()
	s.AdvanceLifecycle(now)
	s.Loyalty.Refresh(now)
}

// Close closes the data directory. Call it after Run has returned.
func (s *Server) Close() error {
	var err error
	s.closeOnce.Do(func() {
		if s.outbox != nil {
			err = s.outbox.Close()
		}
		err = errors.Join(err, s.dir.Close())
	})
	return err
}

// Store is the event store (for tools and tests).
func (s *Server) Store() eventstore.Store { return s.dir.Store }

// Codec is the event codec.
func (s *Server) Codec() *codec.Codec { return s.dir.Codec }

// greetingPolicy is cfg's greeting policy (the default when zero) and
// its compiled send rules.
func greetingPolicy(cfg greeting.Policy) (greeting.Policy, campaign.SendRules, error) {
	if cfg == (greeting.Policy{}) {
		cfg = greeting.DefaultPolicy()
	}
	rules, err := cfg.Compile()
	return cfg, rules, err
}

// buildGreetings assembles the greeting dispatcher with its sender.
func (s *Server) buildGreetings(commands command.Commands, queries query.Queries) error {
	sender := s.cfg.Sender
	if sender == nil {
		var err error
		if s.outbox, err = greeting.OpenOutbox(s.dir.Path, greeting.OutboxOptions{Clock: s.clock, Protector: s.dir.Vault, Logger: s.log}); err != nil {
			return err
		}
		sender = s.outbox
	}
	sender = greeting.Route{Default: sender, ByChannel: s.cfg.ChannelSenders}
	sender = instrumentedSender{next: sender, m: s.metrics}
	var err error
	s.dispatch, err = greeting.New(greeting.Config{Customers: commands.Customers, CampaignStreams: commands.Campaigns, Directory: queries.Directory,
		Stages: queries.Stages, Sender: sender, Campaigns: s.Campaigns, Policy: s.greetPolicy,
		Interval: s.cfg.DispatchInterval, Clock: s.clock, Logger: s.log})
	return err
}

// decoder decodes stored events for the projections (personal data opened).
func (s *Server) decoder() projections.Decoder {
	return projections.DecoderFunc(func(ctx context.Context, ev eventstore.Event) (any, error) {
		d, err := s.dir.Codec.Decode(ctx, ev)
		return d.Payload, err
	})
}
