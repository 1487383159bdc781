package complaints_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/projections/complaints"
)

// The overdue queue (merged deadline indexes) equals a scan of every
// complaint with Overdue(now), ordered by the earliest deadline that makes
// each overdue, on random books at random instants.
func TestOverdueQueueMatchesScan(t *testing.T) {
	base := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	for seed := range uint64(30) {
		rng := rand.New(rand.NewPCG(seed, 9))
		m := complaints.New()
		var pos eventstore.Position
		apply := func(e customer.Event, at time.Time) {
			pos++
			m.Apply(eventstore.Event{StreamID: "customer-c", Position: pos, OccurredAt: at, Type: e.EventType()}, e)
		}
		hour := func(n int) time.Duration { return time.Duration(n) * time.Hour }
		for i := range 60 {
			id := fmt.Sprintf("k%02d", i)
			filed := base.Add(hour(rng.IntN(200)))
			apply(&customer.ComplaintFiled{ComplaintID: id, Owner: "o", Severity: customer.SeverityGeneral, ReplyDueAt: filed.Add(hour(rng.IntN(10)))}, filed)
			at := filed
			acked, closed := false, false
			for range rng.IntN(6) {
				at = at.Add(hour(1 + rng.IntN(30)))
				if closed { // only a reopening
					if rng.IntN(2) == 0 {
						apply(&customer.ComplaintReopened{ComplaintID: id, By: "o"}, at)
						closed = false
					}
					continue
				}
				switch rng.IntN(5) {
				case 0:
					if !acked {
						apply(&customer.ComplaintAcknowledged{ComplaintID: id, By: "o"}, at)
						acked = true
					}
				case 1:
					apply(&customer.ComplaintEscalated{ComplaintID: id, By: "o", To: "m", PromisedReplyBy: at.Add(hour(1 + rng.IntN(40)))}, at)
				case 2:
					apply(&customer.ContactLogged{ComplaintID: id, Direction: customer.Outbound, Channel: customer.ChannelPhone, Agent: "o"}, at)
				case 3:
					if acked {
						apply(&customer.ComplaintResolved{ComplaintID: id, By: "o", Outcome: customer.Satisfied}, at)
						closed = true
					}
				case 4:
					apply(&customer.ComplaintDeclined{ComplaintID: id, By: "o", Reason: "r"}, at)
					closed = true
				}
			}
		}
		for range 5 {
			now := base.Add(hour(rng.IntN(300)))
			type key struct {
				at time.Time
				id string
			}
			var want []key
			m.All(func(c complaints.Complaint) {
				if !c.Overdue(now) {
					return
				}
				k := key{at: time.Time{}, id: c.ID}
				if c.AcknowledgedAt == nil && now.After(c.ReplyDueAt) {
					k.at = c.ReplyDueAt
				}
				if c.PromisedReplyBy != nil && now.After(*c.PromisedReplyBy) && (c.LastOutboundAt == nil || c.EscalatedAt == nil || c.LastOutboundAt.Before(*c.EscalatedAt)) &&
					(k.at.IsZero() || c.PromisedReplyBy.Before(k.at)) {
					k.at = *c.PromisedReplyBy
				}
				want = append(want, k)
			})
			slices.SortFunc(want, func(a, b key) int {
				if c := a.at.Compare(b.at); c != 0 {
					return c
				}
				return cmpString(a.id, b.id)
			})
			yes := true
			page, _ := m.List(complaints.Filter{Overdue: &yes, Now: now}, "", 1000)
			var got []string
			for _, c := range page.Items {
				got = append(got, c.ID)
			}
			var wantIDs []string
			for _, k := range want {
				wantIDs = append(wantIDs, k.id)
			}
			if !slices.Equal(got, wantIDs) || page.Total != len(want) || m.OverdueCount(now) != len(want) {
				t.Fatalf("seed %d now %v:\n got %v (total %d, count %d)\nwant %v", seed, now, got, page.Total, m.OverdueCount(now), wantIDs)
			}
		}
	}
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
