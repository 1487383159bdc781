package app_test

import (
	"context"
	"fmt"
	"time"

	"github.com/kefu-crm/kefu/app"
	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/eventstore/codec"
	"github.com/kefu-crm/kefu/eventstore/memstore"
	"github.com/kefu-crm/kefu/pii"
)

// Wiring as main does it — there with embedded.Open(dataDir, …) and
// pii.OpenFileKeystore(filepath.Join(dataDir, "keys")) instead of the
// in-memory store and keystore.
func ExampleNewService() {
	ctx := app.WithActor(context.TODO(), app.Actor{User: "alice", Role: "ADMIN"})
	vault := pii.NewVault(pii.NewMemKeystore(), pii.VaultOptions{})
	c, err := codec.New(codec.Options{Protector: vault}, codec.SpecsOf(customer.Events()))
	if err != nil {
		panic(err)
	}
	repo, err := app.NewRepository(app.Config{Store: memstore.New(memstore.Options{}), Codec: c})
	if err != nil {
		panic(err)
	}
	halfDay := customer.ReplyClockFunc(func(t time.Time) (time.Time, bool) { return t.Add(4 * time.Hour), false })
	svc, err := app.NewService(repo, vault, halfDay)
	if err != nil {
		panic(err)
	}
	res, err := svc.Register(ctx, "c-1", registration())
	if err != nil {
		panic(err)
	}
	res, err = app.Do(ctx, svc, "c-1", &res.Revision, contact("asked about delivery"), (*customer.Customer).LogContact)
	if err != nil {
		panic(err)
	}
	fmt.Println(res.Revision, res.Events[0].Event.Type, res.Events[0].Meta.Actor)
	// Output: 1 ContactLogged alice
}
