package lifecycle_test

import (
	"math"
	"time"

	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/projections/lifecycle"
)

// t0 is day 0 of every scenario: a Friday morning.
var t0 = time.Date(2024, 3, 1, 9, 0, 0, 0, time.UTC)

// day is t0 + n days.
func day(n float64) time.Time { return t0.Add(time.Duration(n * float64(lifecycle.Day))) }

// bgnbd is a BG/NBD churn view in days with the CDNOW estimates (weeks
// converted: α = 4.414·7), using the closed form for FallsBelow.
type bgnbd struct {
	r, alpha, a, b float64
	fitted         int
}

func cdnow(fitted int) bgnbd {
	return bgnbd{r: 0.243, alpha: 4.414 * 7, a: 0.793, b: 2.426, fitted: fitted}
}

func (m bgnbd) FittedOn() int { return m.fitted }

func (m bgnbd) PAlive(h lifecycle.Purchases, t time.Time) float64 {
	x := float64(h.Days - 1)
	if h.Days <= 1 {
		return 1
	}
	tx := h.Last.Sub(h.First).Hours() / 24
	T := t.Sub(h.First).Hours() / 24
	return 1 / (1 + m.a/(m.b+x-1)*math.Pow((m.alpha+T)/(m.alpha+tx), m.r+x))
}

func (m bgnbd) FallsBelow(h lifecycle.Purchases, p float64) (time.Time, bool) {
	if h.Days <= 1 {
		return time.Time{}, false
	}
	x := float64(h.Days - 1)
	tx := h.Last.Sub(h.First).Hours() / 24
	q := (1/p - 1) / (m.a / (m.b + x - 1))
	if q < 1 {
		return h.Last, true
	}
	T := (m.alpha+tx)*math.Pow(q, 1/(m.r+x)) - m.alpha
	return h.First.Add(time.Duration(math.Ceil(T * float64(lifecycle.Day)))), true
}

// Event constructors.
func registered() customer.Event { return &customer.CustomerRegistered{CustomerID: "c1", Name: "x"} }
func purchase(id string) customer.Event {
	return &customer.PurchaseMade{OrderID: id, Amount: customer.Money{AmountMinor: 10000, Currency: "CNY"}}
}
func inbound() customer.Event {
	return &customer.ContactLogged{Channel: customer.ChannelPhone, Direction: customer.Inbound}
}
func outbound() customer.Event {
	return &customer.ContactLogged{Channel: customer.ChannelPhone, Direction: customer.Outbound}
}
func grumble() customer.Event { return &customer.GrumbleVoiced{Channel: customer.ChannelWeChat} }
func complaint(id string) customer.Event {
	return &customer.ComplaintFiled{ComplaintID: id, Channel: customer.ChannelPhone, Severity: customer.SeverityGeneral}
}
func resolved(id string, o customer.Outcome) customer.Event {
	return &customer.ComplaintResolved{ComplaintID: id, Outcome: o}
}
func declined(id string) customer.Event { return &customer.ComplaintDeclined{ComplaintID: id} }
func reopened(id string) customer.Event { return &customer.ComplaintReopened{ComplaintID: id} }
func csat(score int) customer.Event     { return &customer.SatisfactionRecorded{Score: score} }
func markedLost() customer.Event {
	return &customer.CustomerMarkedLost{Reason: "moved abroad", By: "am-1"}
}
func wonBack() customer.Event  { return &customer.CustomerWonBack{Reason: "returned after call"} }
func referral() customer.Event { return &customer.ReferralMade{ReferredCustomerID: "c2"} }
func erased() customer.Event   { return &customer.CustomerErased{By: "dpo"} }
func greeting() customer.Event { return &customer.GreetingSent{CampaignID: "g1", Occasion: "春节"} }

// f builds a fact at day n.
func f(n float64, e customer.Event) lifecycle.Fact { return lifecycle.Fact{At: day(n), Event: e} }
