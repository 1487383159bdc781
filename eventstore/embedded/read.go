package embedded

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/eventstore/embedded/internal/envelope"
)

// ReadStream implements eventstore.Store.
func (s *Store) ReadStream(ctx context.Context, stream string, read eventstore.StreamRead) ([]eventstore.Event, error) {
	if err := eventstore.ValidateStreamRead(stream, read); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []eventstore.Event
	// Only events at or before the published head are visible: the writer
	// publishes it just after its commit, and a read in between must not
	// see what Head (and WaitFor) do not yet count.
	limit := eventstore.Position(s.head.Load())
	err := s.view(func(tx *bolt.Tx) error {
		var dec envelope.Decoder
		events, streams := tx.Bucket(bucketEvents), tx.Bucket(bucketStreams)
		prefix := append([]byte(stream), 0)
		c := streams.Cursor()
		var k, v []byte
		if read.Direction == eventstore.Forward {
			k, v = c.Seek(streamKey(nil, stream, read.From))
		} else {
			seek := streamKey(nil, stream, read.From)
			k, v = c.Seek(seek)
			switch {
			case k == nil:
				k, v = c.Last()
			case !bytes.Equal(k, seek):
				k, v = c.Prev()
			}
		}
		// Size the result from the stream's last revision (one seek).
		last, exists := lastRevision(streams, stream)
		if !exists {
			return eventstore.ErrStreamNotFound
		}
		n := last + 1
		if read.Direction == eventstore.Forward {
			n = last + 1 - min(read.From, last+1)
		} else if read.From < last {
			n = read.From + 1
		}
		if read.Limit > 0 {
			n = min(n, uint64(read.Limit))
		}
		out = make([]eventstore.Event, 0, min(n, 4096))
		for ; k != nil && bytes.HasPrefix(k, prefix); k, v = next(c, read.Direction) {
			if read.Limit > 0 && len(out) == read.Limit {
				break
			}
			if len(k) != len(prefix)+8 || len(v) != 8 {
				return &CorruptError{Detail: fmt.Sprintf("stream index entry %q → %x is malformed", k, v)}
			}
			rev := binary.BigEndian.Uint64(k[len(prefix):])
			pos := eventstore.Position(binary.BigEndian.Uint64(v))
			if pos > limit {
				if read.Direction == eventstore.Forward {
					break
				}
				continue
			}
			e, err := getEvent(events, &dec, pos)
			if err != nil {
				return err
			}
			if e.StreamID != stream || e.Revision != rev {
				return &CorruptError{Position: pos, Detail: fmt.Sprintf("stream index says %s@%d, the event is %s@%d", stream, rev, e.StreamID, e.Revision)}
			}
			out = append(out, e)
		}
		if len(out) == 0 && read.From == 0 && read.Direction == eventstore.Forward {
			if first, ok := firstPosition(streams, stream); ok && first > limit {
				return eventstore.ErrStreamNotFound // created by a commit not yet published
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// firstPosition is the global position of a stream's first event.
func firstPosition(streams *bolt.Bucket, stream string) (eventstore.Position, bool) {
	k, v := streams.Cursor().Seek(streamKey(nil, stream, 0))
	if k == nil || !bytes.HasPrefix(k, append([]byte(stream), 0)) || len(v) != 8 {
		return 0, false
	}
	return eventstore.Position(binary.BigEndian.Uint64(v)), true
}

func next(c *bolt.Cursor, d eventstore.Direction) ([]byte, []byte) {
	if d == eventstore.Backward {
		return c.Prev()
	}
	return c.Next()
}

// ReadAll implements eventstore.Store. It reads the log in chunks of
// Options.ReadChunk events, one short read transaction each, and calls fn
// outside any transaction, so fn may append.
func (s *Store) ReadAll(ctx context.Context, after eventstore.Position, fn func(eventstore.Event) error) error {
	_, err := s.readAll(ctx, after, fn)
	if errors.Is(err, eventstore.ErrStop) {
		return nil
	}
	return err
}

// readAll delivers every event after the given position up to the end of
// the log and returns the last position it delivered. fn's error is
// returned as is, ErrStop included.
func (s *Store) readAll(ctx context.Context, after eventstore.Position, fn func(eventstore.Event) error) (eventstore.Position, error) {
	var (
		dec   envelope.Decoder
		chunk = make([]eventstore.Event, 0, s.opts.ReadChunk)
	)
	for {
		if err := ctx.Err(); err != nil {
			return after, err
		}
		// A chunk that ends at a bad record still delivers the good events
		// before it, then the error.
		var readErr error
		chunk, readErr = s.readChunk(&dec, after, chunk[:0])
		for i := range chunk {
			if err := ctx.Err(); err != nil {
				return after, err
			}
			if err := fn(chunk[i]); err != nil {
				return after, err
			}
			after = chunk[i].Position
		}
		if readErr != nil {
			return after, readErr
		}
		if len(chunk) < cap(chunk) {
			return after, nil
		}
		clear(chunk) // let delivered events go
	}
}

// readChunk appends to dst up to cap(dst) events after the given position.
func (s *Store) readChunk(dec *envelope.Decoder, after eventstore.Position, dst []eventstore.Event) ([]eventstore.Event, error) {
	limit := eventstore.Position(s.head.Load()) // as in ReadStream
	err := s.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketEvents).Cursor()
		want := after + 1
		for k, v := c.Seek(posKey(want)); k != nil && len(dst) < cap(dst) && want <= limit; k, v = c.Next() {
			if len(k) != 8 || eventstore.Position(binary.BigEndian.Uint64(k)) != want {
				return &CorruptError{Position: want, Detail: fmt.Sprintf("expected the event at position %d, found key %x", want, k)}
			}
			dst = dst[:len(dst)+1]
			e := &dst[len(dst)-1]
			if err := dec.Decode(v, e); err != nil {
				dst = dst[:len(dst)-1]
				return &CorruptError{Position: want, Detail: "undecodable event", Err: err}
			}
			e.Position = want
			want++
		}
		return nil
	})
	return dst, err
}

// Subscribe implements eventstore.Store. After catching up it waits for the
// writer's commit broadcast, never polling.
func (s *Store) Subscribe(ctx context.Context, after eventstore.Position, fn func(eventstore.Event) error) error {
	for {
		s.mu.Lock()
		changed := s.changed
		s.mu.Unlock()
		last, err := s.readAll(ctx, after, fn)
		switch {
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, eventstore.ErrStop):
			return nil
		case err != nil:
			return err
		}
		after = last
		select {
		case <-ctx.Done():
			return nil
		case <-s.closing:
			return eventstore.ErrClosed
		case <-changed:
		}
	}
}
