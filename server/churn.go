package server

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/kefu-crm/kefu/projections"
	"github.com/kefu-crm/kefu/projections/dupindex"
	"github.com/kefu-crm/kefu/projections/readmodels"
)

// churnFile is where the model in use is kept between runs, so a restart
// folds the log under it from the start instead of rebasing.
func (s *Server) churnFile() string { return filepath.Join(s.dir.CheckpointDir(), "churn-model.json") }

// refitChurn fits the book's model and, when it differs from the one in
// use, rebases the lifecycle on it (readmodels.Set.Refit), then keeps it.
func (s *Server) refitChurn(ctx context.Context) error {
	dec, err := readmodels.PlainDecoder()
	if err != nil {
		return err
	}
	r, err := s.Refit(ctx, s.dir.Store, dec, s.clock())
	switch {
	case err != nil:
		return err
	case r.Err != nil:
		s.log.Info("churn model not fitted yet", "customersWithPurchases", s.PurchaseDays.Customers(), "reason", r.Err)
		return nil
	case !r.Changed:
		return nil
	}
	m := r.Model
	s.log.Info("churn model refitted", "customers", m.Customers, "asOf", r.AsOf.Format(time.DateOnly), "r", m.R, "alpha", m.Alpha, "a", m.A, "b", m.B,
		"logLikelihood", m.LogLikelihood, "fit", r.Fit, "rebase", r.Took-r.Fit)
	if err := s.SaveChurn(s.churnFile()); err != nil {
		s.log.Warn("churn model not saved: the next start refits it", "err", err)
	}
	return nil
}

// refitPolicy is the server's refit policy (Config).
func (s *Server) refitPolicy() readmodels.RefitPolicy {
	return readmodels.RefitPolicy{Growth: s.cfg.ChurnRefitGrowth, Interval: s.cfg.ChurnRefitInterval}
}

// VerifyRebuild rebuilds every read model from zero into a fresh set, up
// to the position the live ones have applied, under the churn model in
// use, and compares digests (both sets moved to the same clock first).
// Call it when the log is quiet; it returns an error if the log moved.
func (s *Server) VerifyRebuild(ctx context.Context) ([]readmodels.DigestCheck, error) {
	head, err := s.dir.Store.Head(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.runtime.WaitFor(ctx, head); err != nil {
		return nil, err
	}
	fresh, err := readmodels.New(s.policy, nil)
	if err != nil {
		return nil, err
	}
	if err := fresh.Rebuild(ctx, s.dir.Store, s.decoder(), head, s.Churn.View()); err != nil {
		return nil, err
	}
	out := readmodels.Compare(s.Set, fresh, s.clock(), head)
	// The duplicates' blind index is a read model beside the set.
	if s.dupes != nil {
		key, err := s.dir.Keystore.Key(ctx, dupindex.KeySubject, false)
		if err != nil {
			return nil, err
		}
		idx, err := dupindex.New(key, s.dupes.Options())
		if err != nil {
			return nil, err
		}
		if err := projections.Rebuild(ctx, s.dir.Store, s.decoder(), head, idx); err != nil {
			return nil, err
		}
		out = append(out, readmodels.DigestCheck{Name: idx.Name(), Live: s.dupes.Digest(), Rebuilt: idx.Digest(), Position: head})
	}
	if h2, err := s.dir.Store.Head(ctx); err == nil && h2 != head {
		return out, fmt.Errorf("server: the log moved from %d to %d during the check; run it when the log is quiet", head, h2)
	}
	return out, nil
}
