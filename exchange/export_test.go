package exchange

import (
	"bytes"
	"encoding/json"
)

// ParseEnvelopeFast and ParseEnvelopeSlow expose the two envelope parsers
// to the external tests: the fast one must agree with encoding/json on
// every line it accepts.
func ParseEnvelopeFast(line []byte) (Envelope, bool) {
	var env Envelope
	occ, rec, ok := scanEnvelope(line, &env)
	if !ok {
		return env, false
	}
	t, err := parseTime(occ)
	if err != nil {
		return env, false
	}
	env.OccurredAt = t
	if rec != "" {
		if env.RecordedAt, err = parseTime(rec); err != nil {
			return env, false
		}
	}
	return env, true
}

// ParseEnvelopeSlow is parseEnvelopeSlow.
func ParseEnvelopeSlow(line []byte) (Envelope, error) {
	var env Envelope
	err := parseEnvelopeSlow(line, &env)
	return env, err
}

// DecodeDataStrict is the first pass's strict decode of an event's data:
// goccy/go-json first (err nil when it takes it), then encoding/json.
func DecodeDataStrict(types *Types, eventType string, data []byte) (fast, slow any, fastErr, slowErr error) {
	info := types.m[eventType]
	fast, fastErr = decodeStrict(info, data)
	p := info.newFn()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	slowErr = dec.Decode(p) // as the first pass did before decodeStrict
	return fast, p, fastErr, slowErr
}
