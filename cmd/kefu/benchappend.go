package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/eventstore/embedded"
	"github.com/kefu-crm/kefu/eventstore/postgres"
	"github.com/kefu-crm/kefu/internal/loadgen"
)

// The append scenario (issue 15): W writers, each appending single events
// to a stream of its own at the exact revision it last wrote, each append
// durable when it returns; on a fresh embedded store beside --data and,
// when KEFU_BENCH_PG is set, on a fresh schema of that PostgreSQL database
// (the peer), in the same run, with the ratio.

// benchPGEnv names the PostgreSQL peer of the append scenario.
const benchPGEnv = "KEFU_BENCH_PG"

// appendResult is one store's run.
type appendResult struct {
	store              string
	writers            int
	appends, warm      int64
	elapsed, cpu       time.Duration
	p50, p90, p99, max time.Duration
}

func (r appendResult) rate() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.appends) / r.elapsed.Seconds()
}

func (r appendResult) String() string {
	return fmt.Sprintf("%-12s %3d writers %8d appends in %6.2fs  %9.0f events/s  p50 %s  p90 %s  p99 %s  max %s",
		"append "+r.store, r.writers, r.appends, r.elapsed.Seconds(), r.rate(), ms(r.p50), ms(r.p90), ms(r.p99), ms(r.max))
}

// benchAppendRecord is a ~320-byte event shaped like a ContactLogged with a
// sealed summary (as eventstore/storebench's).
func benchAppendRecord(n int64) eventstore.Record {
	return eventstore.Record{
		ID: uuid.New(), Type: "ContactLogged", SchemaVersion: 1,
		OccurredAt: time.Date(2024, 5, 1, 9, 0, 0, 0, time.UTC).Add(time.Duration(n) * time.Minute),
		Data: fmt.Appendf(nil, `{"channel":"PHONE","direction":"INBOUND","agent":"agent-%04d","summary":"pii:v1:`+
			`Q2FsbGVkIGFib3V0IHRoZSBsYXRlIGRlbGl2ZXJ5IG9mIG9yZGVyIDQyOyBjdXN0b21lciB3YW50cyBhIGNhbGwgYmFjaw==","n":%d}`, n%1000, n),
		Metadata: []byte(`{"correlationId":"5f0c6f7e-2b7d-4c1e-9a43-0d3f1b2c4e5a","actor":"agent-0042"}`),
	}
}

// runAppendLoad runs the append load on s for warmup, then duration.
func runAppendLoad(ctx context.Context, name string, s eventstore.Store, writers int, warmup, duration time.Duration) (appendResult, error) {
	var (
		measured atomic.Bool
		warm     atomic.Int64
		n        atomic.Int64
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	lat := make([][]time.Duration, writers)
	cpu0 := cpuTime()
	for w := range writers {
		wg.Go(func() {
			stream := fmt.Sprintf("bench-w%d", w)
			expected := eventstore.NoStream()
			for runCtx.Err() == nil {
				rec := measured.Load()
				start := time.Now()
				res, err := s.Append(runCtx, stream, expected, benchAppendRecord(n.Add(1)))
				d := time.Since(start)
				if runCtx.Err() != nil {
					return
				}
				if err != nil {
					errOnce.Do(func() { firstErr = fmt.Errorf("%s: append to %s at %s: %w", name, stream, expected, err) })
					cancel()
					return
				}
				expected = eventstore.Exact(res.Revision)
				if rec {
					lat[w] = append(lat[w], d)
				} else {
					warm.Add(1)
				}
			}
		})
	}
	if warmup > 0 {
		select {
		case <-time.After(warmup):
		case <-runCtx.Done():
		}
	}
	measured.Store(true)
	start := time.Now()
	select {
	case <-time.After(duration):
	case <-runCtx.Done():
	}
	elapsed := time.Since(start)
	cancel()
	wg.Wait()
	if firstErr != nil {
		return appendResult{}, firstErr
	}
	if err := ctx.Err(); err != nil {
		return appendResult{}, err
	}
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	slices.Sort(all)
	r := appendResult{store: name, writers: writers, appends: int64(len(all)), warm: warm.Load(), elapsed: elapsed, cpu: cpuTime() - cpu0}
	if len(all) == 0 {
		return r, fmt.Errorf("%s: no append completed in %s", name, duration)
	}
	r.p50, r.p90, r.p99, r.max = loadgen.Percentile(all, 0.5), loadgen.Percentile(all, 0.9), loadgen.Percentile(all, 0.99), all[len(all)-1]
	return r, nil
}

// benchAppend runs the append scenario on a fresh embedded store in a
// temporary directory beside data (the same disk) and, with pg set, on a
// fresh schema of that database, dropped afterwards.
func benchAppend(ctx context.Context, e *env, data, pg string, writers int, warmup, duration time.Duration) error {
	parent := filepath.Dir(filepath.Clean(data))
	if err := os.MkdirAll(parent, 0o700); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(parent, ".kefu-bench-append-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	fmt.Fprintf(e.stdout, "append: %d writers, one durable single-event append at a time each, each to its own stream at its exact revision; %s warm-up, %s measured per store\n",
		writers, warmup, duration)
	if pg == "" {
		fmt.Fprintf(e.stdout, "append: %s is not set: measuring the embedded store only (set it to a postgres:// URL for the PostgreSQL peer)\n", benchPGEnv)
	}
	fmt.Fprintf(e.stdout, "machine: %d CPUs, load average %s\n", runtime.NumCPU(), loadAvg())

	emb, err := embedded.Open(tmp, embedded.Options{Logger: e.log})
	if err != nil {
		return err
	}
	er, err := runAppendLoad(ctx, "embedded", emb, writers, warmup, duration)
	if cerr := emb.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	printAppend(e, er, "")
	if pg == "" {
		fmt.Fprintf(e.stdout, "load average after: %s\n", loadAvg())
		return nil
	}

	conn, named, err := postgres.SplitSchema(pg)
	if err != nil {
		return fmt.Errorf("%w: %s: %v", errUsage, benchPGEnv, err)
	}
	if named != "" {
		return fmt.Errorf("%w: %s names schema %q: the append scenario writes to a fresh schema of its own and drops it; leave schema out", errUsage, benchPGEnv, named)
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	schema := "kefu_bench_append_" + hex.EncodeToString(b[:])
	ps, err := postgres.Open(ctx, conn, postgres.Options{Schema: schema, Logger: e.log})
	if err != nil {
		return fmt.Errorf("%s: %w", benchPGEnv, err)
	}
	defer dropSchema(context.WithoutCancel(ctx), e, conn, schema)
	fmt.Fprintf(e.stdout, "append: the peer writes to schema %s of %s, dropped afterwards\n", schema, benchPGEnv)
	pr, err := runAppendLoad(ctx, "postgres", ps, writers, warmup, duration)
	if cerr := ps.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	printAppend(e, pr, " (this process only: the PostgreSQL server's own CPU is not counted)")
	if pr.rate() > 0 {
		fmt.Fprintf(e.stdout, "%-12s embedded ÷ PostgreSQL (the peer, in this run): %.2f× the events/s; p99 %.2f× the peer's\n",
			"", er.rate()/pr.rate(), float64(er.p99)/float64(max(pr.p99, 1)))
	}
	fmt.Fprintf(e.stdout, "load average after: %s\n", loadAvg())
	return nil
}

func printAppend(e *env, r appendResult, cpuNote string) {
	fmt.Fprintln(e.stdout, r.String())
	if total := r.appends + r.warm; total > 0 && r.cpu > 0 {
		per := r.cpu / time.Duration(total)
		fmt.Fprintf(e.stdout, "%-12s process CPU %s per append%s\n", "", per.Round(time.Microsecond), cpuNote)
	}
}

// dropSchema drops the peer's schema after the run.
func dropSchema(ctx context.Context, e *env, conn, schema string) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, conn)
	if err == nil {
		_, err = c.Exec(ctx, "DROP SCHEMA "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
		_ = c.Close(ctx)
	}
	if err != nil {
		e.log.Error("append: could not drop the benchmark schema", "schema", schema, "err", err)
	}
}
