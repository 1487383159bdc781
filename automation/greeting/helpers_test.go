package greeting_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kefu-crm/kefu/app/command"
	"github.com/kefu-crm/kefu/automation/greeting"
	"github.com/kefu-crm/kefu/domain/aggregate"
	"github.com/kefu-crm/kefu/domain/campaign"
	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/eventstore/codec"
	"github.com/kefu-crm/kefu/eventstore/memstore"
)

// Campaigns for Spring Festival 2025 (2025-01-29) are scheduled on
// 2025-01-10.
var scheduleAt = time.Date(2025, 1, 10, 3, 0, 0, 0, time.UTC)

func newCodec(t testing.TB) *codec.Codec {
	t.Helper()
	c, err := codec.New(codec.Options{}, codec.SpecsOf(customer.Events()), codec.SpecsOf(campaign.Events()))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// directory is a test double of the Directory port: a fixed list.
type directory struct {
	mu   sync.Mutex
	list []greeting.Recipient
}

func (d *directory) Each(ctx context.Context, fn func(greeting.Recipient) error) error {
	d.mu.Lock()
	list := d.list
	d.mu.Unlock()
	for _, r := range list {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

// stages is a test double of the lifecycle stage source.
type stages map[string]string

func (s stages) StageOf(id string) string {
	if st, ok := s[id]; ok {
		return st
	}
	return "ACTIVE"
}

type lister []string

func (l lister) ActiveCampaigns(context.Context) ([]string, error) { return l, nil }

// person is a customer to register in a test.
type person struct {
	id, name, tz, locale, tier, phone, email, wechat, am string
	consent, flagged, erased                             bool
	birthday                                             string
}

func (p person) withDefaults() person {
	if p.tz == "" {
		p.tz = "Asia/Shanghai"
	}
	if p.locale == "" {
		p.locale = "zh-CN"
	}
	if p.tier == "" {
		p.tier = "GOLD"
	}
	if p.name == "" {
		p.name = "客户" + p.id
	}
	return p
}

// register appends the person's history to the store and returns their
// directory entry.
func register(t testing.TB, ctx context.Context, st eventstore.Store, cd *codec.Codec, p person) greeting.Recipient {
	t.Helper()
	p = p.withDefaults()
	at := time.Date(2024, 3, 1, 2, 0, 0, 0, time.UTC)
	c, err := customer.New(p.id)
	if err != nil {
		t.Fatal(err)
	}
	tier, _ := customer.ParseTier(p.tier)
	if err := c.Register(customer.Register{Name: p.name, Phone: p.phone, Email: p.email, WeChat: p.wechat, Tier: tier,
		AccountManager: p.am, Timezone: p.tz, Locale: p.locale, Birthday: p.birthday, MarketingConsent: p.consent, OccurredAt: at}, at); err != nil {
		t.Fatal(err)
	}
	if p.flagged {
		if err := c.FlagConduct(customer.FlagConduct{Severity: customer.SeverityGeneral, Note: "rude", By: "a", OccurredAt: at}, at); err != nil {
			t.Fatal(err)
		}
	}
	if p.erased {
		if err := c.Erase(customer.Erase{By: "a", Reason: "request", OccurredAt: at}, at); err != nil {
			t.Fatal(err)
		}
	}
	stream := eventstore.StreamID(customer.StreamCategory, p.id)
	var recs []eventstore.Record
	for _, ch := range c.Changes() {
		rec, err := cd.Encode(ctx, stream, ch.Event, codec.Envelope{OccurredAt: ch.OccurredAt})
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, rec)
	}
	if _, err := st.Append(ctx, stream, eventstore.NoStream(), recs...); err != nil {
		t.Fatal(err)
	}
	r := campaign.RecipientOf(c, nil)
	return r
}

// greetings returns every Greeting* event of a campaign by customer.
func greetings(t testing.TB, ctx context.Context, st eventstore.Store, cd *codec.Codec, campaignID string) map[string][]any {
	t.Helper()
	out := map[string][]any{}
	err := st.ReadAll(ctx, eventstore.Start, func(ev eventstore.Event) error {
		if !strings.HasPrefix(ev.Type, "Greeting") || strings.HasPrefix(ev.Type, "GreetingCampaign") {
			return nil
		}
		d, err := cd.Decode(ctx, ev)
		if err != nil {
			return err
		}
		id := strings.TrimPrefix(ev.StreamID, "customer-")
		var cid string
		switch e := d.Payload.(type) {
		case *customer.GreetingSent:
			cid = e.CampaignID
		case *customer.GreetingFailed:
			cid = e.CampaignID
		case *customer.GreetingSkipped:
			cid = e.CampaignID
		}
		if cid == campaignID {
			out[id] = append(out[id], d.Payload)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func schedule(t testing.TB, ctx context.Context, svc *service, edit func(*campaign.Schedule)) string {
	t.Helper()
	cmd := campaign.Schedule{
		Name: "春节问候", Occasion: "CN:spring_festival", By: "marketing",
		Audience: campaign.Audience{Stages: []string{"NEW", "ACTIVE", "LOYAL", "GRUMBLING", "COMPLAINING"}, ExcludeConductFlagged: true},
		Templates: []campaign.Template{
			{Stages: []string{"GRUMBLING", "COMPLAINING"}, Channel: "SMS", Body: "{{name}}，{{occasion}}期间如有任何问题请随时联系我们。"},
			{Channel: "SMS", Body: "{{name}}，祝您{{occasion}}快乐！"},
		},
	}
	if edit != nil {
		edit(&cmd)
	}
	c, err := svc.Schedule(ctx, cmd, "")
	if err != nil {
		t.Fatal(err)
	}
	return c.ID()
}

type env struct {
	ctx   context.Context
	store eventstore.Store
	codec *codec.Codec
	dir   *directory
	stage stages
	cmds  command.Commands
	svc   *service
}

// service is what the API does with campaigns (app/command's handlers
// and the preview of the campaign domain), for the dispatcher's tests.
type service struct {
	cmds   command.Commands
	dir    campaign.Directory
	stages campaign.StageSource
	clock  func() time.Time
}

func (s *service) Schedule(ctx context.Context, cmd campaign.Schedule, key string) (*campaign.Campaign, error) {
	if key != "" {
		ctx = command.WithIdempotencyKey(ctx, key)
	}
	res, err := s.cmds.ScheduleCampaign.Handle(ctx, cmd)
	if err != nil {
		return nil, err
	}
	return s.cmds.Campaigns.Load(ctx, res.ID)
}

func (s *service) Cancel(ctx context.Context, id string, cmd campaign.Cancel) (*campaign.Campaign, error) {
	if _, err := s.cmds.CancelCampaign.Handle(ctx, id, cmd); err != nil {
		return nil, err
	}
	return s.cmds.Campaigns.Load(ctx, id)
}

func (s *service) Load(ctx context.Context, id string) (*campaign.Campaign, error) {
	c, err := s.cmds.Campaigns.Load(ctx, id)
	if err == nil && !c.Exists() {
		err = &aggregate.NotFoundError{Kind: "campaign", ID: id}
	}
	return c, err
}

func (s *service) Preview(ctx context.Context, cmd campaign.Schedule) (campaign.Preview, error) {
	rules, _ := campaign.DefaultPolicy().Compile()
	return campaign.PreviewAudience(ctx, s.dir, s.stages, rules, cmd, s.clock())
}

// newCommands builds the application's write side over st.
func newCommands(t testing.TB, st eventstore.Store, cd *codec.Codec, dir campaign.Directory, stages campaign.StageSource, clock func() time.Time) command.Commands {
	t.Helper()
	nobody := command.OwnersFunc(func(string) (string, bool) { return "", false })
	cmds, err := command.New(command.Config{Store: st, Codec: cd, Clock: clock}, command.Deps{
		Complaints: nobody, FollowUps: nobody, Keys: noKeys{},
		ReplyClock: customer.ReplyClockFunc(func(t time.Time) (time.Time, bool) { return t.Add(4 * time.Hour), false }),
		Directory:  dir, Stages: stages,
	})
	if err != nil {
		t.Fatal(err)
	}
	return cmds
}

type noKeys struct{}

func (noKeys) Destroy(context.Context, string) error { return nil }

func newEnv(t testing.TB, st eventstore.Store) *env {
	t.Helper()
	if st == nil {
		st = memstore.New(memstore.Options{})
	}
	e := &env{ctx: t.Context(), codec: newCodec(t), dir: &directory{}, stage: stages{}}
	e.use(t, st)
	return e
}

// use points the environment at st (a reopened store after a "restart").
func (e *env) use(t testing.TB, st eventstore.Store) {
	t.Helper()
	clock := func() time.Time { return scheduleAt }
	e.store = st
	e.cmds = newCommands(t, st, e.codec, e.dir, e.stage, clock)
	e.svc = &service{cmds: e.cmds, dir: e.dir, stages: e.stage, clock: clock}
}

func (e *env) add(t testing.TB, ps ...person) {
	for _, p := range ps {
		e.dir.list = append(e.dir.list, register(t, e.ctx, e.store, e.codec, p))
	}
}

func (e *env) dispatcher(t testing.TB, sender greeting.Sender, campaigns ...string) *greeting.Dispatcher {
	t.Helper()
	d, err := greeting.New(greeting.Config{Customers: e.cmds.Customers, CampaignStreams: e.cmds.Campaigns, Directory: e.dir, Stages: e.stage,
		Sender: sender, Campaigns: lister(campaigns), Workers: 8})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// recorder is a Sender test double that remembers messages.
type recorder struct {
	mu   sync.Mutex
	msgs []greeting.Message
	fail func(greeting.Message) error
}

func (r *recorder) Send(_ context.Context, m greeting.Message) (greeting.Receipt, error) {
	if r.fail != nil {
		if err := r.fail(m); err != nil {
			return greeting.Receipt{}, err
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, m)
	return greeting.Receipt{Attempts: 1}, nil
}

func (r *recorder) byCustomer() map[string]greeting.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]greeting.Message{}
	for _, m := range r.msgs {
		out[m.CustomerID] = m
	}
	return out
}

func campaignStatus(t testing.TB, e *env, id string) (campaign.Status, campaign.Counts) {
	t.Helper()
	c, err := e.svc.Load(e.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	counts, _ := c.Completed()
	return c.Status(), counts
}

var errInjected = errors.New("injected")
