package transitions_test

import (
	"fmt"
	"time"

	"github.com/kefu-crm/kefu/projections/lifecycle"
	"github.com/kefu-crm/kefu/projections/transitions"
)

// The lifecycle Projector's OnChange hook feeds the transitions log; the
// report then counts populations and moves per bucket.
func ExampleLog_LifecycleReport() {
	log := transitions.New()
	// lifecycle.New(lifecycle.Config{Policy: …, OnChange: log.Record}) in the server.
	log.Record("42", lifecycle.StageChange{From: lifecycle.StageNone, To: lifecycle.StageNew, At: time.Date(2024, 1, 5, 9, 0, 0, 0, time.UTC)})
	log.Record("42", lifecycle.StageChange{From: lifecycle.StageNew, To: lifecycle.StageComplaining, At: time.Date(2024, 2, 7, 9, 0, 0, 0, time.UTC)})
	log.Record("42", lifecycle.StageChange{From: lifecycle.StageComplaining, To: lifecycle.StageSilent, At: time.Date(2024, 3, 8, 9, 0, 0, 0, time.UTC)})

	rep, err := log.LifecycleReport(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2024, 4, 1, 0, 0, 0, 0, time.UTC), transitions.Month, transitions.ReportOptions{})
	if err != nil {
		panic(err)
	}
	for _, b := range rep.Buckets {
		fmt.Print(b.Start.Format("2006-01"), ":")
		for _, s := range lifecycle.Stages() {
			if n := b.Population[s]; n > 0 {
				fmt.Print(" ", s, "=", n)
			}
		}
		for _, t := range b.Transitions {
			fmt.Printf(" [%v→%v ×%d]", t.From, t.To, t.Count)
		}
		fmt.Println()
	}
	// Output:
	// 2024-01: NEW=1 [→NEW ×1]
	// 2024-02: COMPLAINING=1 [NEW→COMPLAINING ×1]
	// 2024-03: SILENT=1 [COMPLAINING→SILENT ×1]
}
