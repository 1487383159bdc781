package servicereport

import (
	"crypto/sha256"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/eventstore"
)

// Surveys is the read model of satisfaction surveys (SatisfactionRecorded),
// kept in business-time order for period queries. It is safe for one
// writer and many readers. Adapt it with projections.Adapt.
type Surveys struct {
	mu       sync.RWMutex
	list     []Survey // by At, then arrival
	position eventstore.Position
}

// NewSurveys returns an empty model.
func NewSurveys() *Surveys { return &Surveys{} }

// Name is the projection's permanent name.
func (s *Surveys) Name() string { return "servicereport.surveys" }

// Wants selects SatisfactionRecorded.
func (s *Surveys) Wants(eventType string) bool { return eventType == customer.TypeSatisfactionRecorded }

// Apply records a survey; re-delivered positions are ignored.
func (s *Surveys) Apply(ev eventstore.Event, payload customer.Event) {
	e, ok := payload.(*customer.SatisfactionRecorded)
	if !ok {
		return
	}
	cid, ok := strings.CutPrefix(ev.StreamID, customer.StreamCategory+"-")
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if ev.Position != 0 && ev.Position <= s.position {
		return
	}
	s.position = ev.Position
	x := Survey{CustomerID: cid, ComplaintID: e.ComplaintID, Score: e.Score, At: ev.OccurredAt}
	i, _ := slices.BinarySearchFunc(s.list, x.At, func(a Survey, t time.Time) int {
		if a.At.After(t) {
			return 1
		}
		return -1 // equal times: insert after them
	})
	s.list = slices.Insert(s.list, i, x)
}

// Between returns the surveys answered in [from, to), oldest first.
func (s *Surveys) Between(from, to time.Time) []Survey {
	s.mu.RLock()
	defer s.mu.RUnlock()
	lo, _ := slices.BinarySearchFunc(s.list, from, func(a Survey, t time.Time) int {
		if a.At.Before(t) {
			return -1
		}
		return 1
	})
	hi, _ := slices.BinarySearchFunc(s.list, to, func(a Survey, t time.Time) int {
		if a.At.Before(t) {
			return -1
		}
		return 1
	})
	return slices.Clone(s.list[lo:max(lo, hi)])
}

// Digest is a deterministic hash of the surveys.
func (s *Surveys) Digest() [32]byte {
	s.mu.RLock()
	defer s.mu.RUnlock()
	h := sha256.New()
	for _, x := range s.list {
		fmt.Fprintf(h, "%s|%s|%d|%d\n", x.CustomerID, x.ComplaintID, x.Score, x.At.UnixNano())
	}
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}
