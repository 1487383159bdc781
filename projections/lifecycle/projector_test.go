package lifecycle_test

import (
	"fmt"
	"testing"

	"github.com/kefu-crm/kefu/projections/lifecycle"
)

func newProjector(t *testing.T, churn lifecycle.ChurnView, hook func(string, lifecycle.StageChange)) *lifecycle.Projector {
	t.Helper()
	p, err := lifecycle.New(lifecycle.Config{Policy: lifecycle.DefaultPolicy(), Churn: churn, OnChange: hook})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// The clock moves customers without events, a deadline reached exactly
// fires, and the hook hears "entered SILENT" dated at the threshold.
func TestProjectorDeadlines(t *testing.T) {
	var heard []string
	p := newProjector(t, nil, func(id string, c lifecycle.StageChange) {
		heard = append(heard, fmt.Sprintf("%s %v→%s %s", id, c.From, c.To, c.At.Format("01-02")))
	})
	p.Apply("a", f(0, registered()))
	p.Apply("a", f(1, complaint("c-1"))) // SILENT at day 31, LOST at day 91
	p.Apply("b", f(0, registered()))
	p.Apply("b", f(5, grumble())) // SILENT at day 35

	if at, ok := p.NextDeadline(); !ok || !at.Equal(day(31)) {
		t.Fatalf("next deadline %v %v, want day 31", at, ok)
	}
	p.AdvanceTo(day(31)) // exactly the deadline
	if s, _ := p.Get("a"); s.Stage != silent || !s.Since.Equal(day(31)) {
		t.Fatalf("a: %+v, want SILENT since day 31", s)
	}
	if s, _ := p.Get("b"); s.Stage != grumbling || !s.Next.Equal(day(35)) || s.NextStage != silent {
		t.Fatalf("b: %+v, want GRUMBLING until day 35", s)
	}
	p.AdvanceTo(day(200)) // much later: everything due fires, dated at its threshold
	if got := p.Counts(); got[lost] != 2 || got[silent] != 0 {
		t.Fatalf("counts %v", got)
	}
	if s, _ := p.Get("b"); !s.Since.Equal(day(95)) {
		t.Errorf("b LOST since %v, want day 95", s.Since)
	}
	want := "[a →NEW 03-01 a NEW→COMPLAINING 03-02 b →NEW 03-01 b NEW→GRUMBLING 03-06 a COMPLAINING→SILENT 04-01 b GRUMBLING→SILENT 04-05 a SILENT→LOST 05-31 b SILENT→LOST 06-04]"
	if fmt.Sprint(heard) != want {
		t.Errorf("hook heard\n%v\nwant\n%v", heard, want)
	}
	if _, ok := p.NextDeadline(); ok {
		t.Error("LOST customers still have deadlines")
	}
	p.Apply("a", f(201, purchase("o-1")))
	if got := p.InStage(complaining); fmt.Sprint(got) != "[a]" {
		t.Errorf("COMPLAINING = %v, want [a]", got)
	}
}

// A rebuild from zero and the live path give the same digest; a different
// read model gives a different one.
func TestProjectorDigest(t *testing.T) {
	facts := []struct {
		id string
		f  lifecycle.Fact
	}{{"a", f(0, registered())}, {"b", f(0, registered())}, {"a", f(1, purchase("o-1"))}, {"a", f(2, purchase("o-2"))}, {"b", f(3, grumble())}}
	build := func(n int) *lifecycle.Projector {
		p := newProjector(t, nil, nil)
		for _, x := range facts[:n] {
			p.Apply(x.id, x.f)
			p.AdvanceTo(x.f.At)
		}
		p.AdvanceTo(day(10))
		return p
	}
	if a, b := build(5).Digest(), build(5).Digest(); a != b {
		t.Error("same facts, different digests")
	}
	if build(5).Digest() == build(4).Digest() {
		t.Error("different read models, same digest")
	}
}

// Replacing the churn model re-evaluates everyone as of the clock.
func TestProjectorSetChurn(t *testing.T) {
	var reasons []string
	p := newProjector(t, nil, func(_ string, c lifecycle.StageChange) { reasons = append(reasons, c.To.String()+": "+c.Reason) })
	for i, d := range []float64{0, 1, 2, 20} {
		if i == 0 {
			p.Apply("a", f(d, registered()))
			continue
		}
		p.Apply("a", f(d, purchase(fmt.Sprint("o-", i))))
	}
	p.AdvanceTo(day(400))
	if s, _ := p.Get("a"); s.Stage != active {
		t.Fatalf("without a model: %s", s.Stage)
	}
	p.SetChurn(cdnow(1000))
	s, _ := p.Get("a")
	if s.Stage != lost || !s.Since.Equal(day(400)) {
		t.Fatalf("after SetChurn: %+v, want LOST since day 400", s)
	}
	if last := reasons[len(reasons)-1]; last[:len("LOST: churn model refitted")] != "LOST: churn model refitted" {
		t.Errorf("reason %q", last)
	}
}
