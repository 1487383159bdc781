package servicereport_test

import (
	"math"
	"slices"
	"testing"
	"time"

	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/projections/complaints"
	"github.com/kefu-crm/kefu/projections/followups"
	"github.com/kefu-crm/kefu/projections/servicereport"
)

var cst = time.FixedZone("CST", 8*3600)

func at(day, hour, min int) time.Time { return time.Date(2025, 3, day, hour, min, 0, 0, cst) }

func p[T any](v T) *T { return &v }

// The worked example of a week, 2025-03-03 to 2025-03-10, read at
// 2025-03-10 12:00. Every number is computed by hand in the comments.
func TestComputeWorkedExample(t *testing.T) {
	sat, unsat := customer.Satisfied, customer.Unsatisfied
	cs := []complaints.Complaint{
		// A: replied 11:00 ≤ 14:30 (met); resolved in 24h, first contact, SATISFIED.
		{ID: "A", Category: "delivery", Severity: customer.SeverityGeneral, Status: complaints.Resolved, FiledAt: at(4, 10, 0), ReplyDueAt: at(4, 14, 30),
			AcknowledgedAt: p(at(4, 11, 0)), ResolvedAt: p(at(5, 10, 0)), Outcome: &sat},
		// B: replied 15:00 > 13:30 (missed); resolved in 48h with a repeat contact, UNSATISFIED.
		{ID: "B", Category: "delivery", Severity: customer.SeverityMajor, Status: complaints.Resolved, FiledAt: at(5, 9, 0), ReplyDueAt: at(5, 13, 30),
			AcknowledgedAt: p(at(5, 15, 0)), ResolvedAt: p(at(7, 9, 0)), Outcome: &unsat, RepeatContacts: 1},
		// C: declined at 12:00 without acknowledgement: the decline is the reply (met).
		{ID: "C", Category: "billing", Severity: customer.SeverityGeneral, Status: complaints.Declined, FiledAt: at(6, 10, 0), ReplyDueAt: at(6, 14, 30),
			DeclinedAt: p(at(6, 12, 0))},
		// D: due Monday 12:30, unanswered at 12:00: not counted for the SLA yet, not overdue.
		{ID: "D", Category: "billing", Severity: customer.SeverityGeneral, Status: complaints.Open, FiledAt: at(9, 17, 0), ReplyDueAt: at(10, 12, 30)},
		// E: filed before the period, resolved in it after 16 days (384h), reopened once: not first contact.
		{ID: "E", Category: "delivery", Severity: customer.SeverityGeneral, Status: complaints.Resolved, FiledAt: time.Date(2025, 2, 20, 10, 0, 0, 0, cst),
			ReplyDueAt: time.Date(2025, 2, 20, 14, 30, 0, 0, cst), AcknowledgedAt: p(time.Date(2025, 2, 20, 11, 0, 0, 0, cst)), ResolvedAt: p(at(8, 10, 0)), Outcome: &sat, Reopened: 1},
		// F: filed before the period, never answered: overdue now.
		{ID: "F", Category: "quality", Severity: customer.SeverityGeneral, Status: complaints.Open, FiledAt: time.Date(2025, 2, 25, 10, 0, 0, 0, cst),
			ReplyDueAt: time.Date(2025, 2, 25, 14, 30, 0, 0, cst)},
		// G: never answered, past due (missed) and overdue now.
		{ID: "G", Category: "quality", Severity: customer.SeverityGeneral, Status: complaints.Open, FiledAt: at(8, 10, 0), ReplyDueAt: at(8, 14, 30)},
	}
	fs := []followups.FollowUp{
		{ID: "f1", DueAt: at(4, 9, 0), Status: followups.Done},
		{ID: "f2", DueAt: at(6, 9, 0), Status: followups.Due},
		{ID: "f3", DueAt: at(7, 9, 0), Status: followups.Cancelled}, // not counted
		{ID: "f4", DueAt: at(12, 9, 0), Status: followups.Done},     // after the period
		{ID: "f5", DueAt: at(9, 9, 0), Status: followups.Done},
	}
	ss := []servicereport.Survey{
		{Score: 5, At: at(5, 12, 0)},
		{Score: 2, At: at(7, 12, 0)},
		{Score: 5, At: at(10, 1, 0)}, // after the period
		{Score: 4, At: at(3, 0, 0)},  // the period's first instant: in
	}
	r := servicereport.Compute(servicereport.Input{From: at(3, 0, 0), To: at(10, 0, 0), Now: at(10, 12, 0), Complaints: cs, FollowUps: fs, Surveys: ss})

	if r.Complaints != 5 { // A B C D G
		t.Errorf("Complaints = %d, want 5", r.Complaints)
	}
	if want := []servicereport.KeyCount{{"billing", 2}, {"delivery", 2}, {"quality", 1}}; !slices.Equal(r.ByCategory, want) {
		t.Errorf("ByCategory = %v, want %v", r.ByCategory, want)
	}
	if want := []servicereport.KeyCount{{"GENERAL", 4}, {"MAJOR", 1}}; !slices.Equal(r.BySeverity, want) {
		t.Errorf("BySeverity = %v, want %v", r.BySeverity, want)
	}
	checkPct(t, "SLAMetPercent", r.SLAMetPercent, 50)                                      // A, C of A B C G
	checkPct(t, "FirstContactResolutionPercent", r.FirstContactResolutionPercent, 100.0/3) // A of A B E
	if r.MedianTimeToResolution == nil || *r.MedianTimeToResolution != 48*time.Hour {      // 24h 48h 384h
		t.Errorf("MedianTimeToResolution = %v, want 48h", r.MedianTimeToResolution)
	}
	if r.FollowUpsDue != 3 || r.FollowUpsCompleted != 2 { // f1 f2 f5; f1 f5
		t.Errorf("follow-ups due/completed = %d/%d, want 3/2", r.FollowUpsDue, r.FollowUpsCompleted)
	}
	checkPct(t, "FollowUpCompletionPercent", r.FollowUpCompletionPercent, 200.0/3)
	checkPct(t, "SatisfactionPercent", r.SatisfactionPercent, 200.0/3) // (A E) + (5 4) of 3 resolutions + 3 surveys
	if r.Declined != 1 {
		t.Errorf("Declined = %d, want 1", r.Declined)
	}
	if r.OverdueNow != 2 { // F G
		t.Errorf("OverdueNow = %d, want 2", r.OverdueNow)
	}
}

func TestComputeEmptyAndEvenMedian(t *testing.T) {
	r := servicereport.Compute(servicereport.Input{From: at(3, 0, 0), To: at(10, 0, 0), Now: at(10, 0, 0)})
	if r.SLAMetPercent != nil || r.FirstContactResolutionPercent != nil || r.MedianTimeToResolution != nil ||
		r.FollowUpCompletionPercent != nil || r.SatisfactionPercent != nil || r.Complaints != 0 || len(r.ByCategory) != 0 {
		t.Fatalf("empty period: %+v, want zero counts and nil percentages", r)
	}
	sat := customer.Satisfied
	cs := []complaints.Complaint{
		{ID: "a", FiledAt: at(4, 0, 0), ReplyDueAt: at(4, 4, 0), AcknowledgedAt: p(at(4, 1, 0)), ResolvedAt: p(at(4, 10, 0)), Outcome: &sat, Status: complaints.Resolved},
		{ID: "b", FiledAt: at(4, 0, 0), ReplyDueAt: at(4, 4, 0), AcknowledgedAt: p(at(4, 1, 0)), ResolvedAt: p(at(5, 0, 0)), Outcome: &sat, Status: complaints.Resolved},
	}
	r = servicereport.Compute(servicereport.Input{From: at(3, 0, 0), To: at(10, 0, 0), Now: at(10, 0, 0), Complaints: cs})
	if r.MedianTimeToResolution == nil || *r.MedianTimeToResolution != 17*time.Hour { // (10h + 24h) / 2
		t.Fatalf("median of 10h and 24h = %v, want 17h", r.MedianTimeToResolution)
	}
}

func checkPct(t *testing.T, name string, got *float64, want float64) {
	t.Helper()
	if got == nil || math.Abs(*got-want) > 1e-9 {
		t.Errorf("%s = %v, want %.4f", name, deref(got), want)
	}
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

func TestSurveysAndBuild(t *testing.T) {
	s := servicereport.NewSurveys()
	c := complaints.New()
	f := followups.New()
	pos := eventstore.Position(0)
	apply := func(stream string, e customer.Event, when time.Time) {
		pos++
		ev := eventstore.Event{StreamID: stream, Position: pos, OccurredAt: when, Type: e.EventType()}
		s.Apply(ev, e)
		c.Apply(ev, e)
		f.Apply(ev, e)
	}
	apply("customer-c1", &customer.ComplaintFiled{ComplaintID: "k1", Category: "delivery", Severity: customer.SeverityGeneral, Owner: "li", ReplyDueAt: at(4, 14, 30)}, at(4, 10, 0))
	apply("customer-c1", &customer.ComplaintAcknowledged{ComplaintID: "k1", By: "li"}, at(4, 11, 0))
	apply("customer-c1", &customer.ComplaintResolved{ComplaintID: "k1", By: "li", Outcome: customer.Satisfied}, at(5, 11, 0))
	apply("customer-c1", &customer.SatisfactionRecorded{Score: 3, ComplaintID: "k1"}, at(6, 0, 0))
	apply("customer-c1", &customer.SatisfactionRecorded{Score: 5, ComplaintID: "k1"}, at(5, 12, 0)) // backfilled: earlier business time
	apply("customer-c1", &customer.FollowUpScheduled{FollowUpID: "fu-k1-1", ComplaintID: "k1", Reason: customer.ReasonRecovery, Owner: "li", DueAt: at(8, 11, 0)}, at(5, 11, 1))
	apply("customer-c1", &customer.SatisfactionRecorded{Score: 1}, at(12, 0, 0))
	s.Apply(eventstore.Event{StreamID: "customer-c1", Position: 1, OccurredAt: at(6, 0, 0)}, &customer.SatisfactionRecorded{Score: 1}) // re-delivery: ignored

	got := s.Between(at(5, 0, 0), at(6, 0, 0))
	if len(got) != 1 || got[0].Score != 5 {
		t.Fatalf("Between(5th, 6th) = %v, want the score 5 only ([from, to))", got)
	}
	if all := s.Between(at(1, 0, 0), at(31, 0, 0)); len(all) != 3 || all[0].Score != 5 || all[1].Score != 3 || all[2].Score != 1 {
		t.Fatalf("Between(all) = %v, want 5, 3, 1 in business-time order", all)
	}
	r := servicereport.Build(at(3, 0, 0), at(10, 0, 0), at(10, 0, 0), c, f, s)
	if r.Complaints != 1 || r.FollowUpsDue != 1 || r.FollowUpsCompleted != 0 {
		t.Fatalf("Build: %+v", r)
	}
	checkPct(t, "SLAMetPercent", r.SLAMetPercent, 100)
	checkPct(t, "SatisfactionPercent", r.SatisfactionPercent, 200.0/3) // SATISFIED + 5 of 1 resolution + 2 surveys
	checkPct(t, "FollowUpCompletionPercent", r.FollowUpCompletionPercent, 0)
}
