package projections_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"

	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/projections"
)

func sampleEvent() eventstore.Event {
	return eventstore.Event{
		ID:            uuid.MustParse("6f1c1e0e-4b7e-4a53-9d5a-3c2b1a0f9e8d"),
		StreamID:      "customer-42",
		Revision:      3,
		Position:      1234,
		Type:          "PurchaseRecorded",
		SchemaVersion: 2,
		OccurredAt:    time.Date(2024, 2, 29, 23, 59, 59, 123456789, time.FixedZone("CST", 8*3600)),
		RecordedAt:    time.Date(2025, 1, 2, 3, 4, 5, 6, time.UTC),
		Data:          []byte(`{"amount":"12.50"}`),
		Metadata:      []byte(`{"actor":"a-1"}`),
	}
}

func TestEventMessageRoundTrip(t *testing.T) {
	e := sampleEvent()
	msg := projections.EventMessage(e)
	if msg.UUID != e.ID.String() || !bytes.Equal(msg.Payload, e.Data) {
		t.Fatalf("message %s payload %s, want the event ID and data", msg.UUID, msg.Payload)
	}
	for k, want := range map[string]string{
		projections.MetaStream: "customer-42", projections.MetaType: "PurchaseRecorded",
		projections.MetaRevision: "3", projections.MetaPosition: "1234", projections.MetaSchemaVersion: "2",
	} {
		if got := msg.Metadata.Get(k); got != want {
			t.Errorf("metadata %s = %q, want %q", k, got, want)
		}
	}
	got, err := projections.MessageEvent(msg)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != e.ID || got.StreamID != e.StreamID || got.Revision != e.Revision || got.Position != e.Position ||
		got.Type != e.Type || got.SchemaVersion != e.SchemaVersion || !got.OccurredAt.Equal(e.OccurredAt) ||
		!got.RecordedAt.Equal(e.RecordedAt) || !bytes.Equal(got.Data, e.Data) || !bytes.Equal(got.Metadata, e.Metadata) {
		t.Fatalf("round trip: got %+v, want %+v", got, e)
	}
}

func TestMessageEventRejectsBadMetadata(t *testing.T) {
	tests := []struct {
		name  string
		given func(*message.Message)
	}{
		{"bad uuid", func(m *message.Message) { m.UUID = "nope" }},
		{"bad position", func(m *message.Message) { m.Metadata.Set(projections.MetaPosition, "-1") }},
		{"bad revision", func(m *message.Message) { m.Metadata.Set(projections.MetaRevision, "x") }},
		{"bad schema version", func(m *message.Message) { m.Metadata.Set(projections.MetaSchemaVersion, "") }},
		{"bad occurredAt", func(m *message.Message) { m.Metadata.Set(projections.MetaOccurredAt, "yesterday") }},
		{"bad recordedAt", func(m *message.Message) { m.Metadata.Set(projections.MetaRecordedAt, "") }},
		{"no stream", func(m *message.Message) { m.Metadata.Set(projections.MetaStream, "") }},
		{"no type", func(m *message.Message) { m.Metadata.Set(projections.MetaType, "") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := projections.EventMessage(sampleEvent())
			tt.given(msg)
			if _, err := projections.MessageEvent(msg); !errors.Is(err, projections.ErrBadMessage) {
				t.Fatalf("got %v, want ErrBadMessage", err)
			}
		})
	}
}

func FuzzMessageEvent(f *testing.F) {
	e := sampleEvent()
	f.Add(e.ID.String(), "customer-42", "T", "3", "1234", "2", e.OccurredAt.Format(time.RFC3339Nano), e.RecordedAt.Format(time.RFC3339Nano))
	f.Add("", "", "", "", "", "", "", "")
	f.Fuzz(func(t *testing.T, id, stream, typ, rev, pos, schema, occurred, recorded string) {
		msg := message.NewMessage(id, []byte(`{}`))
		for k, v := range map[string]string{
			projections.MetaStream: stream, projections.MetaType: typ, projections.MetaRevision: rev,
			projections.MetaPosition: pos, projections.MetaSchemaVersion: schema,
			projections.MetaOccurredAt: occurred, projections.MetaRecordedAt: recorded,
		} {
			msg.Metadata.Set(k, v)
		}
		got, err := projections.MessageEvent(msg)
		if err != nil {
			if !errors.Is(err, projections.ErrBadMessage) {
				t.Fatalf("error %v does not match ErrBadMessage", err)
			}
			return
		}
		again, err := projections.MessageEvent(projections.EventMessage(got))
		if err != nil {
			t.Fatalf("re-encoded event does not decode: %v", err)
		}
		if again.ID != got.ID || again.Position != got.Position || again.Revision != got.Revision ||
			again.StreamID != got.StreamID || again.Type != got.Type || again.SchemaVersion != got.SchemaVersion ||
			!again.OccurredAt.Equal(got.OccurredAt) || !again.RecordedAt.Equal(got.RecordedAt) {
			t.Fatalf("round trip changed the event: %+v then %+v", got, again)
		}
	})
}
