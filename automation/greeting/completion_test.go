package greeting_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kefu-crm/kefu/domain/campaign"
	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/eventstore/memstore"
)

// failOnce fails the first append that carries a GreetingCampaignCompleted
// record, as a crash or shutdown at that moment would.
type failOnce struct {
	eventstore.Store
	failed atomic.Bool
}

func (f *failOnce) Append(ctx context.Context, s string, exp eventstore.Expected, recs ...eventstore.Record) (eventstore.AppendResult, error) {
	for _, r := range recs {
		if r.Type == "GreetingCampaignCompleted" && f.failed.CompareAndSwap(false, true) {
			return eventstore.AppendResult{}, context.DeadlineExceeded // e.g. crash/shutdown between the two appends
		}
	}
	return f.Store.Append(ctx, s, exp, recs...)
}

// When nobody was due, Started and Completed are recorded together; a
// failure then must not leave the campaign RUNNING forever (the two were
// appended separately, and the retry's Completed reused the stored
// Started's event ID, so the store took it for a retry and wrote nothing).
func TestCompletionSurvivesAFailedAppend(t *testing.T) {
	st := &failOnce{Store: memstore.New(memstore.Options{})}
	e := newEnv(t, st)
	// nobody in the directory: complete() must Start+Complete together
	id := schedule(t, e.ctx, e.svc, nil)
	d := e.dispatcher(t, &recorder{}, id)
	late := time.Date(2025, 2, 10, 0, 0, 0, 0, time.UTC)
	if err := d.Tick(e.ctx, late); err == nil {
		t.Fatal("the first tick hid the failed append")
	}
	for i := range 3 {
		_ = d.Tick(e.ctx, late.Add(time.Duration(i+1)*time.Minute))
	}
	s, _ := campaignStatus(t, e, id)
	if s != campaign.StatusCompleted {
		t.Fatalf("campaign status %s after retries, want COMPLETED", s)
	}
}
