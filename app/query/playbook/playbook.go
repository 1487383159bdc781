// Package playbook is what resolved each kind of complaint, from the events
// alone: per complaint category, the resolution options proposed and
// accepted, the recovery steps taken, the compensation paid, and how it
// ended — SATISFIED or UNSATISFIED, reopened or not, and whether the
// customer was still active 90 days later. Staff who share what worked let
// the next agent resolve the same problem faster (the source material's
// 知识共享).
//
// # Grouping free text
//
// Resolution options are free text. Two options are the same option when
// their normalised texts are equal (Normalize): full-width ASCII forms
// (ＡＢＣ１２３, the ideographic space) become their ASCII forms, letters
// are lower-cased, runs of white space become one space, and white space
// and trailing sentence punctuation (. 。 ! ！ ～ ~) at either end are
// dropped. So "Refund the fee." and "refund  the fee" are one option;
// "退款" and "全额退款" stay two. The option is shown by its most frequent
// spelling (ties: the lexically smallest).
//
// # Counting
//
// A complaint counts towards the options it proposed (Proposed) and, for
// the one the customer accepted in each round of resolution (a reopened
// complaint is resolved again, perhaps with another option), towards that
// option's outcome: Satisfied or Unsatisfied once resolved, Reopened when
// the complaint was reopened after that resolution, and Retained when the customer made a
// purchase or an inbound contact 90 days or more after the resolution
// (known only once 90 days have passed: RetainedKnown counts those).
//
// # Ranking
//
// Options are ranked by the lower bound of the 95 % Wilson score interval
// of their satisfaction rate Satisfied / (Satisfied + Unsatisfied) —
// the rate one can be 95 % sure of, so that 9 satisfied of 10 ranks above
// 1 of 1 — then by the rate, then by how often they were accepted, then by
// text. Options never accepted and resolved have no rate and come last.
// (E. B. Wilson, "Probable inference, the law of succession, and
// statistical inference", JASA 22 (1927) 209–212.)
package playbook

import (
	"cmp"
	"math"
	"slices"
	"strings"
	"unicode"

	"github.com/kefu-crm/kefu/domain/customer"
)

// Z is the normal quantile of the 95 % two-sided interval.
const Z = 1.959963984540054

// Complaint is what the playbook reads of one complaint.
type Complaint struct {
	// Options are every option proposed on it, in any round.
	Options []string
	// Rounds are its resolutions, oldest first (a reopened complaint has
	// more than one), and last an accepted option not resolved yet.
	Rounds       []Round
	Steps        []customer.RecoveryStep
	Compensation []customer.Money
}

// Round is one resolution of a complaint.
type Round struct {
	// Accepted is the option the customer accepted; nil when none was.
	Accepted *string
	// Outcome is the verdict; nil while not resolved.
	Outcome *customer.Outcome
	// Reopened says the complaint was reopened after this resolution.
	Reopened bool
	// Retained says the customer was active 90 days after this
	// resolution; nil when that is not known (yet).
	Retained *bool
}

// Option is one resolution option's record.
type Option struct {
	Text                              string
	Proposed, Accepted                int
	Satisfied, Unsatisfied            int
	Reopened, Retained, RetainedKnown int
	// Rate is Satisfied / (Satisfied + Unsatisfied), and Lower and Upper
	// its 95 % Wilson interval; all NaN without a verdict.
	Rate, Lower, Upper float64
	key                string
	spellings          map[string]int
}

// StepCount is how often a recovery step was taken.
type StepCount struct {
	Step  customer.RecoveryStep
	Count int
}

// Book is the playbook of one category: Complaints counted once each,
// Resolved those resolved at least once, Reopened those reopened after a
// resolution, Satisfied and Unsatisfied every verdict (a complaint reopened
// and resolved again gives two).
type Book struct {
	Complaints, Resolved, Satisfied, Unsatisfied, Reopened int
	Options                                                []Option
	Steps                                                  []StepCount
	// Compensation is the total paid, one amount per currency (sorted).
	Compensation []customer.Money
}

// Normalize is the text by which options are grouped (see the package doc).
func Normalize(s string) string {
	var b strings.Builder
	space := false
	for _, r := range s {
		switch {
		case r == '\u3000':
			r = ' '
		case r >= '\uFF01' && r <= '\uFF5E':
			r -= 0xFEE0
		}
		if unicode.IsSpace(r) {
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return strings.TrimRight(b.String(), ".。!！～~ ")
}

// Wilson is the Wilson score interval of k successes in n trials at the
// normal quantile z; (NaN, NaN) when n is 0.
func Wilson(k, n int, z float64) (lo, hi float64) {
	if n <= 0 {
		return math.NaN(), math.NaN()
	}
	p, nf := float64(k)/float64(n), float64(n)
	z2 := z * z
	centre := (p + z2/(2*nf)) / (1 + z2/nf)
	half := z / (1 + z2/nf) * math.Sqrt(p*(1-p)/nf+z2/(4*nf*nf))
	return max(0, centre-half), min(1, centre+half)
}

// Build sums cs up and ranks the options.
func Build(cs []Complaint) Book {
	var bk Book
	opts := map[string]*Option{}
	steps := map[customer.RecoveryStep]int{}
	paid := map[string]int64{}
	for _, c := range cs {
		bk.Complaints++
		seen := map[string]bool{}
		propose := func(text string) *Option {
			o := option(opts, text)
			if !seen[o.key] {
				seen[o.key] = true
				o.Proposed++
			}
			return o
		}
		for _, text := range c.Options {
			propose(text)
		}
		resolved, reopened := false, false
		for _, r := range c.Rounds {
			if r.Outcome != nil {
				resolved = true
				if *r.Outcome == customer.Satisfied {
					bk.Satisfied++
				} else {
					bk.Unsatisfied++
				}
			}
			reopened = reopened || r.Reopened
			if r.Accepted == nil {
				continue
			}
			o := propose(*r.Accepted) // accepted without being on record as proposed counts as proposed
			o.Accepted++
			if r.Outcome != nil {
				if *r.Outcome == customer.Satisfied {
					o.Satisfied++
				} else {
					o.Unsatisfied++
				}
			}
			if r.Reopened {
				o.Reopened++
			}
			if r.Retained != nil {
				o.RetainedKnown++
				if *r.Retained {
					o.Retained++
				}
			}
		}
		if resolved {
			bk.Resolved++
		}
		if reopened {
			bk.Reopened++
		}
		for _, s := range c.Steps {
			steps[s]++
		}
		for _, m := range c.Compensation {
			paid[m.Currency] += m.AmountMinor
		}
	}
	for _, o := range opts {
		n := o.Satisfied + o.Unsatisfied
		o.Rate = math.NaN()
		if n > 0 {
			o.Rate = float64(o.Satisfied) / float64(n)
		}
		o.Lower, o.Upper = Wilson(o.Satisfied, n, Z)
		o.Text = spelling(o.spellings)
		bk.Options = append(bk.Options, *o)
	}
	slices.SortFunc(bk.Options, Compare)
	for i := range bk.Options {
		bk.Options[i].spellings = nil
	}
	for _, s := range customer.RecoverySteps() {
		if steps[s] > 0 {
			bk.Steps = append(bk.Steps, StepCount{Step: s, Count: steps[s]})
		}
	}
	for cur, amt := range paid {
		bk.Compensation = append(bk.Compensation, customer.Money{AmountMinor: amt, Currency: cur})
	}
	slices.SortFunc(bk.Compensation, func(a, b customer.Money) int { return cmp.Compare(a.Currency, b.Currency) })
	return bk
}

// Compare orders options best first (see the package doc).
func Compare(a, b Option) int {
	an, bn := math.IsNaN(a.Lower), math.IsNaN(b.Lower)
	switch {
	case an != bn:
		if an {
			return 1
		}
		return -1
	case !an:
		if c := cmp.Compare(b.Lower, a.Lower); c != 0 {
			return c
		}
		if c := cmp.Compare(b.Rate, a.Rate); c != 0 {
			return c
		}
	}
	if c := cmp.Compare(b.Accepted, a.Accepted); c != 0 {
		return c
	}
	if c := cmp.Compare(b.Proposed, a.Proposed); c != 0 {
		return c
	}
	return cmp.Compare(a.key, b.key)
}

func option(opts map[string]*Option, text string) *Option {
	k := Normalize(text)
	o := opts[k]
	if o == nil {
		o = &Option{key: k, spellings: map[string]int{}}
		opts[k] = o
	}
	o.spellings[strings.TrimSpace(text)]++
	return o
}

// spelling is the most frequent spelling, ties to the smallest.
func spelling(m map[string]int) string {
	best, n := "", -1
	for s, c := range m {
		if c > n || (c == n && s < best) {
			best, n = s, c
		}
	}
	return best
}
