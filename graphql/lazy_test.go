package graphql_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/kefu-crm/kefu/graphql"
)

// TestCustomerDetailsAreLazy checks that a view's Details and PAliveFn
// loaders are what the stage, stageSince, stageHistory and loyalty fields
// show, that they run only when one of those fields is selected (once per
// selected field: remembering the answer is the reader's business), and
// that their errors reach the client with their code.
func TestCustomerDetailsAreLazy(t *testing.T) {
	s := newServer(t, graphql.HandlerConfig{})
	var details, palive atomic.Int32
	p := 0.25
	lazy := graphql.CustomerView{ID: "lz", Tier: "STANDARD", Timezone: "UTC", Locale: "en", RegisteredAt: t0, Version: 4,
		// Eager fields that must not be shown when a loader is set.
		Stage: "LOST", Loyalty: graphql.LoyaltyView{Score: 99, Level: "ADVOCATE"}}
	lazy.Details = func(context.Context) (graphql.CustomerDetails, error) {
		details.Add(1)
		return graphql.CustomerDetails{Stage: "ACTIVE", StageSince: t0,
			StageHistory: []graphql.StageChangeView{{To: "NEW", At: t0, Reason: "registered"}, {From: sp("NEW"), To: "ACTIVE", At: t0, Reason: "PurchaseRecorded"}},
			Loyalty: graphql.LoyaltyView{Score: 12, Level: "REPEAT", PAliveFn: func(context.Context) (*float64, error) {
				palive.Add(1)
				return &p, nil
			}}}, nil
	}
	broken := graphql.CustomerView{ID: "br", Tier: "STANDARD", Timezone: "UTC", Locale: "en", RegisteredAt: t0,
		Details: func(context.Context) (graphql.CustomerDetails, error) {
			return graphql.CustomerDetails{}, fmt.Errorf("stream gone: %w", graphql.ErrNotFound)
		}}
	s.fake.mu.Lock()
	s.fake.customers["lz"], s.fake.customers["br"] = lazy, broken
	s.fake.mu.Unlock()

	tests := []struct {
		name            string
		query           string
		details, pAlive int32
		want            map[string]any // path "a.b" under customer → value
		wantErrorCode   string
	}{
		{name: "cheap fields only", query: `{ customer(id: "lz") { id version tier } }`,
			want: map[string]any{"id": "lz", "version": 4.0, "tier": "STANDARD"}},
		{name: "stage", query: `{ customer(id: "lz") { stage stageSince } }`, details: 2, // once per field: the reader memoizes
			want: map[string]any{"stage": "ACTIVE", "stageSince": "2025-03-04T10:00:00+08:00"}},
		{name: "loyalty without pAlive", query: `{ customer(id: "lz") { loyalty { score level } } }`, details: 1,
			want: map[string]any{"loyalty.score": 12.0, "loyalty.level": "REPEAT"}},
		{name: "loyalty with pAlive", query: `{ customer(id: "lz") { loyalty { pAlive } } }`, details: 1, pAlive: 1,
			want: map[string]any{"loyalty.pAlive": 0.25}},
		{name: "history", query: `{ customer(id: "lz") { stageHistory { from to } } }`, details: 1,
			want: map[string]any{"stageHistory.1.from": "NEW", "stageHistory.1.to": "ACTIVE", "stageHistory.0.from": nil}},
		{name: "loader error", query: `{ customer(id: "br") { id stage } }`, wantErrorCode: "NOT_FOUND"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			details.Store(0)
			palive.Store(0)
			r := s.post(t, "", tt.query, nil)
			if tt.wantErrorCode != "" {
				if codes := r.codes(); len(codes) != 1 || codes[0] != tt.wantErrorCode {
					t.Fatalf("codes %v, want [%s]: %s", codes, tt.wantErrorCode, r.Raw)
				}
				return
			}
			if len(r.Errors) > 0 {
				t.Fatalf("errors: %s", r.Raw)
			}
			for path, want := range tt.want {
				keys := append([]any{"customer"}, splitPath(path)...)
				if got := at(r.Data, keys...); got != want {
					t.Errorf("%s = %v, want %v (%s)", path, got, want, r.Raw)
				}
			}
			if got := details.Load(); got != tt.details {
				t.Errorf("Details called %d times, want %d", got, tt.details)
			}
			if got := palive.Load(); got != tt.pAlive {
				t.Errorf("PAliveFn called %d times, want %d", got, tt.pAlive)
			}
		})
	}
}

// splitPath splits "a.0.b" into keys for at: numbers become indexes.
func splitPath(path string) []any {
	var out []any
	start := 0
	for i := 0; i <= len(path); i++ {
		if i < len(path) && path[i] != '.' {
			continue
		}
		k := path[start:i]
		n, isNum := 0, k != ""
		for _, c := range k {
			if c < '0' || c > '9' {
				isNum = false
				break
			}
			n = n*10 + int(c-'0')
		}
		if isNum {
			out = append(out, n)
		} else {
			out = append(out, k)
		}
		start = i + 1
	}
	return out
}
