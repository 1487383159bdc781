package greeting

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/google/uuid"
)

// OutboxFileName is the outbox's file in the data directory.
const OutboxFileName = "greetings-outbox.ndjson"

// OutboxLine is one line of the outbox file: a message and when it was
// written.
type OutboxLine struct {
	Message
	WrittenAt time.Time `json:"writtenAt"`
}

// OutboxOptions configures OpenOutbox.
type OutboxOptions struct {
	// Clock stamps WrittenAt; nil means time.Now.
	Clock func() time.Time
	// MaxBatch bounds how many lines one fsync covers; 0 means 4096.
	MaxBatch int
}

// Outbox is the default Sender: it appends each greeting as one JSON line
// to a file in the data directory, for another system to pick up. Send
// returns once the line is on disk (writes waiting together share one
// fsync). It dedupes by idempotency key, also across restarts: the keys of
// the lines already in the file are loaded at open, so a greeting whose
// outcome was not recorded before a crash is not written twice. Memory:
// one 16-byte key (plus map overhead) per line written.
type Outbox struct {
	path  string
	f     *os.File
	clock func() time.Time
	max   int

	mu       sync.Mutex
	keys     map[uuid.UUID]struct{} // on disk
	other    map[string]struct{}    // on disk, keys that are not UUIDs
	inflight map[string]*outboxReq
	closed   bool

	enq  sync.RWMutex // held for reading while enqueuing, for writing by Close
	reqs chan *outboxReq
	done chan struct{}
}

func (o *Outbox) isClosed() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.closed
}

type outboxReq struct {
	key  string
	line []byte
	err  error
	done chan struct{}
}

// OpenOutbox opens (creating) the outbox file in dir. A final line cut
// short by a crash is removed (its message was never acknowledged, so it
// will be sent again). A line that is not a message fails with
// ErrCorruptOutbox.
func OpenOutbox(dir string, opts OutboxOptions) (*Outbox, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("greeting: outbox: %w", err)
	}
	path := filepath.Join(dir, OutboxFileName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("greeting: outbox: %w", err)
	}
	o := &Outbox{
		path: path, f: f, clock: opts.Clock, max: opts.MaxBatch,
		keys: map[uuid.UUID]struct{}{}, other: map[string]struct{}{}, inflight: map[string]*outboxReq{},
		reqs: make(chan *outboxReq, 1024), done: make(chan struct{}),
	}
	if o.clock == nil {
		o.clock = time.Now
	}
	if o.max <= 0 {
		o.max = 4096
	}
	if err := o.load(); err != nil {
		_ = f.Close()
		return nil, err
	}
	go o.write()
	return o, nil
}

// load reads the keys of the file and truncates a partial last line.
func (o *Outbox) load() error {
	r := bufio.NewReaderSize(o.f, 1<<20)
	var good int64
	lineNo := 0
	for {
		line, err := r.ReadBytes('\n')
		if err == io.EOF {
			if len(line) > 0 {
				// A write cut short: drop it.
				if err := o.f.Truncate(good); err != nil {
					return fmt.Errorf("greeting: outbox: truncate partial line: %w", err)
				}
			}
			break
		}
		if err != nil {
			return fmt.Errorf("greeting: outbox: read: %w", err)
		}
		lineNo++
		key, err := lineKey(line)
		if err != nil {
			return fmt.Errorf("%w: %s line %d: %w", ErrCorruptOutbox, o.path, lineNo, err)
		}
		o.remember(key)
		good += int64(len(line))
	}
	if _, err := o.f.Seek(good, io.SeekStart); err != nil {
		return fmt.Errorf("greeting: outbox: %w", err)
	}
	return nil
}

func lineKey(line []byte) (string, error) {
	var l struct {
		Key string `json:"idempotencyKey"`
	}
	if err := json.Unmarshal(bytes.TrimSpace(line), &l); err != nil {
		return "", err
	}
	if l.Key == "" {
		return "", errors.New("no idempotencyKey")
	}
	return l.Key, nil
}

func (o *Outbox) remember(key string) {
	if u, err := uuid.Parse(key); err == nil && u.String() == key {
		o.keys[u] = struct{}{}
		return
	}
	o.other[key] = struct{}{}
}

func (o *Outbox) seen(key string) bool {
	if u, err := uuid.Parse(key); err == nil && u.String() == key {
		_, ok := o.keys[u]
		return ok
	}
	_, ok := o.other[key]
	return ok
}

// Len is the number of distinct messages in the file.
func (o *Outbox) Len() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.keys) + len(o.other)
}

// Path is the outbox file's path.
func (o *Outbox) Path() string { return o.path }

// Send implements Sender. A key already written returns Duplicate without
// writing; a key being written by another Send waits for that write.
func (o *Outbox) Send(ctx context.Context, m Message) (Receipt, error) {
	if m.IdempotencyKey == "" {
		return Receipt{}, &DeliveryError{Channel: m.Channel, Attempts: 1, Permanent: true, Reason: "no idempotency key"}
	}
	o.mu.Lock()
	if o.closed {
		o.mu.Unlock()
		return Receipt{}, ErrClosed
	}
	if o.seen(m.IdempotencyKey) {
		o.mu.Unlock()
		return Receipt{Attempts: 1, Duplicate: true}, nil
	}
	if other := o.inflight[m.IdempotencyKey]; other != nil {
		o.mu.Unlock()
		select {
		case <-other.done:
		case <-ctx.Done():
			return Receipt{}, ctx.Err()
		}
		if other.err != nil {
			return Receipt{}, other.err
		}
		return Receipt{Attempts: 1, Duplicate: true}, nil
	}
	line, err := json.Marshal(OutboxLine{Message: m, WrittenAt: o.clock().UTC()})
	if err != nil {
		o.mu.Unlock()
		return Receipt{}, fmt.Errorf("greeting: outbox: %w", err)
	}
	req := &outboxReq{key: m.IdempotencyKey, line: append(line, '\n'), done: make(chan struct{})}
	o.inflight[m.IdempotencyKey] = req
	o.mu.Unlock()

	o.enq.RLock()
	if o.isClosed() {
		o.enq.RUnlock()
		o.finish(req, ErrClosed)
	} else {
		o.reqs <- req
		o.enq.RUnlock()
	}
	// Once queued, the write completes (or fails) regardless of ctx, so
	// that the key's state is never unknown to this process.
	<-req.done
	if req.err != nil {
		return Receipt{}, req.err
	}
	return Receipt{Attempts: 1}, nil
}

func (o *Outbox) finish(req *outboxReq, err error) {
	o.mu.Lock()
	delete(o.inflight, req.key)
	if err == nil {
		o.remember(req.key)
	}
	o.mu.Unlock()
	req.err = err
	close(req.done)
}

// write is the writer goroutine: it writes the waiting lines and fsyncs
// once per batch.
func (o *Outbox) write() {
	defer close(o.done)
	var batch []*outboxReq
	var buf []byte
	for {
		req, ok := <-o.reqs
		if !ok {
			return
		}
		batch, buf = append(batch[:0], req), append(buf[:0], req.line...)
	gather:
		for len(batch) < o.max {
			select {
			case r, ok := <-o.reqs:
				if !ok {
					break gather
				}
				batch, buf = append(batch, r), append(buf, r.line...)
			default:
				break gather
			}
		}
		_, err := o.f.Write(buf)
		if err == nil {
			err = o.f.Sync()
		}
		if err != nil {
			err = fmt.Errorf("greeting: outbox: write %s: %w", o.path, err)
		}
		for _, r := range batch {
			o.finish(r, err)
		}
		clear(batch)
	}
}

// Close waits for the queued writes and closes the file.
func (o *Outbox) Close() error {
	o.mu.Lock()
	if o.closed {
		o.mu.Unlock()
		return nil
	}
	o.closed = true
	o.mu.Unlock()
	o.enq.Lock()
	close(o.reqs)
	o.enq.Unlock()
	<-o.done
	return o.f.Close()
}
