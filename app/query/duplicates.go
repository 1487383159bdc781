package query

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/kefu-crm/kefu/projections/dupindex"

	"github.com/kefu-crm/kefu/domain/aggregate"
)

// Duplicates serves the duplicate candidates of the blind index
// (projections/dupindex).
type Duplicates struct{ *core }

// DefaultMinScore is the candidates' default threshold: any one shared
// detail (the weakest, name and birthday, weighs 0.75).
const DefaultMinScore = 0.5

// DuplicateCandidate is a pair of customers who are probably one person.
type DuplicateCandidate struct {
	Customers []Customer
	Score     float64
	Reasons   []string
}

// Candidates pages the candidates scoring at least minScore (nil: the
// default), best first. The cursor is the last candidate seen (its score
// and pair), so a page read after a merge goes on where the last one ended.
func (h Duplicates) Candidates(_ context.Context, minScore *float64, p Page) (Connection[DuplicateCandidate], error) {
	floor := DefaultMinScore
	if minScore != nil {
		floor = *minScore
	}
	if floor < 0 || floor > 1 {
		return Connection[DuplicateCandidate]{}, &aggregate.InvalidInputError{Field: "minScore", Reason: fmt.Sprintf("%v is not in 0..1", floor)}
	}
	var after *candidateKey
	if p.After != "" {
		s, err := decodeCursor(p.After)
		if err != nil {
			return Connection[DuplicateCandidate]{}, err
		}
		k, err := parseCandidateKey(s)
		if err != nil {
			return Connection[DuplicateCandidate]{}, err
		}
		after = &k
	}
	var out Connection[DuplicateCandidate]
	if h.dupes == nil {
		return out, nil
	}
	all := h.dupes.Candidates(floor)
	out.TotalCount = len(all)
	start := 0
	if after != nil {
		// The first candidate after the cursor's in the list's order
		// (score, then the pair's IDs): a merge between two pages takes
		// candidates off without shifting the ones still to come.
		start, _ = slices.BinarySearchFunc(all, *after, func(c dupindex.Candidate, k candidateKey) int {
			if keyOfCandidate(c).compare(k) <= 0 {
				return -1
			}
			return 1
		})
	}
	for i := start; i < len(all) && len(out.Edges) < p.First; i++ {
		c := all[i]
		v := DuplicateCandidate{Score: c.Score, Reasons: c.Reasons}
		for _, id := range c.Customers {
			if cu, ok := h.Customers.Get(id); ok {
				v.Customers = append(v.Customers, h.liveCustomerView(cu))
			}
		}
		out.Edges = append(out.Edges, Edge[DuplicateCandidate]{Cursor: encodeCursor(keyOfCandidate(c).String()), Node: v})
	}
	out.HasNextPage = start+len(out.Edges) < len(all)
	return out, nil
}

// candidateKey is a candidate's place in the list: score (best first),
// then the pair's IDs.
type candidateKey struct {
	score float64
	a, b  string
}

func keyOfCandidate(c dupindex.Candidate) candidateKey {
	return candidateKey{score: c.Score, a: c.Customers[0], b: c.Customers[1]}
}

// compare orders keys as the list is: higher scores first.
func (k candidateKey) compare(o candidateKey) int {
	if c := cmp.Compare(o.score, k.score); c != 0 {
		return c
	}
	if c := cmp.Compare(k.a, o.a); c != 0 {
		return c
	}
	return cmp.Compare(k.b, o.b)
}

func (k candidateKey) String() string {
	return strconv.FormatFloat(k.score, 'g', -1, 64) + "|" + k.a + "|" + k.b
}

func parseCandidateKey(s string) (candidateKey, error) {
	parts := strings.Split(s, "|")
	if len(parts) != 3 || parts[1] == "" || parts[2] == "" {
		return candidateKey{}, badCursor()
	}
	score, err := strconv.ParseFloat(parts[0], 64)
	if err != nil || score < 0 || score > 1 {
		return candidateKey{}, badCursor()
	}
	return candidateKey{score: score, a: parts[1], b: parts[2]}, nil
}
