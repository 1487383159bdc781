package projections

import (
	"context"
	"fmt"
	"reflect"
	"time"

	"github.com/kefu-crm/kefu/eventstore"
)

// Model is the shape of kefu's read models: they fold a stored event and its
// typed payload (T, e.g. customer.Event) and cannot fail.
type Model[T any] interface {
	Name() string
	Apply(ev eventstore.Event, payload T)
	Digest() [32]byte
}

// Adapt makes a Projection of a Model. A payload that is not a T stops the
// projection with an error naming the position. If m also implements Filter
// or Snapshotter, so does the result.
func Adapt[T any](m Model[T]) Projection {
	a := adapted[T]{m: m}
	f, isFilter := m.(Filter)
	s, isSnap := m.(Snapshotter)
	switch {
	case isFilter && isSnap:
		return struct {
			adapted[T]
			Filter
			Snapshotter
		}{a, f, s}
	case isFilter:
		return struct {
			adapted[T]
			Filter
		}{a, f}
	case isSnap:
		return struct {
			adapted[T]
			Snapshotter
		}{a, s}
	}
	return a
}

type adapted[T any] struct{ m Model[T] }

func (a adapted[T]) Name() string     { return a.m.Name() }
func (a adapted[T]) Digest() [32]byte { return a.m.Digest() }

func (a adapted[T]) Apply(_ context.Context, ev Decoded) error {
	p, ok := ev.Payload.(T)
	if !ok {
		return fmt.Errorf("projections: %s: payload %T of %s at position %d is not a %v", a.m.Name(), ev.Payload, ev.Event.Type, ev.Event.Position, reflect.TypeFor[T]())
	}
	a.m.Apply(ev.Event, p)
	return nil
}

// Until passes p only the events that occurred at or before t (business
// time: a replay "as the book stood at t"); p's Filter is kept.
func Until(p Projection, t time.Time) Projection {
	u := until{p: p, t: t}
	if f, ok := p.(Filter); ok {
		return struct {
			until
			Filter
		}{u, f}
	}
	return u
}

type until struct {
	p Projection
	t time.Time
}

func (u until) Name() string     { return u.p.Name() }
func (u until) Digest() [32]byte { return u.p.Digest() }
func (u until) Apply(ctx context.Context, ev Decoded) error {
	if ev.Event.OccurredAt.After(u.t) {
		return nil
	}
	return u.p.Apply(ctx, ev)
}
