package exchange

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
