// Package followups is the read model of follow-ups (回访): every scheduled
// follow-up with its state, and the queues an account manager works — the
// DUE follow-ups of an owner, oldest due first — answered from ordered
// indexes, not scans.
package followups

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kefu-crm/kefu/projections/internal/owners"

	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/projections/internal/deadline"
)

// Status of a follow-up, as in the API's FollowUpStatus.
type Status string

// The statuses.
const (
	Due       Status = "DUE"
	Done      Status = "DONE"
	Cancelled Status = "CANCELLED"
)

// FollowUp is the read model of one follow-up.
type FollowUp struct {
	ID string
	// CustomerID is whose follow-up it is: the customer it was scheduled
	// on or, after a merge, the survivor.
	CustomerID string
	// Stream is the customer whose stream holds its events.
	Stream      string
	ComplaintID string
	Reason      customer.FollowUpReason
	Owner       string
	DueAt       time.Time
	ScheduledAt time.Time
	Status      Status
	Outcome     *customer.FollowUpOutcome
	Note        string
	ClosedAt    *time.Time
	ClosedBy    string
}

// Filter selects follow-ups; zero fields match everything.
type Filter struct {
	CustomerID string
	Owner      string
	Status     Status
	// DueBefore keeps follow-ups due strictly before it.
	DueBefore *time.Time
	Reasons   []customer.FollowUpReason
}

// Model is the follow-ups read model, safe for one writer and many readers.
type Model struct {
	mu   sync.RWMutex
	byID map[string]*FollowUp // key: customerID + "/" + follow-up ID
	// own: each customer's IDs in order, and who is merged into whom.
	own        owners.Index
	byBareID   map[string]string          // follow-up ID → key (IDs are generated unique)
	all        deadline.Index             // every follow-up by (due, key)
	due        deadline.Index             // DUE follow-ups by (due, key)
	dueByOwner map[string]*deadline.Index // DUE follow-ups per owner
	position   eventstore.Position
}

// New returns an empty model.
func New() *Model {
	return &Model{byID: map[string]*FollowUp{}, own: owners.Index{ByCustomer: map[string][]string{}}, byBareID: map[string]string{}, dueByOwner: map[string]*deadline.Index{}}
}

// Name is the projection's permanent name.
func (m *Model) Name() string { return "followups" }

// Wants reports the event types the model folds (projections.Filter).
func (m *Model) Wants(t string) bool {
	switch t {
	case customer.TypeFollowUpScheduled, customer.TypeFollowUpCompleted, customer.TypeFollowUpCancelled, customer.TypeCustomerErased,
		customer.TypeCustomersMergedIn, customer.TypeCustomersUnmerged:
		return true
	}
	return false
}

// Position is the global position of the last applied event.
func (m *Model) Position() eventstore.Position {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.position
}

// Key identifies a follow-up across customers: follow-up IDs are unique
// within a customer.
func Key(customerID, followUpID string) string { return customerID + "/" + followUpID }

// Apply folds one stored event into the model; re-delivered positions are
// ignored.
func (m *Model) Apply(ev eventstore.Event, payload customer.Event) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if ev.Position != 0 && ev.Position <= m.position {
		return
	}
	m.position = ev.Position
	customerID, ok := strings.CutPrefix(ev.StreamID, customer.StreamCategory+"-")
	if !ok {
		return
	}
	switch e := payload.(type) {
	case *customer.FollowUpScheduled:
		k := Key(customerID, e.FollowUpID)
		if _, exists := m.byID[k]; exists {
			return
		}
		f := &FollowUp{ID: e.FollowUpID, CustomerID: customerID, Stream: customerID, ComplaintID: e.ComplaintID, Reason: e.Reason,
			Owner: e.Owner, DueAt: e.DueAt, ScheduledAt: ev.OccurredAt, Status: Due, Note: e.Note}
		m.byID[k] = f
		m.own.ByCustomer[customerID] = append(m.own.ByCustomer[customerID], k)
		if _, taken := m.byBareID[e.FollowUpID]; !taken {
			m.byBareID[e.FollowUpID] = k
		}
		dk := deadline.Key{At: f.DueAt, ID: k}
		m.all.Insert(dk)
		m.due.Insert(dk)
		m.ownerIndex(f.Owner).Insert(dk)
	case *customer.FollowUpCompleted:
		if f := m.byID[Key(customerID, e.FollowUpID)]; f != nil && f.Status == Due {
			o := e.Outcome
			f.Outcome = &o
			if e.Note != "" {
				f.Note = e.Note
			}
			m.close(f, Done, ev.OccurredAt, e.By)
		}
	case *customer.FollowUpCancelled:
		if f := m.byID[Key(customerID, e.FollowUpID)]; f != nil && f.Status == Due {
			f.Note = e.Reason
			m.close(f, Cancelled, ev.OccurredAt, e.By)
		}
	case *customer.CustomerErased:
		// Notes are personal data: they go with the customer (the log
		// keeps only sealed copies, unreadable once the key is destroyed).
		for _, k := range m.own.ByCustomer[customerID] {
			m.byID[k].Note = ""
		}
		if m.own.Merged[customerID] {
			for _, f := range m.byID {
				if f.Stream == customerID {
					f.Note = ""
				}
			}
		}
	case *customer.CustomersMergedIn:
		// The merged customers' follow-ups are the survivor's; their
		// events stay in the merged streams (and so do their keys).
		m.own.Merge(customerID, e.From, m.setOwner, m.byTime)
	case *customer.CustomersUnmerged:
		// The restored customers' follow-ups (and those of the customers
		// merged into them) are theirs again.
		m.own.Unmerge(customerID, e.IDs, m.streamOf, m.setOwner, m.byTime)
	}
}

func (m *Model) ownerIndex(owner string) *deadline.Index {
	x := m.dueByOwner[owner]
	if x == nil {
		x = &deadline.Index{}
		m.dueByOwner[owner] = x
	}
	return x
}

func (m *Model) close(f *FollowUp, s Status, at time.Time, by string) {
	dk := deadline.Key{At: f.DueAt, ID: Key(f.Stream, f.ID)}
	m.due.Remove(dk)
	m.ownerIndex(f.Owner).Remove(dk)
	f.Status, f.ClosedAt, f.ClosedBy = s, &at, by
}

// Get returns one follow-up of a customer.
func (m *Model) Get(customerID, followUpID string) (FollowUp, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	f, ok := m.byID[Key(customerID, followUpID)]
	if !ok {
		return FollowUp{}, false
	}
	return *f, true
}

// Find returns a follow-up by ID alone, for APIs that name only the
// follow-up: follow-up IDs are generated globally unique, so at most one
// customer has it.
func (m *Model) Find(followUpID string) (FollowUp, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	k, ok := m.byBareID[followUpID]
	if !ok {
		return FollowUp{}, false
	}
	return *m.byID[k], true
}

// OfCustomer returns a customer's follow-ups in scheduling order.
func (m *Model) OfCustomer(customerID string) []FollowUp {
	m.mu.RLock()
	defer m.mu.RUnlock()
	keys := m.own.ByCustomer[customerID]
	out := make([]FollowUp, 0, len(keys))
	for _, k := range keys {
		out = append(out, *m.byID[k])
	}
	return out
}

// Page is one page of a listing.
type Page struct {
	Items   []FollowUp
	Total   int
	HasMore bool
	// EndCursor continues the listing after the last item.
	EndCursor string
}

// List returns follow-ups matching f, oldest due first, after the cursor
// (empty: from the start), at most first. The DUE queue of an owner walks
// only that owner's index.
func (m *Model) List(f Filter, after string, first int) (Page, error) {
	var from *deadline.Key
	if after != "" {
		k, err := decodeCursor(after)
		if err != nil {
			return Page{}, err
		}
		from = &k
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	var keys []deadline.Key
	switch {
	case f.CustomerID != "":
		for _, k := range m.own.ByCustomer[f.CustomerID] {
			keys = append(keys, deadline.Key{At: m.byID[k].DueAt, ID: k})
		}
		slices.SortFunc(keys, deadline.Compare)
	case f.Status == Due && f.Owner != "":
		if x := m.dueByOwner[f.Owner]; x != nil {
			keys = x.All()
		}
	case f.Status == Due:
		keys = m.due.All()
	default:
		keys = m.all.All()
	}
	if f.DueBefore != nil {
		i, _ := slices.BinarySearchFunc(keys, deadline.Key{At: *f.DueBefore}, deadline.Compare)
		keys = keys[:i]
	}
	var page Page
	for _, k := range keys {
		fu := m.byID[k.ID]
		if !f.match(fu) {
			continue
		}
		page.Total++
		if from != nil && deadline.Compare(k, *from) <= 0 {
			continue
		}
		if len(page.Items) < first {
			page.Items = append(page.Items, *fu)
			page.EndCursor = encodeCursor(k)
		} else {
			page.HasMore = true
		}
	}
	return page, nil
}

func (f Filter) match(fu *FollowUp) bool {
	if f.CustomerID != "" && fu.CustomerID != f.CustomerID {
		return false
	}
	if f.Owner != "" && fu.Owner != f.Owner {
		return false
	}
	if f.Status != "" && fu.Status != f.Status {
		return false
	}
	if f.DueBefore != nil && !fu.DueAt.Before(*f.DueBefore) {
		return false
	}
	return len(f.Reasons) == 0 || slices.Contains(f.Reasons, fu.Reason)
}

// Counts reports DUE follow-ups and how many of them are overdue at now,
// and the number DONE, for metrics and the service report.
func (m *Model) Counts(now time.Time) (due, overdue, done, total int) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	for _, f := range m.byID {
		if f.Status == Done {
			done++
		}
	}
	return m.due.Len(), len(m.due.Before(now)), done, len(m.byID)
}

// All calls fn for every follow-up, by due time.
func (m *Model) All(fn func(FollowUp)) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	for _, k := range m.all.All() {
		fn(*m.byID[k.ID])
	}
}

// Digest is a deterministic hash of the model's state.
func (m *Model) Digest() [32]byte {
	m.mu.RLock()
	defer m.mu.RUnlock()
	h := sha256.New()
	for _, k := range m.all.All() {
		f := m.byID[k.ID]
		fmt.Fprintf(h, "%s|%s|%s|%s|%d|%s|%v\n", k.ID, f.Reason, f.Owner, f.Status, f.DueAt.UnixNano(), f.ComplaintID, f.Outcome)
	}
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}

// ErrBadCursor: a cursor this model did not issue.
var ErrBadCursor = fmt.Errorf("followups: invalid cursor")

func encodeCursor(k deadline.Key) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(k.At.UnixNano(), 10) + ":" + k.ID))
}

func decodeCursor(s string) (deadline.Key, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return deadline.Key{}, ErrBadCursor
	}
	ns, id, ok := strings.Cut(string(b), ":")
	n, err := strconv.ParseInt(ns, 10, 64)
	if !ok || err != nil || id == "" {
		return deadline.Key{}, ErrBadCursor
	}
	return deadline.Key{At: time.Unix(0, n), ID: id}, nil
}

// CursorOf is the cursor that continues a listing after f.
func CursorOf(f FollowUp) string {
	return encodeCursor(deadline.Key{At: f.DueAt, ID: Key(f.Stream, f.ID)})
}

// setOwner makes customer the owner of item (a merge or an unmerge moved
// it).
func (m *Model) setOwner(item, customer string) { m.byID[item].CustomerID = customer }

// streamOf is the customer whose stream holds item.
func (m *Model) streamOf(item string) string { return m.byID[item].Stream }

// byTime orders a customer's items by when they began.
func (m *Model) byTime(a, b string) int { return m.byID[a].ScheduledAt.Compare(m.byID[b].ScheduledAt) }
