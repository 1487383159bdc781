package codec_test

import (
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/eventstore/codec"
	"github.com/kefu-crm/kefu/pii"
)

// contactLogged is a ContactLogged of about 320 bytes (data + metadata), the
// size the store benchmarks use.
func contactLogged(tb testing.TB, c *codec.Codec) eventstore.Event {
	ev := &customer.ContactLogged{
		Channel: must(customer.ParseChannel("PHONE")), Direction: must(customer.ParseDirection("INBOUND")),
		Agent: "agent-0042", Summary: strings.Repeat("asked about the invoice ", 5)[:64], ComplaintID: "k-000123",
	}
	rec, err := c.Encode(tb.Context(), "customer-000042", ev, codec.Envelope{Meta: codec.Metadata{
		CorrelationID: uuid.NewString(), CausationID: uuid.NewString(), Actor: "agent-0042", Role: "ACCOUNT_MANAGER"}})
	if err != nil {
		tb.Fatal(err)
	}
	return stored("customer-000042", 7, 123456, rec)
}

func BenchmarkDecodeContactLogged(b *testing.B) {
	c := newCodec(b, codec.Options{})
	ev := contactLogged(b, c)
	b.ReportAllocs()
	ctx := b.Context()
	for b.Loop() {
		if _, err := c.Decode(ctx, ev); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(ev.Data)+len(ev.Metadata)), "bytes/event")
}

func BenchmarkEncodeContactLogged(b *testing.B) {
	c := newCodec(b, codec.Options{})
	ev := &customer.ContactLogged{Channel: must(customer.ParseChannel("PHONE")), Agent: "agent-0042", Summary: strings.Repeat("x", 110)}
	b.ReportAllocs()
	ctx := b.Context()
	for b.Loop() {
		if _, err := c.Encode(ctx, "customer-000042", ev, codec.Envelope{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeContactLoggedWithPII decodes the same event with its
// summary sealed by a pii.Vault (key cached): JSON plus AES-GCM open.
func BenchmarkDecodeContactLoggedWithPII(b *testing.B) {
	c := newCodec(b, codec.Options{Protector: pii.NewVault(pii.NewMemKeystore(), pii.VaultOptions{})})
	ev := contactLogged(b, c)
	b.ReportAllocs()
	ctx := b.Context()
	for b.Loop() {
		if _, err := c.Decode(ctx, ev); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(ev.Data)+len(ev.Metadata)), "bytes/event")
}

// BenchmarkDecodeContactLoggedErased decodes it after the key was
// destroyed (the marker path, cached).
func BenchmarkDecodeContactLoggedErased(b *testing.B) {
	v := pii.NewVault(pii.NewMemKeystore(), pii.VaultOptions{})
	c := newCodec(b, codec.Options{Protector: v})
	ev := contactLogged(b, c)
	if err := v.Destroy(b.Context(), "000042"); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	ctx := b.Context()
	for b.Loop() {
		if _, err := c.Decode(ctx, ev); err != nil {
			b.Fatal(err)
		}
	}
}
