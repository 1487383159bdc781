// Package transitions is the log of every customer's stage changes and the
// reports computed from it in one pass: the lifecycle report (stage
// populations and transitions per bucket) and the complain → silence →
// lost funnel. The lifecycle projector's OnChange hook feeds it.
package transitions

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kefu-crm/kefu/projections/lifecycle"
)

// Log is the compact log of every stage change of every customer:
// columns of (customer index, from|to, at in Unix nanoseconds), 13 bytes a
// change. Times are kept exactly, so a report's population at an instant
// is the stage of every customer as of that instant (customer(asOf:)). The lifecycle Projector's OnChange hook feeds it (Record has its
// signature), live or during a rebuild. Safe for concurrent use.
type Log struct {
	mu    sync.RWMutex
	ids   map[string]int32
	names []string
	cust  []int32
	stage []uint8 // from<<4 | to
	at    []int64 // Unix nanoseconds
}

// New returns an empty log.
func New() *Log {
	return &Log{ids: make(map[string]int32)}
}

// Record appends one change of a customer. Changes of one customer must
// come in the order they happen (the Projector guarantees it).
func (t *Log) Record(customerID string, c lifecycle.StageChange) {
	t.mu.Lock()
	i, ok := t.ids[customerID]
	if !ok {
		i = int32(len(t.names))
		id := strings.Clone(customerID)
		t.names = append(t.names, id)
		t.ids[id] = i
	}
	t.cust = append(t.cust, i)
	t.stage = append(t.stage, uint8(c.From)<<4|uint8(c.To)&0xf)
	t.at = append(t.at, nanos(c.At))
	t.mu.Unlock()
}

// Replace makes t hold fresh's changes (a log rebuilt under a new churn
// model taking the live one's place). fresh must not be used afterwards.
func (t *Log) Replace(fresh *Log) {
	if t == fresh {
		return
	}
	fresh.mu.Lock()
	defer fresh.mu.Unlock()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.ids, t.names, t.cust, t.stage, t.at = fresh.ids, fresh.names, fresh.cust, fresh.stage, fresh.at
}

// nanos is t in Unix nanoseconds, clamped to what an int64 holds (years
// 1678–2262) so far-off report bounds cannot overflow.
func nanos(t time.Time) int64 {
	switch {
	case t.Before(minTime):
		return math.MinInt64
	case t.After(maxTime):
		return math.MaxInt64
	}
	return t.UnixNano()
}

var (
	minTime = time.Unix(0, math.MinInt64)
	maxTime = time.Unix(0, math.MaxInt64)
)

// Len is the number of changes recorded.
func (t *Log) Len() int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return len(t.cust)
}

// Customers is the number of customers with at least one change.
func (t *Log) Customers() int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return len(t.names)
}

// Digest is a SHA-256 over every customer's changes in ID order (per
// customer in recording order), so it does not depend on how customers
// interleaved.
func (t *Log) Digest() [32]byte {
	t.mu.RLock()
	defer t.mu.RUnlock()
	per := t.byCustomer()
	order := make([]int32, len(t.names))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int { return strings.Compare(t.names[a], t.names[b]) })
	h := sha256.New()
	var b [9]byte
	for _, c := range order {
		h.Write([]byte(t.names[c]))
		h.Write([]byte{0})
		for _, k := range per.of(c) {
			b[0] = t.stage[k]
			binary.BigEndian.PutUint64(b[1:], uint64(t.at[k]))
			h.Write(b[:])
		}
	}
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}

// csr indexes the log by customer: rows of change indexes.
type csr struct {
	start []int32
	idx   []int32
}

func (c csr) of(customer int32) []int32 { return c.idx[c.start[customer]:c.start[customer+1]] }

// byCustomer groups change indexes by customer, each in recording order.
// Callers hold the read lock.
func (t *Log) byCustomer() csr {
	start := make([]int32, len(t.names)+1)
	for _, c := range t.cust {
		start[c+1]++
	}
	for i := 1; i < len(start); i++ {
		start[i] += start[i-1]
	}
	fill := slices.Clone(start[:len(start)-1])
	idx := make([]int32, len(t.cust))
	for k, c := range t.cust {
		idx[fill[c]] = int32(k)
		fill[c]++
	}
	return csr{start: start, idx: idx}
}

// Bucket is the width of a report bucket.
type Bucket uint8

// The bucket widths.
const (
	Day Bucket = iota
	Week
	Month
)

// ParseBucket reads "DAY", "WEEK" or "MONTH" (the GraphQL ReportBucket).
func ParseBucket(s string) (Bucket, error) {
	switch strings.ToUpper(s) {
	case "DAY":
		return Day, nil
	case "WEEK":
		return Week, nil
	case "MONTH":
		return Month, nil
	}
	return 0, fmt.Errorf("%w: bucket %q (want DAY, WEEK or MONTH)", ErrInvalidArgument, s)
}

func (b Bucket) String() string {
	return [...]string{"DAY", "WEEK", "MONTH"}[b]
}

// MaxBuckets bounds a report (about 27 years of days).
const MaxBuckets = 10000

// Boundaries returns the starts of the buckets covering [from, to) and the
// end of the last one: the first bucket starts at from truncated to its
// bucket (midnight; Monday midnight; the 1st at midnight) in loc (nil:
// UTC), and buckets follow until one ends at or after to.
func Boundaries(from, to time.Time, b Bucket, loc *time.Location) ([]time.Time, error) {
	if loc == nil {
		loc = time.UTC
	}
	if !from.Before(to) {
		return nil, fmt.Errorf("%w: from %s is not before to %s", ErrInvalidArgument, from.Format(time.RFC3339), to.Format(time.RFC3339))
	}
	if b > Month {
		return nil, fmt.Errorf("%w: bucket %d", ErrInvalidArgument, b)
	}
	f := from.In(loc)
	y, m, d := f.Date()
	var cur time.Time
	switch b {
	case Day:
		cur = time.Date(y, m, d, 0, 0, 0, 0, loc)
	case Week:
		cur = time.Date(y, m, d-(int(f.Weekday())+6)%7, 0, 0, 0, 0, loc)
	case Month:
		cur = time.Date(y, m, 1, 0, 0, 0, 0, loc)
	}
	out := []time.Time{cur}
	for cur.Before(to) {
		y, m, d := cur.Date()
		switch b {
		case Day:
			cur = time.Date(y, m, d+1, 0, 0, 0, 0, loc)
		case Week:
			cur = time.Date(y, m, d+7, 0, 0, 0, 0, loc)
		case Month:
			cur = time.Date(y, m+1, 1, 0, 0, 0, 0, loc)
		}
		out = append(out, cur)
		if len(out) > MaxBuckets+1 {
			return nil, fmt.Errorf("%w: more than %d buckets", ErrInvalidArgument, MaxBuckets)
		}
	}
	return out, nil
}

// Report is the lifecycle report: one entry per bucket.
type Report struct {
	Bucket  Bucket
	Buckets []BucketReport
}

// BucketReport is one bucket: who was where at its end, and what moved
// inside it.
type BucketReport struct {
	// Start and End bound the bucket: (Start, End], the convention of
	// "as of" everywhere (the stage as of t counts what happened at t).
	Start, End time.Time
	// Population counts customers per stage as of End (indexed by Stage;
	// StageNone unused): what customer(asOf: End) says of each.
	Population [lifecycle.NumStages]int
	// Transitions are the changes with Start < at ≤ End, by (from, to),
	// most frequent first (ties by from, to); a merged customer leaving the
	// book (to StageNone) is not one.
	Transitions []TransitionCount
}

// TransitionCount counts the changes from one stage to another; From is
// StageNone for a customer's first stage (registration).
type TransitionCount struct {
	From, To lifecycle.Stage
	Count    int
}

// ReportOptions tune LifecycleReport.
type ReportOptions struct {
	// Location draws the bucket boundaries; nil means UTC.
	Location *time.Location
}

// LifecycleReport counts populations and transitions per bucket in one
// pass over the log (no sort): each change lands in its bucket's
// (from, to) matrix and moves one customer between stages, so the
// population at a bucket's end is the running sum of those moves. Changes
// after the last bucket's end are ignored.
func (t *Log) LifecycleReport(from, to time.Time, b Bucket, opts ReportOptions) (Report, error) {
	bounds, err := Boundaries(from, to, b, opts.Location)
	if err != nil {
		return Report{}, err
	}
	nb := len(bounds) - 1
	secs := make([]int64, len(bounds)) // Unix nanoseconds
	for i, x := range bounds {
		secs[i] = nanos(x)
	}
	const ns = lifecycle.NumStages
	// counts[k+1][from][to]; k = -1 is "before the first bucket".
	counts := make([][ns * ns]int32, nb+1)
	t.mu.RLock()
	first, last := secs[0], secs[nb]
	uniform := int64(0)
	if b != Month && (opts.Location == nil || opts.Location == time.UTC) {
		uniform = secs[1] - secs[0]
	}
	for k, at := range t.at {
		if at > last {
			continue
		}
		var i int
		switch {
		case at <= first:
			i = 0
		case uniform > 0:
			i = int((at-first-1)/uniform) + 1
		default:
			i = search(secs, at) + 1
		}
		s := t.stage[k]
		counts[i][int(s>>4)*ns+int(s&0xf)]++
	}
	t.mu.RUnlock()
	rep := Report{Bucket: b, Buckets: make([]BucketReport, nb)}
	var pop [ns]int
	for k := 0; k <= nb; k++ {
		var trans []TransitionCount
		for f := range ns {
			for to := range ns {
				c := int(counts[k][f*ns+to])
				if c == 0 {
					continue
				}
				pop[f] -= c
				pop[to] += c
				// A change to StageNone is a customer merged into another
				// leaving the book: it moves the populations, it is not a
				// stage the report lists.
				if k > 0 && lifecycle.Stage(to) != lifecycle.StageNone {
					trans = append(trans, TransitionCount{From: lifecycle.Stage(f), To: lifecycle.Stage(to), Count: c})
				}
			}
		}
		if k == 0 {
			continue
		}
		slices.SortStableFunc(trans, func(a, b TransitionCount) int { return b.Count - a.Count })
		br := BucketReport{Start: bounds[k-1], End: bounds[k], Transitions: trans}
		br.Population = pop
		br.Population[lifecycle.StageNone] = 0
		rep.Buckets[k-1] = br
	}
	return rep, nil
}

// search returns the bucket i with secs[i] < at ≤ secs[i+1].
func search(secs []int64, at int64) int {
	lo, hi := 0, len(secs)-1
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if secs[mid] < at {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo
}

// ErrInvalidArgument: a report argument out of range (bounds, bucket).
var ErrInvalidArgument = errors.New("transitions: invalid argument")
