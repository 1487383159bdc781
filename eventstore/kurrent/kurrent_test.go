package kurrent_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/eventstore/kurrent"
	"github.com/kefu-crm/kefu/eventstore/storetest"
	"github.com/kefu-crm/kefu/pii"
)

const skipReason = "KEFU_TEST_ESDB not set: no EventStoreDB or KurrentDB server package is reachable from these machines"

// server returns the connection string of the test server, or skips.
func server(t *testing.T) string {
	t.Helper()
	conn := os.Getenv("KEFU_TEST_ESDB")
	if conn == "" {
		t.Skip(skipReason)
	}
	return conn
}

func openServer(t *testing.T) *kurrent.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	s, err := kurrent.Open(ctx, server(t), kurrent.Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

// TestContract runs the port's contract suite against the server named by
// KEFU_TEST_ESDB, e.g. "esdb://localhost:2113?tls=false". The server's log
// is shared between subtests and persists across reopening.
func TestContract(t *testing.T) {
	conn := server(t)
	storetest.RunConfig(t, storetest.Config{
		New: func(t *testing.T, _ string) eventstore.Store {
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			s, err := kurrent.Open(ctx, conn, kurrent.Options{})
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			return s
		},
		SharedLog:   true,
		ManyStreams: 2000,
	})
}

func TestKeystoreOnServer(t *testing.T) {
	s := openServer(t)
	defer s.Close()
	ks := kurrent.NewKeystore(s, kurrent.KeystoreOptions{})
	ctx := t.Context()
	subject := "ks_" + strings.ReplaceAll(uuid.NewString(), "-", "")
	if _, err := ks.Key(ctx, subject, false); !errors.Is(err, pii.ErrNoKey) {
		t.Fatalf("Key of a new subject without create: %v, want ErrNoKey", err)
	}
	k1, err := ks.Key(ctx, subject, true)
	if err != nil || len(k1) != pii.KeySize {
		t.Fatalf("Key(create): %x, %v", k1, err)
	}
	k2, err := ks.Key(ctx, subject, true)
	if err != nil || !bytes.Equal(k1, k2) {
		t.Fatalf("second Key: %x, %v; want the first key", k2, err)
	}
	// Keys never show up in the log that projections read.
	if err := s.ReadAll(ctx, eventstore.Start, func(e eventstore.Event) error {
		if strings.HasPrefix(e.StreamID, kurrent.KeyCategory+"-") {
			t.Errorf("ReadAll delivered key stream event %s", e.StreamID)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := ks.Destroy(ctx, subject); err != nil {
		t.Fatalf("Destroy: %v", err)
	}
	if err := ks.Destroy(ctx, subject); err != nil {
		t.Fatalf("second Destroy: %v", err)
	}
	for _, create := range []bool{false, true} {
		if _, err := ks.Key(ctx, subject, create); !errors.Is(err, pii.ErrDestroyed) {
			t.Fatalf("Key(create=%v) after Destroy: %v, want ErrDestroyed", create, err)
		}
	}
	if err := ks.Import(ctx, subject, k1); !errors.Is(err, pii.ErrDestroyed) {
		t.Fatalf("Import after Destroy: %v, want ErrDestroyed", err)
	}
	never := "never_" + strings.ReplaceAll(uuid.NewString(), "-", "")
	if err := ks.Destroy(ctx, never); err != nil {
		t.Fatalf("Destroy of a subject without key: %v", err)
	}
	if _, err := ks.Key(ctx, never, true); !errors.Is(err, pii.ErrDestroyed) {
		t.Fatalf("Key after destroying a missing key: %v, want ErrDestroyed", err)
	}
}

// Without a server: everything that is decided before the first request.

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		name string
		give kurrent.Options
		ok   bool
	}{
		{"zero", kurrent.Options{}, true},
		{"set", kurrent.Options{IdempotencyWindow: 10, RecentIDs: 5, PageSize: 2, MaxBackoff: time.Second}, true},
		{"negative window", kurrent.Options{IdempotencyWindow: -1}, false},
		{"negative recent", kurrent.Options{RecentIDs: -1}, false},
		{"page of one", kurrent.Options{PageSize: 1}, false},
		{"negative backoff", kurrent.Options{MaxBackoff: -time.Second}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.give.Validate()
			if (err == nil) != tc.ok || (err != nil && !errors.Is(err, kurrent.ErrInvalidConfig)) {
				t.Fatalf("Validate: %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func TestOpenRefusesBadConnectionStrings(t *testing.T) {
	for _, conn := range []string{"", "http://localhost:2113", "esdb://", "esdb://host:2113?tls=maybe"} {
		t.Run(conn, func(t *testing.T) {
			s, err := kurrent.Open(t.Context(), conn, kurrent.Options{})
			if !errors.Is(err, kurrent.ErrInvalidConfig) {
				if s != nil {
					_ = s.Close()
				}
				t.Fatalf("Open(%q): %v, want ErrInvalidConfig", conn, err)
			}
		})
	}
	if _, err := kurrent.Open(t.Context(), "esdb://localhost:2113", kurrent.Options{PageSize: -1}); !errors.Is(err, kurrent.ErrInvalidConfig) {
		t.Fatalf("Open with bad options: %v", err)
	}
}

// A store without a client refuses bad input and closed use before it
// would talk to a server.
func TestRefusalsBeforeAnyRequest(t *testing.T) {
	s := kurrent.New(nil, kurrent.Options{})
	ctx := t.Context()
	good := eventstore.Record{ID: uuid.New(), Type: "ContactLogged", SchemaVersion: 1, OccurredAt: time.Now(), Data: []byte(`{}`)}
	reserved := good
	reserved.Type = "$metadata"
	tests := []struct {
		name   string
		stream string
		rec    eventstore.Record
		want   error
	}{
		{"invalid stream", "nodash", good, eventstore.ErrInvalidStreamID},
		{"system event type", "customer-1", reserved, eventstore.ErrInvalidRecord},
		{"data-key stream", "kefukey-1", good, eventstore.ErrInvalidRecord},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := s.Append(ctx, tc.stream, eventstore.Any(), tc.rec); !errors.Is(err, tc.want) {
				t.Fatalf("Append: %v, want %v", err, tc.want)
			}
		})
	}
	if _, err := s.ReadStream(ctx, "customer-1", eventstore.StreamRead{Limit: -1}); !errors.Is(err, eventstore.ErrInvalidArgument) {
		t.Fatalf("ReadStream with a negative limit: %v", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.Append(cancelled, "customer-1", eventstore.Any(), good); !errors.Is(err, context.Canceled) {
		t.Fatalf("Append with a cancelled context: %v", err)
	}
	if err := s.Subscribe(cancelled, eventstore.Start, func(eventstore.Event) error { return nil }); err != nil {
		t.Fatalf("Subscribe with a cancelled context: %v, want nil", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	nop := func(eventstore.Event) error { return nil }
	_, appendErr := s.Append(ctx, "customer-1", eventstore.Any(), good)
	_, readErr := s.ReadStream(ctx, "customer-1", eventstore.StreamRead{})
	_, headErr := s.Head(ctx)
	for name, err := range map[string]error{
		"Append": appendErr, "ReadStream": readErr, "Head": headErr,
		"ReadAll": s.ReadAll(ctx, eventstore.Start, nop), "Subscribe": s.Subscribe(ctx, eventstore.Start, nop),
		"Close": s.Close(),
	} {
		if !errors.Is(err, eventstore.ErrClosed) {
			t.Errorf("%s after Close: %v, want ErrClosed", name, err)
		}
	}
}
