package exchange

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"slices"
	"strings"

	"github.com/google/uuid"
	"golang.org/x/sync/errgroup"

	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/eventstore/codec"
)

// Encoder seals an event for storage: the data directory's codec.
type Encoder interface {
	Encode(ctx context.Context, stream string, event any, env codec.Envelope) (eventstore.Record, error)
}

// ImportOptions configure an import.
type ImportOptions struct {
	// File names the input in error messages.
	File string
	// Workers append different streams concurrently (default 2048: the
	// store commits concurrent appends together, one fsync for many).
	Workers int
	// Progress, if set, is called now and then with the number of records
	// written (or found already written) since the previous call.
	Progress func(n int)
	// Shred, if set, is called after the import for every customer whose
	// imported stream holds CustomerErased: it destroys the customer's
	// data key in the target (the Vault's Destroy), so that the imported
	// personal data — the erasure marker, sealed — is unreadable there
	// too.
	Shred func(ctx context.Context, customerID string) error
}

// ImportStats count what an import did.
type ImportStats struct {
	// Records is the number of records in the file.
	Records int64
	// Written is the number of events appended.
	Written int64
	// Existing is the number of records already in the store (a re-run).
	Existing int64
	// Streams is the number of streams the file touches.
	Streams int
}

// streamPlan is what validation learned about one stream of the file.
type streamPlan struct {
	first, next uint64 // revisions in the file: first, last+1
	ids         []uuid.UUID
	firstLine   int
	skip        int // records already in the store
	erased      bool
}

type idLine struct {
	id   uuid.UUID
	line int
}

// ImportNDJSON validates every line of r (an NDJSON envelope file, see
// FORMAT.md) and the file against the store, and only if all is well
// writes the events: event IDs, revisions and occurredAt as in the file,
// personal data sealed by enc. Records already in the store (same stream,
// revision and ID) are skipped, so a re-run is a no-op. A bad file gives a
// *ValidationError (ErrInvalidInput) naming every bad line; a file that
// does not fit the store's streams gives ErrConflict. Either way nothing is
// written.
func ImportNDJSON(ctx context.Context, store eventstore.Store, enc Encoder, types *Types, r io.ReadSeeker, opts ImportOptions) (ImportStats, error) {
	plans, st, err := validateNDJSON(ctx, store, types, r, opts)
	if err != nil {
		return st, err
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return st, fmt.Errorf("exchange: rewind %s: %w", opts.File, err)
	}
	w := newWriter(ctx, store, opts)
	parse := func(line []byte, res *lineResult) {
		if len(bytes.TrimSpace(line)) == 0 {
			res.blank = true
			return
		}
		// Validated in the first pass: a plain decode suffices.
		if err := json.Unmarshal(line, &res.env); err != nil {
			res.err = fmt.Errorf("exchange: %s changed while importing: line %d: %w", opts.File, res.n, err)
			return
		}
		p := plans[res.env.Stream]
		if p == nil {
			res.err = fmt.Errorf("exchange: %s changed while importing: line %d", opts.File, res.n)
			return
		}
		if res.env.Revision < p.first+uint64(p.skip) {
			res.skip = true
			return
		}
	}
	each := func(res *lineResult) error {
		switch {
		case res.err != nil:
			return res.err
		case res.tooLong:
			return fmt.Errorf("exchange: %s changed while importing: line %d is too long", opts.File, res.n)
		case res.blank:
			return nil
		case res.skip:
			st.Existing++
			w.progress(1)
			return nil
		}
		env := res.env
		// Sealed by the writer goroutines: creating a customer's key waits
		// for the keystore's group commit, which many writers share.
		return w.add(env.Stream, env.Revision, func(ctx context.Context) (eventstore.Record, error) {
			return toRecord(ctx, enc, types, &env)
		})
	}
	if err := scanParallel(ctx, r, parse, each); err != nil {
		return w.abort(st, err)
	}
	n, err := w.close()
	st.Written = n
	if err != nil {
		return st, err
	}
	if opts.Shred != nil {
		for stream, p := range plans {
			if !p.erased {
				continue
			}
			if _, id, ok := strings.Cut(stream, "-"); ok {
				if err := opts.Shred(ctx, id); err != nil {
					return st, fmt.Errorf("exchange: shred %s: %w", stream, err)
				}
			}
		}
	}
	return st, nil
}

// ValidateNDJSON checks an NDJSON file as ImportNDJSON would, against
// store, without writing anything.
func ValidateNDJSON(ctx context.Context, store eventstore.Store, types *Types, r io.Reader, file string) error {
	_, _, err := validateNDJSON(ctx, store, types, r, ImportOptions{File: file})
	return err
}

// toRecord builds the record to append for a validated envelope.
func toRecord(ctx context.Context, enc Encoder, types *Types, env *Envelope) (eventstore.Record, error) {
	id, _ := uuid.Parse(env.ID)
	info := types.m[env.Type]
	meta := []byte(env.Metadata)
	if len(bytes.TrimSpace(meta)) == 0 || bytes.Equal(bytes.TrimSpace(meta), []byte("null")) {
		meta = nil
	}
	if !info.personal || env.SchemaVersion != info.version {
		return eventstore.Record{ID: id, Type: env.Type, SchemaVersion: env.SchemaVersion, OccurredAt: env.OccurredAt, Data: env.Data, Metadata: meta}, nil
	}
	p := info.newFn()
	if err := json.Unmarshal(env.Data, p); err != nil {
		return eventstore.Record{}, err
	}
	rec, err := enc.Encode(ctx, env.Stream, p, codec.Envelope{ID: id, OccurredAt: env.OccurredAt})
	if err != nil {
		return eventstore.Record{}, fmt.Errorf("exchange: seal %s %s of %s: %w", env.Type, env.ID, env.Stream, err)
	}
	rec.Metadata = meta
	return rec, nil
}

func validateNDJSON(ctx context.Context, store eventstore.Store, types *Types, r io.Reader, opts ImportOptions) (map[string]*streamPlan, ImportStats, error) {
	var st ImportStats
	bad := &ValidationError{File: opts.File}
	plans := make(map[string]*streamPlan)
	var ids []idLine
	parse := func(line []byte, res *lineResult) {
		if len(bytes.TrimSpace(line)) == 0 {
			res.blank = true
			return
		}
		if err := parseEnvelope(line, &res.env); err != nil {
			res.reason = err.Error()
			return
		}
		res.id, res.reason = checkEnvelope(types, &res.env)
		res.env.Data, res.env.Metadata = nil, nil // not needed any more
	}
	each := func(res *lineResult) error {
		n := res.n
		switch {
		case res.tooLong:
			bad.add(n, "%v", errLineTooLong)
			return nil
		case res.blank:
			return nil
		}
		st.Records++
		if res.reason != "" {
			bad.add(n, "%s", res.reason)
			return nil
		}
		env := &res.env
		p := plans[env.Stream]
		switch {
		case p == nil:
			p = &streamPlan{first: env.Revision, next: env.Revision, firstLine: n}
			plans[env.Stream] = p
		case env.Revision != p.next:
			bad.add(n, "revision %d of %s does not follow revision %d (want %d)", env.Revision, env.Stream, p.next-1, p.next)
			return nil
		}
		p.next++
		p.ids = append(p.ids, res.id)
		if env.Type == customer.TypeCustomerErased {
			p.erased = true
		}
		ids = append(ids, idLine{res.id, n})
		return nil
	}
	if err := scanParallel(ctx, r, parse, each); err != nil {
		return nil, st, fmt.Errorf("exchange: read %s: %w", opts.File, err)
	}
	// Event IDs are unique across the whole log.
	slices.SortFunc(ids, func(a, b idLine) int {
		if c := bytes.Compare(a.id[:], b.id[:]); c != 0 {
			return c
		}
		return a.line - b.line
	})
	for i := 1; i < len(ids); i++ {
		if ids[i].id == ids[i-1].id {
			bad.add(ids[i].line, "event ID %s already used on line %d", ids[i].id, ids[i-1].line)
		}
	}
	if bad.Count > 0 {
		slices.SortStableFunc(bad.Lines, func(a, b LineError) int { return a.Line - b.Line })
		return nil, st, bad
	}
	st.Streams = len(plans)
	if err := planAgainstStore(ctx, store, plans); err != nil {
		return nil, st, err
	}
	return plans, st, nil
}

// checkEnvelope validates one parsed envelope on its own and returns its
// event ID, or a reason.
func checkEnvelope(types *Types, env *Envelope) (uuid.UUID, string) {
	if _, _, err := eventstore.ParseStreamID(env.Stream); err != nil {
		return uuid.Nil, fmt.Sprintf("invalid stream ID %q (want <category>-<id>, id matching [A-Za-z0-9_.-]{1,64})", env.Stream)
	}
	info, ok := types.m[env.Type]
	if !ok {
		return uuid.Nil, fmt.Sprintf("unknown event type %q", env.Type)
	}
	id, err := uuid.Parse(env.ID)
	if err != nil || id == uuid.Nil || len(env.ID) != 36 {
		return uuid.Nil, fmt.Sprintf("invalid event ID %q (want a non-zero UUID)", env.ID)
	}
	if env.SchemaVersion < 1 || env.SchemaVersion > info.version {
		return uuid.Nil, fmt.Sprintf("%s schema version %d is not supported (1 to %d)", env.Type, env.SchemaVersion, info.version)
	}
	if env.OccurredAt.IsZero() {
		return uuid.Nil, "occurredAt is the zero time"
	}
	if y := env.OccurredAt.Year(); y < 1900 || y > 2200 {
		return uuid.Nil, fmt.Sprintf("occurredAt %s is out of range (years 1900–2200)", env.OccurredAt.Format("2006-01-02"))
	}
	if d := bytes.TrimSpace(env.Data); len(d) == 0 || d[0] != '{' {
		return uuid.Nil, "data is not a JSON object"
	}
	if m := bytes.TrimSpace(env.Metadata); len(m) > 0 && !bytes.Equal(m, []byte("null")) {
		if m[0] != '{' {
			return uuid.Nil, "metadata is not a JSON object"
		}
		var meta map[string]any
		if err := json.Unmarshal(m, &meta); err != nil {
			return uuid.Nil, fmt.Sprintf("metadata: %v", describeJSONError(err))
		}
	}
	if env.SchemaVersion == info.version {
		p := info.newFn()
		dec := json.NewDecoder(bytes.NewReader(env.Data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(p); err != nil {
			return uuid.Nil, fmt.Sprintf("data of %s: %v", env.Type, describeJSONError(err))
		}
		if reg, ok := p.(*customer.CustomerRegistered); ok {
			if _, sid, _ := strings.Cut(env.Stream, "-"); reg.CustomerID != sid {
				return uuid.Nil, fmt.Sprintf("CustomerRegistered.customerId %q does not match stream %s", reg.CustomerID, env.Stream)
			}
		}
		if pm, ok := p.(*customer.PurchaseMade); ok && pm.Amount.AmountMinor < 0 {
			return uuid.Nil, fmt.Sprintf("negative purchase amount %d", pm.Amount.AmountMinor)
		}
	}
	return id, ""
}

// planAgainstStore decides, per stream, how the file's revisions fit what
// the store already holds: a new stream must start at revision 0, a
// continued one right after the store's last revision; revisions the
// store already holds must carry the same event IDs (a re-run), and are
// skipped.
func planAgainstStore(ctx context.Context, store eventstore.Store, plans map[string]*streamPlan) error {
	var errs []error
	names := make([]string, 0, len(plans))
	for s := range plans {
		names = append(names, s)
	}
	slices.Sort(names)
	for _, s := range names {
		p := plans[s]
		last, err := store.ReadStream(ctx, s, eventstore.StreamRead{Direction: eventstore.Backward, From: eventstore.End, Limit: 1})
		if errors.Is(err, eventstore.ErrStreamNotFound) {
			if p.first != 0 {
				errs = append(errs, fmt.Errorf("%w: line %d: %s starts at revision %d but the store has no such stream", ErrConflict, p.firstLine, s, p.first))
			}
			continue
		}
		if err != nil {
			return err
		}
		have := last[0].Revision + 1 // events in the store
		if have < p.first {
			errs = append(errs, fmt.Errorf("%w: line %d: %s continues at revision %d but the store ends at revision %d", ErrConflict, p.firstLine, s, p.first, have-1))
			continue
		}
		overlap := min(have, p.next) - p.first
		if overlap == 0 {
			continue
		}
		stored, err := store.ReadStream(ctx, s, eventstore.StreamRead{Direction: eventstore.Forward, From: p.first, Limit: int(overlap)})
		if err != nil {
			return err
		}
		for i, ev := range stored {
			if ev.ID != p.ids[i] {
				errs = append(errs, fmt.Errorf("%w: line %d: %s already holds event %s at revision %d, the file has %s", ErrConflict, p.firstLine, s, ev.ID, ev.Revision, p.ids[i]))
				break
			}
		}
		p.skip = int(overlap)
	}
	return errors.Join(errs...)
}

// writer appends runs of consecutive records of one stream, streams spread
// over workers by hash (so each stream's runs stay in order).
type writer struct {
	g       *errgroup.Group
	ctx     context.Context
	queues  []chan run
	cur     run
	opts    ImportOptions
	written []int64
}

type run struct {
	stream string
	first  uint64
	build  []func(context.Context) (eventstore.Record, error)
}

const maxRun = 256

func newWriter(ctx context.Context, store eventstore.Store, opts ImportOptions) *writer {
	workers := opts.Workers
	if workers <= 0 {
		workers = 2048
	}
	g, gctx := errgroup.WithContext(ctx)
	w := &writer{g: g, ctx: gctx, opts: opts, queues: make([]chan run, workers), written: make([]int64, workers)}
	for i := range w.queues {
		q := make(chan run, 64)
		w.queues[i] = q
		g.Go(func() error {
			var recs []eventstore.Record
			for r := range q {
				recs = recs[:0]
				for _, b := range r.build {
					rec, err := b(gctx)
					if err != nil {
						return err
					}
					recs = append(recs, rec)
				}
				exp := eventstore.NoStream()
				if r.first > 0 {
					exp = eventstore.Exact(r.first - 1)
				}
				if _, err := store.Append(gctx, r.stream, exp, recs...); err != nil {
					return fmt.Errorf("exchange: append %d event(s) to %s at revision %d: %w", len(recs), r.stream, r.first, err)
				}
				w.written[i] += int64(len(recs))
				if opts.Progress != nil {
					opts.Progress(len(recs))
				}
			}
			return nil
		})
	}
	return w
}

func (w *writer) progress(n int) {
	if w.opts.Progress != nil {
		w.opts.Progress(n)
	}
}

// add queues the record that build makes (in a writer goroutine) for
// revision rev of stream.
func (w *writer) add(stream string, rev uint64, build func(context.Context) (eventstore.Record, error)) error {
	if len(w.cur.build) > 0 && (w.cur.stream != stream || len(w.cur.build) == maxRun) {
		if err := w.flush(); err != nil {
			return err
		}
	}
	if len(w.cur.build) == 0 {
		w.cur = run{stream: stream, first: rev, build: make([]func(context.Context) (eventstore.Record, error), 0, 16)}
	}
	w.cur.build = append(w.cur.build, build)
	return nil
}

func (w *writer) flush() error {
	h := fnv.New32a()
	h.Write([]byte(w.cur.stream))
	q := w.queues[h.Sum32()%uint32(len(w.queues))]
	select {
	case q <- w.cur:
	case <-w.ctx.Done():
		return w.ctx.Err()
	}
	w.cur = run{}
	return nil
}

func (w *writer) close() (int64, error) {
	var err error
	if len(w.cur.build) > 0 {
		err = w.flush()
	}
	for _, q := range w.queues {
		close(q)
	}
	if werr := w.g.Wait(); werr != nil {
		err = werr
	}
	var n int64
	for _, c := range w.written {
		n += c
	}
	return n, err
}

func (w *writer) abort(st ImportStats, err error) (ImportStats, error) {
	n, cerr := w.close()
	st.Written = n
	if cerr != nil && errors.Is(err, context.Canceled) {
		err = cerr // a worker failed first: that is the cause
	}
	return st, err
}
