package loyalty

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"strings"
	"time"

	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/projections/lifecycle"
)

// Sentinel errors of the package.
var (
	// ErrInvalidConfig: a Config field is missing or out of range.
	ErrInvalidConfig = errors.New("invalid loyalty config")
)

// ConfigError names the wrong Config field. It matches ErrInvalidConfig.
type ConfigError struct {
	Field  string
	Reason string
}

func (e *ConfigError) Error() string { return fmt.Sprintf("loyalty config: %s: %s", e.Field, e.Reason) }

// Unwrap makes a ConfigError match ErrInvalidConfig.
func (e *ConfigError) Unwrap() error { return ErrInvalidConfig }

// Level is a loyalty level. Like lifecycle.Stage it is a small integer
// for the read model; the values are the constants below.
type Level uint8

// The levels, lowest first.
const (
	LevelNone Level = iota
	LevelRepeat
	LevelLoyal
	LevelAdvocate
)

var levelNames = [...]string{"NONE", "REPEAT", "LOYAL", "ADVOCATE"}

// String returns the level's API name ("LOYAL").
func (l Level) String() string {
	if int(l) < len(levelNames) {
		return levelNames[l]
	}
	return fmt.Sprintf("Level(%d)", uint8(l))
}

// Levels lists the levels, lowest first.
func Levels() []Level {
	out := make([]Level, len(levelNames))
	for i := range out {
		out[i] = Level(i)
	}
	return out
}

// MarshalText writes the level's name.
func (l Level) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

// Config holds the formula's tunable inputs. Start from DefaultConfig.
type Config struct {
	// Reference maps an ISO 4217 currency to the decayed spend, in minor
	// units, that earns the first 5 monetary points (a typical year's
	// spend). Default: CNY 100000 (¥1,000).
	Reference map[string]int64 `json:"reference"`
	// DefaultReference is the reference, in minor units, for currencies
	// not in Reference. Default 100000.
	DefaultReference int64 `json:"defaultReference"`
	// LoyalPurchaseDays is the purchase days in the last 365 that LOYAL
	// needs (as lifecycle LOYAL). Default 5.
	LoyalPurchaseDays int `json:"loyalPurchaseDays"`
	// LoyalMinScore is the score LOYAL needs. Default 50.
	LoyalMinScore int `json:"loyalMinScore"`
	// SatisfiedScore settles an unsettled complaint, as in the lifecycle
	// policy. Default 4.
	SatisfiedScore int `json:"satisfiedScore"`
}

// DefaultConfig returns the defaults documented in FORMULA.md.
func DefaultConfig() Config {
	return Config{
		Reference:         map[string]int64{"CNY": 100000},
		DefaultReference:  100000,
		LoyalPurchaseDays: 5,
		LoyalMinScore:     50,
		SatisfiedScore:    4,
	}
}

// Validate reports every wrong field (errors.Join of *ConfigError).
func (c Config) Validate() error {
	var errs []error
	bad := func(field, reason string) { errs = append(errs, &ConfigError{Field: field, Reason: reason}) }
	for cur, v := range c.Reference {
		if v <= 0 {
			bad("reference."+cur, fmt.Sprintf("must be positive, got %d", v))
		}
	}
	if c.DefaultReference <= 0 {
		bad("defaultReference", fmt.Sprintf("must be positive, got %d", c.DefaultReference))
	}
	if c.LoyalPurchaseDays <= 0 || c.LoyalPurchaseDays > windowDays {
		bad("loyalPurchaseDays", fmt.Sprintf("must be in 1..%d, got %d", windowDays, c.LoyalPurchaseDays))
	}
	if c.LoyalMinScore < 0 || c.LoyalMinScore > 100 {
		bad("loyalMinScore", fmt.Sprintf("must be in 0..100, got %d", c.LoyalMinScore))
	}
	if c.SatisfiedScore < 1 || c.SatisfiedScore > 5 {
		bad("satisfiedScore", fmt.Sprintf("must be a score 1–5, got %d", c.SatisfiedScore))
	}
	return errors.Join(errs...)
}

// The formula's constants (FORMULA.md).
const (
	windowDays     = 365
	recencyMax     = 20.0
	perPurchaseDay = 5.0
	frequencyDays  = 5
	monetaryPer    = 5.0 // points per doubling of 1 + spend/reference
	monetaryMax    = 15.0
	perYear        = 2.0
	tenureMax      = 10.0
	perReferral    = 5.0
	referralMax    = 10.0
	perCSATPoint   = 5.0 // per point of the average above (below) 3
	perRecovery    = 5.0
	recoveryMax    = 10.0
	perGrievance   = -10.0
	grievanceMin   = -30.0
	halfLifeDays   = 365.0
)

const dayNanos = int64(24 * time.Hour)

func dayOf(ns int64) int32 {
	d := ns / dayNanos
	if ns%dayNanos < 0 {
		d--
	}
	return int32(d)
}

// Breakdown is a score's components, in points, before rounding and
// clamping (FORMULA.md).
type Breakdown struct {
	Recency, Frequency, Monetary, Tenure, Referrals, CSAT, Recovery, Grievances float64
}

// Sum is the unclamped total.
func (b Breakdown) Sum() float64 {
	return b.Recency + b.Frequency + b.Monetary + b.Tenure + b.Referrals + b.CSAT + b.Recovery + b.Grievances
}

// Score is a customer's loyalty at an instant.
type Score struct {
	// Points is the score, 0–100: Breakdown.Sum rounded half away from
	// zero and clamped.
	Points int
	Level  Level
	// PurchaseDays365 is the frequency input: distinct purchase days in the
	// last 365 days.
	PurchaseDays365 int
	Breakdown       Breakdown
}

// Rules are a validated Config.
type Rules struct{ cfg Config }

// NewRules validates cfg.
func NewRules(cfg Config) (*Rules, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	ref := make(map[string]int64, len(cfg.Reference))
	for k, v := range cfg.Reference {
		ref[k] = v
	}
	cfg.Reference = ref
	return &Rules{cfg: cfg}, nil
}

// State is one customer's loyalty inputs folded from their facts, in about
// 150 bytes: Score = fold Apply, then At(t). The zero State is a customer
// with no facts.
type State struct {
	registered   int64
	lastPurchase int64
	spendAt      int64
	spend        float64 // Σ amount/reference, decayed to spendAt
	window       [6]uint64
	lastDay      int32
	days         uint32 // lifetime distinct purchase days
	referrals    uint32
	csatSum      uint32
	csatN        uint32
	recovered    uint32
	g            lifecycle.Grievances
	isRegistered bool
	purchased    bool
}

// Apply folds one fact into the state and reports whether the fact is
// one the score depends on. The order of facts matters only as it does
// for complaints (filed before resolved).
func (s *State) Apply(r *Rules, f lifecycle.Fact) bool {
	at := f.At.UnixNano()
	relevant := true
	switch e := f.Event.(type) {
	case *customer.CustomerRegistered:
		if !s.isRegistered {
			s.isRegistered, s.registered = true, at
		}
	case *customer.PurchaseMade:
		s.addPurchase(r, at, e.Amount)
	case *customer.ReferralMade:
		s.referrals++
	case *customer.SatisfactionRecorded:
		if e.Score >= 1 && e.Score <= 5 {
			s.csatSum += uint32(e.Score)
			s.csatN++
		}
	case *customer.ComplaintResolved:
		if e.Outcome == customer.Satisfied {
			s.recovered++
		}
	default:
		relevant = false
	}
	return s.g.Observe(f.Event, r.cfg.SatisfiedScore) || relevant
}

func (s *State) addPurchase(r *Rules, at int64, m customer.Money) {
	ref, ok := r.cfg.Reference[strings.ToUpper(m.Currency)]
	if !ok {
		ref = r.cfg.DefaultReference
	}
	v := float64(max(m.AmountMinor, 0)) / float64(ref)
	if s.purchased {
		if at >= s.spendAt {
			s.spend = s.spend*decay(at-s.spendAt) + v
			s.spendAt = at
		} else { // a backfilled purchase: decay it to spendAt
			s.spend += v * decay(s.spendAt-at)
		}
	} else {
		s.spend, s.spendAt = v, at
	}
	d := dayOf(at)
	switch {
	case !s.purchased:
		s.lastDay, s.days = d, 1
		s.window = [6]uint64{1}
	case d > s.lastDay:
		shiftLeft(&s.window, int(d-s.lastDay))
		s.window[0] |= 1
		s.lastDay = d
		s.days++
	default:
		if k := int(s.lastDay - d); k < 64*len(s.window) && s.window[k/64]&(1<<(k%64)) == 0 {
			s.window[k/64] |= 1 << (k % 64)
			s.days++
		} else if k >= 64*len(s.window) {
			s.days++ // older than the window: counts for the lifetime only
		}
	}
	s.purchased = true
	s.lastPurchase = max(s.lastPurchase, at)
}

// shiftLeft moves every bit n places towards older days (bit i = day
// lastDay−i).
func shiftLeft(w *[6]uint64, n int) {
	if n >= 64*len(w) {
		*w = [6]uint64{}
		return
	}
	words, b := n/64, uint(n%64)
	for i := len(w) - 1; i >= 0; i-- {
		var v uint64
		if j := i - words; j >= 0 {
			v = w[j] << b
			if b > 0 && j-1 >= 0 {
				v |= w[j-1] >> (64 - b)
			}
		}
		w[i] = v
	}
}

func decay(ns int64) float64 {
	return math.Exp2(-float64(ns) / float64(dayNanos) / halfLifeDays)
}

// purchaseDays365 counts distinct purchase days d with day(t) − d < 365.
func (s *State) purchaseDays365(t int64) int {
	if !s.purchased {
		return 0
	}
	// bit i (day lastDay−i) counts iff day(t) − (lastDay − i) < 365,
	// i.e. i < 365 − (day(t) − lastDay).
	limit := windowDays - int(dayOf(t)-s.lastDay)
	limit = min(limit, windowDays)
	if limit <= 0 {
		return 0
	}
	n := 0
	for i, w := range s.window {
		lo := i * 64
		if lo >= limit {
			break
		}
		if hi := lo + 64; hi > limit {
			w &= (1 << uint(limit-lo)) - 1
		}
		n += bits.OnesCount64(w)
	}
	return n
}

// At is the customer's score and level at t (FORMULA.md).
func (s *State) At(r *Rules, t time.Time) Score {
	ns := t.UnixNano()
	var b Breakdown
	f := s.purchaseDays365(ns)
	if s.purchased {
		d := math.Max(0, float64(ns-s.lastPurchase)/float64(dayNanos))
		b.Recency = recencyMax * math.Max(0, 1-d/windowDays)
		b.Frequency = perPurchaseDay * float64(min(f, frequencyDays))
		spend := s.spend
		if ns > s.spendAt {
			spend *= decay(ns - s.spendAt)
		}
		b.Monetary = math.Min(monetaryMax, monetaryPer*math.Log2(1+spend))
	}
	if s.isRegistered && ns > s.registered {
		b.Tenure = math.Min(tenureMax, perYear*float64(ns-s.registered)/float64(dayNanos)/windowDays)
	}
	b.Referrals = math.Min(referralMax, perReferral*float64(s.referrals))
	if s.csatN > 0 {
		b.CSAT = perCSATPoint * (float64(s.csatSum)/float64(s.csatN) - 3)
	}
	b.Recovery = math.Min(recoveryMax, perRecovery*float64(s.recovered))
	b.Grievances = math.Max(grievanceMin, perGrievance*float64(s.g.Count()))

	points := int(math.Max(0, math.Min(100, math.Round(b.Sum()))))
	lvl := LevelNone
	if s.days >= 2 {
		lvl = LevelRepeat
	}
	if f >= r.cfg.LoyalPurchaseDays && points >= r.cfg.LoyalMinScore && !s.g.Any() {
		lvl = LevelLoyal
		if s.referrals > 0 {
			lvl = LevelAdvocate
		}
	}
	return Score{Points: points, Level: lvl, PurchaseDays365: f, Breakdown: b}
}

// ScoreAt folds the history (facts dated after t are ignored) and scores
// it at t: the as-of path, equal to the live read model's At by
// construction.
func (r *Rules) ScoreAt(history []lifecycle.Fact, t time.Time) Score {
	var s State
	for _, f := range history {
		if !f.At.After(t) {
			s.Apply(r, f)
		}
	}
	return s.At(r, t)
}
