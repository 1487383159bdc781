package exchange

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/eventstore/codec"
)

// Format is an export format.
type Format uint8

// The export formats.
const (
	// NDJSON writes one Envelope per line (FORMAT.md).
	NDJSON Format = iota
	// CSV writes the same fields as columns, data and metadata as JSON
	// text, after a header line.
	CSV
)

// ParseFormat reads "ndjson" or "csv".
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(s) {
	case "ndjson", "jsonl":
		return NDJSON, nil
	case "csv":
		return CSV, nil
	}
	return 0, fmt.Errorf("%w: format %q (want ndjson or csv)", ErrInvalidOptions, s)
}

// Decoder opens stored events: the data directory's codec.
type Decoder interface {
	Decode(ctx context.Context, ev eventstore.Event) (codec.Decoded, error)
}

// Redacted replaces each non-empty personal-data field in a pseudonymized
// export.
const Redacted = "[redacted]"

// MinKeySize is the shortest pseudonymization key accepted.
const MinKeySize = 16

// ExportOptions select and shape what Export writes.
type ExportOptions struct {
	// Format is NDJSON (default) or CSV.
	Format Format
	// Until, if not zero, keeps only events whose business time
	// (occurredAt) is at or before it.
	Until time.Time
	// Types, if not empty, keeps only events of these types.
	Types []string
	// Pseudonymize replaces customer IDs (in stream IDs and in the data
	// fields that name customers, orders, complaints and follow-ups) with
	// HMAC-SHA-256 pseudonyms under Key, also where other text of the same
	// event quotes them; replaces event IDs (many are derived from
	// customer IDs) with UUIDs keyed the same way; replaces personal data
	// with Redacted; and keeps only actor and role of the metadata.
	Pseudonymize bool
	// Key is the pseudonymization key (at least MinKeySize bytes).
	Key []byte
	// Progress, if set, is called now and then with the number of events
	// read since the previous call (for a progress bar over Head).
	Progress func(n int)
}

// ExportStats count what an export did.
type ExportStats struct {
	// Read is the number of events read from the log.
	Read int64
	// Written is the number of events written.
	Written int64
}

const progressEvery = 4096

// Export writes the log in global order to w. Memory does not grow with
// the log: events are written as they are read. Personal data is written
// decrypted (an erased customer's fields read as pii.Erased), unless
// pseudonymized.
func Export(ctx context.Context, store eventstore.Store, dec Decoder, types *Types, w io.Writer, opts ExportOptions) (ExportStats, error) {
	if opts.Pseudonymize && len(opts.Key) < MinKeySize {
		return ExportStats{}, fmt.Errorf("%w: pseudonymization needs a key of at least %d bytes", ErrInvalidOptions, MinKeySize)
	}
	if opts.Format != NDJSON && opts.Format != CSV {
		return ExportStats{}, fmt.Errorf("%w: unknown format %d", ErrInvalidOptions, opts.Format)
	}
	var keep map[string]bool
	if len(opts.Types) > 0 {
		keep = make(map[string]bool, len(opts.Types))
		for _, t := range opts.Types {
			if !types.Known(t) {
				return ExportStats{}, fmt.Errorf("%w: unknown event type %q", ErrInvalidOptions, t)
			}
			keep[t] = true
		}
	}
	x := &exporter{dec: dec, types: types, opts: opts}
	if opts.Pseudonymize {
		x.mac = hmac.New(sha256.New, opts.Key)
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	var cw *csv.Writer
	if opts.Format == CSV {
		cw = csv.NewWriter(bw)
		if err := cw.Write(CSVHeader); err != nil {
			return ExportStats{}, err
		}
	}
	var st ExportStats
	pending := 0
	var line []byte
	until := opts.Until
	err := store.ReadAll(ctx, eventstore.Start, func(ev eventstore.Event) error {
		st.Read++
		if pending++; pending == progressEvery && opts.Progress != nil {
			opts.Progress(pending)
			pending = 0
		}
		if keep != nil && !keep[ev.Type] {
			return nil
		}
		if !until.IsZero() && ev.OccurredAt.After(until) {
			return nil
		}
		stream, version, data, meta, err := x.transform(ctx, &ev)
		if err != nil {
			return err
		}
		st.Written++
		if cw != nil {
			return cw.Write([]string{
				strconv.FormatUint(uint64(ev.Position), 10), stream, ev.Type, ev.ID.String(),
				strconv.FormatUint(ev.Revision, 10),
				ev.OccurredAt.UTC().Format(time.RFC3339Nano), ev.RecordedAt.UTC().Format(time.RFC3339Nano),
				strconv.Itoa(version), string(data), string(meta),
			})
		}
		line = appendEnvelope(line[:0], &ev, stream, version, data, meta)
		_, err = bw.Write(line)
		return err
	})
	if opts.Progress != nil && pending > 0 {
		opts.Progress(pending)
	}
	if err != nil {
		return st, err
	}
	if cw != nil {
		cw.Flush()
		if err := cw.Error(); err != nil {
			return st, err
		}
	}
	return st, bw.Flush()
}

// CSVHeader is the header line of a CSV export.
var CSVHeader = []string{"position", "stream", "type", "id", "revision", "occurredAt", "recordedAt", "schemaVersion", "data", "metadata"}

type exporter struct {
	dec   Decoder
	types *Types
	opts  ExportOptions
	mac   hashWriter
	// last pseudonym, to avoid re-hashing runs of one stream
	lastID, lastPseudo string
}

type hashWriter interface {
	io.Writer
	Sum([]byte) []byte
	Reset()
}

// transform returns the stream ID, schema version, data and metadata to
// write for ev.
func (x *exporter) transform(ctx context.Context, ev *eventstore.Event) (string, int, []byte, []byte, error) {
	info, known := x.types.m[ev.Type]
	if x.opts.Pseudonymize {
		return x.pseudonymize(ev, info, known)
	}
	if !known || !info.personal {
		return ev.StreamID, ev.SchemaVersion, ev.Data, ev.Metadata, nil
	}
	d, err := x.dec.Decode(ctx, *ev)
	if err != nil {
		return "", 0, nil, nil, err
	}
	data, err := json.Marshal(d.Payload)
	if err != nil {
		return "", 0, nil, nil, fmt.Errorf("exchange: re-encode %s at position %d: %w", ev.Type, ev.Position, err)
	}
	return ev.StreamID, info.version, data, ev.Metadata, nil
}

// quotesAny reports whether raw JSON holds any of the raw IDs.
func quotesAny(v json.RawMessage, reps []idReplacement) bool {
	for _, r := range reps {
		if bytes.Contains(v, []byte(r.raw)) {
			return true
		}
	}
	return false
}

// Pseudonym is the pseudonym of an entity ID under the export key: 24 hex
// digits of HMAC-SHA-256(key, id).
func (x *exporter) pseudonym(id string) string {
	if id == "" {
		return ""
	}
	if id == x.lastID {
		return x.lastPseudo
	}
	x.mac.Reset()
	io.WriteString(x.mac, id)
	var sum [sha256.Size]byte
	p := hex.EncodeToString(x.mac.Sum(sum[:0])[:12])
	x.lastID, x.lastPseudo = id, p
	return p
}

// pseudonymFields are the data fields whose values are entity IDs that
// could link the export back to people.
var pseudonymFields = map[string]bool{
	"customerId": true, "referredCustomerId": true, "orderId": true, "complaintId": true, "followUpId": true,
}

// eventIDDomain separates event-ID pseudonyms from entity pseudonyms under
// one key (entity IDs never hold a NUL).
const eventIDDomain = "kefu-export-event-id\x00"

// eventID is the pseudonym of an event ID under the export key: the first
// 16 bytes of HMAC-SHA-256(key, domain ‖ id) as a version 8 (custom) UUID.
// Event IDs are kept stable by imports and many are UUIDv5 of customer
// IDs (a greeting's of campaign and customer, a seeded event's of the
// customer and its index, a command's of its idempotency key): kept as
// they are, anyone could recompute them from candidate customer IDs and
// undo the pseudonyms. The same key gives the same IDs, so an import of
// the export stays idempotent and exports under one key still join.
func (x *exporter) eventID(id uuid.UUID) uuid.UUID {
	x.mac.Reset()
	io.WriteString(x.mac, eventIDDomain)
	x.mac.Write(id[:])
	var sum [sha256.Size]byte
	var out uuid.UUID
	copy(out[:], x.mac.Sum(sum[:0]))
	out[6] = out[6]&0x0f | 0x80 // version 8
	out[8] = out[8]&0x3f | 0x80 // RFC 9562 variant
	return out
}

// idReplacement is one entity ID of an event and its pseudonym.
type idReplacement struct{ raw, pseudo string }

// quoteIDs replaces, in every string of v (a decoded JSON value), each
// occurrence of a raw ID with its pseudonym (see replaceID). reps are
// longest first.
func quoteIDs(v any, reps []idReplacement) (any, bool) {
	switch x := v.(type) {
	case string:
		out, changed := x, false
		for _, r := range reps {
			if s, ok := replaceID(out, r.raw, r.pseudo); ok {
				out, changed = s, true
			}
		}
		return out, changed
	case []any:
		changed := false
		for i := range x {
			var c bool
			if x[i], c = quoteIDs(x[i], reps); c {
				changed = true
			}
		}
		return x, changed
	case map[string]any:
		changed := false
		for k := range x {
			var c bool
			if x[k], c = quoteIDs(x[k], reps); c {
				changed = true
			}
		}
		return x, changed
	}
	return v, false
}

// minEmbeddedID is the shortest ID replaced also inside longer words (a
// customer ID in a complaint ID "k-<customer>-7"); a shorter one ("c1",
// "42") only where it stands alone, so that ordinary words and numbers
// survive.
const minEmbeddedID = 6

// replaceID replaces the occurrences of id in s: every one when id has at
// least minEmbeddedID bytes, else those not inside a longer ID (a
// sentence's final '.' does not count).
func replaceID(s, id, with string) (string, bool) {
	if id == "" || !strings.Contains(s, id) {
		return s, false
	}
	if len(id) >= minEmbeddedID {
		return strings.ReplaceAll(s, id, with), true
	}
	var b strings.Builder
	changed := false
	for {
		i := strings.Index(s, id)
		if i < 0 {
			b.WriteString(s)
			break
		}
		end := i + len(id)
		if (i == 0 || !isIDByte(s[i-1])) && (end == len(s) || !isIDByte(s[end]) || (s[end] == '.' && (end+1 == len(s) || !isIDByte(s[end+1])))) {
			b.WriteString(s[:i])
			b.WriteString(with)
			changed = true
		} else {
			b.WriteString(s[:end])
		}
		s = s[end:]
	}
	return b.String(), changed
}

func isIDByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.'
}

func (x *exporter) pseudonymize(ev *eventstore.Event, info typeInfo, known bool) (string, int, []byte, []byte, error) {
	stream := ev.StreamID
	var reps []idReplacement
	if cat, id, ok := strings.Cut(stream, "-"); ok && cat == "customer" {
		p := x.pseudonym(id)
		stream = cat + "-" + p
		reps = append(reps, idReplacement{id, p})
	}
	ev.ID = x.eventID(ev.ID)
	data := ev.Data
	version := ev.SchemaVersion
	if known && info.personal && version == info.version {
		// Redact personal fields in their sealed form: no key is needed.
		p := info.newFn()
		if err := json.Unmarshal(ev.Data, p); err != nil {
			return "", 0, nil, nil, fmt.Errorf("exchange: decode %s at position %d: %w", ev.Type, ev.Position, err)
		}
		for _, f := range p.(codec.Personal).PersonalData() {
			if f != nil && *f != "" {
				*f = Redacted
			}
		}
		var err error
		if data, err = json.Marshal(p); err != nil {
			return "", 0, nil, nil, err
		}
	} else if known && info.personal {
		return "", 0, nil, nil, fmt.Errorf("exchange: %s at position %d has schema version %d; pseudonymizing needs version %d", ev.Type, ev.Position, version, info.version)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err == nil {
		changed := false
		for k, v := range fields {
			if !pseudonymFields[k] {
				continue
			}
			var s string
			if json.Unmarshal(v, &s) != nil || s == "" {
				continue
			}
			p := x.pseudonym(s)
			q, _ := json.Marshal(p)
			fields[k] = q
			changed = true
			reps = append(reps, idReplacement{s, p})
		}
		// Other text of the event that quotes one of its IDs (a reason
		// naming the complaint, the customer) gets the pseudonym too.
		slices.SortFunc(reps, func(a, b idReplacement) int { return len(b.raw) - len(a.raw) })
		for k, v := range fields {
			if pseudonymFields[k] || !quotesAny(v, reps) {
				continue
			}
			var val any
			if json.Unmarshal(v, &val) != nil {
				continue
			}
			if val, c := quoteIDs(val, reps); c {
				q, err := json.Marshal(val)
				if err != nil {
					return "", 0, nil, nil, err
				}
				fields[k] = q
				changed = true
			}
		}
		if changed {
			var err error
			if data, err = json.Marshal(fields); err != nil {
				return "", 0, nil, nil, err
			}
		}
	}
	var meta codec.Metadata
	_ = json.Unmarshal(ev.Metadata, &meta)
	m, err := json.Marshal(codec.Metadata{Actor: meta.Actor, Role: meta.Role})
	if err != nil {
		return "", 0, nil, nil, err
	}
	return stream, version, data, m, nil
}
