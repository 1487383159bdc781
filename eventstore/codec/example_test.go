package codec_test

import (
	"context"
	"fmt"

	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/eventstore/codec"
	"github.com/kefu-crm/kefu/pii"
)

// A codec is built once in main from the domains' spec lists, with the
// personal-data vault as its protector.
func ExampleNew() {
	ctx := context.TODO() // a request's context in real code
	vault := pii.NewVault(pii.NewMemKeystore(), pii.VaultOptions{})
	c, err := codec.New(codec.Options{Protector: vault}, customerSpecs())
	if err != nil {
		panic(err)
	}
	rec, err := c.Encode(ctx, "customer-42", &customer.ReferralMade{ReferredCustomerID: "43"},
		codec.Envelope{ID: codec.DeterministicID("example", "42/1"), Meta: codec.Metadata{Actor: "alice"}})
	if err != nil {
		panic(err)
	}
	d, err := c.Decode(ctx, eventstore.Event{ID: rec.ID, StreamID: "customer-42", Type: rec.Type,
		SchemaVersion: rec.SchemaVersion, OccurredAt: rec.OccurredAt, Data: rec.Data, Metadata: rec.Metadata})
	if err != nil {
		panic(err)
	}
	fmt.Println(rec.Type, string(rec.Data), d.Meta.Actor, d.Payload.(*customer.ReferralMade).ReferredCustomerID)
	// Output: ReferralMade {"referredCustomerId":"43"} alice 43
}
