package seed_test

import (
	"context"
	"testing"

	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/projections"
	"github.com/kefu-crm/kefu/projections/dupindex"
	"github.com/kefu-crm/kefu/seed"
)

// TestPlantedDuplicatesFound seeds a book with 5 % planted duplicates and
// measures the blind index's precision and recall at duplicateCandidates'
// default threshold (BENCHMARKS.md, "Duplicates' blind index"):
//
//	go test ./seed -run TestPlantedDuplicatesFound -v
func TestPlantedDuplicatesFound(t *testing.T) {
	cfg := config(t, 6000)
	cfg.Duplicates = 0.05
	x, err := dupindex.New(make([]byte, 32), dupindex.Options{GmailDots: true})
	if err != nil {
		t.Fatal(err)
	}
	planted := map[[2]string]bool{}
	_, err = seed.Generate(context.Background(), cfg, func(h seed.History) error {
		if seed.PlantedDuplicate(cfg, h.Index) {
			planted[[2]string{seed.CustomerID(h.Index - 1), h.CustomerID}] = true
		}
		for _, c := range h.Changes {
			ev := eventstore.Event{StreamID: "customer-" + h.CustomerID, Type: c.Event.EventType()}
			if x.Wants(ev.Type) {
				if err := x.Apply(context.Background(), projections.Decoded{Event: ev, Payload: c.Event}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(planted); n < 200 || n > 400 {
		t.Fatalf("%d planted pairs in 6,000 customers at 5 %%, want about 300", n)
	}
	found := 0
	cands := x.Candidates(0.5)
	for _, c := range cands {
		if planted[c.Customers] {
			found++
		}
	}
	precision, recall := float64(found)/float64(len(cands)), float64(found)/float64(len(planted))
	t.Logf("6,000 customers, %d planted pairs: %d candidates at the default threshold, %d of them planted — precision %.3f, recall %.3f", len(planted), len(cands), found, precision, recall)
	if precision < 0.9 || recall < 0.95 {
		t.Errorf("precision %.3f, recall %.3f: want at least 0.9 and 0.95", precision, recall)
	}
}
