package analytics

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kefu-crm/kefu/eventstore"
)

// EventQuery selects stored events (the API's EventFilter): all zero
// fields match everything. From and To bound occurredAt: From ≤ t < To.
type EventQuery struct {
	StreamID string
	Types    []string
	From, To time.Time
}

// EventPage is one page of events in global order (or, for one stream, in
// stream order).
type EventPage struct {
	Events []eventstore.Event
	// Cursors[i] is the opaque cursor after Events[i].
	Cursors     []string
	HasNextPage bool
}

// DataOpener, if given to PageEvents, replaces each event's Data before it
// is returned — to open (decrypt) personal data, or to redact it.
type DataOpener func(ctx context.Context, ev eventstore.Event) (json.RawMessage, error)

// MaxScan bounds how many events one PageEvents call reads once it has at
// least one match: the page is then returned short with HasNextPage true,
// so sparse filters over a large log answer promptly (the client pages
// on). A page with no match yet scans on to the end of the log.
const MaxScan = 1_000_000

// PageEvents returns up to first events matching q after the cursor after
// ("" = from the start). Cursors are opaque strings naming the global
// position (or the revision, for a one-stream query) of the last event
// seen. open may be nil.
func PageEvents(ctx context.Context, store eventstore.Store, q EventQuery, first int, after string, open DataOpener) (EventPage, error) {
	if first < 0 {
		return EventPage{}, fmt.Errorf("%w: first %d", ErrInvalidArgument, first)
	}
	kind := "p"
	if q.StreamID != "" {
		kind = "r"
		if _, _, err := eventstore.ParseStreamID(q.StreamID); err != nil {
			return EventPage{}, fmt.Errorf("%w: %w", ErrInvalidArgument, err)
		}
	}
	from, hasCursor, err := decodeCursor(after, kind)
	if err != nil {
		return EventPage{}, err
	}
	match := func(ev *eventstore.Event) bool {
		if len(q.Types) > 0 && !slices.Contains(q.Types, ev.Type) {
			return false
		}
		if !q.From.IsZero() && ev.OccurredAt.Before(q.From) {
			return false
		}
		if !q.To.IsZero() && !ev.OccurredAt.Before(q.To) {
			return false
		}
		return true
	}
	var page EventPage
	take := func(ev eventstore.Event, cursor uint64) (bool, error) {
		if !match(&ev) {
			return true, nil
		}
		if len(page.Events) == first {
			page.HasNextPage = true
			return false, nil
		}
		if open != nil {
			d, err := open(ctx, ev)
			if err != nil {
				return false, err
			}
			ev.Data = d
		}
		page.Events = append(page.Events, ev)
		page.Cursors = append(page.Cursors, encodeCursor(kind, cursor))
		return true, nil
	}
	if kind == "r" {
		start := uint64(0)
		if hasCursor {
			start = from + 1
		}
		for {
			evs, err := store.ReadStream(ctx, q.StreamID, eventstore.StreamRead{Direction: eventstore.Forward, From: start, Limit: 512})
			if errors.Is(err, eventstore.ErrStreamNotFound) || (err == nil && len(evs) == 0) {
				return page, nil
			}
			if err != nil {
				return EventPage{}, err
			}
			for _, ev := range evs {
				more, err := take(ev, ev.Revision)
				if err != nil || !more {
					return page, err
				}
			}
			start = evs[len(evs)-1].Revision + 1
		}
	}
	scanned := 0
	err = store.ReadAll(ctx, eventstore.Position(from), func(ev eventstore.Event) error {
		if scanned++; scanned > MaxScan && len(page.Events) > 0 {
			page.HasNextPage = true
			return eventstore.ErrStop
		}
		more, err := take(ev, uint64(ev.Position))
		if err != nil {
			return err
		}
		if !more {
			return eventstore.ErrStop
		}
		return nil
	})
	if err != nil {
		return EventPage{}, err
	}
	return page, nil
}

func encodeCursor(kind string, v uint64) string {
	return base64.RawURLEncoding.EncodeToString([]byte("ev:" + kind + ":" + strconv.FormatUint(v, 10)))
}

func decodeCursor(s, kind string) (uint64, bool, error) {
	if s == "" {
		return 0, false, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	rest, ok := strings.CutPrefix(string(raw), "ev:"+kind+":")
	if err != nil || !ok {
		return 0, false, fmt.Errorf("%w: cursor %q was not issued by this query", ErrInvalidArgument, s)
	}
	v, err := strconv.ParseUint(rest, 10, 64)
	if err != nil {
		return 0, false, fmt.Errorf("%w: cursor %q was not issued by this query", ErrInvalidArgument, s)
	}
	return v, true, nil
}
