package command_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kefu-crm/kefu/app/command"
	"github.com/kefu-crm/kefu/domain/campaign"
	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/eventstore/codec"
	"github.com/kefu-crm/kefu/eventstore/memstore"
	"github.com/kefu-crm/kefu/pii"
)

var now = time.Date(2025, 6, 1, 10, 0, 0, 0, time.UTC)

type fixture struct {
	store eventstore.Store
	codec *codec.Codec
	vault *pii.Vault
	repo  *command.Customers
	cmds  command.Commands
}

func newFixture(t testing.TB, store eventstore.Store, keys pii.Keystore, maxAttempts int) *fixture {
	t.Helper()
	vault := pii.NewVault(keys, pii.VaultOptions{})
	c, err := codec.New(codec.Options{Protector: vault}, codec.SpecsOf(customer.Events()))
	if err != nil {
		t.Fatal(err)
	}
	cmds, err := command.New(command.Config{Store: store, Codec: c, Clock: func() time.Time { return now }, MaxAttempts: maxAttempts}, command.Deps{
		Complaints: command.OwnersFunc(func(string) (string, bool) { return "", false }),
		FollowUps:  command.OwnersFunc(func(string) (string, bool) { return "", false }),
		ReplyClock: customer.ReplyClockFunc(func(t time.Time) (time.Time, bool) { return t.Add(4 * time.Hour), false }),
		Keys:       vault,
		Directory:  noDirectory{},
		Stages:     campaign.StageFunc(func(string) string { return "" }),
	})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{store: store, codec: c, vault: vault, repo: cmds.Customers, cmds: cmds}
}

func newMemFixture(t testing.TB) *fixture {
	return newFixture(t, memstore.New(memstore.Options{}), pii.NewMemKeystore(), 0)
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func registration() customer.Register {
	return customer.Register{
		Name: "Zhou Qiaoling 周巧玲", Phone: "+86 137 2468 1357", Email: "qiaoling.zhou@example.cn", WeChat: "wxid_qlzhou",
		Tier: must(customer.ParseTier("GOLD")), Timezone: "Asia/Shanghai", Locale: "zh-CN", Birthday: "1984-07-19", MarketingConsent: true,
	}
}

func contact(summary string) customer.LogContact {
	return customer.LogContact{Channel: must(customer.ParseChannel("PHONE")), Direction: must(customer.ParseDirection("INBOUND")), Agent: "agent-7", Summary: summary}
}

func register(t testing.TB, f *fixture, id string) command.Result {
	t.Helper()
	res, err := f.cmds.RegisterCustomer.Handle(t.Context(), id, registration())
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func logContact(ctx context.Context, f *fixture, id string, expected *uint64, summary string) (command.Result, error) {
	return do(ctx, f, id, expected, contact(summary), (*customer.Customer).LogContact)
}

func streamLen(t testing.TB, s eventstore.Store, stream string) int {
	t.Helper()
	evs, err := s.ReadStream(t.Context(), stream, eventstore.StreamRead{})
	if err != nil {
		t.Fatal(err)
	}
	return len(evs)
}

func ptr[T any](v T) *T { return &v }

// counting wraps a verb to count its calls.
func counting(n *atomic.Int64) func(*customer.Customer) error {
	return func(c *customer.Customer) error {
		n.Add(1)
		return c.LogContact(contact("counted"), now)
	}
}

// do runs one verb through its handler, as the API does.
func do[C any](ctx context.Context, f *fixture, id string, expected *uint64, cmd C, verb func(*customer.Customer, C, time.Time) error) (command.Result, error) {
	return command.NewCustomerVerb(f.repo, verb).Handle(ctx, id, expected, cmd)
}

// noDirectory is an empty book.
type noDirectory struct{}

func (noDirectory) Each(context.Context, func(campaign.Recipient) error) error { return nil }
