// Package servicereport computes the manager's service report (issue 5 §4,
// the daily or weekly summary the material asks a manager to receive) from
// the complaints and follow-ups read models, plus the satisfaction surveys
// it keeps itself (Surveys: the complaints read model does not hold survey
// scores).
//
// Compute is a pure function of its Input, so the report is tested on
// hand-computed examples and any caller (the API, a CLI export) gets the
// same numbers. Build gathers the Input from the live read models.
//
// Definitions, for a period [From, To) evaluated at Now:
//
//   - Complaints, ByCategory, BySeverity: complaints filed in the period.
//   - SLAMetPercent: of the complaints filed in the period whose reply
//     deadline is decided — replied to, or replyDueAt already passed at Now
//     — the share first replied to by replyDueAt. The first reply is the
//     acknowledgement, or the decline for a complaint declined without one.
//     A complaint still inside its deadline and unanswered is not counted
//     yet.
//   - FirstContactResolutionPercent: of the complaints resolved in the
//     period, the share with no repeat contact (no inbound contact while
//     open) and never reopened.
//   - MedianTimeToResolution: median of resolvedAt − filedAt over the
//     complaints resolved in the period (mean of the middle two for an
//     even count).
//   - FollowUpsDue, FollowUpsCompleted, FollowUpCompletionPercent (回访率):
//     follow-ups due in the period and not cancelled; of those, the ones
//     DONE (whatever the outcome: the call was made).
//   - SatisfactionPercent: SATISFIED resolutions in the period plus surveys
//     in the period scoring ≥ 4, over all resolutions plus all surveys in
//     the period.
//   - Declined: complaints declined in the period.
//   - OverdueNow: complaints overdue at Now, whenever filed.
//
// Percentages are 0–100 and nil when their denominator is zero. A
// reopened complaint counts with its current state (the read model keeps
// no earlier resolution).
package servicereport

import (
	"cmp"
	"slices"
	"time"

	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/projections/complaints"
	"github.com/kefu-crm/kefu/projections/followups"
)

// Survey is one satisfaction survey answer.
type Survey struct {
	CustomerID  string
	ComplaintID string // "" when not about a complaint
	Score       int
	At          time.Time
}

// Input is everything Compute needs.
type Input struct {
	From, To, Now time.Time
	Complaints    []complaints.Complaint
	FollowUps     []followups.FollowUp
	Surveys       []Survey
}

// KeyCount counts items sharing a key.
type KeyCount struct {
	Key   string
	Count int
}

// Report is the service report.
type Report struct {
	From, To                      time.Time
	Complaints                    int
	ByCategory                    []KeyCount // count descending, then key
	BySeverity                    []KeyCount
	SLAMetPercent                 *float64
	FirstContactResolutionPercent *float64
	MedianTimeToResolution        *time.Duration
	FollowUpsDue                  int
	FollowUpsCompleted            int
	FollowUpCompletionPercent     *float64
	SatisfactionPercent           *float64
	Declined                      int
	OverdueNow                    int
}

// Compute builds the report. See the package documentation for the
// definitions.
func Compute(in Input) Report {
	r := Report{From: in.From, To: in.To}
	in2 := func(t time.Time) bool { return !t.Before(in.From) && t.Before(in.To) }
	byCat, bySev := map[string]int{}, map[string]int{}
	var slaMet, slaAll, fcr, resolved, satisfied, surveyed, happy int
	var ttr []time.Duration
	for i := range in.Complaints {
		c := &in.Complaints[i]
		if c.Overdue(in.Now) {
			r.OverdueNow++
		}
		if c.DeclinedAt != nil && in2(*c.DeclinedAt) {
			r.Declined++
		}
		if in2(c.FiledAt) {
			r.Complaints++
			byCat[c.Category]++
			bySev[c.Severity.String()]++
			reply := c.AcknowledgedAt
			if reply == nil {
				reply = c.DeclinedAt
			}
			switch {
			case reply != nil:
				slaAll++
				if !reply.After(c.ReplyDueAt) {
					slaMet++
				}
			case in.Now.After(c.ReplyDueAt):
				slaAll++
			}
		}
		if c.ResolvedAt != nil && in2(*c.ResolvedAt) {
			resolved++
			if c.RepeatContacts == 0 && c.Reopened == 0 {
				fcr++
			}
			if c.Outcome != nil && *c.Outcome == customer.Satisfied {
				satisfied++
			}
			ttr = append(ttr, c.ResolvedAt.Sub(c.FiledAt))
		}
	}
	for _, f := range in.FollowUps {
		if f.Status == followups.Cancelled || !in2(f.DueAt) {
			continue
		}
		r.FollowUpsDue++
		if f.Status == followups.Done {
			r.FollowUpsCompleted++
		}
	}
	for _, s := range in.Surveys {
		if !in2(s.At) {
			continue
		}
		surveyed++
		if s.Score >= 4 {
			happy++
		}
	}
	r.ByCategory, r.BySeverity = counts(byCat), counts(bySev)
	r.SLAMetPercent = percent(slaMet, slaAll)
	r.FirstContactResolutionPercent = percent(fcr, resolved)
	r.FollowUpCompletionPercent = percent(r.FollowUpsCompleted, r.FollowUpsDue)
	r.SatisfactionPercent = percent(satisfied+happy, resolved+surveyed)
	if n := len(ttr); n > 0 {
		slices.Sort(ttr)
		m := ttr[n/2]
		if n%2 == 0 {
			m = ttr[n/2-1] + (ttr[n/2]-ttr[n/2-1])/2
		}
		r.MedianTimeToResolution = &m
	}
	return r
}

func percent(n, d int) *float64 {
	if d == 0 {
		return nil
	}
	p := 100 * float64(n) / float64(d)
	return &p
}

func counts(m map[string]int) []KeyCount {
	out := make([]KeyCount, 0, len(m))
	for k, n := range m {
		out = append(out, KeyCount{k, n})
	}
	slices.SortFunc(out, func(a, b KeyCount) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		return cmp.Compare(a.Key, b.Key)
	})
	return out
}

// Build gathers the Input from the live read models and computes the
// report. The models are read one after the other, each under its own
// lock, so under concurrent writes the parts may reflect slightly
// different positions.
func Build(from, to, now time.Time, c *complaints.Model, f *followups.Model, s *Surveys) Report {
	in := Input{From: from, To: to, Now: now}
	c.All(func(x complaints.Complaint) { in.Complaints = append(in.Complaints, x) })
	f.All(func(x followups.FollowUp) {
		if !x.DueAt.Before(from) && x.DueAt.Before(to) {
			in.FollowUps = append(in.FollowUps, x)
		}
	})
	if s != nil {
		in.Surveys = s.Between(from, to)
	}
	return Compute(in)
}
