package kurrent_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/eventstore/kurrent"
)

func TestExpectedRevision(t *testing.T) {
	tests := []struct {
		name string
		give eventstore.Expected
		want esdb.ExpectedRevision
	}{
		{"any", eventstore.Any(), esdb.Any{}},
		{"zero value is any", eventstore.Expected{}, esdb.Any{}},
		{"no stream", eventstore.NoStream(), esdb.NoStream{}},
		{"stream exists", eventstore.StreamExists(), esdb.StreamExists{}},
		{"exact 0 is the first event's revision", eventstore.Exact(0), esdb.StreamRevision{Value: 0}},
		{"exact n", eventstore.Exact(41), esdb.StreamRevision{Value: 41}},
		{"exact max", eventstore.Exact(math.MaxUint64 - 1), esdb.StreamRevision{Value: math.MaxUint64 - 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := kurrent.ExpectedRevision(tc.give); got != tc.want {
				t.Fatalf("ExpectedRevision(%s) = %#v, want %#v", tc.give, got, tc.want)
			}
		})
	}
}

func TestPositions(t *testing.T) {
	tests := []struct {
		name string
		give esdb.Position
		want eventstore.Position
	}{
		{"commit equals prepare", esdb.Position{Commit: 1234, Prepare: 1234}, 1234},
		{"commit is what counts", esdb.Position{Commit: 900, Prepare: 950}, 900},
		{"large", esdb.Position{Commit: 1 << 40, Prepare: 1 << 40}, 1 << 40},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := kurrent.ToPosition(tc.give); got != tc.want {
				t.Fatalf("ToPosition(%+v) = %d, want %d", tc.give, got, tc.want)
			}
		})
	}
	t.Run("from start", func(t *testing.T) {
		if got := kurrent.FromPosition(eventstore.Start); got != (esdb.Start{}) {
			t.Fatalf("FromPosition(Start) = %#v, want esdb.Start{}", got)
		}
	})
	t.Run("from an event's position round-trips", func(t *testing.T) {
		for _, p := range []eventstore.Position{1, 128, 1 << 40} {
			got, ok := kurrent.FromPosition(p).(esdb.Position)
			if !ok || got != (esdb.Position{Commit: uint64(p), Prepare: uint64(p)}) {
				t.Fatalf("FromPosition(%d) = %#v", p, kurrent.FromPosition(p))
			}
			if back := kurrent.ToPosition(got); back != p {
				t.Fatalf("round trip of %d gave %d", p, back)
			}
		}
	})
	t.Run("read count", func(t *testing.T) {
		if kurrent.ReadCount(0) != math.MaxInt64 || kurrent.ReadCount(-3) != math.MaxInt64 || kurrent.ReadCount(7) != 7 {
			t.Fatalf("ReadCount: %d %d %d", kurrent.ReadCount(0), kurrent.ReadCount(-3), kurrent.ReadCount(7))
		}
	})
}

func record(meta string, occurred time.Time) eventstore.Record {
	r := eventstore.Record{
		ID:            uuid.New(),
		Type:          "ComplaintFiled",
		SchemaVersion: 3,
		OccurredAt:    occurred,
		Data:          []byte(`{"complaintId":"c-9","severity":"MAJOR"}`),
	}
	if meta != "" {
		r.Metadata = []byte(meta)
	}
	return r
}

// stored simulates what the server returns for an appended event.
func stored(ed esdb.EventData, stream string, rev uint64, pos uint64, created time.Time) *esdb.RecordedEvent {
	return &esdb.RecordedEvent{
		EventID:      ed.EventID,
		EventType:    ed.EventType,
		ContentType:  "application/json",
		StreamID:     stream,
		EventNumber:  rev,
		Position:     esdb.Position{Commit: pos, Prepare: pos},
		CreatedDate:  created,
		Data:         ed.Data,
		UserMetadata: ed.Metadata,
	}
}

func TestEventDataRoundTrip(t *testing.T) {
	shanghai := time.FixedZone("CST", 8*3600)
	created := time.Date(2025, 1, 2, 3, 4, 5, 600_000_000, time.UTC)
	tests := []struct {
		name     string
		meta     string
		occurred time.Time
	}{
		{"with metadata", `{"correlationId":"c-1","causationId":"e-2","actor":"agent-7"}`, time.Date(2024, 3, 9, 10, 11, 12, 123456789, time.UTC)},
		{"metadata whitespace kept byte for byte", "{ \"actor\" : \"a\",\n \"n\": 1.50 }", time.Date(2024, 3, 9, 10, 11, 12, 0, time.UTC)},
		{"no metadata", "", time.Date(1999, 12, 31, 23, 59, 59, 1, time.UTC)},
		{"metadata that is not an object", `["x",1]`, time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"backfilled business time in another zone", `{"actor":"import"}`, time.Date(2003, 2, 1, 8, 0, 0, 5, shanghai)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Given a record.
			r := record(tc.meta, tc.occurred)
			// When it is encoded for the server and read back.
			ed := kurrent.ToEventData(r)
			if ed.EventID != r.ID || ed.EventType != r.Type || ed.ContentType != esdb.ContentTypeJson || !bytes.Equal(ed.Data, r.Data) {
				t.Fatalf("EventData %+v does not carry the record's ID, type, JSON content type and data", ed)
			}
			got, err := kurrent.FromRecorded(stored(ed, "customer-42", 7, 4096, created))
			if err != nil {
				t.Fatalf("FromRecorded: %v", err)
			}
			// Then every field survives.
			want := eventstore.Event{
				ID: r.ID, StreamID: "customer-42", Revision: 7, Position: 4096, Type: r.Type,
				SchemaVersion: r.SchemaVersion, OccurredAt: r.OccurredAt, RecordedAt: created,
				Data: r.Data, Metadata: r.Metadata,
			}
			if got.ID != want.ID || got.StreamID != want.StreamID || got.Revision != want.Revision || got.Position != want.Position ||
				got.Type != want.Type || got.SchemaVersion != want.SchemaVersion || !got.OccurredAt.Equal(want.OccurredAt) ||
				!got.RecordedAt.Equal(want.RecordedAt) || !bytes.Equal(got.Data, want.Data) || !bytes.Equal(got.Metadata, want.Metadata) {
				t.Fatalf("round trip:\n got  %+v\n want %+v", got, want)
			}
			if tc.meta == "" && got.Metadata != nil {
				t.Fatalf("empty metadata came back as %q", got.Metadata)
			}
		})
	}
}

func TestMetadataLayout(t *testing.T) {
	r := record(`{"actor":"a"}`, time.Date(2024, 3, 9, 10, 11, 12, 123456789, time.UTC))
	got := string(kurrent.EncodeMetadata(r))
	want := `{"$schemaVersion":3,"$occurredAt":"2024-03-09T10:11:12.123456789Z","meta":{"actor":"a"}}`
	if got != want {
		t.Fatalf("metadata\n got  %s\n want %s", got, want)
	}
	r.Metadata = nil
	if got := string(kurrent.EncodeMetadata(r)); got != `{"$schemaVersion":3,"$occurredAt":"2024-03-09T10:11:12.123456789Z"}` {
		t.Fatalf("metadata without meta: %s", got)
	}
}

func TestDecodeMetadataRefusesForeignEvents(t *testing.T) {
	tests := []struct {
		name string
		give string
	}{
		{"empty", ``},
		{"not JSON", `nope`},
		{"empty object", `{}`},
		{"no schema version", `{"$occurredAt":"2024-03-09T10:11:12Z"}`},
		{"schema version 0", `{"$schemaVersion":0,"$occurredAt":"2024-03-09T10:11:12Z"}`},
		{"no occurredAt", `{"$schemaVersion":1}`},
		{"bad occurredAt", `{"$schemaVersion":1,"$occurredAt":"yesterday"}`},
		{"another application's metadata", `{"$correlationId":"x","userId":7}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, _, err := kurrent.DecodeMetadata([]byte(tc.give))
			if !errors.Is(err, kurrent.ErrForeignEvent) {
				t.Fatalf("DecodeMetadata(%q): %v, want ErrForeignEvent", tc.give, err)
			}
			_, err = kurrent.FromRecorded(&esdb.RecordedEvent{StreamID: "other-1", EventNumber: 3, UserMetadata: []byte(tc.give)})
			var de *kurrent.DecodeError
			if !errors.As(err, &de) || de.Stream != "other-1" || de.Revision != 3 || !errors.Is(err, kurrent.ErrForeignEvent) {
				t.Fatalf("FromRecorded: %v, want a *DecodeError for other-1@3 matching ErrForeignEvent", err)
			}
		})
	}
	if _, err := kurrent.FromRecorded(nil); !errors.Is(err, kurrent.ErrForeignEvent) {
		t.Fatalf("FromRecorded(nil): %v", err)
	}
}

func FuzzDecodeMetadata(f *testing.F) {
	f.Add([]byte(`{"$schemaVersion":1,"$occurredAt":"2024-03-09T10:11:12.5Z","meta":{"a":1}}`))
	f.Add([]byte(`{"$schemaVersion":2,"$occurredAt":"2024-03-09T10:11:12+08:00"}`))
	f.Add([]byte(`{"$schemaVersion":1,"$occurredAt":"2024-03-09T10:11:12Z","meta":null}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		sv, at, meta, err := kurrent.DecodeMetadata(b)
		if err != nil {
			if !errors.Is(err, kurrent.ErrForeignEvent) {
				t.Fatalf("error %v does not match ErrForeignEvent", err)
			}
			return
		}
		if sv < 1 {
			t.Fatalf("accepted schema version %d", sv)
		}
		// What decodes re-encodes to something that decodes the same.
		r := eventstore.Record{SchemaVersion: sv, OccurredAt: at, Metadata: meta}
		sv2, at2, meta2, err := kurrent.DecodeMetadata(kurrent.EncodeMetadata(r))
		if err != nil || sv2 != sv || !at2.Equal(at) || !bytes.Equal(bytes.TrimSpace(meta2), bytes.TrimSpace(meta)) {
			t.Fatalf("re-encoding %q: %d %v %q %v", b, sv2, at2, meta2, err)
		}
	})
}

func TestKindOfEveryCode(t *testing.T) {
	tests := []struct {
		code esdb.ErrorCode
		want error
	}{
		{esdb.ErrorCodeUnknown, nil},
		{esdb.ErrorCodeUnsupportedFeature, nil},
		{esdb.ErrorCodeDeadlineExceeded, kurrent.ErrUnavailable},
		{esdb.ErrorCodeUnauthenticated, kurrent.ErrAccessDenied},
		{esdb.ErrorCodeResourceNotFound, eventstore.ErrStreamNotFound},
		{esdb.ErrorCodeResourceAlreadyExists, nil},
		{esdb.ErrorCodeConnectionClosed, eventstore.ErrClosed},
		{esdb.ErrorCodeWrongExpectedVersion, eventstore.ErrConcurrency},
		{esdb.ErrorCodeAccessDenied, kurrent.ErrAccessDenied},
		{esdb.ErrorCodeStreamDeleted, kurrent.ErrStreamDeleted},
		{esdb.ErrorCodeParsing, nil},
		{esdb.ErrorCodeInternalClient, nil},
		{esdb.ErrorCodeInternalServer, nil},
		{esdb.ErrorCodeNotLeader, kurrent.ErrUnavailable},
		{esdb.ErrorAborted, kurrent.ErrUnavailable},
		{esdb.ErrorUnavailable, kurrent.ErrUnavailable},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.code), func(t *testing.T) {
			if got := kurrent.KindOf(tc.code); got != tc.want {
				t.Fatalf("KindOf(%d) = %v, want %v", tc.code, got, tc.want)
			}
		})
	}
}

func TestMapError(t *testing.T) {
	if kurrent.MapError("op", nil) != nil {
		t.Fatal("MapError(nil) is not nil")
	}
	plain := errors.New("boom")
	// esdb.FromError returns (err, false) for every non-nil error: its
	// boolean means "no error", which is why the adapter uses errors.As.
	esErr, ok := esdb.FromError(plain)
	if ok {
		t.Fatal("esdb.FromError's boolean is true for an error: the mapping's premise changed")
	}
	tests := []struct {
		name     string
		give     error
		wantKind error
		wantCode esdb.ErrorCode
	}{
		{"client error, unknown code", esErr, nil, esdb.ErrorCodeUnknown},
		{"wrapped client error", fmt.Errorf("could not send: %w", esErr), nil, esdb.ErrorCodeUnknown},
		{"gRPC unavailable (dropped subscription)", status.Error(codes.Unavailable, "connection refused"), kurrent.ErrUnavailable, esdb.ErrorCodeUnknown},
		{"gRPC deadline", status.Error(codes.DeadlineExceeded, "slow"), kurrent.ErrUnavailable, esdb.ErrorCodeUnknown},
		{"gRPC aborted", status.Error(codes.Aborted, "leader changed"), kurrent.ErrUnavailable, esdb.ErrorCodeUnknown},
		{"gRPC permission denied", status.Error(codes.PermissionDenied, "no"), kurrent.ErrAccessDenied, esdb.ErrorCodeUnknown},
		{"gRPC not found", status.Error(codes.NotFound, "gone"), eventstore.ErrStreamNotFound, esdb.ErrorCodeUnknown},
		{"truncated connection", fmt.Errorf("read: %w", io.ErrUnexpectedEOF), kurrent.ErrUnavailable, esdb.ErrorCodeUnknown},
		{"plain error", plain, nil, esdb.ErrorCodeUnknown},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := kurrent.MapError("read $all", tc.give)
			var ke *kurrent.Error
			if !errors.As(err, &ke) {
				t.Fatalf("MapError: %T, want *kurrent.Error", err)
			}
			if ke.Kind != tc.wantKind || ke.Code != tc.wantCode || ke.Op != "read $all" {
				t.Fatalf("MapError = %+v, want kind %v code %d", ke, tc.wantKind, tc.wantCode)
			}
			if !errors.Is(err, tc.give) {
				t.Fatalf("mapped error does not wrap the original")
			}
			if tc.wantKind != nil && !errors.Is(err, tc.wantKind) {
				t.Fatalf("mapped error does not match %v", tc.wantKind)
			}
			if errors.Is(err, io.EOF) {
				t.Fatalf("a failure maps to end-of-stream")
			}
		})
	}
}

func TestPermanent(t *testing.T) {
	tests := []struct {
		name string
		give error
		want bool
	}{
		{"network down", status.Error(codes.Unavailable, "connection refused"), false},
		{"server restarting", status.Error(codes.Internal, "RST_STREAM"), false},
		{"deadline", status.Error(codes.DeadlineExceeded, "slow"), false},
		{"unknown client error", func() error { e, _ := esdb.FromError(errors.New("x")); return e }(), false},
		{"plain error", errors.New("connection reset by peer"), false},
		{"bad credentials", status.Error(codes.Unauthenticated, "who"), true},
		{"no access", status.Error(codes.PermissionDenied, "no"), true},
		{"bad request", status.Error(codes.InvalidArgument, "position"), true},
		{"unsupported", status.Error(codes.Unimplemented, "old server"), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := kurrent.Permanent(tc.give); got != tc.want {
				t.Fatalf("Permanent(%v) = %v, want %v", tc.give, got, tc.want)
			}
		})
	}
}

func TestFilters(t *testing.T) {
	tests := []struct {
		stream, eventType string
		hidden            bool
	}{
		{"customer-42", "ComplaintFiled", false},
		{"campaign-spring", "GreetingCampaignScheduled", false},
		{"test-x_1", "ContactLogged", false},
		{"$stats-127.0.0.1:2113", "$statsCollected", true},
		{"$ce-customer", "$>", true},
		{"customer-42", "$metadata", true},
		{"$$customer-42", "$metadata", true},
		{"$projections-$all", "$ProjectionsInitialized", true},
		{"kefukey-42", kurrent.KeyEventType, true},
		{"kefukey-42", "Whatever", true},
		{"kefukeys-42", "ContactLogged", false},
	}
	filter := kurrent.SubscriptionFilter()
	if filter.Type != esdb.EventFilterType || len(filter.Prefixes) != 0 {
		t.Fatalf("filter %+v: want an event-type regex", filter)
	}
	// The server evaluates the regex with .NET; this one is plain enough
	// that Go's engine agrees.
	re := regexp.MustCompile(filter.Regex)
	for _, tc := range tests {
		t.Run(tc.stream+"/"+tc.eventType, func(t *testing.T) {
			if got := kurrent.IsHidden(tc.stream, tc.eventType); got != tc.hidden {
				t.Fatalf("IsHidden = %v, want %v", got, tc.hidden)
			}
			passes := re.MatchString(tc.eventType)
			if tc.eventType[0] == '$' && passes {
				t.Fatalf("server filter lets system type %q through", tc.eventType)
			}
			if !tc.hidden && !passes {
				t.Fatalf("server filter drops kefu event type %q", tc.eventType)
			}
		})
	}
}
