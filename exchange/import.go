package exchange

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/kefu-crm/kefu/domain/aggregate"

	gojson "github.com/goccy/go-json"
	"github.com/google/uuid"

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
	// Workers is no longer used: records are appended in file order by
	// one committer in batches (eventstore.AppendMany). Kept so that
	// callers setting it still compile.
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
	// NoCreate, for a purchases CSV, refuses a file naming a customer the
	// store does not have (an *UnknownCustomerError, nothing written)
	// instead of registering them with a placeholder profile.
	NoCreate bool
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
	// Created is the number of customers the import registered: customer
	// streams the store did not have (for a purchases CSV, customers
	// registered with a placeholder profile).
	Created int
}

// streamPlan is what validation learned about one stream of the file.
type streamPlan struct {
	name        string // the stream
	first, next uint64 // revisions in the file: first, last+1
	ids         []uuid.UUID
	firstLine   int
	skip        int  // records already in the store
	created     bool // the store has no such stream yet
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
//
// The file is read twice: the first pass validates (in parallel), the
// second builds the records (in parallel, personal data sealed by
// concurrent goroutines so that new customers' keys share the keystore's
// commits) and appends them in file order, a few thousand events per
// eventstore.AppendMany call.
func ImportNDJSON(ctx context.Context, store eventstore.Store, enc Encoder, types *Types, r io.ReadSeeker, opts ImportOptions) (ImportStats, error) {
	plans, st, err := validateNDJSON(ctx, store, types, r, opts)
	if err != nil {
		return st, err
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return st, fmt.Errorf("exchange: rewind %s: %w", opts.File, err)
	}
	c := newCommitter(ctx, store, opts)
	changed := func(n int, format string, args ...any) error {
		return fmt.Errorf("exchange: %s changed while importing: line %d: %s", opts.File, n, fmt.Sprintf(format, args...))
	}
	parse := func(line []byte, res *lineResult) {
		if len(bytes.TrimSpace(line)) == 0 {
			res.blank = true
			return
		}
		// Validated in the first pass: what is left is building the record.
		env := &res.env
		if err := parseEnvelope(line, env); err != nil {
			res.err = changed(res.n, "%v", err)
			return
		}
		p := plans[env.Stream]
		if p == nil {
			res.err = changed(res.n, "stream %s was not in the file", env.Stream)
			return
		}
		if env.Revision < p.first+uint64(p.skip) {
			res.skip = true
			return
		}
		info, ok := types.m[env.Type]
		if !ok {
			res.err = changed(res.n, "unknown event type %q", env.Type)
			return
		}
		id, err := uuid.Parse(env.ID)
		if err != nil {
			res.err = changed(res.n, "invalid event ID %q", env.ID)
			return
		}
		res.stream = p.name
		meta := bytes.TrimSpace(env.Metadata)
		if len(meta) == 0 || bytes.Equal(meta, []byte("null")) {
			meta = nil
		}
		res.revision = env.Revision
		res.rec = eventstore.Record{ID: id, Type: info.name, SchemaVersion: env.SchemaVersion, OccurredAt: env.OccurredAt, Data: env.Data, Metadata: meta}
		if info.personal && env.SchemaVersion == info.version {
			res.payload = info.newFn()
			// env.Data is valid JSON (checked by whichever parser read
			// the line), so goccy/go-json, which the codec uses too, may
			// decode it: it reads past the end of some invalid input.
			if err := gojson.Unmarshal(env.Data, res.payload); err != nil {
				res.err = changed(res.n, "data of %s: %v", env.Type, err)
			}
		}
		res.env = Envelope{} // the record has what is needed
	}
	seal := func(ctx context.Context, ch *lineChunk) {
		sealChunk(ctx, enc, ch)
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
			if opts.Progress != nil {
				opts.Progress(1)
			}
			return nil
		}
		return c.add(res.stream, res.revision, res.rec)
	}
	if err := scanParallel(ctx, r, parse, seal, each); err != nil {
		n, cerr := c.abort()
		st.Written = n
		if cerr != nil && errors.Is(err, context.Canceled) {
			err = cerr // the committer failed first: that is the cause
		}
		return st, err
	}
	n, err := c.close()
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

// sealParallel is how many streams' personal data one chunk seals at a
// time: creating a new customer's key waits for the keystore's group
// commit, which the concurrent ones share.
const sealParallel = 64

// sealChunk seals the personal data of the chunk's records, one goroutine
// per stream (up to sealParallel at a time).
func sealChunk(ctx context.Context, enc Encoder, ch *lineChunk) {
	var (
		streams []string
		by      map[string][]int
	)
	for i := range ch.res {
		res := &ch.res[i]
		if res.payload == nil || res.err != nil {
			continue
		}
		if by == nil {
			by = make(map[string][]int)
		}
		if _, ok := by[res.stream]; !ok {
			streams = append(streams, res.stream)
		}
		by[res.stream] = append(by[res.stream], i)
	}
	one := func(idx []int) {
		for _, i := range idx {
			res := &ch.res[i]
			rec, err := enc.Encode(ctx, res.stream, res.payload, codec.Envelope{ID: res.rec.ID, OccurredAt: res.rec.OccurredAt})
			res.payload = nil
			if err != nil {
				res.err = fmt.Errorf("exchange: seal %s %s of %s: %w", res.rec.Type, res.rec.ID, res.stream, err)
				return
			}
			rec.Metadata = res.rec.Metadata
			res.rec = rec
		}
	}
	if len(streams) <= 1 {
		for _, s := range streams {
			one(by[s])
		}
		return
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, sealParallel)
	for _, s := range streams {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			one(by[s])
		})
	}
	wg.Wait()
}

// ValidateNDJSON checks an NDJSON file as ImportNDJSON would, against
// store, without writing anything.
func ValidateNDJSON(ctx context.Context, store eventstore.Store, types *Types, r io.Reader, file string) error {
	_, _, err := validateNDJSON(ctx, store, types, r, ImportOptions{File: file})
	return err
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
			name := strings.Clone(env.Stream) // env's strings point into the line
			p = &streamPlan{name: name, first: env.Revision, next: env.Revision, firstLine: n}
			plans[name] = p
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
	if err := scanParallel(ctx, r, parse, nil, each); err != nil {
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
	for name, p := range plans {
		if cat, _, err := eventstore.ParseStreamID(name); err == nil && cat == customer.StreamCategory && p.created {
			st.Created++
		}
	}
	return plans, st, nil
}

// checkEnvelope validates one parsed envelope on its own and returns its
// event ID, or a reason.
func checkEnvelope(types *Types, env *Envelope) (uuid.UUID, string) {
	if _, _, err := eventstore.ParseStreamID(env.Stream); err != nil {
		return uuid.Nil, fmt.Sprintf("invalid stream ID %q (want <category>-<id>, id matching %s)", env.Stream, aggregate.IDSyntax)
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
		if s := (jscan{b: m}); !s.value(0) || s.i != len(m) {
			// Invalid, or deeper than the scanner follows: encoding/json
			// decides and words the reason.
			var meta map[string]any
			if err := json.Unmarshal(m, &meta); err != nil {
				return uuid.Nil, fmt.Sprintf("metadata: %v", describeJSONError(err))
			}
		}
	}
	if env.SchemaVersion == info.version {
		p, err := decodeStrict(info, env.Data)
		if err != nil {
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
			p.created = true
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

// decodeStrict decodes data into a new value of the type, unknown fields
// being errors. goccy/go-json's decoder does it in about 40 % of
// encoding/json's time, and decides first when data is valid JSON (it
// reads past the end of some invalid input); whatever it refuses,
// encoding/json decides again and words the reason, so a line is never
// refused that encoding/json would take.
func decodeStrict(info typeInfo, data []byte) (any, error) {
	if s := (jscan{b: data}); s.value(0) && s.i == len(data) {
		p := info.newFn()
		dec := gojson.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if dec.Decode(p) == nil {
			return p, nil
		}
	}
	p := info.newFn()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(p); err != nil {
		return nil, err
	}
	return p, nil
}
