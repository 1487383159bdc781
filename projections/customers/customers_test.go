package customers_test

import (
	"testing"
	"time"

	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/projections/customers"
)

var t0 = time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)

func TestBook(t *testing.T) {
	m := customers.New()
	pos := eventstore.Position(0)
	rev := map[string]uint64{}
	apply := func(id string, at time.Time, e customer.Event) {
		pos++
		m.Apply(eventstore.Event{StreamID: "customer-" + id, Position: pos, Revision: rev[id], OccurredAt: at}, e)
		rev[id]++
	}
	apply("b", t0, &customer.CustomerRegistered{CustomerID: "b", Name: "李娜", Phone: "+86 138 0000 1234", Tier: customer.TierGold, AccountManager: "amy", Timezone: "Asia/Shanghai", Locale: "zh-CN"})
	apply("a", t0, &customer.CustomerRegistered{CustomerID: "a", Name: "Wang Wei", AccountManager: "amy", Timezone: "Asia/Shanghai", Locale: "zh-CN"})
	apply("b", t0.Add(time.Hour), &customer.PurchaseMade{OrderID: "o1", Amount: customer.Money{AmountMinor: 1000, Currency: "CNY"}})
	apply("b", t0.Add(2*time.Hour), &customer.PurchaseMade{OrderID: "o2", Amount: customer.Money{AmountMinor: 500, Currency: "CNY"}})
	apply("b", t0.Add(3*time.Hour), &customer.PurchaseMade{OrderID: "o3", Amount: customer.Money{AmountMinor: 7, Currency: "USD"}})
	apply("b", t0.Add(4*time.Hour), &customer.ContactLogged{Direction: customer.Outbound, Agent: "amy"})
	am := "bob"
	apply("a", t0.Add(5*time.Hour), &customer.ProfileUpdated{AccountManager: &am})
	apply("b", t0.Add(6*time.Hour), &customer.GreetingSent{CampaignID: "cmp1", Occasion: "CN:spring_festival", Channel: customer.ChannelSMS})

	b, ok := m.Get("b")
	if !ok {
		t.Fatal("customer b missing")
	}
	if b.PurchaseCount != 3 || len(b.LifetimeValue) != 2 || b.LifetimeValue[0].AmountMinor != 1500 || b.LifetimeValue[1].Currency != "USD" {
		t.Errorf("purchases %d LTV %v, want 3 and [1500 CNY, 7 USD]", b.PurchaseCount, b.LifetimeValue)
	}
	if b.LastInboundAt == nil || !b.LastInboundAt.Equal(t0.Add(3*time.Hour)) {
		t.Errorf("LastInboundAt = %v, want the last purchase (outbound contacts do not count)", b.LastInboundAt)
	}
	if b.Version != 5 || len(b.Greetings) != 1 {
		t.Errorf("version %d greetings %d, want 5 and 1", b.Version, len(b.Greetings))
	}
	if got := m.OfAccountManager("amy"); len(got) != 1 || got[0] != "b" {
		t.Errorf("amy's book = %v, want [b] after a moved to bob", got)
	}
	if got := m.IDs(); len(got) != 2 || got[0] != "a" {
		t.Errorf("IDs = %v, want sorted [a b]", got)
	}
	if !customers.Matches(&b, "李") || !customers.Matches(&b, "1380000") || customers.Matches(&b, "zzz") {
		t.Error("search does not match name and phone digits as expected")
	}
	d := m.Digest()
	apply("b", t0.Add(7*time.Hour), &customer.CustomerErased{By: "admin", Reason: "request"})
	b, _ = m.Get("b")
	if !b.Erased || b.Name != "" || b.Phone != "" {
		t.Errorf("after erasure: %+v", b)
	}
	if m.Digest() == d {
		t.Error("digest did not change with the state")
	}
}
