package query

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strconv"

	"github.com/kefu-crm/kefu/eventstore"
)

// MaxScan bounds how many events one Events.List call reads once it has at
// least one match: the page is then returned short with HasNextPage true,
// so a sparse filter over a large log answers promptly and the client pages
// on. A page with no match yet scans on (bounded by the request deadline).
const MaxScan = 1_000_000

// Events pages through the global log; the cursor is the position.
func (h Events) List(ctx context.Context, q EventFilter, p Page) (Connection[Event], error) {
	after := eventstore.Start
	if p.After != "" {
		c, err := decodeCursor(p.After)
		if err != nil {
			return Connection[Event]{}, err
		}
		n, err := strconv.ParseUint(c, 10, 64)
		if err != nil {
			return Connection[Event]{}, badCursor()
		}
		after = eventstore.Position(n)
	}
	var out Connection[Event]
	scanned := 0
	emit := func(ev eventstore.Event) error {
		if scanned++; scanned > h.maxScan() && len(out.Edges) > 0 {
			out.HasNextPage = true
			return eventstore.ErrStop
		}
		if (q.From != nil && ev.OccurredAt.Before(*q.From)) || (q.To != nil && !ev.OccurredAt.Before(*q.To)) ||
			(len(q.Types) > 0 && !slices.Contains(q.Types, ev.Type)) {
			return nil
		}
		if len(out.Edges) == p.First {
			out.HasNextPage = true
			return eventstore.ErrStop
		}
		d, err := h.codec.Decode(ctx, ev)
		if err != nil {
			return err
		}
		data, err := json.Marshal(d.Payload)
		if err != nil {
			return err
		}
		meta := ev.Metadata
		if len(meta) == 0 {
			meta = json.RawMessage("{}")
		}
		out.Edges = append(out.Edges, Edge[Event]{
			Cursor: encodeCursor(strconv.FormatUint(uint64(ev.Position), 10)),
			Node: Event{EventID: ev.ID.String(), StreamID: ev.StreamID, Type: ev.Type, Revision: int(ev.Revision),
				Position: strconv.FormatUint(uint64(ev.Position), 10), OccurredAt: ev.OccurredAt, RecordedAt: ev.RecordedAt,
				Data: data, Personal: h.codec.PersonalKeys(ev.Type), Metadata: meta},
		})
		return nil
	}
	if q.StreamID != nil {
		evs, err := h.store.ReadStream(ctx, *q.StreamID, eventstore.StreamRead{})
		if errors.Is(err, eventstore.ErrStreamNotFound) || errors.Is(err, eventstore.ErrInvalidStreamID) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		for _, ev := range evs {
			if ev.Position <= after {
				continue
			}
			if err := emit(ev); errors.Is(err, eventstore.ErrStop) {
				break
			} else if err != nil {
				return out, err
			}
		}
		return out, nil
	}
	err := h.store.ReadAll(ctx, after, emit)
	return out, err
}

// ---- analytics ----
