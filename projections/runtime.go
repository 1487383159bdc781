package projections

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/components/cqrs"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"

	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/projections/checkpoint"
)

// DefaultTopic is the watermill topic the forwarder publishes to. It is
// permanent, like handler names.
const DefaultTopic = "kefu.events"

// Deps are the runtime's collaborators.
type Deps struct {
	// Store is the event log, the only source of events.
	Store eventstore.Store
	// Decoder decodes stored events for the projections.
	Decoder Decoder
	// Projections are the consumers; names must be unique.
	Projections []Projection
	// Logger receives the runtime's and watermill's logs; nil discards.
	Logger *slog.Logger
	// Clock gives the time for lag in seconds; nil means time.Now.
	Clock func() time.Time
}

// Config tunes the runtime. The zero value is usable when no projection is
// a Snapshotter.
type Config struct {
	// CheckpointDir holds one checkpoint file per durable (Snapshotter)
	// projection. Required when there is one.
	CheckpointDir string
	// FlushInterval is how often durable checkpoints are saved (also at the
	// end of catch-up and at shutdown). Default 1s.
	FlushInterval time.Duration
	// Workers is the number of parallel decoders during catch-up. Default
	// GOMAXPROCS.
	Workers int
	// Topic is the watermill topic. Default DefaultTopic.
	Topic string
	// CloseTimeout bounds how long shutdown waits for handlers. Default 30s.
	CloseTimeout time.Duration
}

// Validate reports every problem with c.
func (c Config) Validate() error {
	var errs []error
	if c.FlushInterval < 0 {
		errs = append(errs, fmt.Errorf("%w: FlushInterval %v is negative", ErrInvalidConfig, c.FlushInterval))
	}
	if c.Workers < 0 {
		errs = append(errs, fmt.Errorf("%w: Workers %d is negative", ErrInvalidConfig, c.Workers))
	}
	if c.CloseTimeout < 0 {
		errs = append(errs, fmt.Errorf("%w: CloseTimeout %v is negative", ErrInvalidConfig, c.CloseTimeout))
	}
	return errors.Join(errs...)
}

func (c Config) withDefaults() Config {
	if c.FlushInterval == 0 {
		c.FlushInterval = time.Second
	}
	if c.Workers == 0 {
		c.Workers = runtime.GOMAXPROCS(0)
	}
	if c.Topic == "" {
		c.Topic = DefaultTopic
	}
	if c.CloseTimeout == 0 {
		c.CloseTimeout = 30 * time.Second
	}
	return c
}

// Runtime runs projections: catch-up, then live through watermill. See the
// package documentation.
type Runtime struct {
	deps   Deps
	cfg    Config
	log    *slog.Logger
	clock  func() time.Time
	cs     []*consumer
	byName map[string]*consumer
	ckpt   *checkpoint.Dir // nil without durable projections

	started atomic.Bool
	ready   chan struct{} // closed when the live phase begins
	done    chan struct{} // closed when Run returns

	mu      sync.Mutex
	changed chan struct{} // closed and replaced on every progress

	// forward is held by the live forwarder while it publishes an event
	// (every handler applies it before Publish returns), and by Quiesce.
	forward sync.Mutex
}

// New checks deps and cfg and returns a runtime ready to Run.
func New(deps Deps, cfg Config) (*Runtime, error) {
	var errs []error
	if deps.Store == nil {
		errs = append(errs, fmt.Errorf("%w: no Store", ErrInvalidConfig))
	}
	if deps.Decoder == nil {
		errs = append(errs, fmt.Errorf("%w: no Decoder", ErrInvalidConfig))
	}
	if len(deps.Projections) == 0 {
		errs = append(errs, fmt.Errorf("%w: no Projections", ErrInvalidConfig))
	}
	if err := cfg.Validate(); err != nil {
		errs = append(errs, err)
	}
	r := &Runtime{
		deps:    deps,
		cfg:     cfg.withDefaults(),
		log:     deps.Logger,
		clock:   deps.Clock,
		byName:  make(map[string]*consumer, len(deps.Projections)),
		ready:   make(chan struct{}),
		done:    make(chan struct{}),
		changed: make(chan struct{}),
	}
	if r.log == nil {
		r.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if r.clock == nil {
		r.clock = time.Now
	}
	durable := false
	for i, p := range deps.Projections {
		if p == nil {
			errs = append(errs, fmt.Errorf("%w: projection %d is nil", ErrInvalidConfig, i))
			continue
		}
		c := newConsumer(p, r.notify)
		switch {
		case !checkpoint.ValidName(c.name):
			errs = append(errs, fmt.Errorf("%w: projection name %q does not match [a-z][a-z0-9_.-]{0,63}", ErrInvalidConfig, c.name))
		case r.byName[c.name] != nil:
			errs = append(errs, fmt.Errorf("%w: two projections named %q", ErrInvalidConfig, c.name))
		}
		durable = durable || c.snap != nil
		r.byName[c.name] = c
		r.cs = append(r.cs, c)
	}
	if durable && cfg.CheckpointDir == "" {
		errs = append(errs, fmt.Errorf("%w: a durable projection needs CheckpointDir", ErrInvalidConfig))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if durable {
		d, err := checkpoint.Open(cfg.CheckpointDir)
		if err != nil {
			return nil, err
		}
		r.ckpt = d
	}
	return r, nil
}

func (r *Runtime) notify() {
	r.mu.Lock()
	close(r.changed)
	r.changed = make(chan struct{})
	r.mu.Unlock()
}

func (r *Runtime) changes() <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.changed
}

// Ready is closed when catch-up is over and events flow through watermill.
func (r *Runtime) Ready() <-chan struct{} { return r.ready }

// Run restores durable projections from their checkpoints, catches every
// projection up to the log's head without watermill, then forwards new
// events through watermill until ctx ends. On the way out it stops the
// forwarder, closes the router (waiting for in-flight handlers) and saves
// durable checkpoints. It returns nil after a cancelled ctx; a stopped
// projection is not an error of Run (see Status). Run may be called once.
func (r *Runtime) Run(ctx context.Context) (err error) {
	if !r.started.CompareAndSwap(false, true) {
		return fmt.Errorf("projections: Run called twice")
	}
	defer close(r.done)

	for _, c := range r.cs {
		if c.snap == nil {
			continue
		}
		ck, err := r.ckpt.Load(c.name)
		if errors.Is(err, checkpoint.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		if err := c.restore(ck.Position, ck.RecordedAt, ck.Snapshot); err != nil {
			return err
		}
		r.log.InfoContext(ctx, "projection restored", "projection", c.name, "position", ck.Position)
	}

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	flushDone := make(chan struct{})
	go r.flushLoop(runCtx, flushDone)
	defer func() {
		cancel()
		<-flushDone
		err = errors.Join(err, r.flushAll())
	}()

	head, err := r.deps.Store.Head(runCtx)
	if err != nil {
		return r.cancelled(ctx, err)
	}
	for _, c := range r.cs {
		if p := eventstore.Position(c.applied.Load()); p > head {
			return fmt.Errorf("%w: %s at position %d, log head %d", ErrCheckpointAhead, c.name, p, head)
		}
	}
	start := time.Now()
	if err := catchUp(runCtx, r.deps.Store, r.deps.Decoder, head, r.cfg.Workers, r.cs); err != nil {
		return r.cancelled(ctx, err)
	}
	r.log.InfoContext(ctx, "projections caught up", "head", head, "took", time.Since(start))
	r.flushAllLogged(ctx)

	return r.cancelled(ctx, r.live(runCtx))
}

// cancelled turns the errors of a cancelled run into nil.
func (r *Runtime) cancelled(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}

func (r *Runtime) live(ctx context.Context) (err error) {
	wlog := watermill.LoggerAdapter(watermill.NopLogger{})
	if r.deps.Logger != nil {
		// watermill's own INFO lines ("Adding handler", "Starting handler",
		// "Subscriber stopped" for every read model) are routine: DEBUG.
		wlog = watermill.NewSlogLoggerWithLevelMapping(r.deps.Logger, map[slog.Level]slog.Level{slog.LevelInfo: slog.LevelDebug})
	}
	// Events travel from the forwarder to the handlers over an in-process
	// gochannel that blocks each publish until every handler has acked, so
	// the forwarder is never more than one event ahead of the slowest
	// handler and handlers see events in log order. Every consumer group
	// subscribes on it; the gochannel fans each event out to all of them.
	pubsub := gochannel.NewGoChannel(gochannel.Config{BlockPublishUntilSubscriberAck: true}, wlog)
	defer func() { err = errors.Join(err, pubsub.Close()) }()

	router, err := message.NewRouter(message.RouterConfig{CloseTimeout: r.cfg.CloseTimeout}, wlog)
	if err != nil {
		return err
	}
	router.AddMiddleware(middleware.Recoverer)
	topic := r.cfg.Topic
	proc, err := cqrs.NewEventGroupProcessorWithConfig(router, cqrs.EventGroupProcessorConfig{
		GenerateSubscribeTopic: func(cqrs.EventGroupProcessorGenerateSubscribeTopicParams) (string, error) {
			return topic, nil
		},
		SubscriberConstructor: func(cqrs.EventGroupProcessorSubscriberConstructorParams) (message.Subscriber, error) {
			return pubsub, nil
		},
		Marshaler: marshaler{},
		Logger:    wlog,
	})
	if err != nil {
		return err
	}
	for _, c := range r.cs {
		if err := proc.AddHandlersGroup(c.name, cqrs.NewGroupEventHandler(r.handler(c))); err != nil {
			return err
		}
	}
	bus, err := cqrs.NewEventBusWithConfig(pubsub, cqrs.EventBusConfig{
		GeneratePublishTopic: func(cqrs.GenerateEventPublishTopicParams) (string, error) { return topic, nil },
		Marshaler:            marshaler{},
		Logger:               wlog,
	})
	if err != nil {
		return err
	}

	routerCtx, stopRouter := context.WithCancel(ctx)
	defer stopRouter()
	routerErr := make(chan error, 1)
	go func() { routerErr <- router.Run(routerCtx) }()
	select {
	case <-router.Running():
	case err := <-routerErr:
		return fmt.Errorf("projections: router: %w", err)
	}
	close(r.ready)

	from := r.forwardFrom()
	r.log.InfoContext(ctx, "projections live", "from", from)
	ferr := r.deps.Store.Subscribe(ctx, from, func(e eventstore.Event) error {
		r.forward.Lock()
		defer r.forward.Unlock()
		if err := bus.Publish(ctx, &e); err != nil {
			return fmt.Errorf("projections: publish position %d: %w", e.Position, err)
		}
		return ctx.Err()
	})
	stopRouter()
	cerr := router.Close()
	rerr := <-routerErr
	if ctx.Err() != nil {
		ferr = nil
	}
	return errors.Join(ferr, cerr, rerr)
}

// forwardFrom is the lowest checkpoint of the projections still running.
func (r *Runtime) forwardFrom() eventstore.Position {
	from, running, highest := eventstore.Position(0), false, eventstore.Position(0)
	for _, c := range r.cs {
		p := eventstore.Position(c.applied.Load())
		highest = max(highest, p)
		if c.stopped.Load() != nil {
			continue
		}
		if !running || p < from {
			from, running = p, true
		}
	}
	if !running {
		return highest // every projection stopped: nothing to replay
	}
	return from
}

// handler is c's watermill group handler.
func (r *Runtime) handler(c *consumer) func(ctx context.Context, d *delivery) error {
	return func(ctx context.Context, d *delivery) error {
		c.mu.Lock()
		defer c.mu.Unlock()
		if d.err != nil {
			if c.stopped.CompareAndSwap(nil, &StoppedError{Projection: c.name, Position: c.pos + 1, Decode: true, Err: d.err}) {
				c.notify()
			}
			return nil
		}
		ev := Decoded{Event: d.event}
		var derr error
		if ev.Event.Position > c.pos && c.stopped.Load() == nil && c.wants(ev.Event.Type) {
			ev.Payload, derr = decode(ctx, r.deps.Decoder, ev.Event)
		}
		if err := c.applyLocked(ctx, &ev, derr); err != nil {
			return err
		}
		c.publishLocked()
		c.notify()
		return nil
	}
}

func (r *Runtime) flushLoop(ctx context.Context, done chan<- struct{}) {
	defer close(done)
	if r.ckpt == nil {
		return
	}
	t := time.NewTicker(r.cfg.FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			r.flushAllLogged(ctx)
		}
	}
}

func (r *Runtime) flushAllLogged(ctx context.Context) {
	if err := r.flushAll(); err != nil {
		r.log.ErrorContext(ctx, "saving checkpoints", "err", err)
	}
}

// flushAll saves every durable projection's checkpoint that moved.
func (r *Runtime) flushAll() error {
	var errs []error
	for _, c := range r.cs {
		if err := r.flush(c); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (r *Runtime) flush(c *consumer) error {
	if c.snap == nil {
		return nil
	}
	c.flushMu.Lock()
	defer c.flushMu.Unlock()
	c.mu.Lock()
	pos, rec := c.pos, c.rec
	if pos == c.flushed {
		c.mu.Unlock()
		return nil
	}
	snap, err := c.snap.Snapshot()
	c.mu.Unlock()
	if err != nil {
		err = fmt.Errorf("projections: snapshot %s at position %d: %w", c.name, pos, err)
		c.flushErr.Store(&err)
		return err
	}
	if err := r.ckpt.Save(c.name, checkpoint.Checkpoint{Position: pos, RecordedAt: rec, Snapshot: snap}); err != nil {
		c.flushErr.Store(&err)
		return err
	}
	c.flushed = pos
	c.flushErr.Store(nil)
	return nil
}

// WaitFor blocks until every named projection (every projection when no
// name is given) has applied pos, so that a mutation's response can reflect
// its own write. It returns the projection's *StoppedError when one stopped
// before reaching pos, ErrNotRunning once Run has returned, and ctx's error
// when ctx ends first.
func (r *Runtime) WaitFor(ctx context.Context, pos eventstore.Position, names ...string) error {
	targets := r.cs
	if len(names) > 0 {
		targets = make([]*consumer, 0, len(names))
		for _, n := range names {
			c := r.byName[n]
			if c == nil {
				return fmt.Errorf("%w: %q", ErrUnknownProjection, n)
			}
			targets = append(targets, c)
		}
	}
	for {
		changed := r.changes()
		reached := true
		for _, c := range targets {
			if eventstore.Position(c.applied.Load()) >= pos {
				continue
			}
			if s := c.stopped.Load(); s != nil {
				return s
			}
			reached = false
		}
		if reached {
			return nil
		}
		select {
		case <-changed:
		case <-r.done:
			return ErrNotRunning
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// State is a projection's phase.
type State string

// States of a projection.
const (
	// CatchingUp: Run is restoring or replaying the log without watermill.
	CatchingUp State = "catching-up"
	// Live: events arrive through watermill.
	Live State = "live"
	// Stopped: the projection failed on an event (see Status.Err).
	Stopped State = "stopped"
	// Ended: Run has returned.
	Ended State = "ended"
)

// Status is one projection's health, for /healthz and /metrics.
type Status struct {
	Name  string
	State State
	// Durable is true for Snapshotter projections, which keep a checkpoint
	// file.
	Durable bool
	// Checkpoint is the last position applied.
	Checkpoint eventstore.Position
	// Head is the log's last position when Status was called.
	Head eventstore.Position
	// LagEvents is Head − Checkpoint.
	LagEvents uint64
	// LagSeconds is now − RecordedAt of the last applied event while
	// LagEvents > 0, and 0 when caught up.
	LagSeconds float64
	// Err is the *StoppedError of a stopped projection.
	Err error
	// CheckpointErr is the last failed attempt to save a durable
	// projection's checkpoint; nil once a save succeeds.
	CheckpointErr error
}

// Status reports every projection's progress and lag, in registration
// order.
func (r *Runtime) Status(ctx context.Context) ([]Status, error) {
	head, err := r.deps.Store.Head(ctx)
	if err != nil {
		return nil, err
	}
	now := r.clock()
	state := CatchingUp
	select {
	case <-r.ready:
		state = Live
	default:
	}
	select {
	case <-r.done:
		state = Ended
	default:
	}
	out := make([]Status, len(r.cs))
	for i, c := range r.cs {
		s := Status{Name: c.name, State: state, Durable: c.snap != nil, Head: head,
			Checkpoint: eventstore.Position(c.applied.Load())}
		if head > s.Checkpoint {
			s.LagEvents = uint64(head - s.Checkpoint)
			if rec := c.lastRecorded.Load(); rec != 0 {
				s.LagSeconds = max(0, now.Sub(time.Unix(0, rec)).Seconds())
			}
		}
		if e := c.stopped.Load(); e != nil {
			s.State, s.Err = Stopped, e
		}
		if e := c.flushErr.Load(); e != nil {
			s.CheckpointErr = *e
		}
		out[i] = s
	}
	return out, nil
}

// DigestAt is a projection's digest and the position it reflects.
type DigestAt struct {
	Position eventstore.Position
	Digest   [32]byte
}

// Digests returns every projection's digest, keyed by name.
func (r *Runtime) Digests() map[string]DigestAt {
	out := make(map[string]DigestAt, len(r.cs))
	for _, c := range r.cs {
		c.mu.Lock()
		out[c.name] = DigestAt{Position: c.pos, Digest: c.proj.Digest()}
		c.mu.Unlock()
	}
	return out
}

// ErrNotQuiet: Quiesce found the projections at different positions.
var ErrNotQuiet = errors.New("projections: the projections are not at one position")

// Resume starts the named projections at pos, as if they had applied
// every event up to it (recorded at rec): the caller restored their state
// from a snapshot of pos. None may be a Snapshotter (those restore
// themselves). Call it before Run.
func (r *Runtime) Resume(pos eventstore.Position, rec time.Time, names ...string) error {
	if r.started.Load() {
		return fmt.Errorf("projections: Resume after Run")
	}
	cs := make([]*consumer, 0, len(names))
	for _, n := range names {
		c := r.byName[n]
		switch {
		case c == nil:
			return fmt.Errorf("%w: %q", ErrUnknownProjection, n)
		case c.snap != nil:
			return fmt.Errorf("projections: Resume of %s, which restores itself from its checkpoint", n)
		}
		cs = append(cs, c)
	}
	for _, c := range cs {
		if err := c.restore(pos, rec, nil); err != nil {
			return err
		}
	}
	return nil
}

// Quiesce calls f while no event reaches the named projections, all of
// which have applied the same position pos (recorded at rec): the moment
// to take a consistent snapshot of several read models. While the
// runtime is live it holds the forwarder between two events (mutations
// waiting for their read models wait for f); after Run has returned
// nothing moves anyway. Before the live phase it returns ErrNotRunning;
// when the projections are not at one position (one stopped, or Run
// ended between two handlers), ErrNotQuiet.
func (r *Runtime) Quiesce(ctx context.Context, names []string, f func(pos eventstore.Position, rec time.Time) error) error {
	select {
	case <-r.ready:
	case <-r.done:
	default:
		return ErrNotRunning
	}
	cs := make([]*consumer, 0, len(names))
	for _, n := range names {
		c := r.byName[n]
		if c == nil {
			return fmt.Errorf("%w: %q", ErrUnknownProjection, n)
		}
		cs = append(cs, c)
	}
	if len(cs) == 0 {
		return fmt.Errorf("%w: Quiesce of no projection", ErrInvalidConfig)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	r.forward.Lock()
	defer r.forward.Unlock()
	var pos eventstore.Position
	var rec time.Time
	for i, c := range cs {
		c.mu.Lock()
		p, t, stopped := c.pos, c.rec, c.stopped.Load()
		c.mu.Unlock()
		switch {
		case stopped != nil:
			return fmt.Errorf("%w: %w", ErrNotQuiet, stopped)
		case i == 0:
			pos, rec = p, t
		case p != pos:
			return fmt.Errorf("%w: %s at %d, %s at %d", ErrNotQuiet, cs[0].name, pos, c.name, p)
		}
	}
	return f(pos, rec)
}
