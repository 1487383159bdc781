// Package codec turns domain events into eventstore records and back.
//
// A Codec is a value built in main from spec lists (customer events,
// campaign events, …); there is no global registry. It knows nothing about
// any domain: a Spec gives an event type's stable name, its current schema
// version, a constructor to decode into and upcasters for older stored
// versions. Events are JSON with the tags their Go types declare.
//
// Personal data: when the codec has a Protector, the string fields an event
// returns from PersonalData() []*string are sealed (encrypted) before the JSON
// is written and opened (decrypted, or replaced by an erasure marker) after
// it is read. See package pii.
package codec

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"
	"unsafe"

	"github.com/kefu-crm/kefu/domain/aggregate"

	"github.com/google/uuid"

	"github.com/kefu-crm/kefu/eventstore"
)

// Upcaster turns the JSON of one schema version into the JSON of the next.
type Upcaster = func(data []byte) ([]byte, error)

// Spec describes one stored event type.
type Spec struct {
	// Type is the stable stored type name.
	Type string
	// Version is the current schema version (≥ 1); Encode writes it.
	Version int
	// New returns a pointer to a zero event of the type, to decode into.
	New func() any
	// Upcast maps a stored version v (1 ≤ v < Version) to the function that
	// turns version v's JSON into version v+1's. Every version below Version
	// needs one.
	Upcast map[int]func(data []byte) ([]byte, error)
}

// SpecsOf adapts an aggregate's event specs (customer.Events(),
// campaign.Events()) for New: the one place the domain's specs meet the
// codec's.
func SpecsOf[E any](specs []aggregate.EventSpec[E]) []Spec {
	out := make([]Spec, len(specs))
	for i, s := range specs {
		out[i] = Spec{Type: s.Type, Version: s.Version, New: func() any { return s.New() }, Upcast: s.Upcast}
	}
	return out
}

// Typed is what Encode needs from an event: its stable type name.
type Typed interface {
	EventType() string
}

// Personal is implemented by events that carry personal data: pointers to
// the fields to seal and open. The order of the returned fields is part of
// the stored format (a field's index is bound into its ciphertext): new
// fields go at the end.
type Personal interface {
	PersonalData() []*string
}

// Protector seals personal-data fields in place before they are written,
// and opens them in place after they are read. stream names the stream the
// event belongs to (and so whose key protects it).
type Protector interface {
	Seal(ctx context.Context, stream, eventType string, fields []*string) error
	Open(ctx context.Context, stream, eventType string, fields []*string) error
}

// Metadata travels with every event as JSON.
type Metadata struct {
	// CorrelationID ties together everything caused by one request.
	CorrelationID string `json:"correlationId,omitempty"`
	// CausationID is the ID of the command or event that caused this one.
	CausationID string `json:"causationId,omitempty"`
	// Actor is the user (or process manager) who caused the event.
	Actor string `json:"actor,omitempty"`
	// Role is the actor's role when it acted (ADMIN, ACCOUNT_MANAGER, …).
	Role string `json:"role,omitempty"`
	// IdempotencyKey is the caller-given key the event ID was derived from.
	IdempotencyKey string `json:"idempotencyKey,omitempty"`
	// RequestHash digests the request sent with IdempotencyKey, so that
	// the key sent again with another request is refused, not taken for
	// a retry.
	RequestHash string `json:"requestHash,omitempty"`
}

// Envelope is what Encode adds to an event besides its data.
type Envelope struct {
	// ID is the event ID; the zero UUID means a new time-ordered (v7) one.
	ID uuid.UUID
	// OccurredAt is business time; zero means the codec's clock.
	OccurredAt time.Time
	// Meta is stored as the event's metadata.
	Meta Metadata
}

// Decoded is a stored event with its payload and metadata decoded.
type Decoded struct {
	// Event is the stored envelope (Data still as stored).
	Event eventstore.Event
	// Payload is a pointer to the decoded event (as the spec's New returns),
	// upcast to the current version, personal data opened.
	Payload any
	// Meta is the decoded metadata.
	Meta Metadata
}

// Options configures a Codec. The zero value is usable: no personal-data
// protection, time.Now, new time-ordered (v7) IDs.
type Options struct {
	// Protector seals and opens personal data; nil stores it in clear
	// (only for tests and tools: production wiring always sets one).
	Protector Protector
	// Clock gives OccurredAt when the envelope has none; nil means time.Now.
	Clock func() time.Time
}

// Sentinel errors. Test with errors.Is.
var (
	// ErrInvalidSpec: New was given a spec list it cannot use.
	ErrInvalidSpec = errors.New("codec: invalid spec")
	// ErrUnknownEventType: a stored or given event type no spec describes.
	ErrUnknownEventType = errors.New("codec: unknown event type")
	// ErrUnsupportedVersion: a stored schema version newer than the spec's,
	// below 1, or an upcaster that fails.
	ErrUnsupportedVersion = errors.New("codec: unsupported schema version")
	// ErrMalformed: stored data or metadata that is not the JSON the type
	// expects.
	ErrMalformed = errors.New("codec: malformed event")
	// ErrEncode: an event that cannot be encoded (nil, wrong Go type for its
	// type name, not marshalable, personal data that cannot be sealed).
	ErrEncode = errors.New("codec: cannot encode event")
)

// DecodeError names the stored event that could not be decoded: its type,
// schema version, stream, revision and global position. It unwraps to one of
// the sentinels (and to the underlying cause).
type DecodeError struct {
	Type     string
	Version  int
	Stream   string
	Revision uint64
	Position eventstore.Position
	Err      error
}

func (e *DecodeError) Error() string {
	return fmt.Sprintf("codec: decode %q v%d at position %d (%s@%d): %v",
		e.Type, e.Version, e.Position, e.Stream, e.Revision, e.Err)
}

func (e *DecodeError) Unwrap() error { return e.Err }

type spec struct {
	Spec
	goType reflect.Type
	// plan decodes the common plain JSON of the type without the general
	// decoder; nil when the type has fields it cannot handle.
	plan *plan
	// personal are the JSON keys of the type's personal data.
	personal []string
}

// Codec encodes and decodes events of the types it was built with. It is
// safe for concurrent use.
type Codec struct {
	specs     map[string]*spec
	byGoType  map[reflect.Type]*spec
	protector Protector
	clock     func() time.Time
	metaPlan  *plan
}

// New builds a codec from one or more spec lists. Type names must be unique
// across them, versions ≥ 1 with an upcaster for every older version, and
// New must return a non-nil pointer.
func New(opts Options, lists ...[]Spec) (*Codec, error) {
	c := &Codec{
		specs:     make(map[string]*spec),
		byGoType:  make(map[reflect.Type]*spec),
		protector: opts.Protector,
		clock:     opts.Clock,
		metaPlan:  newPlan(reflect.TypeFor[Metadata]()),
	}
	if c.clock == nil {
		c.clock = time.Now
	}
	var errs []error
	for _, list := range lists {
		for _, s := range list {
			if err := c.add(s); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Codec) add(s Spec) error {
	switch {
	case s.Type == "":
		return fmt.Errorf("%w: a spec has no type", ErrInvalidSpec)
	case c.specs[s.Type] != nil:
		return fmt.Errorf("%w: type %q registered twice", ErrInvalidSpec, s.Type)
	case s.Version < 1:
		return fmt.Errorf("%w: type %q has version %d, want ≥ 1", ErrInvalidSpec, s.Type, s.Version)
	case s.New == nil:
		return fmt.Errorf("%w: type %q has no constructor", ErrInvalidSpec, s.Type)
	}
	for v := 1; v < s.Version; v++ {
		if s.Upcast[v] == nil {
			return fmt.Errorf("%w: type %q (version %d) has no upcaster from version %d", ErrInvalidSpec, s.Type, s.Version, v)
		}
	}
	zero := s.New()
	t := reflect.TypeOf(zero)
	if t == nil || t.Kind() != reflect.Pointer || reflect.ValueOf(zero).IsNil() {
		return fmt.Errorf("%w: constructor of %q must return a non-nil pointer, got %T", ErrInvalidSpec, s.Type, zero)
	}
	if typed, ok := zero.(Typed); ok && typed.EventType() != s.Type {
		return fmt.Errorf("%w: constructor of %q returns a %T whose EventType is %q", ErrInvalidSpec, s.Type, zero, typed.EventType())
	}
	if other := c.byGoType[t]; other != nil {
		return fmt.Errorf("%w: types %q and %q share Go type %v", ErrInvalidSpec, other.Type, s.Type, t)
	}
	sp := &spec{Spec: s, goType: t, plan: newPlan(t.Elem())}
	if p, ok := s.New().(Personal); ok {
		sp.personal = PersonalKeys(p)
	}
	c.specs[s.Type] = sp
	c.byGoType[t] = sp
	return nil
}

// PersonalKeys are the JSON keys of the personal data of eventType's data
// (nil for an event without personal data, or a type the codec does not
// know): what a reader without access to personal data must not be shown.
// They are the fields the event's PersonalData() returns.
func (c *Codec) PersonalKeys(eventType string) []string {
	if sp := c.specs[eventType]; sp != nil {
		return sp.personal
	}
	return nil
}

// PersonalKeys names the JSON keys of the fields whose addresses p's
// PersonalData returns. p must point to a struct; its optional (*string)
// fields are set first, so that PersonalData returns them too.
func PersonalKeys(p Personal) []string {
	v := reflect.ValueOf(p)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return nil
	}
	st := v.Elem()
	for i := range st.NumField() {
		if f := st.Field(i); f.CanSet() && f.Kind() == reflect.Pointer && f.Type().Elem().Kind() == reflect.String && f.IsNil() {
			f.Set(reflect.New(f.Type().Elem()))
		}
	}
	var keys []string
	for _, ptr := range p.PersonalData() {
		for i := range st.NumField() {
			f := st.Field(i)
			if !f.CanSet() || (f.Addr().Interface() != any(ptr) && !(f.Kind() == reflect.Pointer && f.Interface() == any(ptr))) {
				continue
			}
			name, _, _ := strings.Cut(st.Type().Field(i).Tag.Get("json"), ",")
			if name == "" {
				name = st.Type().Field(i).Name
			}
			if name != "-" {
				keys = append(keys, name)
			}
		}
	}
	return keys
}

// Types lists the registered type names (in no particular order).
func (c *Codec) Types() []string {
	out := make([]string, 0, len(c.specs))
	for t := range c.specs {
		out = append(out, t)
	}
	return out
}

// Encode turns event (a pointer of a registered type) into a record for
// stream. Personal data is sealed in the JSON (on a copy: event itself is
// never modified). Without an envelope ID the event gets a new v7 one;
// without an OccurredAt, the codec's clock.
func (c *Codec) Encode(ctx context.Context, stream string, event any, env Envelope) (eventstore.Record, error) {
	if event == nil {
		return eventstore.Record{}, fmt.Errorf("%w: nil event", ErrEncode)
	}
	sp := c.byGoType[reflect.TypeOf(event)]
	if sp == nil {
		name := fmt.Sprintf("%T", event)
		if typed, ok := event.(Typed); ok {
			name = typed.EventType()
			if c.specs[name] != nil {
				return eventstore.Record{}, fmt.Errorf("%w: %q must be encoded as %v, got %T", ErrEncode, name, c.specs[name].goType, event)
			}
		}
		return eventstore.Record{}, fmt.Errorf("%w: %s", ErrUnknownEventType, name)
	}
	if reflect.ValueOf(event).IsNil() {
		return eventstore.Record{}, fmt.Errorf("%w: nil %T", ErrEncode, event)
	}
	data, err := c.marshalSealed(ctx, stream, sp, event)
	if err != nil {
		return eventstore.Record{}, err
	}
	meta, err := marshal(env.Meta)
	if err != nil {
		return eventstore.Record{}, fmt.Errorf("%w: metadata of %s: %w", ErrEncode, sp.Type, err)
	}
	id := env.ID
	if id == uuid.Nil {
		// Version 7: time-ordered, so the store's event-ID index grows at
		// its end instead of dirtying random pages on every commit.
		if id, err = uuid.NewV7(); err != nil {
			return eventstore.Record{}, fmt.Errorf("%w: event ID: %w", ErrEncode, err)
		}
	}
	at := env.OccurredAt
	if at.IsZero() {
		at = c.clock()
	}
	return eventstore.Record{
		ID:            id,
		Type:          sp.Type,
		SchemaVersion: sp.Version,
		OccurredAt:    at,
		Data:          data,
		Metadata:      meta,
	}, nil
}

func (c *Codec) marshalSealed(ctx context.Context, stream string, sp *spec, event any) ([]byte, error) {
	data, err := marshal(event)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrEncode, sp.Type, err)
	}
	if _, ok := event.(Personal); !ok || c.protector == nil {
		return data, nil
	}
	// Seal a copy, never the caller's event: its personal fields may be
	// pointers the caller still holds (a command's *string).
	cp := sp.New()
	if err := unmarshal(data, cp); err != nil {
		return nil, fmt.Errorf("%w: %s does not survive a JSON round trip: %w", ErrEncode, sp.Type, err)
	}
	if err := c.protector.Seal(ctx, stream, sp.Type, cp.(Personal).PersonalData()); err != nil {
		return nil, fmt.Errorf("%w: personal data of %s in %s: %w", ErrEncode, sp.Type, stream, err)
	}
	if data, err = marshal(cp); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrEncode, sp.Type, err)
	}
	return data, nil
}

// Decode decodes a stored event: it upcasts older schema versions to the
// current one, unmarshals into the spec's type and opens personal data (an
// erased customer's fields read as the protector's erasure marker, without
// an error). Failures are *DecodeError naming the event.
func (c *Codec) Decode(ctx context.Context, ev eventstore.Event) (Decoded, error) {
	return c.DecodeWith(ctx, ev, DecodeOptions{})
}

// DecodeOptions trims Decode for readers that need less of an event, such
// as a projection rebuild that folds millions of events into read models.
type DecodeOptions struct {
	// NoMetadata leaves Decoded.Meta zero without reading the metadata.
	NoMetadata bool
	// Sealed leaves personal-data fields as stored (sealed: "pii:v1:…"
	// with a protector) instead of opening them; Open opens them later,
	// for example when a read model shows them.
	Sealed bool
}

// DecodeWith is Decode with options.
func (c *Codec) DecodeWith(ctx context.Context, ev eventstore.Event, opts DecodeOptions) (Decoded, error) {
	payload, meta, err := c.decode(ev, !opts.NoMetadata)
	if err != nil {
		return Decoded{}, err
	}
	if !opts.Sealed {
		if p, ok := payload.(Personal); ok && c.protector != nil {
			if err := c.protector.Open(ctx, ev.StreamID, ev.Type, p.PersonalData()); err != nil {
				return Decoded{}, c.fail(ev, err)
			}
		}
	}
	return Decoded{Event: ev, Payload: payload, Meta: meta}, nil
}

// Open opens in place the personal data of a payload that DecodeWith left
// sealed; stream is the stream it was read from. Fields that are not sealed
// are left alone, so opening twice is harmless. A payload without personal
// data, or a codec without a protector, is a no-op.
func (c *Codec) Open(ctx context.Context, stream string, payload any) error {
	p, ok := payload.(Personal)
	if !ok || c.protector == nil {
		return nil
	}
	sp := c.byGoType[reflect.TypeOf(payload)]
	if sp == nil {
		return fmt.Errorf("%w: %T", ErrUnknownEventType, payload)
	}
	return c.protector.Open(ctx, stream, sp.Type, p.PersonalData())
}

func (c *Codec) decode(ev eventstore.Event, withMeta bool) (any, Metadata, error) {
	sp := c.specs[ev.Type]
	if sp == nil {
		return nil, Metadata{}, c.fail(ev, ErrUnknownEventType)
	}
	data := ev.Data
	switch v := ev.SchemaVersion; {
	case v < 1 || v > sp.Version:
		return nil, Metadata{}, c.fail(ev, fmt.Errorf("%w: stored version %d, current %d", ErrUnsupportedVersion, v, sp.Version))
	case v < sp.Version:
		for ; v < sp.Version; v++ {
			up, err := sp.Upcast[v](data)
			if err != nil {
				return nil, Metadata{}, c.fail(ev, fmt.Errorf("%w: upcast from version %d: %w", ErrUnsupportedVersion, v, err))
			}
			data = up
		}
	}
	payload := sp.New()
	if !decodeFast(sp.plan, sp.goType, data, payload) {
		if sp.plan != nil {
			payload = sp.New() // the plan gave up half-way
		}
		if err := unmarshalStored(data, payload); err != nil {
			return nil, Metadata{}, c.fail(ev, fmt.Errorf("%w: data: %w", ErrMalformed, err))
		}
	}
	var meta Metadata
	if withMeta && len(ev.Metadata) > 0 && !c.metaPlan.decode(ev.Metadata, unsafe.Pointer(&meta)) {
		meta = Metadata{}
		if err := unmarshalStored(ev.Metadata, &meta); err != nil {
			return nil, Metadata{}, c.fail(ev, fmt.Errorf("%w: metadata: %w", ErrMalformed, err))
		}
	}
	return payload, meta, nil
}

func (c *Codec) fail(ev eventstore.Event, err error) error {
	return &DecodeError{
		Type:     ev.Type,
		Version:  ev.SchemaVersion,
		Stream:   ev.StreamID,
		Revision: ev.Revision,
		Position: ev.Position,
		Err:      err,
	}
}
