package exchange_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/exchange"
	"github.com/kefu-crm/kefu/internal/datadir"
	"github.com/kefu-crm/kefu/pii"
)

func export(t *testing.T, src *datadir.Dir, opts exchange.ExportOptions) []byte {
	t.Helper()
	var buf bytes.Buffer
	if _, err := exchange.Export(context.Background(), src.Store, src.Codec, exchange.DefaultTypes(), &buf, opts); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func importNDJSON(dst *datadir.Dir, data []byte) (exchange.ImportStats, error) {
	return exchange.ImportNDJSON(context.Background(), dst.Store, dst.Codec, exchange.DefaultTypes(), bytes.NewReader(data),
		exchange.ImportOptions{File: "in.ndjson", Shred: func(ctx context.Context, id string) error { return dst.Vault.Destroy(ctx, id) }})
}

func allEvents(t *testing.T, s eventstore.Store) []eventstore.Event {
	t.Helper()
	var out []eventstore.Event
	if err := s.ReadAll(context.Background(), eventstore.Start, func(e eventstore.Event) error {
		out = append(out, e)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func lines(b []byte) []string { return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") }

// TestRoundTrip: export → import into an empty data directory → export
// again gives the same envelopes (but recordedAt and position), with
// personal data in clear both times and sealed in the new store.
func TestRoundTrip(t *testing.T) {
	src := seeded(t, 30)
	first := export(t, src, exchange.ExportOptions{})
	dst := openDir(t, t.TempDir())
	st, err := importNDJSON(dst, first)
	if err != nil {
		t.Fatal(err)
	}
	n := len(lines(first))
	if st.Records != int64(n) || st.Written != int64(n) || st.Existing != 0 {
		t.Fatalf("stats %+v, want %d records written", st, n)
	}
	second := export(t, dst, exchange.ExportOptions{})
	a, b := envelopes(t, first), envelopes(t, second)
	if len(a) != len(b) {
		t.Fatalf("%d envelopes after the round trip, want %d", len(b), len(a))
	}
	byID := map[string]exchange.Envelope{}
	for _, e := range a {
		byID[e.ID] = e
	}
	for _, e := range b {
		o, ok := byID[e.ID]
		if !ok {
			t.Fatalf("event %s appeared", e.ID)
		}
		if o.Stream != e.Stream || o.Type != e.Type || o.Revision != e.Revision || !o.OccurredAt.Equal(e.OccurredAt) ||
			!jsonEqual(o.Data, e.Data) || !jsonEqual(o.Metadata, e.Metadata) {
			t.Fatalf("event %s changed:\n%+v\n%+v", e.ID, o, e)
		}
	}
	// Personal data is sealed at rest in the new store.
	sealed := 0
	for _, ev := range allEvents(t, dst.Store) {
		if ev.Type == customer.TypeCustomerRegistered {
			if !bytes.Contains(ev.Data, []byte(pii.Prefix)) {
				t.Fatalf("registration stored in clear: %s", ev.Data)
			}
			sealed++
		}
	}
	if sealed == 0 {
		t.Fatal("no registration in the imported store")
	}
	// Re-running the import is a no-op.
	st, err = importNDJSON(dst, first)
	if err != nil {
		t.Fatal(err)
	}
	if st.Written != 0 || st.Existing != int64(n) {
		t.Fatalf("re-run stats %+v, want all %d existing", st, n)
	}
	if got := len(allEvents(t, dst.Store)); got != n {
		t.Fatalf("%d events after re-run, want %d", got, n)
	}
}

func envelopes(t *testing.T, b []byte) []exchange.Envelope {
	t.Helper()
	var out []exchange.Envelope
	for i, l := range lines(b) {
		var e exchange.Envelope
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("line %d: %v: %s", i+1, err, l)
		}
		out = append(out, e)
	}
	return out
}

func jsonEqual(a, b []byte) bool {
	var x, y any
	if len(a) == 0 && len(b) == 0 {
		return true
	}
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return bytes.Equal(xa, ya)
}

func TestExportFilters(t *testing.T) {
	src := seeded(t, 20)
	all := envelopes(t, export(t, src, exchange.ExportOptions{}))
	var prev uint64
	for _, e := range all {
		if e.Position <= prev {
			t.Fatalf("position %d after %d: not in global order", e.Position, prev)
		}
		prev = e.Position
	}
	until := seedEnd.AddDate(0, -6, 0)
	cut := envelopes(t, export(t, src, exchange.ExportOptions{Until: until, Types: []string{"PurchaseMade", "ComplaintFiled"}}))
	want := 0
	for _, e := range all {
		if !e.OccurredAt.After(until) && (e.Type == "PurchaseMade" || e.Type == "ComplaintFiled") {
			want++
		}
	}
	if len(cut) != want || want == 0 {
		t.Fatalf("%d events with --until and --types, want %d", len(cut), want)
	}
	for _, e := range cut {
		if e.OccurredAt.After(until) || (e.Type != "PurchaseMade" && e.Type != "ComplaintFiled") {
			t.Fatalf("filtered export has %s at %s", e.Type, e.OccurredAt)
		}
	}
	if _, err := exchange.Export(context.Background(), src.Store, src.Codec, exchange.DefaultTypes(), &bytes.Buffer{},
		exchange.ExportOptions{Types: []string{"NoSuchEvent"}}); !errors.Is(err, exchange.ErrInvalidOptions) {
		t.Fatalf("unknown type: %v, want ErrInvalidOptions", err)
	}
}

func TestExportCSV(t *testing.T) {
	src := seeded(t, 5)
	out := lines(export(t, src, exchange.ExportOptions{Format: exchange.CSV}))
	if out[0] != strings.Join(exchange.CSVHeader, ",") {
		t.Fatalf("header %q", out[0])
	}
	if len(out) < 6 {
		t.Fatalf("only %d lines", len(out))
	}
}

func TestPseudonymize(t *testing.T) {
	src := seeded(t, 20)
	clear := envelopes(t, export(t, src, exchange.ExportOptions{}))
	key := []byte("0123456789abcdef0123")
	out := export(t, src, exchange.ExportOptions{Pseudonymize: true, Key: key})
	again := export(t, src, exchange.ExportOptions{Pseudonymize: true, Key: key})
	if !bytes.Equal(out, again) {
		t.Fatal("pseudonymization is not deterministic under one key")
	}
	other := export(t, src, exchange.ExportOptions{Pseudonymize: true, Key: []byte("another key, 16+ bytes")})
	if bytes.Equal(out, other) {
		t.Fatal("the key does not matter")
	}
	ps := envelopes(t, out)
	for i, e := range ps {
		c := clear[i]
		_, cid, _ := strings.Cut(c.Stream, "-")
		if strings.Contains(e.Stream, cid) || strings.Contains(string(e.Data), `"`+cid+`"`) {
			t.Fatalf("customer ID %s leaks: %s %s", cid, e.Stream, e.Data)
		}
		if c.Type == customer.TypeCustomerRegistered {
			var reg customer.CustomerRegistered
			if err := json.Unmarshal(e.Data, &reg); err != nil {
				t.Fatal(err)
			}
			var orig customer.CustomerRegistered
			_ = json.Unmarshal(c.Data, &orig)
			if reg.Name != exchange.Redacted || strings.Contains(string(e.Data), orig.Name) {
				t.Fatalf("name not redacted: %s", e.Data)
			}
			if "customer-"+reg.CustomerID != e.Stream {
				t.Fatalf("customerId %s does not match pseudonymized stream %s", reg.CustomerID, e.Stream)
			}
		}
		if strings.Contains(string(e.Metadata), "correlationId") {
			t.Fatalf("metadata kept the correlation ID: %s", e.Metadata)
		}
	}
	// A pseudonymized export imports (for analysts' own data directories).
	if _, err := importNDJSON(openDir(t, t.TempDir()), out); err != nil {
		t.Fatal(err)
	}
	if _, err := exchange.Export(context.Background(), src.Store, src.Codec, exchange.DefaultTypes(), &bytes.Buffer{},
		exchange.ExportOptions{Pseudonymize: true, Key: []byte("short")}); !errors.Is(err, exchange.ErrInvalidOptions) {
		t.Fatalf("short key: %v", err)
	}
}

// TestErasedExportsMarker: an erased customer's personal data exports as
// the erasure marker, and stays erased after an import.
func TestErasedExportsMarker(t *testing.T) {
	src := seeded(t, 3)
	ctx := context.Background()
	evs := allEvents(t, src.Store)
	stream := evs[0].StreamID
	_, id, _ := strings.Cut(stream, "-")
	rec, err := src.Codec.Encode(ctx, stream, &customer.CustomerErased{By: "admin", Reason: "request"}, codecEnv())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.Store.Append(ctx, stream, eventstore.Any(), rec); err != nil {
		t.Fatal(err)
	}
	if err := src.Vault.Destroy(ctx, id); err != nil {
		t.Fatal(err)
	}
	out := export(t, src, exchange.ExportOptions{})
	found := false
	for _, e := range envelopes(t, out) {
		if e.Stream == stream && e.Type == customer.TypeCustomerRegistered {
			var reg customer.CustomerRegistered
			_ = json.Unmarshal(e.Data, &reg)
			if reg.Name != pii.Erased {
				t.Fatalf("erased customer's name exports as %q", reg.Name)
			}
			found = true
		}
	}
	if !found {
		t.Fatal("no registration of the erased customer")
	}
	dst := openDir(t, t.TempDir())
	if _, err := importNDJSON(dst, out); err != nil {
		t.Fatal(err)
	}
	for _, e := range envelopes(t, export(t, dst, exchange.ExportOptions{})) {
		if e.Stream == stream && e.Type == customer.TypeCustomerRegistered && !strings.Contains(string(e.Data), pii.Erased) {
			t.Fatalf("imported erased customer readable: %s", e.Data)
		}
	}
	// A re-run does not need the destroyed key.
	if _, err := importNDJSON(dst, out); err != nil {
		t.Fatal(err)
	}
}

func TestImportConflict(t *testing.T) {
	src := seeded(t, 5)
	out := export(t, src, exchange.ExportOptions{})
	dst := openDir(t, t.TempDir())
	// The store already holds another event at revision 0 of a stream of the file.
	first := envelopes(t, out)[0]
	ctx := context.Background()
	rec, err := dst.Codec.Encode(ctx, first.Stream, &customer.ReferralMade{ReferredCustomerID: "x"}, codecEnv())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dst.Store.Append(ctx, first.Stream, eventstore.NoStream(), rec); err != nil {
		t.Fatal(err)
	}
	_, err = importNDJSON(dst, out)
	if !errors.Is(err, exchange.ErrConflict) {
		t.Fatalf("import over another history: %v, want ErrConflict", err)
	}
	if got := len(allEvents(t, dst.Store)); got != 1 {
		t.Fatalf("%d events written despite the conflict", got-1)
	}
}
