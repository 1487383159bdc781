// Package migrate copies one event store into another — in practice the
// embedded store of a data directory into an EventStoreDB/KurrentDB
// cluster (`kefu migrate`) — keeping the global order, each event's ID,
// stream, revision, type, schema version, occurredAt, data and metadata.
//
// The copy reads the source in global order and appends each run of
// consecutive events of one stream with the exact expected revision the
// run had in the source (NoStream for revision 0). So the target's order is
// the source's, and a copy can be interrupted at any point and started
// again: events already in the target are recognised by their IDs (the
// port's idempotent retry), or, where the target refuses the expected
// revision, by reading the target stream and comparing IDs. A checkpoint
// (the source position of the last copied event) spares re-reading what
// was copied; without one a rerun starts from the beginning and skips.
//
// RecordedAt is the target's clock: a store sets it when it appends.
package migrate

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/pii"
)

// Sentinel errors. Test with errors.Is.
var (
	// ErrDiverged: the target already holds other events where the source's
	// belong; it is not a (partial) copy of the source.
	ErrDiverged = errors.New("migrate: target stream diverges from the source")
	// ErrCheckpoint: a checkpoint file that cannot be read.
	ErrCheckpoint = errors.New("migrate: bad checkpoint")
)

// Checkpoint keeps the source position of the last copied event.
type Checkpoint interface {
	// Load returns the saved position, Start when there is none.
	Load() (eventstore.Position, error)
	// Save records p durably.
	Save(p eventstore.Position) error
}

// Options configures Migrate.
type Options struct {
	// Checkpoint, when set, is where the copy starts and what it advances;
	// nil starts at the beginning (safe, since copying is idempotent).
	Checkpoint Checkpoint
	// CheckpointEvery is how many events are copied between saves; 0 means
	// 1000.
	CheckpointEvery int
	// MaxBatch bounds the events of one append; 0 means 500.
	MaxBatch int
	// Progress is called after each append with the number of events it
	// covered and the source position reached.
	Progress func(events int, at eventstore.Position)
}

// Stats sums up a copy.
type Stats struct {
	// Events is how many source events the run covered.
	Events int
	// Skipped is how many of them the target already held and the run
	// recognised by reading the target (the rest were appended, or
	// acknowledged by the target as idempotent retries).
	Skipped int
	// Appends is how many appends the run made.
	Appends int
	// Last is the source position of the last event covered (Start when
	// none).
	Last eventstore.Position
}

// Migrate copies the events of from that follow the checkpoint into to.
func Migrate(ctx context.Context, from, to eventstore.Store, opts Options) (Stats, error) {
	if opts.CheckpointEvery <= 0 {
		opts.CheckpointEvery = 1000
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 500
	}
	m := &migration{to: to, opts: opts}
	if opts.Checkpoint != nil {
		p, err := opts.Checkpoint.Load()
		if err != nil {
			return Stats{}, err
		}
		m.stats.Last, m.saved = p, p
	}
	err := from.ReadAll(ctx, m.stats.Last, func(e eventstore.Event) error {
		if len(m.batch) > 0 && (e.StreamID != m.batch[0].StreamID || len(m.batch) == opts.MaxBatch ||
			e.Revision != m.batch[len(m.batch)-1].Revision+1) {
			if err := m.flush(ctx); err != nil {
				return err
			}
		}
		m.batch = append(m.batch, e)
		return nil
	})
	if err == nil {
		err = m.flush(ctx)
	}
	if err == nil && opts.Checkpoint != nil && m.saved != m.stats.Last {
		err = opts.Checkpoint.Save(m.stats.Last)
	}
	return m.stats, err
}

type migration struct {
	to    eventstore.Store
	opts  Options
	batch []eventstore.Event
	stats Stats
	saved eventstore.Position
	since int // events since the last save
}

// flush appends the batch (one stream, consecutive revisions).
func (m *migration) flush(ctx context.Context) error {
	if len(m.batch) == 0 {
		return nil
	}
	evs := m.batch
	m.batch = m.batch[:0:0]
	stream, rev0 := evs[0].StreamID, evs[0].Revision
	skipped, err := m.copy(ctx, stream, rev0, evs)
	if err != nil {
		return err
	}
	last := evs[len(evs)-1].Position
	m.stats.Events += len(evs)
	m.stats.Skipped += skipped
	m.stats.Last = last
	if m.opts.Progress != nil {
		m.opts.Progress(len(evs), last)
	}
	m.since += len(evs)
	if m.opts.Checkpoint != nil && m.since >= m.opts.CheckpointEvery {
		if err := m.opts.Checkpoint.Save(last); err != nil {
			return err
		}
		m.saved, m.since = last, 0
	}
	return nil
}

// copy appends evs at revision rev0 of stream, or recognises that the target
// holds them (all, or a prefix: then it appends the rest). It returns how
// many it recognised.
func (m *migration) copy(ctx context.Context, stream string, rev0 uint64, evs []eventstore.Event) (int, error) {
	_, err := m.append(ctx, stream, rev0, evs)
	if err == nil {
		return 0, nil
	}
	if !errors.Is(err, eventstore.ErrConcurrency) && !errors.Is(err, eventstore.ErrIdempotency) {
		return 0, fmt.Errorf("migrate: append %d events to %s at revision %d: %w", len(evs), stream, rev0, err)
	}
	// The target has moved on: it should hold (a prefix of) these events.
	held, err := m.to.ReadStream(ctx, stream, eventstore.StreamRead{From: rev0, Limit: len(evs)})
	if err != nil && !errors.Is(err, eventstore.ErrStreamNotFound) {
		return 0, fmt.Errorf("migrate: read target %s: %w", stream, err)
	}
	k := 0
	for k < len(held) && held[k].Revision == rev0+uint64(k) && held[k].ID == evs[k].ID {
		k++
	}
	if k < len(held) || k == 0 {
		return 0, fmt.Errorf("%w: %s at revision %d holds event %s, the source has %s", ErrDiverged, stream, rev0+uint64(k), idAt(held, k), evs[k].ID)
	}
	if k == len(evs) {
		return k, nil
	}
	m.stats.Appends--
	if _, err := m.append(ctx, stream, rev0+uint64(k), evs[k:]); err != nil {
		return k, fmt.Errorf("migrate: append %d events to %s at revision %d: %w", len(evs)-k, stream, rev0+uint64(k), err)
	}
	return k, nil
}

func idAt(evs []eventstore.Event, i int) string {
	if i < len(evs) {
		return evs[i].ID.String()
	}
	return "nothing"
}

func (m *migration) append(ctx context.Context, stream string, rev uint64, evs []eventstore.Event) (eventstore.AppendResult, error) {
	recs := make([]eventstore.Record, len(evs))
	for i, e := range evs {
		recs[i] = eventstore.Record{ID: e.ID, Type: e.Type, SchemaVersion: e.SchemaVersion, OccurredAt: e.OccurredAt, Data: e.Data, Metadata: e.Metadata}
	}
	exp := eventstore.NoStream()
	if rev > 0 {
		exp = eventstore.Exact(rev - 1)
	}
	m.stats.Appends++
	return m.to.Append(ctx, stream, exp, recs...)
}

// FileCheckpoint keeps the checkpoint in a small text file (the decimal
// position), replaced atomically on every save.
type FileCheckpoint struct {
	Path string
}

// Load implements Checkpoint; a missing file is Start.
func (c FileCheckpoint) Load() (eventstore.Position, error) {
	b, err := os.ReadFile(c.Path)
	if errors.Is(err, os.ErrNotExist) {
		return eventstore.Start, nil
	}
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrCheckpoint, err)
	}
	p, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: %s: %v", ErrCheckpoint, c.Path, err)
	}
	return eventstore.Position(p), nil
}

// Save implements Checkpoint: write a temporary file, fsync, rename.
func (c FileCheckpoint) Save(p eventstore.Position) error {
	tmp, err := os.CreateTemp(filepath.Dir(c.Path), ".checkpoint-*")
	if err != nil {
		return fmt.Errorf("migrate: save checkpoint: %w", err)
	}
	_, err = fmt.Fprintf(tmp, "%d\n", p)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), c.Path)
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("migrate: save checkpoint: %w", err)
	}
	return nil
}

// KeyImporter is a keystore that can take a given key: the target of
// Keys (kurrent.Keystore).
type KeyImporter interface {
	Import(ctx context.Context, subject string, key []byte) error
	Destroy(ctx context.Context, subject string) error
}

// KeyStats sums up a key copy.
type KeyStats struct {
	// Copied keys, Destroyed subjects (recorded as destroyed in the
	// target), Missing subjects (no key in the source).
	Copied, Destroyed, Missing int
}

// Keys copies the data keys of subjects from one keystore to another: a
// live key is imported as it is (so that the copied events' personal data
// stays readable), a destroyed one is destroyed in the target too (so that
// an erased customer stays erased). Copy the keys before the events.
func Keys(ctx context.Context, subjects []string, from pii.Keystore, to KeyImporter) (KeyStats, error) {
	var st KeyStats
	for _, s := range subjects {
		key, err := from.Key(ctx, s, false)
		switch {
		case err == nil:
			if err := to.Import(ctx, s, key); err != nil {
				return st, fmt.Errorf("migrate: key of %s: %w", s, err)
			}
			st.Copied++
		case errors.Is(err, pii.ErrDestroyed):
			if err := to.Destroy(ctx, s); err != nil {
				return st, fmt.Errorf("migrate: destroy key of %s: %w", s, err)
			}
			st.Destroyed++
		case errors.Is(err, pii.ErrNoKey):
			st.Missing++
		default:
			return st, fmt.Errorf("migrate: key of %s: %w", s, err)
		}
	}
	return st, nil
}
