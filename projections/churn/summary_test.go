package churn_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/kefu-crm/kefu/projections/churn"
)

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 12, 0, 0, 0, time.UTC) }

func TestSummaryFromPurchases(t *testing.T) {
	shanghai := time.FixedZone("CST", 8*3600)
	asOf := day(1997, 9, 30)
	tests := []struct {
		name      string
		purchases []time.Time
		asOf      time.Time
		unit      churn.Unit
		want      churn.Summary
		wantErr   error
	}{
		{
			name:      "one purchase: no repeats, age counted in days",
			purchases: []time.Time{day(1997, 9, 20)},
			asOf:      asOf, unit: churn.Day,
			want: churn.Summary{X: 0, Tx: 0, T: 10},
		},
		{
			name:      "repeat purchases count per distinct day",
			purchases: []time.Time{day(1997, 1, 1), day(1997, 1, 1).Add(3 * time.Hour), day(1997, 1, 18), day(1997, 8, 2), day(1997, 8, 2)},
			asOf:      asOf, unit: churn.Day,
			want: churn.Summary{X: 2, Tx: 213, T: 272},
		},
		{
			name:      "purchases after the as-of day are ignored, unsorted input",
			purchases: []time.Time{day(1997, 12, 12), day(1997, 8, 2), day(1997, 1, 18), day(1997, 1, 1)},
			asOf:      asOf, unit: churn.Week,
			want: churn.Summary{X: 2, Tx: 213.0 / 7, T: 272.0 / 7},
		},
		{
			name:      "a purchase on the as-of day counts",
			purchases: []time.Time{day(1997, 9, 1), day(1997, 9, 30)},
			asOf:      asOf, unit: churn.Day,
			want: churn.Summary{X: 1, Tx: 29, T: 29},
		},
		{
			name:      "same-day purchases as the first do not repeat",
			purchases: []time.Time{day(1997, 9, 1), day(1997, 9, 1).Add(time.Hour)},
			asOf:      asOf, unit: churn.Day,
			want: churn.Summary{X: 0, Tx: 0, T: 29},
		},
		{
			name: "days are calendar days in each instant's own location",
			// 23:30 and 00:30 UTC are on different days in UTC, on the
			// same day in Shanghai.
			purchases: []time.Time{
				time.Date(1997, 9, 1, 23, 0, 0, 0, shanghai),
				time.Date(1997, 9, 1, 15, 30, 0, 0, time.UTC).In(shanghai),
				time.Date(1997, 9, 2, 16, 30, 0, 0, time.UTC).In(shanghai),
			},
			asOf: time.Date(1997, 9, 10, 8, 0, 0, 0, shanghai), unit: churn.Day,
			want: churn.Summary{X: 1, Tx: 2, T: 9},
		},
		{
			name: "no purchases",
			asOf: asOf, unit: churn.Day,
			wantErr: churn.ErrNoPurchases,
		},
		{
			name:      "only purchases after the as-of day",
			purchases: []time.Time{day(1997, 10, 1)},
			asOf:      asOf, unit: churn.Day,
			wantErr: churn.ErrNoPurchases,
		},
		{
			name:      "invalid unit",
			purchases: []time.Time{day(1997, 9, 1)},
			asOf:      asOf,
			wantErr:   churn.ErrInvalidUnit,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := churn.SummaryFromPurchases(tt.purchases, tt.asOf, tt.unit)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
			if err == nil {
				if verr := got.Validate(); verr != nil {
					t.Errorf("summary does not validate: %v", verr)
				}
			}
		})
	}
}

func TestParseUnit(t *testing.T) {
	for _, tt := range []struct {
		in      string
		want    churn.Unit
		days    int
		wantErr error
	}{
		{"DAY", churn.Day, 1, nil},
		{"WEEK", churn.Week, 7, nil},
		{"week", 0, 0, churn.ErrInvalidUnit},
		{"", 0, 0, churn.ErrInvalidUnit},
	} {
		got, err := churn.ParseUnit(tt.in)
		if !errors.Is(err, tt.wantErr) || got != tt.want || got.Days() != tt.days {
			t.Errorf("ParseUnit(%q) = %v (%d days), %v", tt.in, got, got.Days(), err)
		}
		if err == nil && got.String() != tt.in {
			t.Errorf("String() = %q, want %q", got.String(), tt.in)
		}
	}
}

func ExampleSummaryFromPurchases() {
	asOf := time.Date(1997, 9, 30, 0, 0, 0, 0, time.UTC)
	purchases := []time.Time{day(1997, 1, 1), day(1997, 1, 1), day(1997, 1, 18), day(1997, 8, 2), day(1997, 12, 12)}
	s, err := churn.SummaryFromPurchases(purchases, asOf, churn.Week)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("x=%g t_x=%.2f T=%.2f\n", s.X, s.Tx, s.T)
	// Output: x=2 t_x=30.43 T=38.86
}

func ExampleFit() {
	// One Summary per customer with at least one purchase, all in one
	// unit (here days). simulate (sim_test.go) draws 5,000 customers from
	// a BG/NBD process with r=0.25, α=10, a=0.8, b=2.5.
	summaries := simulate(rand.New(rand.NewPCG(1, 1)), churn.Params{R: 0.25, Alpha: 10, A: 0.8, B: 2.5}, 5000, 365, false)

	m, err := churn.Fit(context.Background(), summaries, churn.FitOptions{})
	if err != nil {
		fmt.Println("fit:", err)
		return
	}
	fmt.Printf("%d customers, r=%.2f alpha=%.1f a=%.2f b=%.2f\n", m.Customers, m.R, m.Alpha, m.A, m.B)

	// Bought on 4 days after the first, last 10 days ago, customer for 200 days.
	s := churn.Summary{X: 4, Tx: 190, T: 200}
	fmt.Printf("P(alive) = %.3f, expected purchases in the next 90 days = %.3f\n", m.PAlive(s), m.ExpectedPurchases(s, 90))
	// Output:
	// 5000 customers, r=0.26 alpha=10.4 a=0.82 b=2.67
	// P(alive) = 0.849, expected purchases in the next 90 days = 1.386
}
