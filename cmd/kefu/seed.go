package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/kefu-crm/kefu/domain/calendar"
	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/internal/datadir"
	"github.com/kefu-crm/kefu/internal/durable"
	"github.com/kefu-crm/kefu/internal/progress"
	"github.com/kefu-crm/kefu/seed"
)

func runSeed(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "seed", "seed [--data DIR] [--customers N] [--seed S] [--end T] [--duplicates RATE]")
	data := fs.String("data", envDefault(e, "KEFU_DATA", "./kefu-data"), "data directory (env KEFU_DATA)")
	n := fs.Int("customers", 1000, "number of customers to generate")
	s := fs.Uint64("seed", 1, "random seed: the same seed writes the same history")
	end := fs.String("end", "", "end of the simulated history, RFC 3339 or YYYY-MM-DD (default: today 00:00 UTC)")
	years := fs.Float64("years", 2, "how many years of history before --end")
	workers := fs.Int("workers", 8, "concurrent writers")
	dupes := fs.Float64("duplicates", 0, "fraction of customers (0…0.5) registered a second time as a planted duplicate of the customer before them (same name, one detail in common), to try duplicateCandidates and mergeCustomers on")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *dupes < 0 || *dupes > 0.5 {
		return fmt.Errorf("%w: --duplicates %v: want a fraction from 0 to 0.5", errUsage, *dupes)
	}
	endAt, err := parseEnd(*end, time.Now())
	if err != nil {
		return fmt.Errorf("%w: --end: %v", errUsage, err)
	}
	if *n < 1 {
		return fmt.Errorf("%w: --customers must be at least 1", errUsage)
	}
	dir, err := datadir.Open(*data, datadir.Options{Logger: e.log})
	if err != nil {
		return err
	}
	defer dir.Close()
	cfg := seedConfig(*n, *s, endAt, *years)
	cfg.Duplicates = *dupes
	sum, took, err := seedInto(ctx, e, dir, cfg, *workers)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "seeded %s in %s (%.0f events/s)\n", *data, took.Round(time.Millisecond), float64(sum.Events)/took.Seconds())
	printSummary(e, sum)
	return nil
}

func seedConfig(customers int, s uint64, end time.Time, years float64) seed.Config {
	return seed.Config{Customers: customers, Seed: s, End: end, Years: years}
}

// seedMarker is the file, in the data directory, that says a seed is being
// written: it is created before the first event is appended and removed
// after the last, and holds the configuration so an interrupted seed can be
// resumed with exactly the same one (Write is idempotent for the customers
// already written).
const seedMarker = "seeding.json"

// seedState is what the marker records.
type seedState struct {
	Customers int       `json:"customers"`
	Seed      uint64    `json:"seed"`
	End       time.Time `json:"end"`
	Years     float64   `json:"years"`
	// Duplicates is Config.Duplicates (absent: none).
	Duplicates float64 `json:"duplicates,omitempty"`
}

func (s seedState) config() seed.Config {
	c := seedConfig(s.Customers, s.Seed, s.End, s.Years)
	c.Duplicates = s.Duplicates
	return c
}

// interruptedSeed returns the configuration of a seed that was started in
// path and did not finish, or ok=false.
func interruptedSeed(path string) (seedState, bool, error) {
	b, err := os.ReadFile(filepath.Join(path, seedMarker))
	if errors.Is(err, os.ErrNotExist) {
		return seedState{}, false, nil
	}
	if err != nil {
		return seedState{}, false, err
	}
	var st seedState
	if err := json.Unmarshal(b, &st); err != nil || st.Customers < 1 || st.End.IsZero() {
		return seedState{}, false, fmt.Errorf("%s is damaged (%v): an earlier seed of %s was interrupted; delete the directory and seed again", filepath.Join(path, seedMarker), err, path)
	}
	return st, true, nil
}

// seedInto writes a seeded history into an empty data directory with a
// progress bar on stderr; a directory that holds an interrupted seed of the
// same configuration is completed instead.
func seedInto(ctx context.Context, e *env, dir *datadir.Dir, cfg seed.Config, workers int) (seed.Summary, time.Duration, error) {
	head, err := dir.Store.Head(ctx)
	if err != nil {
		return seed.Summary{}, 0, err
	}
	want := seedState{Customers: cfg.Customers, Seed: cfg.Seed, End: cfg.End, Years: cfg.Years, Duplicates: cfg.Duplicates}
	prev, interrupted, err := interruptedSeed(dir.Path)
	if err != nil {
		return seed.Summary{}, 0, err
	}
	switch {
	case interrupted && prev != want:
		return seed.Summary{}, 0, fmt.Errorf("%s holds an interrupted seed of %d customers (seed %d, ending %s): resume it with the same settings, or delete the directory to start over", dir.Path, prev.Customers, prev.Seed, prev.End.Format(time.DateOnly))
	case interrupted:
		fmt.Fprintf(e.stderr, "resuming the interrupted seed of %s (%d events already written)\n", dir.Path, head)
	case head != 0:
		return seed.Summary{}, 0, fmt.Errorf("%s already holds %d events: seed only into an empty data directory (choose another --data)", dir.Path, head)
	default:
		b, _ := json.Marshal(want)
		if err := durable.WriteFile(filepath.Join(dir.Path, seedMarker), b, 0o600); err != nil {
			return seed.Summary{}, 0, fmt.Errorf("seed: %w", err)
		}
	}
	wc, err := calendar.NewWorkingCalendar(calendar.WorkingCalendarConfig{})
	if err != nil {
		return seed.Summary{}, 0, err
	}
	cfg.ReplyClock = customer.ReplyClockFunc(wc.ReplyDue)
	bar := progress.New(e.stderr, "seed", int64(cfg.Customers), "customers")
	sum, err := seed.Write(ctx, dir.Store, dir.Codec, cfg, seed.WriteOptions{Workers: workers, Progress: func(n int) { bar.Add(int64(n)) }})
	took := bar.Finish()
	if err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("%w: the seed of %s was interrupted; run the same command again to finish it", err, dir.Path)
		}
		return sum, took, err
	}
	if err := os.Remove(filepath.Join(dir.Path, seedMarker)); err != nil {
		return sum, took, fmt.Errorf("seed: written, but %w", err)
	}
	return sum, took, nil
}

func printSummary(e *env, s seed.Summary) {
	w := e.stdout
	fmt.Fprintf(w, "  customers            %d\n", s.Customers)
	fmt.Fprintf(w, "  events               %d\n", s.Events)
	fmt.Fprintf(w, "  purchases            %d\n", s.Purchases)
	fmt.Fprintf(w, "  bad experiences      %d (grumbled %d, complained %d)\n", s.BadExperiences, s.Grumbles, s.Complaints)
	fmt.Fprintf(w, "  complaints resolved  %d satisfied, %d unsatisfied, %d declined, %d left open\n", s.ResolvedSatisfied, s.ResolvedUnsatisfied, s.Declined, s.LeftOpen)
	fmt.Fprintf(w, "  went silent          %d\n", s.WentSilent)
	fmt.Fprintf(w, "  follow-ups           %d (%d completed)\n", s.FollowUps, s.FollowUpsCompleted)
	fmt.Fprintf(w, "  referrals            %d\n", s.Referrals)
	fmt.Fprintf(w, "  marked lost          %d\n", s.MarkedLost)
	if s.Duplicates > 0 {
		fmt.Fprintf(w, "  planted duplicates   %d (customer i duplicates customer i−1)\n", s.Duplicates)
	}
}

// parseEnd reads an RFC 3339 time or a date; empty means today 00:00 UTC.
func parseEnd(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return now.UTC().Truncate(24 * time.Hour), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	d, err := calendar.Parse(s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither RFC 3339 nor YYYY-MM-DD", s)
	}
	return d.In(time.UTC), nil
}
