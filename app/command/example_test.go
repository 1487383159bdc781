package command_test

import (
	"context"
	"fmt"
	"time"

	"github.com/kefu-crm/kefu/app/command"
	"github.com/kefu-crm/kefu/domain/campaign"
	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/eventstore/codec"
	"github.com/kefu-crm/kefu/eventstore/memstore"
	"github.com/kefu-crm/kefu/pii"
)

// Wiring as main does it — there with embedded.Open(dataDir, …) and
// pii.OpenFileKeystore(filepath.Join(dataDir, "keys")) instead of the
// in-memory store and keystore.
func ExampleNew() {
	ctx := command.WithActor(context.TODO(), command.Actor{User: "alice", Role: "ADMIN"})
	vault := pii.NewVault(pii.NewMemKeystore(), pii.VaultOptions{})
	c, err := codec.New(codec.Options{Protector: vault}, codec.SpecsOf(customer.Events()))
	if err != nil {
		panic(err)
	}
	nobody := command.OwnersFunc(func(string) (string, bool) { return "", false })
	cmds, err := command.New(command.Config{Store: memstore.New(memstore.Options{}), Codec: c}, command.Deps{
		Complaints: nobody, FollowUps: nobody, Keys: vault,
		ReplyClock: customer.ReplyClockFunc(func(t time.Time) (time.Time, bool) { return t.Add(4 * time.Hour), false }),
		Directory:  noDirectory{}, Stages: campaign.StageFunc(func(string) string { return "" }),
	})
	if err != nil {
		panic(err)
	}
	res, err := cmds.RegisterCustomer.Handle(ctx, "c-1", registration())
	if err != nil {
		panic(err)
	}
	res, err = cmds.LogContact.Handle(ctx, "c-1", &res.Revision, contact("asked about delivery"))
	if err != nil {
		panic(err)
	}
	fmt.Println(res.Revision, res.Events[0].Event.Type, res.Events[0].Meta.Actor)
	// Output: 1 ContactLogged alice
}
