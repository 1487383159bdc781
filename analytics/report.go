package analytics

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/kefu-crm/kefu/projections/complaints"
	"github.com/kefu-crm/kefu/projections/lifecycle"
	"github.com/kefu-crm/kefu/projections/transitions"
)

//go:embed report.html.tmpl
var reportTemplate string

// HTMLOptions configure WriteHTML.
type HTMLOptions struct {
	// From and To bound the charts over time; zero From means a year
	// before To, zero To the book's AsOf.
	From, To time.Time
	// Title heads the page.
	Title string
	// Generated is shown as the generation time (the caller's clock).
	Generated time.Time
}

// stageColors are the chart colours per stage (indexed by Stage).
var stageColors = [lifecycle.NumStages]string{"#999", "#8ecae6", "#219ebc", "#2a9d8f", "#e9c46a", "#f4a261", "#e76f51", "#9d8189", "#6d597a"}

// WriteHTML writes the analysts' report of b as one self-contained HTML
// page: inline CSS and inline SVG charts, no script, nothing fetched.
func WriteHTML(w io.Writer, b *Book, opts HTMLOptions) error {
	to := opts.To
	if to.IsZero() {
		to = b.AsOf.Add(time.Second)
	}
	from := opts.From
	if from.IsZero() {
		from = to.AddDate(-1, 0, 0)
	}
	if opts.Title == "" {
		opts.Title = "kefu — lifecycle report"
	}
	weekly, err := b.Transitions.LifecycleReport(from, to, transitions.Week, transitions.ReportOptions{})
	if err != nil {
		return err
	}
	monthly, err := b.Transitions.LifecycleReport(from, to, transitions.Month, transitions.ReportOptions{})
	if err != nil {
		return err
	}
	f := b.Transitions.Funnel(from, to)
	counts := b.Lifecycle.Counts()
	data := struct {
		Title, Range, Generated, AsOf string
		Stages                        []stageRow
		Populations, Funnel, Monthly  template.HTML
		Loyalty, SLA                  template.HTML
		FunnelText                    []string
		Recovery                      string
	}{
		Title:       opts.Title,
		Range:       from.UTC().Format(time.DateOnly) + " to " + to.UTC().Format(time.DateOnly) + " (buckets in UTC)",
		AsOf:        b.AsOf.UTC().Format(time.RFC3339),
		Populations: populationChart(weekly),
		Funnel:      funnelChart(f),
		Monthly:     transitionsChart(monthly),
		Loyalty:     loyaltyChart(b),
		SLA:         slaChart(b, from, to),
		FunnelText:  funnelText(f),
	}
	if !opts.Generated.IsZero() {
		data.Generated = opts.Generated.UTC().Format(time.RFC3339)
	}
	total := 0
	for _, s := range lifecycle.Stages() {
		total += counts[s]
	}
	for _, s := range lifecycle.Stages() {
		data.Stages = append(data.Stages, stageRow{Name: s.String(), Count: counts[s], Pct: fmt.Sprintf("%.1f%%", pct(counts[s], total)), Color: template.CSS(stageColors[s])})
	}
	if rate, closed, ok := b.RecoveryRate(); ok {
		data.Recovery = fmt.Sprintf("%.1f%% of %d closed complaints were resolved SATISFIED", 100*rate, closed)
	} else {
		data.Recovery = "no closed complaint yet"
	}
	t, err := template.New("report").Parse(reportTemplate)
	if err != nil {
		return err
	}
	return t.Execute(w, data)
}

type stageRow struct {
	Name  string
	Count int
	Pct   string
	Color template.CSS
}

func pct(n, of int) float64 {
	if of == 0 {
		return 0
	}
	return 100 * float64(n) / float64(of)
}

func funnelText(f transitions.Funnel) []string {
	md := func(m transitions.Median) string {
		if !m.OK {
			return "—"
		}
		return fmt.Sprintf("%.1f days", m.Days)
	}
	return []string{
		fmt.Sprintf("%d customers complained", f.Complained),
		fmt.Sprintf("%d went silent (%.0f%%), median %s after the complaint", f.WentSilent, pct(f.WentSilent, f.Complained), md(f.DaysToSilent)),
		fmt.Sprintf("%d lost (%.0f%% of the silent), median %s later", f.Lost, pct(f.Lost, f.WentSilent), md(f.DaysToLost)),
		fmt.Sprintf("%d won back (%.0f%% of the lost), median %s later", f.WonBack, pct(f.WonBack, f.Lost), md(f.DaysToWinBack)),
	}
}

// ---- SVG ----

const (
	chartW, chartH = 760, 260
	padL, padR     = 48, 12
	padT, padB     = 12, 36
)

type svg struct{ b strings.Builder }

func (s *svg) open(title string) {
	fmt.Fprintf(&s.b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="100%%" role="img" aria-label="%s">`, chartW, chartH, template.HTMLEscapeString(title))
}

func (s *svg) close() template.HTML {
	s.b.WriteString("</svg>")
	return template.HTML(s.b.String())
}

func (s *svg) text(x, y float64, anchor, cls, txt string) {
	fmt.Fprintf(&s.b, `<text x="%.1f" y="%.1f" text-anchor="%s" class="%s">%s</text>`, x, y, anchor, cls, template.HTMLEscapeString(txt))
}

// axes draws the y axis from 0 to max with a few ticks; format formats
// tick values.
func (s *svg) axes(maxY float64, format func(float64) string) {
	x0, y0, y1 := float64(padL), float64(chartH-padB), float64(padT)
	for i := 0; i <= 4; i++ {
		v := maxY * float64(i) / 4
		y := y0 - (y0-y1)*float64(i)/4
		fmt.Fprintf(&s.b, `<line x1="%.1f" y1="%.1f" x2="%d" y2="%.1f" class="grid"/>`, x0, y, chartW-padR, y)
		s.text(x0-4, y+4, "end", "tick", format(v))
	}
}

func niceMax(v float64) float64 {
	if v <= 0 {
		return 4
	}
	// Four ticks of a round step: the step's unit is the power of ten
	// below a quarter of v.
	unit := math.Pow(10, math.Floor(math.Log10(math.Max(v/4, 1))))
	return math.Ceil(v/(4*unit)) * 4 * unit
}

func intText(v float64) string { return fmt.Sprintf("%.0f", v) }

// xLabels writes up to ~12 labels under n slots.
func (s *svg) xLabels(n int, label func(i int) string) {
	step := max(1, (n+11)/12)
	w := float64(chartW-padL-padR) / float64(max(n, 1))
	for i := 0; i < n; i += step {
		s.text(float64(padL)+w*(float64(i)+0.5), float64(chartH-padB+16), "middle", "tick", label(i))
	}
}

// populationChart is a stacked area of stage populations per bucket.
func populationChart(r transitions.Report) template.HTML {
	var s svg
	s.open("stage populations over time")
	n := len(r.Buckets)
	maxY := 0.0
	for _, b := range r.Buckets {
		t := 0
		for _, c := range b.Population {
			t += c
		}
		maxY = max(maxY, float64(t))
	}
	maxY = niceMax(maxY)
	s.axes(maxY, intText)
	plotW, plotH := float64(chartW-padL-padR), float64(chartH-padT-padB)
	x := func(i int) float64 {
		if n <= 1 {
			return float64(padL) + plotW/2
		}
		return float64(padL) + plotW*float64(i)/float64(n-1)
	}
	y := func(v int) float64 { return float64(chartH-padB) - plotH*float64(v)/maxY }
	lower := make([]int, n)
	for _, st := range lifecycle.Stages() {
		upper := make([]int, n)
		any := false
		for i, b := range r.Buckets {
			upper[i] = lower[i] + b.Population[st]
			any = any || b.Population[st] > 0
		}
		if any {
			var d strings.Builder
			for i := range n {
				fmt.Fprintf(&d, "%s%.1f %.1f ", map[bool]string{true: "M", false: "L"}[i == 0], x(i), y(upper[i]))
			}
			for i := n - 1; i >= 0; i-- {
				fmt.Fprintf(&d, "L%.1f %.1f ", x(i), y(lower[i]))
			}
			fmt.Fprintf(&s.b, `<path d="%sZ" fill="%s" class="area" data-stage="%s"><title>%s</title></path>`, d.String(), stageColors[st], st, st)
		}
		lower = upper
	}
	s.xLabels(n, func(i int) string { return r.Buckets[i].Start.Format("Jan 2") })
	return s.close()
}

// funnelChart draws the four funnel steps as horizontal bars.
func funnelChart(f transitions.Funnel) template.HTML {
	var s svg
	s.open("complaint to silence to lost funnel")
	steps := []struct {
		label string
		n     int
		color string
	}{
		{"complained", f.Complained, stageColors[lifecycle.StageComplaining]},
		{"went silent", f.WentSilent, stageColors[lifecycle.StageSilent]},
		{"lost", f.Lost, stageColors[lifecycle.StageLost]},
		{"won back", f.WonBack, stageColors[lifecycle.StageActive]},
	}
	maxN := max(f.Complained, 1)
	rowH := float64(chartH-padT-padB) / 4
	plotW := float64(chartW - 160 - padR - 60)
	for i, st := range steps {
		y := float64(padT) + rowH*float64(i)
		w := plotW * float64(st.n) / float64(maxN)
		x := 160 + (plotW-w)/2
		s.text(150, y+rowH/2+4, "end", "label", st.label)
		fmt.Fprintf(&s.b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s" class="bar" data-value="%d"><title>%s: %d</title></rect>`, x, y+4, max(w, 1), rowH-8, st.color, st.n, st.label, st.n)
		s.text(160+plotW+8, y+rowH/2+4, "start", "value", fmt.Sprintf("%d", st.n))
	}
	return s.close()
}

// transitionsChart is bars of transitions per month, stacked by the stage
// entered.
func transitionsChart(r transitions.Report) template.HTML {
	var s svg
	s.open("transitions per month")
	n := len(r.Buckets)
	maxY := 0.0
	for _, b := range r.Buckets {
		t := 0
		for _, c := range b.Transitions {
			t += c.Count
		}
		maxY = max(maxY, float64(t))
	}
	maxY = niceMax(maxY)
	s.axes(maxY, intText)
	plotW, plotH := float64(chartW-padL-padR), float64(chartH-padT-padB)
	w := plotW / float64(max(n, 1))
	for i, b := range r.Buckets {
		var per [lifecycle.NumStages]int
		for _, c := range b.Transitions {
			per[c.To] += c.Count
		}
		base := float64(chartH - padB)
		for _, st := range lifecycle.Stages() {
			if per[st] == 0 {
				continue
			}
			h := plotH * float64(per[st]) / maxY
			fmt.Fprintf(&s.b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s" class="bar" data-value="%d"><title>%s %s: %d</title></rect>`,
				float64(padL)+w*float64(i)+w*0.15, base-h, w*0.7, h, stageColors[st], per[st], b.Start.Format("2006-01"), st, per[st])
			base -= h
		}
	}
	s.xLabels(n, func(i int) string { return r.Buckets[i].Start.Format("Jan 06") })
	return s.close()
}

// loyaltyChart is a histogram of loyalty scores in bins of 10.
func loyaltyChart(b *Book) template.HTML {
	var bins [10]int
	for _, e := range b.Loyalty.Top(b.Loyalty.Len()) {
		bins[min(e.Points/10, 9)]++
	}
	var s svg
	s.open("loyalty score distribution")
	maxY := 0.0
	for _, c := range bins {
		maxY = max(maxY, float64(c))
	}
	maxY = niceMax(maxY)
	s.axes(maxY, intText)
	plotW, plotH := float64(chartW-padL-padR), float64(chartH-padT-padB)
	w := plotW / 10
	for i, c := range bins {
		h := plotH * float64(c) / maxY
		fmt.Fprintf(&s.b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#219ebc" class="bar" data-value="%d"><title>score %d–%d: %d customers</title></rect>`,
			float64(padL)+w*float64(i)+2, float64(chartH-padB)-h, w-4, h, c, i*10, i*10+9+btoi(i == 9), c)
	}
	s.xLabels(10, func(i int) string { return fmt.Sprintf("%d–%d", i*10, i*10+9+btoi(i == 9)) })
	return s.close()
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// slaChart is the share of complaints filed each week that were
// acknowledged by their reply-due time (half a working day), as a line.
func slaChart(b *Book, from, to time.Time) template.HTML {
	bounds, err := transitions.Boundaries(from, to, transitions.Week, nil)
	var s svg
	s.open("SLA met per week")
	if err != nil {
		return s.close()
	}
	n := len(bounds) - 1
	met, all := make([]int, n), make([]int, n)
	b.Complaints.All(func(c complaints.Complaint) {
		at := c.FiledAt
		if at.Before(bounds[0]) || !at.Before(bounds[n]) {
			return
		}
		// The week [bounds[i], bounds[i+1]) the complaint was filed in.
		i := sort.Search(n, func(k int) bool { return bounds[k+1].After(at) })
		if c.AcknowledgedAt == nil && c.ReplyDueAt.After(b.AsOf) {
			return // not due yet
		}
		all[i]++
		if c.AcknowledgedAt != nil && !c.AcknowledgedAt.After(c.ReplyDueAt) {
			met[i]++
		}
	})
	s.axes(100, func(v float64) string { return fmt.Sprintf("%.0f%%", v) })
	plotW, plotH := float64(chartW-padL-padR), float64(chartH-padT-padB)
	w := plotW / float64(max(n, 1))
	var d strings.Builder
	pts := 0
	for i := range n {
		if all[i] == 0 {
			continue
		}
		p := 100 * float64(met[i]) / float64(all[i])
		x, y := float64(padL)+w*(float64(i)+0.5), float64(chartH-padB)-plotH*p/100
		fmt.Fprintf(&d, "%s%.1f %.1f ", map[bool]string{true: "M", false: "L"}[pts == 0], x, y)
		fmt.Fprintf(&s.b, `<circle cx="%.1f" cy="%.1f" r="3" class="dot" data-value="%.1f"><title>week of %s: %d of %d on time</title></circle>`, x, y, p, bounds[i].Format(time.DateOnly), met[i], all[i])
		pts++
	}
	if pts > 0 {
		fmt.Fprintf(&s.b, `<path d="%s" class="line" fill="none"/>`, d.String())
	} else {
		s.text(chartW/2, chartH/2, "middle", "label", "no complaint due in this period")
	}
	s.xLabels(n, func(i int) string { return bounds[i].Format("Jan 2") })
	return s.close()
}
