package exchange

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/kefu-crm/kefu/eventstore"
)

// Envelope is one line of the NDJSON format: a stored event with its data
// and metadata as JSON values. See FORMAT.md.
type Envelope struct {
	Stream        string          `json:"stream"`
	Type          string          `json:"type"`
	ID            string          `json:"id"`
	Revision      uint64          `json:"revision"`
	Position      uint64          `json:"position"`
	OccurredAt    time.Time       `json:"occurredAt"`
	RecordedAt    time.Time       `json:"recordedAt"`
	SchemaVersion int             `json:"schemaVersion"`
	Data          json.RawMessage `json:"data"`
	Metadata      json.RawMessage `json:"metadata,omitempty"`
}

// appendEnvelope writes ev as one NDJSON line (with the newline) to buf,
// with data and metadata as given. Stream IDs, types and UUIDs need no
// escaping (the store only accepts [A-Za-z0-9_$.-] in them), so the line
// is written by hand: it is the hot path of an export.
func appendEnvelope(buf []byte, ev *eventstore.Event, stream string, version int, data, meta []byte) []byte {
	buf = append(buf, `{"stream":"`...)
	buf = append(buf, stream...)
	buf = append(buf, `","type":"`...)
	buf = append(buf, ev.Type...)
	buf = append(buf, `","id":"`...)
	buf = appendUUID(buf, ev.ID)
	buf = append(buf, `","revision":`...)
	buf = strconv.AppendUint(buf, ev.Revision, 10)
	buf = append(buf, `,"position":`...)
	buf = strconv.AppendUint(buf, uint64(ev.Position), 10)
	buf = append(buf, `,"occurredAt":"`...)
	buf = ev.OccurredAt.UTC().AppendFormat(buf, time.RFC3339Nano)
	buf = append(buf, `","recordedAt":"`...)
	buf = ev.RecordedAt.UTC().AppendFormat(buf, time.RFC3339Nano)
	buf = append(buf, `","schemaVersion":`...)
	buf = strconv.AppendInt(buf, int64(version), 10)
	buf = append(buf, `,"data":`...)
	buf = appendCompact(buf, data)
	if len(bytes.TrimSpace(meta)) > 0 {
		buf = append(buf, `,"metadata":`...)
		buf = appendCompact(buf, meta)
	}
	return append(buf, "}\n"...)
}

// appendCompact appends JSON that must stay on one line: stored JSON is
// already compact (the codec writes it with encoding/json), so the check
// is a scan for a newline; only then is it compacted.
func appendCompact(buf, js []byte) []byte {
	if bytes.IndexByte(js, '\n') < 0 && bytes.IndexByte(js, '\r') < 0 {
		return append(buf, js...)
	}
	var b bytes.Buffer
	if err := json.Compact(&b, js); err != nil {
		// Stored data is validated JSON; keep it as a string rather than
		// break the line format.
		q, _ := json.Marshal(string(js))
		return append(buf, q...)
	}
	return append(buf, b.Bytes()...)
}

// parseEnvelope reads one NDJSON line strictly: unknown fields, a missing
// field or trailing data are errors.
func parseEnvelope(line []byte, env *Envelope) error {
	if occ, rec, ok := scanEnvelope(line, env); ok {
		t, err := parseTime(occ)
		if err != nil {
			return fmt.Errorf("occurredAt: %w", err)
		}
		env.OccurredAt = t
		if rec != "" {
			if env.RecordedAt, err = parseTime(rec); err != nil {
				return fmt.Errorf("recordedAt: %w", err)
			}
		}
		return nil
	}
	return parseEnvelopeSlow(line, env)
}

// parseEnvelopeSlow is parseEnvelope with encoding/json: every line that
// is not in Export's own form, and every bad one.
func parseEnvelopeSlow(line []byte, env *Envelope) error {
	*env = Envelope{}
	var raw struct {
		Stream        *string         `json:"stream"`
		Type          *string         `json:"type"`
		ID            *string         `json:"id"`
		Revision      *uint64         `json:"revision"`
		Position      *uint64         `json:"position"`
		OccurredAt    *string         `json:"occurredAt"`
		RecordedAt    *string         `json:"recordedAt"`
		SchemaVersion *int            `json:"schemaVersion"`
		Data          json.RawMessage `json:"data"`
		Metadata      json.RawMessage `json:"metadata"`
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&raw); err != nil {
		return describeJSONError(err)
	}
	if dec.More() {
		return fmt.Errorf("trailing data after the JSON object")
	}
	missing := func(name string) error { return fmt.Errorf("missing field %q", name) }
	switch {
	case raw.Stream == nil:
		return missing("stream")
	case raw.Type == nil:
		return missing("type")
	case raw.ID == nil:
		return missing("id")
	case raw.Revision == nil:
		return missing("revision")
	case raw.OccurredAt == nil:
		return missing("occurredAt")
	case raw.SchemaVersion == nil:
		return missing("schemaVersion")
	case raw.Data == nil:
		return missing("data")
	}
	env.Stream, env.Type, env.ID, env.Revision, env.SchemaVersion = *raw.Stream, *raw.Type, *raw.ID, *raw.Revision, *raw.SchemaVersion
	if raw.Position != nil {
		env.Position = *raw.Position
	}
	t, err := parseTime(*raw.OccurredAt)
	if err != nil {
		return fmt.Errorf("occurredAt: %w", err)
	}
	env.OccurredAt = t
	if raw.RecordedAt != nil {
		if env.RecordedAt, err = parseTime(*raw.RecordedAt); err != nil {
			return fmt.Errorf("recordedAt: %w", err)
		}
	}
	env.Data, env.Metadata = raw.Data, raw.Metadata
	return nil
}

func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not an RFC 3339 date-time", s)
	}
	return t, nil
}

func describeJSONError(err error) error {
	switch e := err.(type) {
	case *json.SyntaxError:
		return fmt.Errorf("malformed JSON at byte %d: %v", e.Offset, e)
	case *json.UnmarshalTypeError:
		return fmt.Errorf("field %q: want %v, got JSON %s", e.Field, e.Type, e.Value)
	}
	if err.Error() == "unexpected EOF" {
		return fmt.Errorf("truncated JSON (the line ends inside the object)")
	}
	return err
}

// appendUUID writes u in the canonical 8-4-4-4-12 form without allocating.
func appendUUID(buf []byte, u uuid.UUID) []byte {
	const hexd = "0123456789abcdef"
	for i, b := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			buf = append(buf, '-')
		}
		buf = append(buf, hexd[b>>4], hexd[b&0xf])
	}
	return buf
}
