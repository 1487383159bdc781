package e2e_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/kefu-crm/kefu/internal/testenv"
)

// TestConsoleBookCharts opens the Book on a fresh `kefu serve --demo` and
// checks that its charts — the complain → silence → lost funnel and the
// stage populations month by month — show what the public lifecycleReport
// answers for the same period (the chart names it in data-from/data-to).
func TestConsoleBookCharts(t *testing.T) {
	testenv.Chromium(t)
	ctx := journey(t, 2*time.Minute)
	s := startServer(t, ctx, serveOpts{dir: t.TempDir(), args: []string{"--demo", "--demo-customers", "300"}})
	b := newBrowser(t, ctx)
	b.do("open the book", chromedp.Navigate(s.base+"/console/#/book"), chromedp.WaitVisible(`#lifecycle[data-ready="1"] #funnel`))
	b.shot("b1-book-charts")
	from, _ := chromedp.Run(b.ctx, chromedp.AttributeValue("#lifecycle", "data-from"))
	to, _ := chromedp.Run(b.ctx, chromedp.AttributeValue("#lifecycle", "data-to"))
	if !from.Exists || !to.Exists {
		t.Fatal("the chart names no period")
	}
	var d struct {
		LifecycleReport struct {
			Buckets []struct {
				Start      string
				Population []struct {
					Stage string
					Count int
				}
				Transitions []struct {
					From  *string
					To    string
					Count int
				}
			}
		}
	}
	s.client("").must(ctx, &d, `query($from: DateTime!, $to: DateTime!) { lifecycleReport(from: $from, to: $to, bucket: MONTH) {
		buckets { start population { stage count } transitions { from to count } } } }`, map[string]any{"from": from.Value, "to": to.Value})
	buckets := d.LifecycleReport.Buckets
	if len(buckets) < 10 {
		t.Fatalf("lifecycleReport from %s to %s has %d monthly buckets", from.Value, to.Value, len(buckets))
	}
	want := map[string]int{}
	for _, bk := range buckets {
		for _, tr := range bk.Transitions {
			f := ""
			if tr.From != nil {
				f = *tr.From
			}
			switch {
			case tr.To == "COMPLAINING":
				want["complained"] += tr.Count
			case f == "COMPLAINING" && tr.To == "SILENT":
				want["silent"] += tr.Count
			case f == "SILENT" && tr.To == "LOST":
				want["lost"] += tr.Count
			}
		}
	}
	if want["complained"] == 0 {
		t.Errorf("the demo's year has no complaint transitions: %+v", want)
	}
	for _, step := range []string{"complained", "silent", "lost"} {
		got, err := chromedp.Run(b.ctx, chromedp.TextContent(fmt.Sprintf(`#funnel g[data-step=%q] text.n`, step)))
		if err != nil {
			t.Fatalf("funnel %s: %v", step, err)
		}
		if got != fmt.Sprint(want[step]) {
			t.Errorf("funnel %s shows %q, the API says %d", step, got, want[step])
		}
	}
	// Every point of every stage's line is the API's population.
	points := 0
	for _, bk := range buckets {
		for _, p := range bk.Population {
			sel := fmt.Sprintf(`#populations g[data-stage=%q] circle[data-start=%q]`, p.Stage, bk.Start)
			got, err := chromedp.Run(b.ctx, chromedp.AttributeValue(sel, "data-count", chromedp.AtLeast(0)))
			if err != nil || !got.Exists {
				t.Errorf("no point for %s at %s (%v)", p.Stage, bk.Start, err)
				continue
			}
			if got.Value != fmt.Sprint(p.Count) {
				t.Errorf("%s at %s: the chart shows %s, the API says %d", p.Stage, bk.Start, got.Value, p.Count)
			}
			points++
		}
	}
	if points == 0 {
		t.Error("the API's report has no populations to compare")
	}
	b.noErrors()
}
