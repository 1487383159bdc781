// Package complaints is the read model of complaints: each complaint's
// state as the account manager sees it (status, owner, SLA, recovery steps,
// compensation, outcome), indexed for the queues the API serves — by ID, by
// customer, by owner, by status, and the overdue list.
//
// Overdue is evaluated against the clock the caller passes: a complaint is
// overdue when it is not acknowledged by replyDueAt, or when a promised
// reply time (set by escalation) passed with no outbound contact on the
// complaint since the promise. Both deadlines are kept in ordered indexes so
// "overdue now" is a prefix walk, not a scan of every complaint.
package complaints

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"iter"
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

// Status of a complaint, as in the API's ComplaintStatus.
type Status string

// The statuses.
const (
	Open               Status = "OPEN"
	Acknowledged       Status = "ACKNOWLEDGED"
	Escalated          Status = "ESCALATED"
	ResolutionProposed Status = "RESOLUTION_PROPOSED"
	Resolved           Status = "RESOLVED"
	Declined           Status = "DECLINED"
)

// Closed reports whether s ends the complaint's handling.
func (s Status) Closed() bool { return s == Resolved || s == Declined }

// Step is one recovery step taken.
type Step struct {
	Step customer.RecoveryStep
	At   time.Time
	By   string
	Note string
}

// Resolution is one resolution of a complaint: the options on the table,
// the one accepted (nil when none was), the verdict, and whether the
// complaint was reopened after it.
type Resolution struct {
	Options  []string
	Accepted *string
	Outcome  customer.Outcome
	At       time.Time
	Reopened bool
}

// Transfer is an explicit change of owner.
type Transfer struct {
	At       time.Time
	By       string
	From, To string
	Reason   string
}

// Complaint is the read model of one complaint. Values returned by the
// Model are copies: callers may keep them.
type Complaint struct {
	ID string
	// CustomerID is whose complaint it is: the customer who filed it or,
	// after a merge, the survivor the filer was merged into.
	CustomerID string
	// Stream is the customer whose stream holds the complaint's events
	// (the filer): where its later steps are written.
	Stream              string
	Status              Status
	Severity            customer.Severity
	Category            string
	Channel             customer.Channel
	Description         string
	Owner               string
	FiledAt             time.Time
	ReplyDueAt          time.Time
	ReplyDueProvisional bool
	AcknowledgedAt      *time.Time
	EscalatedTo         string
	EscalatedAt         *time.Time
	PromisedReplyBy     *time.Time
	// LastOutboundAt is the latest outbound contact logged on the complaint.
	LastOutboundAt    *time.Time
	ResolutionOptions []string
	AcceptedOption    *string
	RecoverySteps     []Step
	Compensation      []customer.Money // one total per currency, sorted by currency
	Outcome           *customer.Outcome
	ResolvedAt        *time.Time
	DeclinedAt        *time.Time
	DeclineReason     string
	RepeatContacts    int
	IncidentReport    bool
	Reopened          int
	// Resolutions are every resolution of the complaint, oldest first: a
	// reopened complaint keeps the earlier ones (what resolved it then and
	// the verdict), which the resolution playbook counts.
	Resolutions []Resolution
	Transfers   []Transfer
	// Version is the customer stream's revision at the complaint's last
	// event; the stream may have moved on since (the API's
	// Complaint.version is the stream's revision now).
	Version uint64
}

// Overdue reports whether c is overdue at now.
func (c *Complaint) Overdue(now time.Time) bool {
	if c.Status.Closed() {
		return false
	}
	if c.AcknowledgedAt == nil && now.After(c.ReplyDueAt) {
		return true
	}
	return c.promiseBroken(now)
}

func (c *Complaint) promiseBroken(now time.Time) bool {
	if c.PromisedReplyBy == nil || !now.After(*c.PromisedReplyBy) {
		return false
	}
	return c.LastOutboundAt == nil || c.EscalatedAt == nil || c.LastOutboundAt.Before(*c.EscalatedAt)
}

func (c *Complaint) clone() Complaint {
	out := *c
	out.ResolutionOptions = slices.Clone(c.ResolutionOptions)
	out.RecoverySteps = slices.Clone(c.RecoverySteps)
	out.Compensation = slices.Clone(c.Compensation)
	out.Transfers = slices.Clone(c.Transfers)
	out.Resolutions = slices.Clone(c.Resolutions)
	return out
}

// Filter selects complaints; zero fields match everything.
type Filter struct {
	CustomerID string
	Statuses   []Status
	Severity   *customer.Severity
	Owner      string
	// Overdue, when set, keeps only complaints whose overdue state at Now
	// equals it.
	Overdue            *bool
	FiledFrom, FiledTo *time.Time
	Now                time.Time
}

// Model is the complaints read model. It is safe for concurrent use: one
// writer (the projection) and many readers (the API).
type Model struct {
	mu   sync.RWMutex
	byID map[string]*Complaint
	// own: each customer's IDs in order, and who is merged into whom.
	own owners.Index
	// order lists every complaint ID in filing order (filedAt, id): the
	// default listing order.
	order deadline.Index
	// unacked holds open complaints not yet acknowledged, by replyDueAt.
	unacked deadline.Index
	// promised holds open complaints with a promised reply, by the promise.
	promised deadline.Index
	position eventstore.Position
}

// New returns an empty model.
func New() *Model {
	return &Model{byID: map[string]*Complaint{}, own: owners.Index{ByCustomer: map[string][]string{}}}
}

// Name is the projection's permanent name.
func (m *Model) Name() string { return "complaints" }

// Wants reports the event types the model folds (projections.Filter):
// the complaint steps, contacts (repeat contacts, promises kept) and
// erasure.
func (m *Model) Wants(t string) bool {
	switch t {
	case customer.TypeComplaintFiled, customer.TypeComplaintAcknowledged, customer.TypeComplaintEscalated,
		customer.TypeComplaintDeclined, customer.TypeComplaintTransferred, customer.TypeResolutionProposed,
		customer.TypeResolutionAccepted, customer.TypeRecoveryStepTaken, customer.TypeComplaintResolved,
		customer.TypeComplaintReopened, customer.TypeIncidentReportFiled, customer.TypeContactLogged,
		customer.TypeCustomerErased, customer.TypeCustomersMergedIn, customer.TypeCustomersUnmerged:
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

// Apply folds one stored event of a customer stream into the model. Events
// at or before the model's position are ignored, so re-delivery is
// harmless. Events of other streams and types are ignored.
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
	at := ev.OccurredAt
	get := func(id string) *Complaint { return m.byID[id] }
	switch e := payload.(type) {
	case *customer.ComplaintFiled:
		c := &Complaint{
			ID: e.ComplaintID, CustomerID: customerID, Stream: customerID, Status: Open, Severity: e.Severity,
			Category: e.Category, Channel: e.Channel, Description: e.Description, Owner: e.Owner,
			FiledAt: at, ReplyDueAt: e.ReplyDueAt, ReplyDueProvisional: e.ReplyDueProvisional,
			Version: ev.Revision,
		}
		m.byID[c.ID] = c
		m.own.ByCustomer[customerID] = append(m.own.ByCustomer[customerID], c.ID)
		m.order.Insert(deadline.Key{At: at, ID: c.ID})
		m.unacked.Insert(deadline.Key{At: c.ReplyDueAt, ID: c.ID})
	case *customer.ComplaintAcknowledged:
		if c := get(e.ComplaintID); c != nil {
			t := at
			c.AcknowledgedAt = &t
			c.Status = Acknowledged
			c.Version = ev.Revision
			m.unacked.Remove(deadline.Key{At: c.ReplyDueAt, ID: c.ID})
		}
	case *customer.ComplaintEscalated:
		if c := get(e.ComplaintID); c != nil {
			if c.PromisedReplyBy != nil {
				m.promised.Remove(deadline.Key{At: *c.PromisedReplyBy, ID: c.ID})
			}
			t, p := at, e.PromisedReplyBy
			c.EscalatedAt, c.PromisedReplyBy, c.EscalatedTo = &t, &p, e.To
			c.Status = Escalated
			c.Version = ev.Revision
			m.promised.Insert(deadline.Key{At: p, ID: c.ID})
		}
	case *customer.ComplaintDeclined:
		if c := get(e.ComplaintID); c != nil {
			t := at
			c.Status, c.DeclinedAt, c.DeclineReason = Declined, &t, e.Reason
			c.Version = ev.Revision
			m.dropDeadlines(c)
		}
	case *customer.ComplaintTransferred:
		if c := get(e.ComplaintID); c != nil {
			c.Transfers = append(c.Transfers, Transfer{At: at, By: e.By, From: e.From, To: e.To, Reason: e.Reason})
			c.Owner = e.To
			c.Version = ev.Revision
		}
	case *customer.ResolutionProposed:
		if c := get(e.ComplaintID); c != nil {
			c.ResolutionOptions = slices.Clone(e.Options)
			c.AcceptedOption = nil
			c.Status = ResolutionProposed
			c.Version = ev.Revision
		}
	case *customer.ResolutionAccepted:
		if c := get(e.ComplaintID); c != nil {
			o := e.Option
			c.AcceptedOption = &o
			c.Version = ev.Revision
		}
	case *customer.RecoveryStepTaken:
		if c := get(e.ComplaintID); c != nil {
			c.RecoverySteps = append(c.RecoverySteps, Step{Step: e.Step, At: at, By: e.By, Note: e.Note})
			if e.Compensation != nil {
				c.Compensation = addMoney(c.Compensation, *e.Compensation)
			}
			c.Version = ev.Revision
		}
	case *customer.ComplaintResolved:
		if c := get(e.ComplaintID); c != nil {
			t, o := at, e.Outcome
			c.Status, c.ResolvedAt, c.Outcome = Resolved, &t, &o
			r := Resolution{Options: slices.Clone(c.ResolutionOptions), Outcome: o, At: t}
			if c.AcceptedOption != nil {
				a := *c.AcceptedOption
				r.Accepted = &a
			}
			c.Resolutions = append(c.Resolutions, r)
			c.Version = ev.Revision
			m.dropDeadlines(c)
		}
	case *customer.ComplaintReopened:
		if c := get(e.ComplaintID); c != nil {
			c.Reopened++
			if c.Status == Resolved && len(c.Resolutions) > 0 {
				c.Resolutions[len(c.Resolutions)-1].Reopened = true
			}
			c.ResolvedAt, c.Outcome, c.DeclinedAt, c.DeclineReason = nil, nil, nil, ""
			// A reopened complaint is handled again from acknowledgement on:
			// if it was never acknowledged, the original reply-due stands.
			if c.AcknowledgedAt != nil {
				c.Status = Acknowledged
			} else {
				c.Status = Open
				m.unacked.Insert(deadline.Key{At: c.ReplyDueAt, ID: c.ID})
			}
			if c.PromisedReplyBy != nil {
				c.Status = Escalated
				m.promised.Insert(deadline.Key{At: *c.PromisedReplyBy, ID: c.ID})
			}
			c.Version = ev.Revision
		}
	case *customer.IncidentReportFiled:
		if c := get(e.ComplaintID); c != nil {
			c.IncidentReport = true
			c.Version = ev.Revision
		}
	case *customer.CustomerErased:
		// Personal data goes with the customer: the descriptions the
		// customer gave and the notes of the recovery steps are no longer
		// shown (the log keeps only sealed copies, unreadable once the key
		// is destroyed).
		erase := func(c *Complaint) {
			c.Description = ""
			for i := range c.RecoverySteps {
				c.RecoverySteps[i].Note = ""
			}
		}
		for _, id := range m.own.ByCustomer[customerID] {
			erase(m.byID[id])
		}
		if m.own.Merged[customerID] {
			// A merged customer's complaints are the survivor's now.
			for _, c := range m.byID {
				if c.Stream == customerID {
					erase(c)
				}
			}
		}
	case *customer.CustomersMergedIn:
		// The merged customers' complaints are the survivor's, in filing
		// order; their events stay in the merged streams.
		m.own.Merge(customerID, e.From, m.setOwner, m.byTime)
	case *customer.CustomersUnmerged:
		// The restored customers' complaints (and those of the customers
		// merged into them) are theirs again.
		m.own.Unmerge(customerID, e.IDs, m.streamOf, m.setOwner, m.byTime)
	case *customer.ContactLogged:
		if e.ComplaintID == "" {
			return
		}
		if c := get(e.ComplaintID); c != nil {
			if e.Direction == customer.Outbound {
				t := at
				c.LastOutboundAt = &t
			} else if !c.Status.Closed() {
				c.RepeatContacts++
			}
			c.Version = ev.Revision
		}
	}
}

func (m *Model) dropDeadlines(c *Complaint) {
	m.unacked.Remove(deadline.Key{At: c.ReplyDueAt, ID: c.ID})
	if c.PromisedReplyBy != nil {
		m.promised.Remove(deadline.Key{At: *c.PromisedReplyBy, ID: c.ID})
	}
}

func addMoney(totals []customer.Money, m customer.Money) []customer.Money {
	for i := range totals {
		if totals[i].Currency == m.Currency {
			totals[i].AmountMinor += m.AmountMinor
			return totals
		}
	}
	totals = append(totals, m)
	slices.SortFunc(totals, func(a, b customer.Money) int { return cmp.Compare(a.Currency, b.Currency) })
	return totals
}

// Get returns the complaint with the given ID.
func (m *Model) Get(id string) (Complaint, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	c, ok := m.byID[id]
	if !ok {
		return Complaint{}, false
	}
	return c.clone(), true
}

// CustomerOf returns the customer whose stream holds complaint id (who
// filed it, also after a merge): where its steps are written.
func (m *Model) CustomerOf(id string) (string, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	c, ok := m.byID[id]
	if !ok {
		return "", false
	}
	return c.Stream, true
}

// OfCustomer returns a customer's complaints in filing order.
func (m *Model) OfCustomer(customerID string) []Complaint {
	m.mu.RLock()
	defer m.mu.RUnlock()
	ids := m.own.ByCustomer[customerID]
	out := make([]Complaint, 0, len(ids))
	for _, id := range ids {
		out = append(out, m.byID[id].clone())
	}
	return out
}

// Page is one page of a listing.
type Page struct {
	Items []Complaint
	// Total is the number of complaints matching the filter.
	Total   int
	HasMore bool
	// Cursors[i] continues the listing after Items[i].
	Cursors []string
}

// Cursor is an opaque position in a listing (Page.Cursors): the sort key
// of the item after which the next page starts.
type Cursor = string

// List returns complaints matching f, in filing order (oldest first), after
// the complaint with ID after (empty: from the start), at most first. With
// f.Overdue = true the listing is in deadline order (most overdue first)
// and walks only the deadline indexes.
func (m *Model) List(f Filter, after Cursor, first int) (Page, error) {
	var from *deadline.Key
	if after != "" {
		k, err := parseCursor(after)
		if err != nil {
			return Page{}, err
		}
		from = &k
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	var keys iter.Seq[deadline.Key]
	switch {
	case f.Overdue != nil && *f.Overdue:
		keys = m.overdue(f.Now)
	case f.CustomerID != "":
		ids := m.own.ByCustomer[f.CustomerID]
		ks := make([]deadline.Key, len(ids))
		for i, id := range ids {
			ks[i] = deadline.Key{At: m.byID[id].FiledAt, ID: id}
		}
		slices.SortFunc(ks, deadline.Compare)
		keys = slices.Values(ks)
	default:
		keys = slices.Values(m.order.All())
	}
	var page Page
	for k := range keys {
		c := m.byID[k.ID]
		if !f.match(c) {
			continue
		}
		page.Total++
		// The cursor is the last item's sort key, so a page resumes after
		// it even when that item no longer matches (acknowledged, no
		// longer overdue …).
		if from != nil && deadline.Compare(k, *from) <= 0 {
			continue
		}
		if len(page.Items) < first {
			page.Items = append(page.Items, c.clone())
			page.Cursors = append(page.Cursors, formatCursor(k))
		} else {
			page.HasMore = true
		}
	}
	return page, nil
}

// ErrBadCursor: a cursor the model did not issue.
var ErrBadCursor = errors.New("complaints: invalid cursor")

func formatCursor(k deadline.Key) string {
	return strconv.FormatInt(k.At.UnixNano(), 10) + ":" + k.ID
}

func parseCursor(s string) (deadline.Key, error) {
	ns, id, ok := strings.Cut(s, ":")
	n, err := strconv.ParseInt(ns, 10, 64)
	if !ok || err != nil || id == "" {
		return deadline.Key{}, ErrBadCursor
	}
	return deadline.Key{At: time.Unix(0, n), ID: id}, nil
}

// overdue walks the deadline indexes up to now — unacknowledged past their
// reply-due, and broken promises — merging the two ordered lists, so the
// complaints come ordered by the deadline that made them overdue. A
// complaint overdue on both counts comes once, at its earlier deadline. It
// allocates nothing: the overdue queue is answered in time proportional to
// its length, whatever the size of the book. m.mu must be held.
func (m *Model) overdue(now time.Time) iter.Seq[deadline.Key] {
	return func(yield func(deadline.Key) bool) {
		u, p := m.unacked.Before(now), m.promised.Before(now)
		for i, j := 0, 0; i < len(u) || j < len(p); {
			if j == len(p) || (i < len(u) && deadline.Compare(u[i], p[j]) <= 0) {
				d := u[i]
				i++
				c := m.byID[d.ID]
				// Also a broken promise with an earlier deadline: listed there.
				if c.PromisedReplyBy != nil && c.promiseBroken(now) && deadline.Compare(deadline.Key{At: *c.PromisedReplyBy, ID: c.ID}, d) < 0 {
					continue
				}
				if !yield(d) {
					return
				}
				continue
			}
			d := p[j]
			j++
			c := m.byID[d.ID]
			if !c.promiseBroken(now) {
				continue
			}
			// Also unacknowledged past a reply-due at or before the promise:
			// listed there.
			if c.AcknowledgedAt == nil && !c.Status.Closed() && now.After(c.ReplyDueAt) && deadline.Compare(deadline.Key{At: c.ReplyDueAt, ID: c.ID}, d) <= 0 {
				continue
			}
			if !yield(d) {
				return
			}
		}
	}
}

// OverdueCount counts the complaints overdue at now.
func (m *Model) OverdueCount(now time.Time) int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	n := 0
	for range m.overdue(now) {
		n++
	}
	return n
}

func (f Filter) match(c *Complaint) bool {
	if f.CustomerID != "" && c.CustomerID != f.CustomerID {
		return false
	}
	if len(f.Statuses) > 0 && !slices.Contains(f.Statuses, c.Status) {
		return false
	}
	if f.Severity != nil && c.Severity != *f.Severity {
		return false
	}
	if f.Owner != "" && c.Owner != f.Owner {
		return false
	}
	if f.Overdue != nil && c.Overdue(f.Now) != *f.Overdue {
		return false
	}
	if f.FiledFrom != nil && c.FiledAt.Before(*f.FiledFrom) {
		return false
	}
	if f.FiledTo != nil && c.FiledAt.After(*f.FiledTo) {
		return false
	}
	return true
}

// All calls fn for every complaint in filing order (for reports).
func (m *Model) All(fn func(Complaint)) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	for _, d := range m.order.All() {
		fn(m.byID[d.ID].clone())
	}
}

// Digest is a deterministic hash of the model's state, for comparing a
// rebuild with the live path.
func (m *Model) Digest() [32]byte {
	m.mu.RLock()
	defer m.mu.RUnlock()
	h := sha256.New()
	var buf [8]byte
	for _, d := range m.order.All() {
		c := m.byID[d.ID]
		fmt.Fprintf(h, "%s|%s|%s|%s|%s|%s|%d|%v|%d|%d|%v|%v\n", c.ID, c.CustomerID, c.Status, c.Severity, c.Owner,
			c.ReplyDueAt.UTC().Format(time.RFC3339Nano), len(c.RecoverySteps), c.Compensation, c.RepeatContacts,
			c.Reopened, c.IncidentReport, c.AcceptedOption != nil)
		for _, r := range c.Resolutions {
			fmt.Fprintf(h, "r|%s|%v|%s|%s|%v\n", r.Outcome, r.Options, optString(r.Accepted), r.At.UTC().Format(time.RFC3339Nano), r.Reopened)
		}
		binary.BigEndian.PutUint64(buf[:], c.Version)
		h.Write(buf[:])
	}
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}

func optString(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

// setOwner makes customer the owner of item (a merge or an unmerge moved
// it).
func (m *Model) setOwner(item, customer string) { m.byID[item].CustomerID = customer }

// streamOf is the customer whose stream holds item.
func (m *Model) streamOf(item string) string { return m.byID[item].Stream }

// byTime orders a customer's items by when they began.
func (m *Model) byTime(a, b string) int { return m.byID[a].FiledAt.Compare(m.byID[b].FiledAt) }
