package query

import (
	"context"

	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/projections/followups"
)

func followUpView(f followups.FollowUp) FollowUp {
	v := FollowUp{ID: f.ID, CustomerID: f.CustomerID, ComplaintID: strPtr(f.ComplaintID), Reason: f.Reason.String(),
		Owner: f.Owner, DueAt: f.DueAt, Status: string(f.Status), Note: strPtr(f.Note)}
	if f.Outcome != nil {
		o := f.Outcome.String()
		v.Outcome = &o
	}
	return v
}

// Get is one follow-up of a customer.
func (h FollowUps) Get(ctx context.Context, customerID, followUpID string) (FollowUp, error) {
	f, ok := h.FollowUps.Get(customerID, followUpID)
	if !ok {
		return FollowUp{}, notFound("follow-up", followUpID)
	}
	return followUpView(f), nil
}

// List is the follow-ups q selects, oldest due first.
func (h FollowUps) List(ctx context.Context, q FollowUpFilter, p Page) (Connection[FollowUp], error) {
	f := followups.Filter{CustomerID: q.CustomerID, DueBefore: q.DueBefore}
	if q.Owner != nil {
		f.Owner = *q.Owner
	}
	if q.Status != nil {
		f.Status = followups.Status(*q.Status)
	}
	for _, reason := range q.Reasons {
		rr, err := customer.ParseFollowUpReason(reason)
		if err != nil {
			return Connection[FollowUp]{}, err
		}
		f.Reasons = append(f.Reasons, rr)
	}
	page, err := h.FollowUps.List(f, p.After, p.First)
	if err != nil {
		return Connection[FollowUp]{}, badCursor()
	}
	out := Connection[FollowUp]{TotalCount: page.Total, HasNextPage: page.HasMore}
	for i, fu := range page.Items {
		cursor := page.EndCursor
		if i < len(page.Items)-1 {
			cursor = followups.CursorOf(fu)
		}
		out.Edges = append(out.Edges, Edge[FollowUp]{Cursor: cursor, Node: followUpView(fu)})
	}
	return out, nil
}

// ---- calendar ----
