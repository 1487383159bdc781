// Package customers is the book: the read model of every customer's profile
// and counters — who they are (personal data opened by the codec), their
// tier, account manager and consent, when they last reached out or bought,
// how much they spent, what greetings they got — indexed by ID and by
// account manager. Stage and loyalty live in their own read models
// (projections/lifecycle, projections/loyalty); the API joins them by ID.
package customers

import (
	"cmp"
	"crypto/sha256"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
	"unique"

	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/eventstore"
)

// Greeting is one campaign outcome on a customer.
type Greeting struct {
	CampaignID string
	Occasion   string
	Channel    customer.Channel
	Status     string // SENT, FAILED, SKIPPED
	Reason     string
	At         time.Time
}

// Customer is the book's entry of one customer. Values returned are copies.
type Customer struct {
	ID               string
	Name             string
	Phone            string
	Email            string
	WeChat           string
	Tier             customer.Tier
	Segment          string
	AccountManager   string
	Timezone         string
	Locale           string
	Birthday         string
	MarketingConsent bool
	Erased           bool
	ConductFlagged   bool
	MarkedLost       bool
	RegisteredAt     time.Time
	LastInboundAt    *time.Time
	LastPurchaseAt   *time.Time
	PurchaseCount    int
	LifetimeValue    []customer.Money // per currency, sorted by currency
	Referrals        int
	// CSATSum and CSATCount are the satisfaction survey scores recorded.
	CSATSum, CSATCount int
	Greetings          []Greeting
	// MergedInto is the survivor this customer was merged into ("" when
	// not merged, or unmerged since); MergedFrom the customers merged into
	// this one now (and those merged into them before), whose counters
	// this entry includes — an unmerge (CustomersUnmerged) recounts the
	// entry without the customers it restores.
	MergedInto string
	MergedFrom []string
	// Version is the stream revision of the customer's last event.
	Version uint64
}

func (c *Customer) clone() Customer {
	out := *c
	out.LifetimeValue = slices.Clone(c.LifetimeValue)
	out.Greetings = slices.Clone(c.Greetings)
	out.MergedFrom = slices.Clone(c.MergedFrom)
	return out
}

// Model is the book, safe for one writer and many readers.
type Model struct {
	mu       sync.RWMutex
	byID     map[string]*Customer
	ids      []string // sorted
	sorted   bool
	byAM     map[string]map[string]struct{}
	position eventstore.Position
	// own holds, for every survivor of a merge, the counters of its own
	// stream alone, and children the customers merged directly into it
	// now: an unmerge recounts the survivor from them.
	own      map[string]*Customer
	children map[string][]string
}

// New returns an empty book.
func New() *Model {
	return &Model{byID: map[string]*Customer{}, byAM: map[string]map[string]struct{}{}, sorted: true,
		own: map[string]*Customer{}, children: map[string][]string{}}
}

// Name is the projection's permanent name.
func (m *Model) Name() string { return "customers" }

// Wants reports the event types the book folds: every customer event.
func (m *Model) Wants(t string) bool { return customer.IsEventType(t) }

// Position is the global position of the last applied event.
func (m *Model) Position() eventstore.Position {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.position
}

// Apply folds one stored event into the book; re-delivered positions are
// ignored.
func (m *Model) Apply(ev eventstore.Event, payload customer.Event) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if ev.Position != 0 && ev.Position <= m.position {
		return
	}
	m.position = ev.Position
	id, ok := strings.CutPrefix(ev.StreamID, customer.StreamCategory+"-")
	if !ok {
		return
	}
	at := ev.OccurredAt
	if e, ok := payload.(*customer.CustomerRegistered); ok {
		if _, exists := m.byID[id]; exists {
			return
		}
		c := &Customer{ID: id, Name: own(e.Name), Phone: own(e.Phone), Email: own(e.Email), WeChat: own(e.WeChat), Tier: e.Tier,
			Segment: intern(e.Segment), AccountManager: intern(e.AccountManager), Timezone: intern(e.Timezone), Locale: intern(e.Locale),
			Birthday: intern(e.Birthday), MarketingConsent: e.MarketingConsent, RegisteredAt: at, Version: ev.Revision}
		m.byID[id] = c
		if n := len(m.ids); n > 0 && m.ids[n-1] > id {
			m.sorted = false
		}
		m.ids = append(m.ids, id)
		m.indexAM(c, "")
		return
	}
	c := m.byID[id]
	if c == nil {
		return
	}
	c.Version = ev.Revision
	switch e := payload.(type) {
	case *customer.ProfileUpdated:
		m.updateProfile(c, e)
	case *customer.CustomerMerged:
		c.MergedInto = own(e.Into)
		if set := m.byAM[c.AccountManager]; set != nil {
			delete(set, c.ID) // the survivor is who the book lists now
		}
	case *customer.CustomersMergedIn:
		if m.own[id] == nil {
			o := c.clone()
			m.own[id] = &o
		}
		for _, from := range e.From {
			if f := m.byID[from]; f != nil {
				absorb(c, f)
				m.children[id] = append(m.children[id], from)
			}
		}
		p := e.Profile()
		m.updateProfile(c, &p)
	case *customer.CustomerUnmerged:
		c.MergedInto = ""
		m.indexAM(c, "") // listed on its own again
	case *customer.CustomersUnmerged:
		m.children[id] = slices.DeleteFunc(m.children[id], func(f string) bool { return slices.Contains(e.IDs, f) })
		m.recount(c)
	case *customer.MarketingConsentChanged:
		c.MarketingConsent = e.Consent
	case *customer.CustomerMarkedLost:
		c.MarkedLost = true
	case *customer.CustomerWonBack:
		c.MarkedLost = false
	case *customer.CustomerErased:
		c.Erased = true
		c.Name, c.Phone, c.Email, c.WeChat, c.Birthday = "", "", "", "", ""
	default:
		count(c, payload, at)
		if o := m.own[id]; o != nil {
			count(o, payload, at)
		}
	}
}

// count folds an event into the counters of c (those absorb adds up).
func count(c *Customer, payload customer.Event, at time.Time) {
	inbound := func() {
		if c.LastInboundAt == nil || at.After(*c.LastInboundAt) {
			t := at
			c.LastInboundAt = &t
		}
	}
	switch e := payload.(type) {
	case *customer.ContactLogged:
		if e.Direction == customer.Inbound {
			inbound()
		}
	case *customer.PurchaseMade:
		inbound()
		c.PurchaseCount++
		if c.LastPurchaseAt == nil || at.After(*c.LastPurchaseAt) {
			t := at
			c.LastPurchaseAt = &t
		}
		c.LifetimeValue = addMoney(c.LifetimeValue, e.Amount)
	case *customer.ReferralMade:
		inbound()
		c.Referrals++
	case *customer.SatisfactionRecorded:
		inbound()
		c.CSATSum += e.Score
		c.CSATCount++
	case *customer.GrumbleVoiced, *customer.ComplaintFiled:
		inbound()
	case *customer.GreetingSent:
		c.Greetings = append(c.Greetings, Greeting{CampaignID: intern(e.CampaignID), Occasion: intern(e.Occasion), Channel: e.Channel, Status: "SENT", At: at})
	case *customer.GreetingFailed:
		c.Greetings = append(c.Greetings, Greeting{CampaignID: intern(e.CampaignID), Occasion: intern(e.Occasion), Channel: e.Channel, Status: "FAILED", Reason: intern(e.Reason), At: at})
	case *customer.GreetingSkipped:
		c.Greetings = append(c.Greetings, Greeting{CampaignID: intern(e.CampaignID), Occasion: intern(e.Occasion), Channel: e.Channel, Status: "SKIPPED", Reason: intern(e.Reason), At: at})
	case *customer.ConductFlagged:
		c.ConductFlagged = true
	}
}

// recount sets a survivor's counters to those of its own stream plus
// those of the customers merged into it now (after an unmerge).
func (m *Model) recount(c *Customer) {
	o := m.own[c.ID]
	if o == nil {
		return
	}
	c.LastInboundAt, c.LastPurchaseAt = o.LastInboundAt, o.LastPurchaseAt
	c.PurchaseCount, c.Referrals, c.CSATSum, c.CSATCount = o.PurchaseCount, o.Referrals, o.CSATSum, o.CSATCount
	c.LifetimeValue = slices.Clone(o.LifetimeValue)
	c.Greetings = slices.Clone(o.Greetings)
	c.ConductFlagged = o.ConductFlagged
	c.MergedFrom = nil
	for _, from := range m.children[c.ID] {
		if f := m.byID[from]; f != nil {
			absorb(c, f)
		}
	}
}

// updateProfile applies the profile fields e carries.
func (m *Model) updateProfile(c *Customer, e *customer.ProfileUpdated) {
	oldAM := c.AccountManager
	setStr(&c.Name, e.Name, own)
	setStr(&c.Phone, e.Phone, own)
	setStr(&c.Email, e.Email, own)
	setStr(&c.WeChat, e.WeChat, own)
	setStr(&c.Segment, e.Segment, intern)
	setStr(&c.AccountManager, e.AccountManager, intern)
	setStr(&c.Timezone, e.Timezone, intern)
	setStr(&c.Locale, e.Locale, intern)
	setStr(&c.Birthday, e.Birthday, intern)
	if e.Tier != nil {
		c.Tier = *e.Tier
	}
	if c.AccountManager != oldAM {
		m.indexAM(c, oldAM)
	}
}

// absorb adds what the book counts of a merged customer f to its survivor
// c: purchases, value, referrals, surveys, greetings, the latest inbound
// and purchase, a conduct flag. The survivor's profile stays (a merge
// carries the fields it takes from f).
func absorb(c, f *Customer) {
	c.MergedFrom = append(append(c.MergedFrom, f.ID), f.MergedFrom...)
	c.PurchaseCount += f.PurchaseCount
	for _, v := range f.LifetimeValue {
		c.LifetimeValue = addMoney(c.LifetimeValue, v)
	}
	c.Referrals += f.Referrals
	c.CSATSum += f.CSATSum
	c.CSATCount += f.CSATCount
	c.ConductFlagged = c.ConductFlagged || f.ConductFlagged
	later := func(dst **time.Time, v *time.Time) {
		if v != nil && (*dst == nil || v.After(**dst)) {
			t := *v
			*dst = &t
		}
	}
	later(&c.LastInboundAt, f.LastInboundAt)
	later(&c.LastPurchaseAt, f.LastPurchaseAt)
	c.Greetings = append(c.Greetings, f.Greetings...)
	slices.SortStableFunc(c.Greetings, func(a, b Greeting) int { return a.At.Compare(b.At) })
}

func setStr(dst *string, v *string, keep func(string) string) {
	if v != nil {
		*dst = keep(*v)
	}
}

// The strings of a decoded payload share one buffer per event (the
// codec's arena): a read model that keeps one of them as it is keeps the
// whole payload. The book keeps its own copies — one string per value for
// the fields many customers share (segment, account manager, time zone,
// locale, birthday, currency, campaign), a copy of exactly its length for
// the rest.
func intern(s string) string { return unique.Make(s).Value() }

func own(s string) string { return strings.Clone(s) }

func (m *Model) indexAM(c *Customer, old string) {
	if set := m.byAM[old]; set != nil && old != "" {
		delete(set, c.ID)
	}
	if c.AccountManager == "" {
		return
	}
	set := m.byAM[c.AccountManager]
	if set == nil {
		set = map[string]struct{}{}
		m.byAM[c.AccountManager] = set
	}
	set[c.ID] = struct{}{}
}

func addMoney(totals []customer.Money, m customer.Money) []customer.Money {
	for i := range totals {
		if totals[i].Currency == m.Currency {
			totals[i].AmountMinor += m.AmountMinor
			return totals
		}
	}
	m.Currency = intern(m.Currency)
	totals = append(totals, m)
	slices.SortFunc(totals, func(a, b customer.Money) int { return cmp.Compare(a.Currency, b.Currency) })
	return totals
}

// Get returns one customer.
func (m *Model) Get(id string) (Customer, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	c, ok := m.byID[id]
	if !ok {
		return Customer{}, false
	}
	return c.clone(), true
}

// Len is the number of customers.
func (m *Model) Len() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.byID)
}

// Listed is the number of customers the book lists: every customer but
// those merged into another (O(n): for health reports, not hot paths).
func (m *Model) Listed() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	n := 0
	for _, c := range m.byID {
		if c.MergedInto == "" {
			n++
		}
	}
	return n
}

// IDs returns every customer ID in ascending order.
func (m *Model) IDs() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sortLocked()
	return slices.Clone(m.ids)
}

func (m *Model) sortLocked() {
	if !m.sorted {
		slices.Sort(m.ids)
		m.sorted = true
	}
}

// OfAccountManager returns the IDs of an account manager's customers,
// ascending.
func (m *Model) OfAccountManager(am string) []string {
	m.mu.RLock()
	defer m.mu.RUnlock()
	set := m.byAM[am]
	out := make([]string, 0, len(set))
	for id := range set {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

// Each calls fn for every customer in ID order until fn returns false. fn
// gets a pointer to the stored entry: it must not keep or modify it. The
// book is read-locked meanwhile, so fn must not call back into the Model.
func (m *Model) Each(fn func(*Customer) bool) {
	m.mu.Lock()
	m.sortLocked()
	m.mu.Unlock()
	m.mu.RLock()
	defer m.mu.RUnlock()
	for _, id := range m.ids {
		if !fn(m.byID[id]) {
			return
		}
	}
}

// Matches reports whether c's name or contact details contain q (case
// folded) — the book's full-text search.
func Matches(c *Customer, q string) bool {
	q = strings.ToLower(strings.TrimSpace(q))
	if q == "" {
		return true
	}
	for _, f := range []string{c.Name, c.Phone, c.Email, c.WeChat, c.ID} {
		if f != "" && strings.Contains(strings.ToLower(f), q) {
			return true
		}
	}
	// Phone numbers match without their spaces and dashes too.
	if digits := onlyDigits(q); digits != "" && len(digits) >= 4 && strings.Contains(onlyDigits(c.Phone), digits) {
		return true
	}
	return false
}

func onlyDigits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Digest is a deterministic hash of the book.
func (m *Model) Digest() [32]byte {
	m.mu.Lock()
	m.sortLocked()
	m.mu.Unlock()
	m.mu.RLock()
	defer m.mu.RUnlock()
	h := sha256.New()
	for _, id := range m.ids {
		c := m.byID[id]
		fmt.Fprintf(h, "%s|%s|%s|%s|%v|%v|%v|%d|%v|%d|%d|%d", c.ID, c.Name, c.Tier, c.AccountManager, c.MarketingConsent,
			c.Erased, c.ConductFlagged, c.PurchaseCount, c.LifetimeValue, c.Referrals, len(c.Greetings), c.Version)
		if c.MergedInto != "" || len(c.MergedFrom) > 0 {
			fmt.Fprintf(h, "|%s|%v", c.MergedInto, c.MergedFrom)
		}
		h.Write([]byte{'\n'})
	}
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}
