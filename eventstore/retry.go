package eventstore

import (
	"fmt"

	"github.com/google/uuid"
)

// Stored says where an event ID is stored.
type Stored struct {
	Stream   string
	Revision uint64
	Position Position
}

// ResolveRetry decides, the same way for every backend, whether an append of
// records to stream repeats an earlier append. lookup reports where an event
// ID is stored (found false when it is not).
//
// It returns retry false when none of the IDs is stored: the append is new.
// It returns retry true and the original result when every ID is stored in
// stream at consecutive revisions in the order of records. Any other mix —
// some IDs stored and some not, an ID stored in another stream, the right
// IDs in another order — is an ErrIdempotency error that names the first
// offending ID.
func ResolveRetry(stream string, records []Record, lookup func(uuid.UUID) (Stored, bool, error)) (res AppendResult, retry bool, err error) {
	var first Stored
	for i, r := range records {
		st, found, err := lookup(r.ID)
		if err != nil {
			return AppendResult{}, false, err
		}
		switch {
		case i == 0 && !found:
			// New unless a later ID turns out to be stored.
			for _, later := range records[1:] {
				st, found, err := lookup(later.ID)
				if err != nil {
					return AppendResult{}, false, err
				}
				if found {
					return AppendResult{}, false, fmt.Errorf("%w: event %s is already stored in %s at revision %d, but event %s of the same append is not",
						ErrIdempotency, later.ID, st.Stream, st.Revision, r.ID)
				}
			}
			return AppendResult{}, false, nil
		case !found:
			return AppendResult{}, false, fmt.Errorf("%w: event %s is already stored in %s, but event %s of the same append is not",
				ErrIdempotency, records[0].ID, first.Stream, r.ID)
		case st.Stream != stream:
			return AppendResult{}, false, fmt.Errorf("%w: event %s is already stored in stream %s, not %s", ErrIdempotency, r.ID, st.Stream, stream)
		case i == 0:
			first = st
		case st.Revision != first.Revision+uint64(i):
			return AppendResult{}, false, fmt.Errorf("%w: event %s is stored at revision %d of %s, not right after the append's earlier events",
				ErrIdempotency, r.ID, st.Revision, stream)
		}
		res = AppendResult{Revision: st.Revision, Position: st.Position}
	}
	return res, true, nil
}

// ValidateStreamRead checks ReadStream's arguments the same way for every
// backend.
func ValidateStreamRead(stream string, read StreamRead) error {
	if _, _, err := ParseStreamID(stream); err != nil {
		return err
	}
	if read.Limit < 0 {
		return fmt.Errorf("%w: read of %s with negative limit %d", ErrInvalidArgument, stream, read.Limit)
	}
	if read.Direction != Forward && read.Direction != Backward {
		return fmt.Errorf("%w: read of %s with unknown direction %d", ErrInvalidArgument, stream, read.Direction)
	}
	return nil
}
