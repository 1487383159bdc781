// Package seed writes a deterministic, realistic synthetic customer history
// for demos, tests and benchmarks. The same Config always yields the same
// events, in the same order.
//
// The history follows the statistics of the source material (DESIGN §2):
// most customers never complain; of those who have a bad experience only a
// few complain formally (4%) and more grumble; a complaint left unresolved
// or resolved to the customer's dissatisfaction makes most of them (81%) go
// silent for good; a complaint resolved well makes the customer buy more
// and refer others (the service-recovery paradox). Purchases follow a
// BG/NBD-like process (a per-customer purchase rate and a chance to drop
// out after each purchase), so the churn model has something real to fit.
//
// Every event is produced by the Customer aggregate's verbs, so a seeded
// history obeys exactly the rules a live one does.
package seed

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/kefu-crm/kefu/domain/customer"
)

// Config says what to generate.
type Config struct {
	// Customers is how many customers to generate (≥ 1).
	Customers int
	// Seed makes the history reproducible.
	Seed uint64
	// End is the end of the simulated history ("now" for the history);
	// nothing happens after it.
	End time.Time
	// Years is how far back registrations go (default 2).
	Years float64
	// ReplyClock computes complaint reply-due times (the working calendar).
	ReplyClock customer.ReplyClock
	// AccountManagers is the number of account managers (default 12).
	AccountManagers int
	// Activity multiplies how often customers buy and get in touch while
	// they are active (purchase rate and routine-contact rate), and divides
	// the per-purchase dropout so that active lifetimes stay as long: a
	// history with Activity 7 has roughly 7× the events (for load tests on
	// dense streams). Zero means 1, the calibrated default.
	Activity float64
	// Duplicates is the fraction of customers (0 ≤ d ≤ 0.5) that are a
	// planted duplicate of the customer before them (PlantedDuplicate): the
	// same person registered again with the same name and one detail in
	// common — the phone written differently, the e-mail in capitals, the
	// WeChat ID, or the birthday — and a history of their own.
	Duplicates float64
}

// PlantedDuplicate reports whether customer i is a planted duplicate of
// customer i−1 under cfg: only odd customers are, so a pair never chains.
func PlantedDuplicate(cfg Config, i int) bool {
	if cfg.Duplicates <= 0 || i%2 == 0 {
		return false
	}
	return rand.New(rand.NewPCG(cfg.Seed^0xD0B1E5, uint64(i))).Float64() < 2*cfg.Duplicates
}

// Validate checks the configuration.
func (c Config) Validate() error {
	var errs []error
	if c.Customers < 1 {
		errs = append(errs, fmt.Errorf("customers: %d, want ≥ 1", c.Customers))
	}
	if c.End.IsZero() {
		errs = append(errs, errors.New("end: required"))
	}
	if c.Duplicates < 0 || c.Duplicates > 0.5 {
		errs = append(errs, fmt.Errorf("duplicates: %v, want 0…0.5", c.Duplicates))
	}
	if c.Years < 0 || c.Years > 50 {
		errs = append(errs, fmt.Errorf("years: %v, want 0 < years ≤ 50", c.Years))
	}
	if c.ReplyClock == nil {
		errs = append(errs, errors.New("replyClock: required"))
	}
	if c.AccountManagers < 0 {
		errs = append(errs, fmt.Errorf("accountManagers: %d, want ≥ 1", c.AccountManagers))
	}
	if c.Activity < 0 || c.Activity > 1000 || math.IsNaN(c.Activity) {
		errs = append(errs, fmt.Errorf("activity: %v, want 0 < activity ≤ 1000", c.Activity))
	}
	return errors.Join(errs...)
}

func (c Config) withDefaults() Config {
	if c.Years == 0 {
		c.Years = 2
	}
	if c.AccountManagers == 0 {
		c.AccountManagers = 12
	}
	if c.Activity == 0 {
		c.Activity = 1
	}
	return c
}

// Summary counts what was generated.
type Summary struct {
	Customers            int
	Events               int
	Purchases            int
	BadExperiences       int
	Grumbles             int
	Complaints           int
	ResolvedSatisfied    int
	ResolvedUnsatisfied  int
	Declined             int
	LeftOpen             int
	WentSilent           int // customers who stopped all contact after a grievance
	Referrals            int
	FollowUps            int
	FollowUpsCompleted   int
	MarkedLost           int
	ConductFlagged       int
	SatisfactionSurveyed int
	// Duplicates counts the planted duplicates (Config.Duplicates).
	Duplicates int
}

func (s *Summary) add(o Summary) {
	s.Customers += o.Customers
	s.Events += o.Events
	s.Purchases += o.Purchases
	s.BadExperiences += o.BadExperiences
	s.Grumbles += o.Grumbles
	s.Complaints += o.Complaints
	s.ResolvedSatisfied += o.ResolvedSatisfied
	s.ResolvedUnsatisfied += o.ResolvedUnsatisfied
	s.Declined += o.Declined
	s.LeftOpen += o.LeftOpen
	s.WentSilent += o.WentSilent
	s.Referrals += o.Referrals
	s.FollowUps += o.FollowUps
	s.FollowUpsCompleted += o.FollowUpsCompleted
	s.MarkedLost += o.MarkedLost
	s.ConductFlagged += o.ConductFlagged
	s.SatisfactionSurveyed += o.SatisfactionSurveyed
	s.Duplicates += o.Duplicates
}

// CustomerID is the ID of the i-th generated customer (0-based).
func CustomerID(i int) string { return fmt.Sprintf("c%06d", i) }

// History is one customer's generated events, oldest first.
type History struct {
	Index      int
	CustomerID string
	Changes    []customer.Change
}

// Generate produces the histories in customer order and calls emit with
// each. It stops at the first error from emit or ctx.
func Generate(ctx context.Context, cfg Config, emit func(History) error) (Summary, error) {
	if err := cfg.Validate(); err != nil {
		return Summary{}, fmt.Errorf("seed: %w", err)
	}
	cfg = cfg.withDefaults()
	var total Summary
	for i := range cfg.Customers {
		if i%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return total, err
			}
		}
		h, s, err := One(cfg, i)
		if err != nil {
			return total, err
		}
		total.add(s)
		if err := emit(h); err != nil {
			return total, err
		}
	}
	return total, nil
}

// One generates the history of customer i alone; it depends only on cfg
// and i, so callers may generate customers in parallel.
func One(cfg Config, i int) (History, Summary, error) {
	cfg = cfg.withDefaults()
	s := &sim{
		cfg: cfg,
		rng: rand.New(rand.NewPCG(cfg.Seed, uint64(i)*0x9E3779B97F4A7C15+1)),
		// A stream of its own for the household staples, so adding them
		// left every other draw of the history as it was.
		hh:  rand.New(rand.NewPCG(cfg.Seed^0x5EED57A91E5, uint64(i)*0x9E3779B97F4A7C15+2)),
		id:  CustomerID(i),
		idx: i,
		end: cfg.End,
	}
	c, err := customer.New(s.id)
	if err != nil {
		return History{}, Summary{}, err
	}
	s.c = c
	if PlantedDuplicate(cfg, i) {
		orig, _, err := One(Config{Customers: cfg.Customers, Seed: cfg.Seed, End: cfg.End, Years: cfg.Years, ReplyClock: cfg.ReplyClock,
			AccountManagers: cfg.AccountManagers, Activity: cfg.Activity}, i-1)
		if err != nil {
			return History{}, Summary{}, err
		}
		if r, ok := orig.Changes[0].Event.(*customer.CustomerRegistered); ok {
			s.dupOf = r
			s.sum.Duplicates = 1
		}
	}
	if err := s.run(); err != nil {
		return History{}, Summary{}, fmt.Errorf("seed: customer %s: %w", s.id, err)
	}
	ch := c.Changes()
	s.sum.Customers = 1
	s.sum.Events = len(ch)
	return History{Index: i, CustomerID: s.id, Changes: ch}, s.sum, nil
}

// --- the simulation of one customer ---

const day = 24 * time.Hour

type sim struct {
	cfg Config
	rng *rand.Rand
	id  string
	idx int
	c   *customer.Customer
	end time.Time
	sum Summary

	queue   actions
	seq     int
	am      string
	hh      *rand.Rand // household staples' draws
	staple  int        // staple purchases so far
	lambda  float64    // purchases per day
	dropout float64    // chance to stop buying after a purchase
	// gone: the customer stopped buying and contacting (dropped out or went
	// silent after a grievance).
	gone       bool
	purchases  int
	complaints int
	followUps  int
	lastAction time.Time
	referred   map[int]bool // customers this one already referred
	// dupOf is the registration this customer duplicates (PlantedDuplicate).
	dupOf *customer.CustomerRegistered
}

type action struct {
	at  time.Time
	seq int
	do  func(at time.Time) error
}

type actions []action

func (a actions) Len() int { return len(a) }
func (a actions) Less(i, j int) bool {
	if !a[i].at.Equal(a[j].at) {
		return a[i].at.Before(a[j].at)
	}
	return a[i].seq < a[j].seq
}
func (a actions) Swap(i, j int) { a[i], a[j] = a[j], a[i] }
func (a *actions) Push(x any)   { *a = append(*a, x.(action)) }
func (a *actions) Pop() any {
	old := *a
	x := old[len(old)-1]
	*a = old[:len(old)-1]
	return x
}

// at schedules fn at t; actions after the end of history are dropped.
func (s *sim) at(t time.Time, fn func(time.Time) error) {
	if t.After(s.end) {
		return
	}
	s.seq++
	heap.Push(&s.queue, action{at: t, seq: s.seq, do: fn})
}

func (s *sim) run() error {
	span := time.Duration(s.cfg.Years * 365 * float64(day))
	start := s.end.Add(-span)
	// Registrations spread over the window, none in the last week.
	reg := start.Add(time.Duration(s.rng.Float64() * float64(span-7*day))).Truncate(time.Minute)
	s.at(reg, s.register)
	for s.queue.Len() > 0 {
		a := heap.Pop(&s.queue).(action)
		// Times only move forward per customer, and never coincide: the
		// aggregate's history is ordered by them.
		if !a.at.After(s.lastAction) {
			a.at = s.lastAction.Add(time.Minute)
		}
		if a.at.After(s.end) {
			continue
		}
		s.lastAction = a.at
		if err := a.do(a.at); err != nil {
			return err
		}
	}
	return nil
}

// dense shortens a gap between routine events by the Activity factor.
func (s *sim) dense(d time.Duration) time.Duration {
	if s.cfg.Activity == 1 {
		return d
	}
	return time.Duration(float64(d) / s.cfg.Activity)
}

func (s *sim) chance(p float64) bool { return s.rng.Float64() < p }

func (s *sim) pick(xs []string) string { return pickOf(s.rng, xs) }

func pickOf[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

func (s *sim) after(t time.Time, min, max time.Duration) time.Time {
	return t.Add(min + time.Duration(s.rng.Float64()*float64(max-min)))
}

// gamma draws from Gamma(shape k, scale θ) (Marsaglia–Tsang).
func (s *sim) gamma(k, theta float64) float64 {
	if k < 1 {
		return s.gamma(k+1, theta) * math.Pow(s.rng.Float64(), 1/k)
	}
	d := k - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := s.rng.NormFloat64()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := s.rng.Float64()
		if math.Log(u) < 0.5*x*x+d-d*v+d*math.Log(v) {
			return d * v * theta
		}
	}
}

func (s *sim) beta(a, b float64) float64 {
	x := s.gamma(a, 1)
	return x / (x + s.gamma(b, 1))
}

var (
	surnames = []string{"王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何", "林", "罗", "高"}
	given    = []string{"伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀兰", "霞", "平", "刚", "桂英", "晨", "雪"}
	amNames  = []string{"wang.fang", "li.na", "zhang.wei", "liu.yang", "chen.jing", "yang.min", "zhao.lei", "huang.li", "zhou.tao", "wu.xia", "xu.jie", "sun.chao", "ma.yan", "zhu.qiang", "hu.jun", "guo.ping"}
	agents   = []string{"agent.01", "agent.02", "agent.03", "agent.04", "agent.05", "agent.06"}
	segments = []string{"retail", "retail", "retail", "online", "online", "corporate"}
	category = []string{"delivery", "product quality", "billing", "installation", "repair", "staff attitude", "refund"}
	items    = []string{"rice 10kg", "cooking oil 5L", "tea gift box", "water purifier", "rice cooker", "filter cartridge", "soy sauce", "moon cakes"}
	zones    = []struct {
		tz, locale string
		weight     float64
	}{
		{"Asia/Shanghai", "zh-CN", 0.82}, {"Asia/Hong_Kong", "zh-HK", 0.05}, {"Asia/Taipei", "zh-TW", 0.03},
		{"Asia/Singapore", "en-SG", 0.04}, {"Europe/London", "en-GB", 0.03}, {"America/Los_Angeles", "en-US", 0.03},
	}
)

func (s *sim) register(at time.Time) error {
	name := s.pick(surnames) + s.pick(given)
	ams := amNames
	if s.cfg.AccountManagers < len(ams) {
		ams = ams[:s.cfg.AccountManagers]
	}
	s.am = ams[s.idx%len(ams)]
	tier := customer.TierStandard
	switch r := s.rng.Float64(); {
	case r < 0.07:
		tier = customer.TierVIP
	case r < 0.27:
		tier = customer.TierGold
	}
	zone := zones[0]
	r, acc := s.rng.Float64(), 0.0
	for _, z := range zones {
		acc += z.weight
		if r < acc {
			zone = z
			break
		}
	}
	birth := time.Date(1950+s.rng.IntN(56), time.Month(1+s.rng.IntN(12)), 1+s.rng.IntN(28), 0, 0, 0, 0, time.UTC)
	if s.chance(0.004) {
		birth = time.Date(1992, 2, 29, 0, 0, 0, 0, time.UTC) // some leap-day birthdays
	}
	email := ""
	if s.chance(0.7) {
		email = fmt.Sprintf("customer%d@example.com", s.idx)
	}
	reg := customer.Register{
		Name:             name,
		Phone:            fmt.Sprintf("+86 13%d %04d %04d", s.rng.IntN(10), s.rng.IntN(10000), s.idx%10000),
		Email:            email,
		WeChat:           fmt.Sprintf("wx_%x", s.rng.Uint32()),
		Tier:             tier,
		Segment:          s.pick(segments),
		AccountManager:   s.am,
		Timezone:         zone.tz,
		Locale:           zone.locale,
		Birthday:         birth.Format(time.DateOnly),
		MarketingConsent: s.chance(0.65),
		OccurredAt:       at,
	}
	if d := s.dupOf; d != nil {
		// The same person again: their name and one detail in common.
		reg.Name = d.Name
		switch v := s.hh.IntN(4); {
		case v == 1 && d.Email != "":
			reg.Email = strings.ToUpper(d.Email)
		case v == 2:
			reg.WeChat = d.WeChat
		case v == 3:
			reg.Birthday = d.Birthday
		default: // the phone as someone typed it: no country code, no spaces
			reg.Phone = strings.ReplaceAll(strings.TrimPrefix(d.Phone, "+86 "), " ", "")
		}
	}
	if err := s.c.Register(reg, s.end); err != nil {
		return err
	}

	// BG/NBD-like purchasing: rate ~ Gamma, dropout ~ Beta.
	s.lambda = s.gamma(1.1, 1.0/45)
	switch tier {
	case customer.TierVIP:
		s.lambda *= 2
	case customer.TierGold:
		s.lambda *= 1.4
	}
	s.dropout = s.beta(0.9, 7)
	if a := s.cfg.Activity; a != 1 {
		s.lambda *= a
		s.dropout /= a
	}
	if s.chance(0.85) {
		s.at(s.after(at, time.Hour, 14*day), s.purchase)
	}
	// Routine contacts, either way, over the customer's life.
	s.at(s.after(at, s.dense(20*day), s.dense(200*day)), s.routineContact)
	s.startStaples(at)
	return nil
}

// Household staples (补货): HouseholdShare of the customers are households
// of 1–5 people that buy staples on a rhythm set by what they eat — a
// 10 kg bag of rice feeds a family of four for about a month [003 §1].
// Each staple lasts PersonDays for one person, so its mean interval is
// PersonDays / household size (never under 7 days); the intervals are
// Erlang with shape 8 (a coefficient of variation of about 0.35: regular,
// not clockwork) — the model projections/replenish fits. A household buys
// each staple it uses (Share) until the customer drops out or goes
// silent. Activity divides the intervals like the other rates. The item is "<category>:<product>", so the category is "rice".
var staples = []struct {
	item       string
	personDays float64
	share      float64
}{
	{"rice:jasmine 10kg", 120, 0.7},
	{"cooking oil:peanut 5L", 180, 0.5},
	{"tea:oolong 500g", 150, 0.3},
}

// HouseholdShare is the share of customers who buy household staples.
const HouseholdShare = 0.45

func (s *sim) startStaples(at time.Time) {
	if s.hh.Float64() >= HouseholdShare {
		return
	}
	size := 1 + s.hh.IntN(5)
	for _, st := range staples {
		if s.hh.Float64() >= st.share {
			continue
		}
		mean := math.Max(7, st.personDays/float64(size)) * float64(day)
		if a := s.cfg.Activity; a != 1 {
			mean /= a // a load-test history buys everything more often
		}
		item := st.item
		var buy func(t time.Time) error
		next := func(t time.Time) {
			g := 0.0
			for range 8 {
				g += s.hh.ExpFloat64()
			}
			s.at(t.Add(time.Duration(g/8*mean)), buy)
		}
		buy = func(t time.Time) error {
			if s.gone || s.c.MarkedLost() {
				return nil
			}
			s.staple++
			if err := s.c.RecordPurchase(customer.RecordPurchase{
				OrderID: fmt.Sprintf("o-%s-h%d", s.id, s.staple), Amount: customer.Money{AmountMinor: 4000 + int64(s.hh.IntN(8000)), Currency: "CNY"},
				Items: []string{item}, OccurredAt: t,
			}, s.end); err != nil {
				return err
			}
			s.sum.Purchases++
			next(t)
			return nil
		}
		s.at(t0(at, s.hh.Float64()*mean), buy)
	}
}

// t0 is at plus a share of a staple's interval: when the first bag runs
// out.
func t0(at time.Time, d float64) time.Time { return at.Add(time.Hour + time.Duration(d)) }

func (s *sim) nextPurchase(at time.Time) {
	if s.gone || s.lambda <= 0 {
		return
	}
	gap := time.Duration(s.rng.ExpFloat64() / s.lambda * float64(day))
	if gap < 2*time.Hour {
		gap = 2 * time.Hour
	}
	s.at(at.Add(gap), s.purchase)
}

func (s *sim) purchase(at time.Time) error {
	if s.gone {
		return nil
	}
	s.purchases++
	amount := int64(math.Exp(s.rng.NormFloat64()*0.8+math.Log(18000))) + 100
	if s.c.Tier() == customer.TierVIP {
		amount *= 3
	}
	n := 1 + s.rng.IntN(3)
	its := make([]string, n)
	for k := range its {
		its[k] = s.pick(items)
	}
	if err := s.c.RecordPurchase(customer.RecordPurchase{
		OrderID: fmt.Sprintf("o-%s-%d", s.id, s.purchases), Amount: customer.Money{AmountMinor: amount, Currency: "CNY"},
		Items: its, OccurredAt: at,
	}, s.end); err != nil {
		return err
	}
	s.sum.Purchases++
	if s.c.MarkedLost() {
		if err := s.c.WinBack(customer.WinBack{Reason: "bought again", OccurredAt: at.Add(time.Minute)}, s.end); err != nil {
			return err
		}
	}
	// A bad experience with this order?
	if s.chance(0.10) {
		s.sum.BadExperiences++
		switch r := s.rng.Float64(); {
		case r < 0.04: // only 4% of the dissatisfied complain
			s.at(s.after(at, 2*time.Hour, 3*day), func(t time.Time) error { return s.complain(t, "") })
		case r < 0.30: // more grumble informally
			s.at(s.after(at, 2*time.Hour, 3*day), s.grumble)
		default: // the rest say nothing, and are more likely to leave
			s.dropout = math.Min(1, s.dropout+0.25/s.cfg.Activity)
		}
	}
	// Loyal customers refer others.
	if s.purchases >= 5 && s.chance(0.04) {
		s.at(s.after(at, day, 20*day), s.refer)
	}
	if s.chance(s.dropout) {
		s.gone = true
		return nil
	}
	s.nextPurchase(at)
	return nil
}

func (s *sim) refer(at time.Time) error {
	if s.gone {
		return nil
	}
	j := s.rng.IntN(s.cfg.Customers + 1)
	if j == s.idx {
		j = s.idx + 1
	}
	if s.referred[j] {
		return nil // a customer is referred once (dense or small histories draw repeats)
	}
	if s.referred == nil {
		s.referred = map[int]bool{}
	}
	s.referred[j] = true
	s.sum.Referrals++
	return s.c.RecordReferral(customer.RecordReferral{ReferredCustomerID: CustomerID(j), OccurredAt: at}, s.end)
}

func (s *sim) routineContact(at time.Time) error {
	if s.gone {
		return nil
	}
	dir := customer.Outbound
	agent := s.am
	if s.chance(0.5) {
		dir = customer.Inbound
		agent = s.pick(agents)
	}
	summaries := []string{"asked about delivery time", "product question", "updated address", "courtesy call", "asked about membership points"}
	if err := s.c.LogContact(customer.LogContact{
		Channel: pickOf(s.rng, []customer.Channel{customer.ChannelPhone, customer.ChannelWeChat, customer.ChannelChat}), Direction: dir,
		Agent: agent, Summary: s.pick(summaries), OccurredAt: at,
	}, s.end); err != nil {
		return err
	}
	s.at(s.after(at, s.dense(20*day), s.dense(150*day)), s.routineContact)
	return nil
}

func (s *sim) grumble(at time.Time) error {
	if s.gone {
		return nil
	}
	s.sum.Grumbles++
	summaries := []string{"delivery was two days late", "packaging damaged", "the hotline kept me waiting", "price went up again", "wrong item in the box"}
	if err := s.c.VoiceGrumble(customer.VoiceGrumble{
		Channel: pickOf(s.rng, []customer.Channel{customer.ChannelPhone, customer.ChannelWeChat, customer.ChannelChat, customer.ChannelVisit}),
		Summary: s.pick(summaries), Agent: s.pick(agents), OccurredAt: at,
	}, s.end); err != nil {
		return err
	}
	switch r := s.rng.Float64(); {
	case r < 0.6: // answered by a call back
		s.at(s.after(at, time.Hour, 3*day), func(t time.Time) error {
			return s.c.LogContact(customer.LogContact{Channel: customer.ChannelPhone, Direction: customer.Outbound, Agent: s.am,
				Summary: "called back about the grumble", OccurredAt: t}, s.end)
		})
	case r < 0.75: // unanswered, it becomes a formal complaint
		s.at(s.after(at, 2*day, 10*day), func(t time.Time) error { return s.complain(t, "grumble not answered") })
	default: // unanswered, the customer quietly gives up
		s.dropout = math.Min(1, s.dropout+0.3/s.cfg.Activity)
		if s.chance(0.5) {
			s.goSilent()
		}
	}
	return nil
}

// goSilent: the customer stops buying and contacting for good.
func (s *sim) goSilent() {
	if !s.gone {
		s.gone = true
		s.sum.WentSilent++
	}
}

func (s *sim) complain(at time.Time, why string) error {
	if s.gone {
		return nil
	}
	s.complaints++
	s.sum.Complaints++
	id := fmt.Sprintf("k-%s-%d", s.id, s.complaints)
	sev := customer.SeverityGeneral
	if s.chance(0.1) {
		sev = customer.SeverityMajor
	}
	owner := s.pick(agents)
	if s.chance(0.4) {
		owner = s.am
	}
	desc := "complaint about " + s.pick(category)
	if why != "" {
		desc += " (" + why + ")"
	}
	if err := s.c.FileComplaint(customer.FileComplaint{
		ComplaintID: id, Channel: pickOf(s.rng, []customer.Channel{customer.ChannelPhone, customer.ChannelVisit, customer.ChannelLetter, customer.ChannelEmail}),
		Category: s.pick(category), Severity: sev, Description: desc, Owner: owner, OccurredAt: at,
	}, s.cfg.ReplyClock, s.end); err != nil {
		return err
	}
	if s.chance(0.01) {
		s.at(s.after(at, 0, time.Hour), func(t time.Time) error {
			s.sum.ConductFlagged++
			return s.c.FlagConduct(customer.FlagConduct{Severity: customer.SeverityGeneral, Note: "shouted at the agent", By: owner, OccurredAt: t}, s.end)
		})
	}
	// Acknowledge (most within the half-day SLA, some late, a few never).
	if !s.chance(0.93) {
		s.at(s.after(at, 30*day, 40*day), func(time.Time) error { s.sum.LeftOpen++; s.goSilent(); return nil })
		return nil
	}
	ackAfter := s.after(at, 20*time.Minute, 4*time.Hour)
	if s.chance(0.12) {
		ackAfter = s.after(at, 6*time.Hour, 3*day)
	}
	s.at(ackAfter, func(t time.Time) error {
		if err := s.c.AcknowledgeComplaint(customer.AcknowledgeComplaint{ComplaintID: id, By: owner, OccurredAt: t}, s.end); err != nil {
			return err
		}
		return s.handle(t, id, owner, sev)
	})
	// The customer calls again while it is open (the "second call").
	for k := 0; k < int(s.rng.ExpFloat64()*0.5); k++ {
		s.at(s.after(at, 6*time.Hour, 5*day), func(t time.Time) error {
			if cp, ok := s.c.Complaint(id); !ok || !cp.Open() {
				return nil
			}
			return s.c.LogContact(customer.LogContact{Channel: customer.ChannelPhone, Direction: customer.Inbound, Agent: s.pick(agents),
				Summary: "called again about the complaint", ComplaintID: id, OccurredAt: t}, s.end)
		})
	}
	return nil
}

func (s *sim) handle(at time.Time, id, owner string, sev customer.Severity) error {
	if s.chance(0.08) { // invalid: outside the contract
		s.at(s.after(at, time.Hour, 2*day), func(t time.Time) error {
			s.sum.Declined++
			if s.chance(0.81) {
				s.goSilent()
			}
			return s.c.DeclineComplaint(customer.DeclineComplaint{ComplaintID: id, By: owner, Reason: "not covered by the warranty", OccurredAt: t}, s.end)
		})
		return nil
	}
	t := at
	step := func(st customer.RecoveryStep, p float64, comp *customer.Money) {
		if !s.chance(p) {
			return
		}
		t = s.after(t, 10*time.Minute, 12*time.Hour)
		tt := t
		s.at(tt, func(x time.Time) error {
			return s.c.TakeRecoveryStep(customer.TakeRecoveryStep{ComplaintID: id, Step: st, By: owner, Compensation: comp, OccurredAt: x}, s.end)
		})
	}
	step(customer.StepApology, 0.85, nil)
	step(customer.StepEmpathy, 0.6, nil)
	step(customer.StepUrgentRestoration, 0.4, nil)
	atoned := s.chance(0.35)
	if atoned {
		step(customer.StepSymbolicAtonement, 1, &customer.Money{AmountMinor: int64(2000 + s.rng.IntN(48000)), Currency: "CNY"})
	}
	if sev == customer.SeverityMajor {
		t = s.after(t, time.Hour, 6*time.Hour)
		tt := t
		s.at(tt, func(x time.Time) error {
			return s.c.EscalateComplaint(customer.EscalateComplaint{ComplaintID: id, By: owner, To: "service.manager", Reason: "major incident",
				PromisedReplyBy: x.Add(time.Duration(2+s.rng.IntN(4)) * day), OccurredAt: x}, s.end)
		})
		t = s.after(t, day, 3*day)
		tt2 := t
		s.at(tt2, func(x time.Time) error {
			return s.c.FileIncidentReport(customer.FileIncidentReport{ComplaintID: id, By: "service.manager", Impact: "customer without service",
				Handling: "replaced the unit", Cause: "supplier defect", CorrectiveActions: "supplier audit", OccurredAt: x}, s.end)
		})
	}
	if s.chance(0.07) { // never resolved
		s.at(s.after(t, 30*day, 40*day), func(time.Time) error {
			s.sum.LeftOpen++
			if s.chance(0.81) {
				s.goSilent()
			}
			return nil
		})
		return nil
	}
	t = s.after(t, 2*time.Hour, 4*day)
	options := []string{"full refund", "replacement", "repair at home", "store credit"}
	n := 1 + s.rng.IntN(3)
	tProp := t
	s.at(tProp, func(x time.Time) error {
		return s.c.ProposeResolution(customer.ProposeResolution{ComplaintID: id, By: owner, Options: options[:n], OccurredAt: x}, s.end)
	})
	t = s.after(t, time.Hour, 2*day)
	tAcc := t
	s.at(tAcc, func(x time.Time) error {
		return s.c.AcceptResolution(customer.AcceptResolution{ComplaintID: id, OptionIndex: s.rng.IntN(n), OccurredAt: x}, s.end)
	})
	pSatisfied := 0.65
	if atoned {
		pSatisfied = 0.8
	}
	satisfied := s.chance(pSatisfied)
	t = s.after(t, time.Hour, 3*day)
	tRes := t
	s.at(tRes, func(x time.Time) error { return s.resolve(x, id, owner, satisfied) })
	return nil
}

func (s *sim) resolve(at time.Time, id, owner string, satisfied bool) error {
	outcome := customer.Unsatisfied
	if satisfied {
		outcome = customer.Satisfied
	}
	if err := s.c.ResolveComplaint(customer.ResolveComplaint{ComplaintID: id, By: owner, Outcome: outcome, OccurredAt: at}, s.end); err != nil {
		return err
	}
	if satisfied {
		s.sum.ResolvedSatisfied++
		// The recovery paradox: more loyal than before.
		s.lambda *= 1.3
		s.dropout *= 0.5
		if s.chance(0.3) {
			s.at(s.after(at, 7*day, 60*day), s.refer)
		}
	} else {
		s.sum.ResolvedUnsatisfied++
	}
	if s.chance(0.6) {
		score := 4 + s.rng.IntN(2)
		if !satisfied {
			score = 1 + s.rng.IntN(2)
		}
		s.at(s.after(at, time.Hour, 2*day), func(x time.Time) error {
			s.sum.SatisfactionSurveyed++
			return s.c.RecordSatisfaction(customer.RecordSatisfaction{Score: score, ComplaintID: id, Comment: "survey after resolution", OccurredAt: x}, s.end)
		})
	}
	// Recovery follow-ups (回访), as the follow-up scheduler would plan them.
	plan := []time.Duration{3 * day, 30 * day}
	if !satisfied {
		plan = []time.Duration{7 * day}
	}
	for k, d := range plan {
		fid := customer.RecoveryFollowUpID(id, k+1)
		due := at.Add(d)
		s.followUps++
		s.sum.FollowUps++
		s.at(at.Add(time.Minute*time.Duration(k+1)), func(x time.Time) error {
			return s.c.ScheduleFollowUp(customer.ScheduleFollowUp{FollowUpID: fid, ComplaintID: id, Reason: customer.ReasonRecovery, DueAt: due, OccurredAt: x}, s.end)
		})
		if s.chance(0.8) {
			s.at(s.after(due, -2*time.Hour, 2*day), func(x time.Time) error {
				s.sum.FollowUpsCompleted++
				out := customer.FollowUpSatisfied
				if !satisfied {
					out = s.pick2(customer.FollowUpUnsatisfied, customer.FollowUpNoAnswer)
				}
				return s.c.CompleteFollowUp(customer.CompleteFollowUp{FollowUpID: fid, By: owner, Outcome: out, OccurredAt: x}, s.end)
			})
		} else if due.Before(s.end.Add(-45 * day)) {
			// A follow-up nobody made is eventually taken off the queue;
			// only recent ones are still waiting (the overdue part of an
			// account manager's queue), as in a team that works its queue.
			s.at(s.after(due, 7*day, 21*day), func(x time.Time) error {
				return s.c.CancelFollowUp(customer.CancelFollowUp{FollowUpID: fid, By: owner, Reason: "could not reach the customer", OccurredAt: x}, s.end)
			})
		}
	}
	if !satisfied && s.chance(0.81) {
		// Most of the dissatisfied go silent; some are marked lost later.
		s.at(at.Add(10*day), func(time.Time) error { s.goSilent(); return nil })
		if s.chance(0.25) {
			s.at(s.after(at, 100*day, 200*day), func(x time.Time) error {
				if s.c.MarkedLost() {
					return nil
				}
				s.sum.MarkedLost++
				return s.c.MarkLost(customer.MarkLost{Reason: "no contact since an unsatisfying resolution", By: s.am, OccurredAt: x}, s.end)
			})
		}
	}
	return nil
}

func (s *sim) pick2(a, b customer.FollowUpOutcome) customer.FollowUpOutcome {
	return pickOf(s.rng, []customer.FollowUpOutcome{a, b})
}
