package query

import (
	"context"
	"errors"
	"time"

	"github.com/kefu-crm/kefu/domain/aggregate"
	"github.com/kefu-crm/kefu/projections/churn"
	"github.com/kefu-crm/kefu/projections/lifecycle"
	"github.com/kefu-crm/kefu/projections/servicereport"
	"github.com/kefu-crm/kefu/projections/transitions"
)

func (h Analytics) ChurnModel(ctx context.Context, asOf *time.Time, unit string) (ChurnModel, error) {
	now := h.clock()
	t := now
	if asOf != nil {
		if asOf.After(now) {
			return ChurnModel{}, &aggregate.InvalidInputError{Field: "asOf", Reason: "is in the future"}
		}
		t = *asOf
	}
	m, err := h.PurchaseDays.FitAt(ctx, t, unit)
	switch {
	case errors.Is(err, churn.ErrInvalidUnit):
		return ChurnModel{}, &aggregate.InvalidInputError{Field: "unit", Reason: err.Error()}
	case errors.Is(err, churn.ErrNoModel):
		return ChurnModel{}, &aggregate.PreconditionError{Action: "fit the churn model", Reason: err.Error()}
	case err != nil:
		return ChurnModel{}, err
	}
	return ChurnModel{Unit: m.Unit.String(), AsOf: m.AsOf, Customers: m.Customers, R: m.R, Alpha: m.Alpha, A: m.A, B: m.B, LogLikelihood: m.LogLikelihood}, nil
}

// loadLocation loads an IANA zone (cached by the time package).
func loadLocation(name string) (*time.Location, error) { return time.LoadLocation(name) }

func (h Analytics) LifecycleReport(ctx context.Context, from, to time.Time, bucket string) (LifecycleReport, error) {
	b, err := transitions.ParseBucket(bucket)
	if err != nil {
		return LifecycleReport{}, &aggregate.InvalidInputError{Field: "bucket", Reason: err.Error()}
	}
	// Time-driven changes up to now are recorded as the clock moves them.
	h.AdvanceLifecycle(h.clock())
	// Buckets follow the calendar of the offset the caller wrote `from`
	// in: "2025-01-01T00:00:00+08:00" asks for Beijing months.
	r, err := h.Transitions.LifecycleReport(from, to, b, transitions.ReportOptions{Location: from.Location()})
	if err != nil {
		return LifecycleReport{}, &aggregate.InvalidInputError{Field: "from", Reason: err.Error()}
	}
	var v LifecycleReport
	for _, br := range r.Buckets {
		bv := LifecycleBucket{Start: br.Start}
		for _, st := range lifecycle.Stages() {
			bv.Population = append(bv.Population, StageCount{Stage: st.String(), Count: br.Population[st]})
		}
		for _, tc := range br.Transitions {
			t := TransitionCount{To: tc.To.String(), Count: tc.Count}
			if tc.From != lifecycle.StageNone {
				f := tc.From.String()
				t.From = &f
			}
			bv.Transitions = append(bv.Transitions, t)
		}
		v.Buckets = append(v.Buckets, bv)
	}
	return v, nil
}

func (h Analytics) ServiceReport(ctx context.Context, from, to time.Time) (ServiceReport, error) {
	if !to.After(from) {
		return ServiceReport{}, &aggregate.InvalidInputError{Field: "to", Reason: "must be after from"}
	}
	return servicereport.Build(from, to, h.clock(), h.Complaints, h.FollowUps, h.Surveys), nil
}
