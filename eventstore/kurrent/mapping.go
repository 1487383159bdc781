package kurrent

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/kefu-crm/kefu/eventstore"
)

// This file holds every translation between the port and the client: one
// small function per concern, each with a table test that runs without a
// server.

// expectedRevision maps the port's expectation to the client's. The port's
// Exact(n) means "the stream's last event has revision n", which is what
// EventStoreDB's StreamRevision{Value: n} means too.
func expectedRevision(e eventstore.Expected) esdb.ExpectedRevision {
	switch {
	case e.IsNoStream():
		return esdb.NoStream{}
	case e.IsStreamExists():
		return esdb.StreamExists{}
	}
	if rev, ok := e.Revision(); ok {
		return esdb.StreamRevision{Value: rev}
	}
	return esdb.Any{}
}

// toPosition maps an EventStoreDB $all position to the port's Position: the
// commit position. Events appended through gRPC are implicitly committed,
// so each has its own commit position, equal to its prepare position; commit
// positions grow with the log (monotonic) but are byte offsets, not a count
// (not dense).
func toPosition(p esdb.Position) eventstore.Position {
	return eventstore.Position(p.Commit)
}

// fromPosition is the $all position to read or subscribe from for the
// port's "after p". Start maps to the beginning of $all; any other position
// to the log position p, which is valid when p is an event's position (a
// checkpoint, Head); see Store.ReadAll for positions in between.
func fromPosition(p eventstore.Position) esdb.AllPosition {
	if p == eventstore.Start {
		return esdb.Start{}
	}
	return esdb.Position{Commit: uint64(p), Prepare: uint64(p)}
}

// readCount is the count to ask the server for: limit, or everything.
func readCount(limit int) uint64 {
	if limit <= 0 {
		return math.MaxInt64
	}
	return uint64(limit)
}

// KeyEventType is the type of the event that holds a customer's data key in
// its key stream. It starts with '$' so that the server-side filter that
// drops system events from subscriptions drops it too.
const KeyEventType = "$kefu-data-key"

// KeyCategory is the stream category of the data-key streams:
// "kefukey-<customer id>".
const KeyCategory = "kefukey"

// isHidden reports whether an event of $all is not part of kefu's log:
// system events and streams (type or stream starting with '$', which also
// covers link events "$>" and stream metadata "$metadata") and the data-key
// streams, whose contents must never reach a projection.
func isHidden(stream, eventType string) bool {
	return strings.HasPrefix(eventType, "$") ||
		strings.HasPrefix(stream, "$") ||
		strings.HasPrefix(stream, KeyCategory+"-")
}

// subscriptionFilter is the server-side filter of Subscribe: it drops
// events whose type starts with '$' (system events and data keys). isHidden
// is applied on the client too.
func subscriptionFilter() *esdb.SubscriptionFilter {
	return &esdb.SubscriptionFilter{Type: esdb.EventFilterType, Regex: `^[^\$]`}
}

// metadata is the JSON kept in an EventStoreDB event's metadata: our
// envelope fields and, under "meta", the record's own metadata byte for
// byte. The '$'-prefixed names follow the server's convention for
// infrastructure properties, so that they cannot clash with application
// fields.
//
//	{"$schemaVersion":1,"$occurredAt":"2024-03-09T10:11:12.123456789Z","meta":{"correlationId":"c-1","actor":"agent-7"}}
//
// "meta" is left out when the record has no metadata.
type metadata struct {
	SchemaVersion int             `json:"$schemaVersion"`
	OccurredAt    string          `json:"$occurredAt"`
	Meta          json.RawMessage `json:"meta,omitempty"`
}

// encodeMetadata builds the event metadata for r. The record's metadata is
// copied verbatim (json.Marshal would compact it).
func encodeMetadata(r eventstore.Record) []byte {
	b := make([]byte, 0, 64+len(r.Metadata))
	b = fmt.Appendf(b, `{"$schemaVersion":%d,"$occurredAt":"%s"`, r.SchemaVersion, r.OccurredAt.Format(time.RFC3339Nano))
	if meta := bytes.TrimSpace(r.Metadata); len(meta) > 0 {
		b = append(b, `,"meta":`...)
		b = append(b, r.Metadata...)
	}
	return append(b, '}')
}

// decodeMetadata reads what encodeMetadata wrote.
func decodeMetadata(b []byte) (schemaVersion int, occurredAt time.Time, meta []byte, err error) {
	var m metadata
	if err := json.Unmarshal(b, &m); err != nil {
		return 0, time.Time{}, nil, fmt.Errorf("%w: event metadata is not kefu's JSON envelope: %v", ErrForeignEvent, err)
	}
	if m.SchemaVersion < 1 {
		return 0, time.Time{}, nil, fmt.Errorf("%w: event metadata has no $schemaVersion ≥ 1", ErrForeignEvent)
	}
	occurredAt, err = time.Parse(time.RFC3339Nano, m.OccurredAt)
	if err != nil {
		return 0, time.Time{}, nil, fmt.Errorf("%w: event metadata $occurredAt: %v", ErrForeignEvent, err)
	}
	if len(m.Meta) > 0 {
		meta = m.Meta
	}
	return m.SchemaVersion, occurredAt, meta, nil
}

// toEventData maps a record to the client's event: the ID passes through
// (so the server recognises retries), the content type is JSON, the data is
// the record's and the metadata is encodeMetadata's.
func toEventData(r eventstore.Record) esdb.EventData {
	return esdb.EventData{
		EventID:     r.ID,
		EventType:   r.Type,
		ContentType: esdb.ContentTypeJson,
		Data:        r.Data,
		Metadata:    encodeMetadata(r),
	}
}

// fromRecorded maps a stored event back. RecordedAt is the server's created
// time.
func fromRecorded(e *esdb.RecordedEvent) (eventstore.Event, error) {
	if e == nil {
		return eventstore.Event{}, fmt.Errorf("%w: a read returned no event (an unresolved link?)", ErrForeignEvent)
	}
	sv, occurred, meta, err := decodeMetadata(e.UserMetadata)
	if err != nil {
		return eventstore.Event{}, &DecodeError{Stream: e.StreamID, Revision: e.EventNumber, Err: err}
	}
	return eventstore.Event{
		ID:            e.EventID,
		StreamID:      e.StreamID,
		Revision:      e.EventNumber,
		Position:      toPosition(e.Position),
		Type:          e.EventType,
		SchemaVersion: sv,
		OccurredAt:    occurred,
		RecordedAt:    e.CreatedDate,
		Data:          e.Data,
		Metadata:      meta,
	}, nil
}

// kindOf maps a client error code to the port's or this package's
// sentinel; nil when the code has no better name than the client's error.
func kindOf(code esdb.ErrorCode) error {
	switch code {
	case esdb.ErrorCodeWrongExpectedVersion:
		return eventstore.ErrConcurrency
	case esdb.ErrorCodeResourceNotFound:
		return eventstore.ErrStreamNotFound
	case esdb.ErrorCodeStreamDeleted:
		return ErrStreamDeleted
	case esdb.ErrorCodeConnectionClosed:
		return eventstore.ErrClosed
	case esdb.ErrorUnavailable, esdb.ErrorCodeNotLeader, esdb.ErrorCodeDeadlineExceeded, esdb.ErrorAborted:
		return ErrUnavailable
	case esdb.ErrorCodeUnauthenticated, esdb.ErrorCodeAccessDenied:
		return ErrAccessDenied
	}
	return nil
}

// mapError wraps a client error for op. A *esdb.Error (found with
// errors.As — esdb.FromError's boolean is true only for a nil error) gets
// the sentinel of its code; any other error (a gRPC status from a dropped
// subscription) is classified by its gRPC code. io.EOF is never passed
// here: only a read's own io.EOF means the end.
func mapError(op string, err error) error {
	if err == nil {
		return nil
	}
	var ee *esdb.Error
	if errors.As(err, &ee) {
		return &Error{Op: op, Code: ee.Code(), Kind: kindOf(ee.Code()), Err: err}
	}
	e := &Error{Op: op, Code: esdb.ErrorCodeUnknown, Err: err}
	switch status.Code(err) {
	case codes.Unavailable, codes.DeadlineExceeded, codes.Aborted, codes.ResourceExhausted:
		e.Kind = ErrUnavailable
	case codes.Unauthenticated, codes.PermissionDenied:
		e.Kind = ErrAccessDenied
	case codes.NotFound:
		e.Kind = eventstore.ErrStreamNotFound
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		e.Kind = ErrUnavailable
	}
	return e
}

// permanent reports whether a subscription that dropped with err must not
// be resubscribed: the server refused the request itself (credentials,
// access, an unsupported feature, a bad argument) or the client is closed.
// Every other failure — a network error, a leader change, a timeout, an
// unknown server error — is retried.
func permanent(err error) bool {
	var ee *esdb.Error
	if errors.As(err, &ee) {
		switch ee.Code() {
		case esdb.ErrorCodeUnauthenticated, esdb.ErrorCodeAccessDenied, esdb.ErrorCodeUnsupportedFeature,
			esdb.ErrorCodeParsing, esdb.ErrorCodeInternalClient, esdb.ErrorCodeConnectionClosed:
			return true
		}
		err = ee.Err()
	}
	switch status.Code(err) {
	case codes.Unauthenticated, codes.PermissionDenied, codes.InvalidArgument, codes.Unimplemented:
		return true
	}
	return false
}

// isCode reports whether err is a *esdb.Error with the given code.
func isCode(err error, code esdb.ErrorCode) bool {
	var ee *esdb.Error
	return errors.As(err, &ee) && ee.IsErrorCode(code)
}
