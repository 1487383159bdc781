package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/kefu-crm/kefu/analytics"
	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/internal/datadir"
	"github.com/kefu-crm/kefu/internal/progress"
	"github.com/kefu-crm/kefu/projections/lifecycle"
	"github.com/kefu-crm/kefu/projections/readmodels"
	"github.com/kefu-crm/kefu/projections/transitions"
)

// replaySummary is the command table's line for replay.
const replaySummary = "rebuild every read model from the log and print stages, funnel and digests"

func runReplay(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "replay", "replay [--data DIR] [--until T] [--policy FILE]")
	data := fs.String("data", envDefault(e, "KEFU_DATA", "./kefu-data"), "data directory (env KEFU_DATA)")
	until := fs.String("until", "", "show the book as it stood at T (business time: events with occurredAt ≤ T), RFC 3339 or YYYY-MM-DD (00:00 UTC); default: as of the latest event")
	policyFile := fs.String("policy", "", "lifecycle policy JSON (fields left out keep their defaults), e.g. {\"silentAfterDays\": 45}")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := replayConfig(*until, *policyFile)
	if err != nil {
		return err
	}
	dir, err := datadir.Open(*data, datadir.Options{Logger: e.log, MustExist: true})
	if err != nil {
		return err
	}
	defer dir.Close()
	start := time.Now()
	book, err := replayBook(ctx, e, dir, cfg)
	if err != nil {
		return err
	}
	printBook(e.stdout, book, cfg, time.Since(start))
	return nil
}

func replayConfig(until, policyFile string) (analytics.ReplayConfig, error) {
	cfg := analytics.ReplayConfig{Policy: lifecycle.DefaultPolicy()}
	if until != "" {
		t, err := parseEnd(until, time.Time{})
		if err != nil {
			return cfg, fmt.Errorf("%w: --until: %v", errUsage, err)
		}
		cfg.Until = t
	}
	if policyFile != "" {
		f, err := os.Open(policyFile)
		if err != nil {
			return cfg, fmt.Errorf("%w: --policy: %v", errUsage, err)
		}
		defer f.Close()
		p, err := lifecycle.LoadPolicy(f)
		if err != nil {
			return cfg, fmt.Errorf("%w: --policy %s: %v", errUsage, policyFile, err)
		}
		cfg.Policy = p
	}
	return cfg, nil
}

// replayBook replays with a progress bar per pass on stderr.
// The store's file is checked beside the replay (which reads only the
// events): a damaged log is refused, never reported on.
func replayBook(ctx context.Context, e *env, dir *datadir.Dir, cfg analytics.ReplayConfig) (*analytics.Book, error) {
	verified := make(chan error, 1)
	go func() { verified <- dir.Verify(ctx) }()
	book, err := replayLog(ctx, e, dir.Store, cfg)
	if verr := <-verified; verr != nil {
		return nil, verr
	}
	return book, err
}

func replayLog(ctx context.Context, e *env, store eventstore.Store, cfg analytics.ReplayConfig) (*analytics.Book, error) {
	dec, err := readmodels.PlainDecoder()
	if err != nil {
		return nil, err
	}
	head, err := store.Head(ctx)
	if err != nil {
		return nil, err
	}
	var bar *progress.Bar
	pass, last := 0, eventstore.Position(0)
	cfg.Progress = func(p int, pos eventstore.Position) {
		if p != pass {
			if bar != nil {
				bar.Finish()
			}
			label := "replay: purchases"
			if p == 2 {
				label = "replay: read models"
			}
			bar = progress.New(e.stderr, label, int64(head), "events")
			pass, last = p, 0
		}
		if pos > last {
			bar.Add(int64(pos - last))
			last = pos
		}
	}
	book, err := analytics.Replay(ctx, store, dec, cfg)
	if bar != nil {
		if pos := head; pos > last {
			bar.Add(int64(pos - last))
		}
		bar.Finish()
	}
	return book, err
}

func printBook(w io.Writer, b *analytics.Book, cfg analytics.ReplayConfig, took time.Duration) {
	policy := cfg.Policy
	fmt.Fprintf(w, "replayed %d customer events (log head %d) in %s, as of %s%s\n", b.Events, b.Head, took.Round(time.Millisecond), b.AsOf.UTC().Format(time.RFC3339), asOfNote(cfg))
	fmt.Fprintf(w, "policy: silent after %d days, lost after %d more, loyal at %d purchase days in %d, dormant below P(alive) %.2f\n",
		policy.SilentAfterDays, policy.LostAfterSilentDays, policy.LoyalPurchaseDays, policy.LoyalWindowDays, policy.DormantBelowPAlive)
	counts := b.Lifecycle.Counts()
	total := 0
	for _, s := range lifecycle.Stages() {
		total += counts[s]
	}
	fmt.Fprintf(w, "\nstage populations (%d customers)\n", total)
	for _, s := range lifecycle.Stages() {
		fmt.Fprintf(w, "  %-12s %8d  %5.1f%%\n", s, counts[s], pct(counts[s], total))
	}
	f := b.Transitions.Funnel(time.Time{}, time.Time{})
	fmt.Fprintf(w, "\nfunnel (customers who complained, then …)\n")
	fmt.Fprintf(w, "  complained   %8d\n", f.Complained)
	fmt.Fprintf(w, "  went silent  %8d  %5.1f%% of complainers   median %s after the complaint\n", f.WentSilent, pct(f.WentSilent, f.Complained), medianText(f.DaysToSilent))
	fmt.Fprintf(w, "  lost         %8d  %5.1f%% of the silent    median %s after going silent\n", f.Lost, pct(f.Lost, f.WentSilent), medianText(f.DaysToLost))
	fmt.Fprintf(w, "  won back     %8d  %5.1f%% of the lost      median %s after being lost\n", f.WonBack, pct(f.WonBack, f.Lost), medianText(f.DaysToWinBack))
	if rate, closed, ok := b.RecoveryRate(); ok {
		fmt.Fprintf(w, "\nrecovery rate: %.1f%% of %d closed complaints resolved SATISFIED\n", 100*rate, closed)
	} else {
		fmt.Fprintf(w, "\nrecovery rate: no closed complaint\n")
	}
	if m := b.Model; m != nil {
		fmt.Fprintf(w, "churn model: BG/NBD (days) r=%.4g α=%.4g a=%.4g b=%.4g on %d customers\n", m.R, m.Alpha, m.A, m.B, m.Customers)
	} else {
		fmt.Fprintf(w, "churn model: none (%v)\n", b.ModelErr)
	}
	d := b.Digest()
	fmt.Fprintf(w, "\ndigests (sha256)\n")
	for _, kv := range [][2]string{{"lifecycle", d.Lifecycle}, {"loyalty", d.Loyalty}, {"complaints", d.Complaints}, {"followups", d.FollowUps}, {"transitions", d.Transitions}} {
		fmt.Fprintf(w, "  %-12s %s\n", kv[0], kv[1])
	}
	fmt.Fprintf(w, "  %-12s %s\n", "all", d.All)
}

// asOfNote says where the book's instant came from.
func asOfNote(cfg analytics.ReplayConfig) string {
	if cfg.Until.IsZero() {
		return " (the latest event in the log; --until T for another instant)"
	}
	return " (--until)"
}

func pct(n, of int) float64 {
	if of == 0 {
		return 0
	}
	return 100 * float64(n) / float64(of)
}

func medianText(m transitions.Median) string {
	if !m.OK {
		return "—"
	}
	return strings.TrimSuffix(fmt.Sprintf("%.1f days", m.Days), "")
}
