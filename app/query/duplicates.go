package query

import (
	"context"
	"fmt"
	"strconv"

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
// default), best first. The cursor is the rank of the last candidate seen.
func (h Duplicates) Candidates(_ context.Context, minScore *float64, p Page) (Connection[DuplicateCandidate], error) {
	floor := DefaultMinScore
	if minScore != nil {
		floor = *minScore
	}
	if floor < 0 || floor > 1 {
		return Connection[DuplicateCandidate]{}, &aggregate.InvalidInputError{Field: "minScore", Reason: fmt.Sprintf("%v is not in 0..1", floor)}
	}
	start := 0
	if p.After != "" {
		s, err := decodeCursor(p.After)
		if err != nil {
			return Connection[DuplicateCandidate]{}, err
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return Connection[DuplicateCandidate]{}, badCursor()
		}
		start = n + 1
	}
	var out Connection[DuplicateCandidate]
	if h.dupes == nil {
		return out, nil
	}
	all := h.dupes.Candidates(floor)
	out.TotalCount = len(all)
	for i := start; i < len(all) && len(out.Edges) < p.First; i++ {
		c := all[i]
		v := DuplicateCandidate{Score: c.Score, Reasons: c.Reasons}
		for _, id := range c.Customers {
			if cu, ok := h.Customers.Get(id); ok {
				v.Customers = append(v.Customers, h.liveCustomerView(cu))
			}
		}
		out.Edges = append(out.Edges, Edge[DuplicateCandidate]{Cursor: encodeCursor(strconv.Itoa(i)), Node: v})
	}
	out.HasNextPage = start+len(out.Edges) < len(all)
	return out, nil
}
