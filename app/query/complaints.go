package query

import (
	"context"
	"slices"
	"time"

	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/projections/complaints"
)

// complaintView builds the API's complaint. streamVersion is the revision
// of the customer stream that holds it, as the reader knows it: that is
// what a client passes back as expectedVersion, not the revision of the
// complaint's own last event (any later event on the customer made that
// number stale, and every write with it a CONFLICT).
func complaintView(k complaints.Complaint, streamVersion uint64, now time.Time) Complaint {
	v := Complaint{
		ID: k.ID, CustomerID: k.CustomerID, Status: string(k.Status), Severity: k.Severity.String(),
		Category: k.Category, Channel: k.Channel.String(), Owner: k.Owner, FiledAt: k.FiledAt,
		ReplyDueAt: k.ReplyDueAt, ReplyDueProvisional: k.ReplyDueProvisional, AcknowledgedAt: k.AcknowledgedAt, Overdue: k.Overdue(now),
		EscalatedTo: strPtr(k.EscalatedTo), PromisedReplyBy: k.PromisedReplyBy,
		ResolutionOptions: slices.Clone(k.ResolutionOptions), AcceptedOption: k.AcceptedOption,
		ResolvedAt: k.ResolvedAt, DeclineReason: strPtr(k.DeclineReason), RepeatContacts: k.RepeatContacts,
		IncidentReportFiled: k.IncidentReport, Version: int(max(streamVersion, k.Version)), Description: strPtr(k.Description),
	}
	if v.ResolutionOptions == nil {
		v.ResolutionOptions = []string{}
	}
	for _, st := range k.RecoverySteps {
		v.RecoverySteps = append(v.RecoverySteps, RecoveryStep{Step: st.Step.String(), At: st.At, By: st.By, Note: strPtr(st.Note)})
	}
	for _, m := range k.Compensation {
		v.Compensation = append(v.Compensation, Money{AmountMinor: m.AmountMinor, Currency: m.Currency})
	}
	if k.Outcome != nil {
		o := k.Outcome.String()
		v.Outcome = &o
	}
	return v
}

func (h Complaints) Get(ctx context.Context, id string) (Complaint, error) {
	k, ok := h.Complaints.Get(id)
	if !ok {
		return Complaint{}, notFound("complaint", id)
	}
	return complaintView(k, h.streamVersion(k.Stream), h.clock()), nil
}

// streamVersion is the revision of the customer's stream as the customers
// read model knows it.
func (s *core) streamVersion(customerID string) uint64 {
	c, _ := s.Customers.Get(customerID)
	return c.Version
}

func (h Complaints) List(ctx context.Context, q ComplaintFilter, p Page) (Connection[Complaint], error) {
	now := h.clock()
	f := complaints.Filter{CustomerID: q.CustomerID, Overdue: q.Overdue, FiledFrom: q.FiledFrom, FiledTo: q.FiledTo, Now: now}
	for _, st := range q.Statuses {
		f.Statuses = append(f.Statuses, complaints.Status(st))
	}
	if q.Severity != nil {
		sev, err := customer.ParseSeverity(*q.Severity)
		if err != nil {
			return Connection[Complaint]{}, err
		}
		f.Severity = &sev
	}
	if q.Owner != nil {
		f.Owner = *q.Owner
	}
	model, version := h.Complaints, h.streamVersion
	if q.AsOf != nil && q.CustomerID != "" {
		u, err := h.history(ctx, q.CustomerID, q.AsOf)
		if err != nil {
			return Connection[Complaint]{}, err
		}
		sn, err := h.fold(q.CustomerID, u, q.AsOf, *q.AsOf)
		if err != nil {
			return Connection[Complaint]{}, err
		}
		model, f.Now, now = sn.compl, *q.AsOf, *q.AsOf
		version = func(string) uint64 { return sn.version }
	}
	after, err := decodeCursor(p.After)
	if err != nil {
		return Connection[Complaint]{}, err
	}
	page, err := model.List(f, after, p.First)
	if err != nil {
		return Connection[Complaint]{}, badCursor()
	}
	out := Connection[Complaint]{TotalCount: page.Total, HasNextPage: page.HasMore}
	for i, k := range page.Items {
		out.Edges = append(out.Edges, Edge[Complaint]{Cursor: encodeCursor(page.Cursors[i]), Node: complaintView(k, version(k.Stream), now)})
	}
	return out, nil
}

// ---- follow-ups ----
