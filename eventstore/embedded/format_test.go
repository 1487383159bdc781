package embedded_test

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/eventstore/embedded"
)

// editFile changes the closed store's file directly, as corruption or a
// future version would.
func editFile(t *testing.T, dir string, fn func(tx *bolt.Tx) error) {
	t.Helper()
	db, err := bolt.Open(filepath.Join(dir, embedded.FileName), 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(fn); err != nil {
		t.Fatal(err)
	}
}

func TestOpenRefusesUnknownFormats(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(t *testing.T, dir string)
		detail  string
	}{
		{"not a bbolt file", func(t *testing.T, dir string) {
			if err := os.WriteFile(filepath.Join(dir, embedded.FileName), []byte(strings.Repeat("not a database ", 1000)), 0o600); err != nil {
				t.Fatal(err)
			}
		}, "events.db"},
		{"bbolt file of something else", func(t *testing.T, dir string) {
			editFile(t, dir, func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("sessions")); return err })
		}, "without a kefu format marker"},
		{"newer format", func(t *testing.T, dir string) {
			editFile(t, dir, func(tx *bolt.Tx) error {
				b, err := tx.CreateBucket([]byte("meta"))
				if err != nil {
					return err
				}
				return b.Put([]byte("format"), []byte("kefu-eventstore-bbolt/99"))
			})
		}, `format "kefu-eventstore-bbolt/99"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			tc.prepare(t, dir)
			s, err := embedded.Open(dir, embedded.Options{})
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			if !errors.Is(err, embedded.ErrFormat) || !strings.Contains(err.Error(), tc.detail) {
				t.Fatalf("Open: %v; want ErrFormat mentioning %q", err, tc.detail)
			}
		})
	}
}

func TestOpenRecordsFormat(t *testing.T) {
	dir := t.TempDir()
	open(t, dir).Close()
	editFile(t, dir, func(tx *bolt.Tx) error {
		if got := string(tx.Bucket([]byte("meta")).Get([]byte("format"))); got != embedded.Format {
			t.Errorf("format marker %q, want %q", got, embedded.Format)
		}
		return nil
	})
}

func TestCorruptRecordIsReportedWithItsPosition(t *testing.T) {
	tests := []struct {
		name  string
		spoil func(events *bolt.Bucket) error
	}{
		{"garbage value", func(events *bolt.Bucket) error { return events.Put(key(3), []byte("garbage")) }},
		{"flipped bit", func(events *bolt.Bucket) error {
			v := append([]byte(nil), events.Get(key(3))...)
			v[len(v)-5] ^= 0x10
			return events.Put(key(3), v)
		}},
		{"missing event", func(events *bolt.Bucket) error { return events.Delete(key(3)) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s := open(t, dir)
			for i := range 5 {
				if _, err := s.Append(t.Context(), "customer-7", eventstore.Any(), contactLogged(i)); err != nil {
					t.Fatal(err)
				}
			}
			s.Close()
			editFile(t, dir, func(tx *bolt.Tx) error { return tc.spoil(tx.Bucket([]byte("events"))) })

			s = open(t, dir)
			defer s.Close()
			var seen []eventstore.Position
			err := s.ReadAll(t.Context(), eventstore.Start, func(e eventstore.Event) error {
				seen = append(seen, e.Position)
				return nil
			})
			var ce *embedded.CorruptError
			if !errors.Is(err, embedded.ErrCorrupt) || !errors.As(err, &ce) || ce.Position != 3 {
				t.Fatalf("ReadAll: %v; want a CorruptError at position 3", err)
			}
			if !strings.Contains(err.Error(), "position 3") {
				t.Fatalf("error %q does not name the position", err)
			}
			if len(seen) != 2 {
				t.Fatalf("ReadAll delivered %v before the corrupt record, want positions 1 and 2", seen)
			}
			if _, err := s.ReadStream(t.Context(), "customer-7", eventstore.StreamRead{}); !errors.Is(err, embedded.ErrCorrupt) {
				t.Fatalf("ReadStream: %v, want ErrCorrupt", err)
			}
			if err := s.Subscribe(t.Context(), eventstore.Start, func(eventstore.Event) error { return nil }); !errors.Is(err, embedded.ErrCorrupt) {
				t.Fatalf("Subscribe: %v, want ErrCorrupt", err)
			}
		})
	}
}

func key(p uint64) []byte { return binary.BigEndian.AppendUint64(nil, p) }

func TestOptions(t *testing.T) {
	bad := embedded.Options{LockTimeout: -1, MaxBatchEvents: -1, MaxEventBytes: -1, ReadChunk: -1}
	err := bad.Validate()
	for _, field := range []string{"LockTimeout", "MaxBatchEvents", "MaxEventBytes", "ReadChunk"} {
		if err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("Validate: %v; want a complaint about %s", err, field)
		}
	}
	if _, err := embedded.Open(t.TempDir(), bad); err == nil {
		t.Fatal("Open accepted invalid options")
	}
	if err := (embedded.Options{}).Validate(); err != nil {
		t.Fatalf("zero Options: %v", err)
	}
}

func TestClockAndEventSizeLimit(t *testing.T) {
	at := time.Date(2030, 1, 2, 3, 4, 5, 6, time.UTC)
	s, err := embedded.Open(t.TempDir(), embedded.Options{Clock: func() time.Time { return at }, MaxEventBytes: 1000})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Append(t.Context(), "customer-1", eventstore.NoStream(), contactLogged(1)); err != nil {
		t.Fatal(err)
	}
	evs, err := s.ReadStream(t.Context(), "customer-1", eventstore.StreamRead{})
	if err != nil || !evs[0].RecordedAt.Equal(at) {
		t.Fatalf("RecordedAt %v (%v), want the clock's %v", evs[0].RecordedAt, err, at)
	}
	big := contactLogged(2)
	big.Data = []byte(`"` + strings.Repeat("x", 1000) + `"`)
	if _, err := s.Append(t.Context(), "customer-1", eventstore.Any(), big); !errors.Is(err, eventstore.ErrInvalidRecord) {
		t.Fatalf("oversized append: %v, want ErrInvalidRecord", err)
	}
}
