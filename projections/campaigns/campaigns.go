// Package campaigns is the read model of greeting campaigns: each campaign
// as scheduled, its status, its audience size, and its delivery counts —
// sent, failed, skipped by reason — counted from the GreetingSent /
// GreetingFailed / GreetingSkipped events on the customer streams as they
// happen. What is never recorded on a customer stream comes from the
// campaign's own stream: the audience counted at scheduling
// (GreetingCampaignScheduled) and again when sending started
// (GreetingCampaignStarted); and, from GreetingCampaignCompleted's counts,
// the ERASED skips (nothing may follow an erasure) and the customers
// excluded from the audience by stage or tier.
package campaigns

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/kefu-crm/kefu/domain/aggregate"
	"github.com/kefu-crm/kefu/domain/calendar"
	"github.com/kefu-crm/kefu/domain/campaign"
	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/projections"
)

// Campaign is the read model of one campaign.
type Campaign struct {
	ID       string
	Name     string
	Occasion string
	Kind     string
	// Date is the occasion's day; nil for BIRTHDAY and ANNIVERSARY, whose
	// window starts at WindowStart.
	Date        *calendar.Date
	WindowStart calendar.Date
	WindowDays  int
	SendAtLocal string
	Status      campaign.Status
	Audience    campaign.Audience
	Templates   []campaign.Template
	CreatedBy   string
	ScheduledAt time.Time
	StartedAt   *time.Time
	CompletedAt *time.Time
	CancelledAt *time.Time
	CancelledBy string
	CancelNote  string
	// AudienceSize is the number of customers in the audience: as counted
	// when the campaign was scheduled, then when sending started (or the
	// customers handled so far, when more), and once completed the
	// customers handled (Sent + Failed + Skipped).
	AudienceSize    int
	Sent            int
	Failed          int
	Skipped         int
	SkippedByReason map[string]int
	// Excluded counts the customers the campaign covered but its audience
	// left out (by reason in ExcludedByReason: STAGE_EXCLUDED,
	// TIER_EXCLUDED); known once the campaign has completed (the greeting
	// dispatcher's progress has them while it runs).
	Excluded         int
	ExcludedByReason map[string]int

	position eventstore.Position
	// estimate is the audience counted at scheduling or start; handled
	// the outcomes counted so far.
	estimate, handled int
}

// settle derives AudienceSize.
func (c *Campaign) settle() {
	c.AudienceSize = c.handled
	if c.Status != campaign.StatusCompleted {
		c.AudienceSize = max(c.estimate, c.handled)
	}
}

// ReasonCount is one entry of SkippedByReasonSorted.
type ReasonCount struct {
	Reason string
	Count  int
}

// SkippedByReasonSorted lists the skip counts, most frequent first.
func (c Campaign) SkippedByReasonSorted() []ReasonCount { return sortedCounts(c.SkippedByReason) }

// ExcludedByReasonSorted lists the exclusion counts, most frequent first.
func (c Campaign) ExcludedByReasonSorted() []ReasonCount { return sortedCounts(c.ExcludedByReason) }

func sortedCounts(m map[string]int) []ReasonCount {
	out := make([]ReasonCount, 0, len(m))
	for r, n := range m {
		out = append(out, ReasonCount{r, n})
	}
	slices.SortFunc(out, func(a, b ReasonCount) int {
		if a.Count != b.Count {
			return b.Count - a.Count
		}
		if a.Reason < b.Reason {
			return -1
		}
		return 1
	})
	return out
}

// Model is the campaigns read model, safe for one writer and many readers.
type Model struct {
	mu   sync.RWMutex
	byID map[string]*Campaign
	pos  eventstore.Position
}

// New returns an empty model.
func New() *Model { return &Model{byID: map[string]*Campaign{}} }

// Name is the permanent projection name.
func (m *Model) Name() string { return "campaigns" }

// Wants selects the campaign events and the customers' greeting outcomes.
func (m *Model) Wants(eventType string) bool {
	switch eventType {
	case campaign.TypeGreetingCampaignScheduled, campaign.TypeGreetingCampaignStarted,
		campaign.TypeGreetingCampaignCancelled, campaign.TypeGreetingCampaignCompleted,
		customer.TypeGreetingSent, customer.TypeGreetingFailed, customer.TypeGreetingSkipped:
		return true
	}
	return false
}

// Apply implements projections.Projection.
func (m *Model) Apply(_ context.Context, d projections.Decoded) error {
	ev := d.Event
	m.mu.Lock()
	defer m.mu.Unlock()
	if ev.Position <= m.pos && m.pos != 0 {
		return nil // already applied
	}
	m.pos = ev.Position
	at := ev.OccurredAt
	_, id, _ := eventstore.ParseStreamID(ev.StreamID)
	switch e := d.Payload.(type) {
	case *campaign.GreetingCampaignScheduled:
		c := &Campaign{
			ID: id, Name: e.Name, Occasion: e.Occasion, Kind: e.Kind, WindowDays: e.WindowDays, SendAtLocal: e.SendAtLocal,
			Status: campaign.StatusScheduled, Audience: e.Audience, Templates: e.Templates, CreatedBy: e.CreatedBy,
			ScheduledAt: at, SkippedByReason: map[string]int{}, ExcludedByReason: map[string]int{}, position: ev.Position,
			estimate: e.AudienceSize,
		}
		if e.WindowDays > 0 {
			c.WindowStart = e.Date
		} else {
			d := e.Date
			c.Date = &d
		}
		c.settle()
		m.byID[id] = c
	case *campaign.GreetingCampaignStarted:
		if c := m.byID[id]; c != nil {
			c.StartedAt = &at
			if c.Status == campaign.StatusScheduled {
				c.Status = campaign.StatusRunning
			}
			if e.AudienceSize != nil {
				c.estimate = *e.AudienceSize
			}
			c.settle()
		}
	case *campaign.GreetingCampaignCancelled:
		if c := m.byID[id]; c != nil {
			c.Status, c.CancelledAt, c.CancelledBy, c.CancelNote = campaign.StatusCancelled, &at, e.By, e.Reason
		}
	case *campaign.GreetingCampaignCompleted:
		if c := m.byID[id]; c != nil {
			c.Status, c.CompletedAt = campaign.StatusCompleted, &at
			// Skips the customer streams cannot carry.
			if n := e.SkippedByReason["ERASED"] - c.SkippedByReason["ERASED"]; n > 0 {
				c.SkippedByReason["ERASED"] += n
				c.Skipped += n
				c.handled += n
			}
			// Customers outside the audience: never on their streams.
			c.Excluded, c.ExcludedByReason = e.Excluded, maps.Clone(e.ExcludedByReason)
			if c.ExcludedByReason == nil {
				c.ExcludedByReason = map[string]int{}
			}
			c.settle()
		}
	case *customer.GreetingSent:
		if c := m.byID[e.CampaignID]; c != nil {
			c.Sent++
			c.handled++
			c.settle()
		}
	case *customer.GreetingFailed:
		if c := m.byID[e.CampaignID]; c != nil {
			c.Failed++
			c.handled++
			c.settle()
		}
	case *customer.GreetingSkipped:
		if c := m.byID[e.CampaignID]; c != nil {
			c.Skipped++
			c.SkippedByReason[e.Reason]++
			c.handled++
			c.settle()
		}
	}
	return nil
}

// Position is the last applied position.
func (m *Model) Position() eventstore.Position {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.pos
}

func clone(c *Campaign) Campaign {
	out := *c
	out.SkippedByReason = maps.Clone(c.SkippedByReason)
	out.ExcludedByReason = maps.Clone(c.ExcludedByReason)
	out.Audience.Stages = slices.Clone(c.Audience.Stages)
	out.Audience.Tiers = slices.Clone(c.Audience.Tiers)
	out.Templates = slices.Clone(c.Templates)
	return out
}

// Get returns one campaign.
func (m *Model) Get(id string) (Campaign, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	c := m.byID[id]
	if c == nil {
		return Campaign{}, false
	}
	return clone(c), true
}

// Page is one page of campaigns, newest first.
type Page struct {
	Items []Campaign
	// Cursors[i] is Items[i]'s opaque cursor.
	Cursors     []string
	HasNextPage bool
	TotalCount  int
}

// List returns up to first campaigns, newest (last scheduled) first, after
// the cursor ("" = from the newest).
func (m *Model) List(after string, first int) (Page, error) {
	var afterPos uint64
	if after != "" {
		p, err := strconv.ParseUint(after, 10, 64)
		if err != nil {
			return Page{}, fmt.Errorf("campaigns: bad cursor %q: %w", after, aggregate.ErrInvalidInput)
		}
		afterPos = p
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	all := make([]*Campaign, 0, len(m.byID))
	for _, c := range m.byID {
		all = append(all, c)
	}
	slices.SortFunc(all, func(a, b *Campaign) int { return cmp.Compare(b.position, a.position) })
	p := Page{TotalCount: len(all)}
	for _, c := range all {
		if after != "" && uint64(c.position) >= afterPos {
			continue
		}
		if len(p.Items) == first {
			p.HasNextPage = true
			break
		}
		p.Items = append(p.Items, clone(c))
		p.Cursors = append(p.Cursors, strconv.FormatUint(uint64(c.position), 10))
	}
	return p, nil
}

// ActiveCampaigns lists the SCHEDULED and RUNNING campaigns (for the
// greeting dispatcher).
func (m *Model) ActiveCampaigns(context.Context) ([]string, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var out []string
	for id, c := range m.byID {
		if c.Status == campaign.StatusScheduled || c.Status == campaign.StatusRunning {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out, nil
}

// Digest hashes the state (campaigns sorted by id).
func (m *Model) Digest() [32]byte {
	m.mu.RLock()
	defer m.mu.RUnlock()
	h := sha256.New()
	ids := slices.Sorted(maps.Keys(m.byID))
	for _, id := range ids {
		c := m.byID[id]
		fmt.Fprintf(h, "%s|%s|%s|%d|%d|%d|%d|", id, c.Status, c.Occasion, c.AudienceSize, c.Sent, c.Failed, c.Skipped)
		for _, r := range slices.Sorted(maps.Keys(c.SkippedByReason)) {
			fmt.Fprintf(h, "%s=%d,", r, c.SkippedByReason[r])
		}
		fmt.Fprintf(h, "|%d|", c.Excluded)
		for _, r := range slices.Sorted(maps.Keys(c.ExcludedByReason)) {
			fmt.Fprintf(h, "%s=%d,", r, c.ExcludedByReason[r])
		}
		_ = binary.Write(h, binary.BigEndian, uint64(c.position))
	}
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}
