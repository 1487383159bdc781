package projections

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"

	"github.com/kefu-crm/kefu/eventstore"
)

// Message metadata keys: a watermill message carries one stored event, its
// UUID is the event ID and its payload the stored JSON data.
const (
	MetaStream        = "stream"
	MetaType          = "type"
	MetaRevision      = "revision"
	MetaPosition      = "position"
	MetaOccurredAt    = "occurredAt"
	MetaRecordedAt    = "recordedAt"
	MetaSchemaVersion = "schemaVersion"
	// MetaMetadata carries the event's own metadata JSON (correlationId, …).
	MetaMetadata = "metadata"
)

// storedEventName is the one cqrs event name every message has: decoding
// into domain types happens in the handlers, through the Decoder.
const storedEventName = "kefu.StoredEvent"

// ErrBadMessage: a watermill message that does not carry a stored event.
var ErrBadMessage = errors.New("projections: message is not a stored event")

// EventMessage encodes a stored event as a watermill message.
func EventMessage(e eventstore.Event) *message.Message {
	msg := message.NewMessage(e.ID.String(), e.Data)
	m := msg.Metadata
	m.Set(MetaStream, e.StreamID)
	m.Set(MetaType, e.Type)
	m.Set(MetaRevision, strconv.FormatUint(e.Revision, 10))
	m.Set(MetaPosition, strconv.FormatUint(uint64(e.Position), 10))
	m.Set(MetaOccurredAt, e.OccurredAt.Format(time.RFC3339Nano))
	m.Set(MetaRecordedAt, e.RecordedAt.Format(time.RFC3339Nano))
	m.Set(MetaSchemaVersion, strconv.Itoa(e.SchemaVersion))
	if len(e.Metadata) > 0 {
		m.Set(MetaMetadata, string(e.Metadata))
	}
	return msg
}

// MessageEvent decodes a message made by EventMessage. Errors match
// ErrBadMessage.
func MessageEvent(msg *message.Message) (eventstore.Event, error) {
	bad := func(field string, err error) (eventstore.Event, error) {
		return eventstore.Event{}, fmt.Errorf("%w: message %s: %s: %w", ErrBadMessage, msg.UUID, field, err)
	}
	m := msg.Metadata
	e := eventstore.Event{StreamID: m.Get(MetaStream), Type: m.Get(MetaType), Data: msg.Payload}
	var err error
	if e.ID, err = uuid.Parse(msg.UUID); err != nil {
		return bad("uuid", err)
	}
	if e.Revision, err = strconv.ParseUint(m.Get(MetaRevision), 10, 64); err != nil {
		return bad(MetaRevision, err)
	}
	p, err := strconv.ParseUint(m.Get(MetaPosition), 10, 64)
	if err != nil {
		return bad(MetaPosition, err)
	}
	e.Position = eventstore.Position(p)
	if e.SchemaVersion, err = strconv.Atoi(m.Get(MetaSchemaVersion)); err != nil {
		return bad(MetaSchemaVersion, err)
	}
	if e.OccurredAt, err = time.Parse(time.RFC3339Nano, m.Get(MetaOccurredAt)); err != nil {
		return bad(MetaOccurredAt, err)
	}
	if e.RecordedAt, err = time.Parse(time.RFC3339Nano, m.Get(MetaRecordedAt)); err != nil {
		return bad(MetaRecordedAt, err)
	}
	if md := m.Get(MetaMetadata); md != "" {
		e.Metadata = []byte(md)
	}
	if e.StreamID == "" || e.Type == "" {
		return bad("stream/type", errors.New("missing"))
	}
	return e, nil
}

// delivery is what a group handler receives: the event, or why the message
// did not decode. Unmarshal never fails, so a bad message stops the
// projection instead of being nacked and redelivered forever.
type delivery struct {
	event eventstore.Event
	err   error
}

// marshaler is the cqrs.CommandEventMarshaler between stored events and
// watermill messages.
type marshaler struct{}

func (marshaler) Marshal(v any) (*message.Message, error) {
	switch e := v.(type) {
	case *eventstore.Event:
		return EventMessage(*e), nil
	case eventstore.Event:
		return EventMessage(e), nil
	}
	return nil, fmt.Errorf("projections: cannot marshal %T", v)
}

func (marshaler) Unmarshal(msg *message.Message, v any) error {
	d, ok := v.(*delivery)
	if !ok {
		return fmt.Errorf("projections: cannot unmarshal into %T", v)
	}
	d.event, d.err = MessageEvent(msg)
	return nil
}

func (marshaler) Name(any) string { return storedEventName }

func (marshaler) NameFromMessage(*message.Message) string { return storedEventName }
