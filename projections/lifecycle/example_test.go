package lifecycle_test

import (
	"fmt"
	"time"

	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/projections/lifecycle"
)

func ExampleStageAt() {
	t := time.Date(2024, 3, 1, 9, 0, 0, 0, time.UTC)
	history := []lifecycle.Fact{
		{At: t, Event: &customer.CustomerRegistered{CustomerID: "c-1"}},
		{At: t.AddDate(0, 0, 2), Event: &customer.ComplaintFiled{ComplaintID: "c-17"}},
	}
	res, err := lifecycle.StageAt(history, t.AddDate(0, 0, 40), lifecycle.DefaultPolicy(), nil)
	if err != nil {
		panic(err)
	}
	for _, c := range res.Changes {
		fmt.Println(c.At.Format("2006-01-02"), c.To, "—", c.Reason)
	}
	fmt.Println("next:", res.Next.Format("2006-01-02"), res.NextStage)
	// Output:
	// 2024-03-01 NEW — registered
	// 2024-03-03 COMPLAINING — complaint c-17 filed
	// 2024-04-02 SILENT — no inbound contact for 30 days after complaint c-17
	// next: 2024-06-01 LOST
}

func ExampleNew() {
	var entered []string
	p, err := lifecycle.New(lifecycle.Config{
		Policy: lifecycle.DefaultPolicy(),
		OnChange: func(id string, c lifecycle.StageChange) {
			if c.To == lifecycle.StageSilent {
				entered = append(entered, id) // hand to the follow-up process manager
			}
		},
	})
	if err != nil {
		panic(err)
	}
	t := time.Date(2024, 3, 1, 9, 0, 0, 0, time.UTC)
	p.Apply("c-1", lifecycle.Fact{At: t, Event: &customer.CustomerRegistered{CustomerID: "c-1"}})
	p.Apply("c-1", lifecycle.Fact{At: t, Event: &customer.GrumbleVoiced{}})
	p.AdvanceTo(t.AddDate(0, 1, 0)) // the server calls this from a ticker with the wall clock
	fmt.Println(entered, p.Count(lifecycle.StageSilent))
	// Output: [c-1] 1
}
