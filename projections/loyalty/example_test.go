package loyalty_test

import (
	"fmt"
	"time"

	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/projections/lifecycle"
	"github.com/kefu-crm/kefu/projections/loyalty"
)

func ExampleRules_ScoreAt() {
	r, err := loyalty.NewRules(loyalty.DefaultConfig())
	if err != nil {
		panic(err)
	}
	t := time.Date(2025, 6, 30, 12, 0, 0, 0, time.UTC)
	day := func(n int) time.Time { return t.AddDate(0, 0, -n) }
	history := []lifecycle.Fact{
		{At: day(100), Event: &customer.CustomerRegistered{CustomerID: "c-1"}},
		{At: day(60), Event: &customer.PurchaseMade{OrderID: "o-1", Amount: customer.Money{AmountMinor: 50000, Currency: "CNY"}}},
		{At: day(10), Event: &customer.PurchaseMade{OrderID: "o-2", Amount: customer.Money{AmountMinor: 50000, Currency: "CNY"}}},
	}
	s := r.ScoreAt(history, t)
	// recency 20·(1−10/365) = 19.452, frequency 5·2 = 10,
	// monetary 5·log2(1 + 0.5·(2^(−60/365) + 2^(−10/365))) = 4.768,
	// tenure 2·100/365 = 0.548: 34.768 → 35; two purchase days → REPEAT.
	fmt.Println(s.Points, s.Level)
	// Output: 35 REPEAT
}
