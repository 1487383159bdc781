package greeting

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/eventstore/codec"
	"github.com/kefu-crm/kefu/pii"
)

// OutboxFileName is the outbox's file in the data directory.
const OutboxFileName = "greetings-outbox.ndjson"

// OutboxSealType names the outbox line in the additional data of its sealed
// fields (where an event's type goes for events): a ciphertext copied from
// an outbox line into an event, or back, does not open.
const OutboxSealType = "GreetingOutboxLine"

// OutboxLine is one line of the outbox file: a message and when it was
// written. In the file, To and Body are sealed under the customer's data
// key ("pii:v1:…", see package pii) when the outbox has a Protector; Read
// and ReadOutboxFile open them — an erased customer's read as pii.Erased.
type OutboxLine struct {
	Message
	WrittenAt time.Time `json:"writtenAt"`
}

// personal returns the line's personal fields, in their sealed order.
func (l *OutboxLine) personal() []*string { return []*string{&l.To, &l.Body} }

// OutboxEntry is a line as Read returns it: its number in the file
// (1-based; lines are never removed or reordered) and the line with its
// personal fields opened.
type OutboxEntry struct {
	Line int `json:"line"`
	OutboxLine
}

// OutboxOptions configures OpenOutbox.
type OutboxOptions struct {
	// Clock stamps WrittenAt; nil means time.Now.
	Clock func() time.Time
	// MaxBatch bounds how many lines one fsync covers; 0 means 4096.
	MaxBatch int
	// Protector seals each line's To and Body under the customer's data key
	// (codec.Protector: the data directory's pii.Vault), so that erasing
	// the customer leaves them unreadable. Lines written in clear by an
	// outbox without one are sealed when the file is opened with one. Nil
	// writes them in clear: for tests and tools only, the server always
	// sets it.
	Protector codec.Protector
	// Logger; nil discards.
	Logger *slog.Logger
}

// Outbox is the default Sender: it appends each greeting as one JSON line
// to a file in the data directory, for another system to pick up (with the
// personal fields sealed, an integrator reads it through Read: the server's
// GET /outbox). Send returns once the line is on disk (writes waiting
// together share one fsync). It dedupes by idempotency key, also across
// restarts: the keys of the lines already in the file are loaded at open,
// so a greeting whose outcome was not recorded before a crash is not
// written twice. Memory: one 16-byte key (plus map overhead) and one
// 8-byte offset per line written.
type Outbox struct {
	path  string
	f     *os.File
	clock func() time.Time
	max   int
	prot  codec.Protector
	log   *slog.Logger

	mu       sync.Mutex
	keys     map[uuid.UUID]struct{} // on disk
	other    map[string]struct{}    // on disk, keys that are not UUIDs
	inflight map[string]*outboxReq
	starts   []int64 // offset of each line on disk, in order
	end      int64   // end of the last line on disk (written and synced)
	closed   bool

	enq  sync.RWMutex // held for reading while enqueuing or reading, for writing by Close
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
// ErrCorruptOutbox. With a Protector, lines holding To or Body in clear
// (written by an outbox without one, before personal fields were sealed)
// are sealed first: the file is rewritten once, and the old copy's bytes
// overwritten.
func OpenOutbox(dir string, opts OutboxOptions) (*Outbox, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("greeting: outbox: %w", err)
	}
	path := filepath.Join(dir, OutboxFileName)
	o := &Outbox{
		path: path, clock: opts.Clock, max: opts.MaxBatch, prot: opts.Protector, log: opts.Logger,
		keys: map[uuid.UUID]struct{}{}, other: map[string]struct{}{}, inflight: map[string]*outboxReq{},
		reqs: make(chan *outboxReq, 1024), done: make(chan struct{}),
	}
	if o.clock == nil {
		o.clock = time.Now
	}
	if o.max <= 0 {
		o.max = 4096
	}
	if o.log == nil {
		o.log = slog.New(slog.DiscardHandler)
	}
	if o.prot != nil {
		if err := sealClearLines(context.Background(), path, o.prot, o.log); err != nil {
			return nil, err
		}
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("greeting: outbox: %w", err)
	}
	o.f = f
	if err := o.load(); err != nil {
		_ = f.Close()
		return nil, err
	}
	go o.write()
	return o, nil
}

// load reads the keys and offsets of the file's lines and truncates a
// partial last line.
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
		o.starts = append(o.starts, good)
		good += int64(len(line))
	}
	o.end = good
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
	req := &outboxReq{key: m.IdempotencyKey, done: make(chan struct{})}
	o.inflight[m.IdempotencyKey] = req
	o.mu.Unlock()

	line, err := o.encode(ctx, m)
	if err != nil {
		o.finish(req, err)
		return Receipt{}, err
	}
	req.line = line

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

// encode renders m as its line, personal fields sealed. A customer erased
// since the greeting was planned cannot be sealed for: that delivery fails
// for good.
func (o *Outbox) encode(ctx context.Context, m Message) ([]byte, error) {
	l := OutboxLine{Message: m, WrittenAt: o.clock().UTC()}
	if o.prot != nil {
		if err := o.prot.Seal(ctx, customerStream(m.CustomerID), OutboxSealType, l.personal()); err != nil {
			switch {
			case errors.Is(err, pii.ErrDestroyed):
				return nil, &DeliveryError{Channel: m.Channel, Attempts: 1, Permanent: true, Reason: ReasonErased, Err: err}
			case errors.Is(err, pii.ErrInvalidSubject):
				return nil, &DeliveryError{Channel: m.Channel, Attempts: 1, Permanent: true, Reason: "invalid customer ID", Err: err}
			}
			return nil, fmt.Errorf("greeting: outbox: seal the greeting of %s: %w", m.CustomerID, err)
		}
	}
	line, err := json.Marshal(l)
	if err != nil {
		return nil, fmt.Errorf("greeting: outbox: %w", err)
	}
	return append(line, '\n'), nil
}

func customerStream(id string) string { return customer.StreamCategory + "-" + id }

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
		o.mu.Lock()
		at := o.end
		o.mu.Unlock()
		_, err := o.f.Write(buf)
		if err == nil {
			err = o.f.Sync()
		}
		if err != nil {
			err = fmt.Errorf("greeting: outbox: write %s: %w", o.path, err)
			// None of the batch is acknowledged, so none of it may stay:
			// cut the file back to the last good line (the greetings are
			// sent again later), so that a half-written line never sits
			// between good ones.
			if terr := o.f.Truncate(at); terr == nil {
				_, _ = o.f.Seek(at, io.SeekStart)
			} else {
				o.log.Error("outbox: cannot cut a failed write back; the file may hold a partial line", "path", o.path, "err", terr)
			}
		} else {
			o.mu.Lock()
			for _, r := range batch {
				o.starts = append(o.starts, o.end)
				o.end += int64(len(r.line))
			}
			o.mu.Unlock()
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

// Read calls fn with the lines after the first after ones, at most limit of
// them (limit ≤ 0: all), oldest first, with their personal fields opened:
// an erased customer's To and Body read as pii.Erased. Only lines written
// and synced before the call are read.
func (o *Outbox) Read(ctx context.Context, after, limit int, fn func(OutboxEntry) error) error {
	o.enq.RLock()
	defer o.enq.RUnlock()
	o.mu.Lock()
	if o.closed {
		o.mu.Unlock()
		return ErrClosed
	}
	after = max(after, 0)
	n := len(o.starts)
	if after >= n {
		o.mu.Unlock()
		return nil
	}
	last := n
	if limit > 0 && after+limit < n {
		last = after + limit
	}
	from, to := o.starts[after], o.end
	if last < n {
		to = o.starts[last]
	}
	o.mu.Unlock()
	return readLines(ctx, io.NewSectionReader(o.f, from, to-from), o.path, after, 0, o.prot, fn)
}

// ReadOutboxFile reads the outbox file at path as Outbox.Read does, opening
// sealed fields with p (the data directory's vault), without opening it for
// writing — for tools, while no server writes the file. A partial last
// line is skipped.
func ReadOutboxFile(ctx context.Context, path string, p codec.Protector, after int, fn func(OutboxEntry) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("greeting: outbox: %w", err)
	}
	defer f.Close()
	return readLines(ctx, f, path, 0, max(after, 0), p, fn)
}

// readLines decodes the complete lines of r, whose first line is line
// first+1 of the file, and calls fn with each after the first skip of them.
func readLines(ctx context.Context, r io.Reader, path string, first, skip int, p codec.Protector, fn func(OutboxEntry) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	n := first
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		line, err := br.ReadBytes('\n')
		if err == io.EOF {
			return nil // a partial last line is a write in progress
		}
		if err != nil {
			return fmt.Errorf("greeting: outbox: read %s: %w", path, err)
		}
		n++
		if n <= first+skip {
			continue
		}
		e := OutboxEntry{Line: n}
		if err := json.Unmarshal(line, &e.OutboxLine); err != nil {
			return fmt.Errorf("%w: %s line %d: %w", ErrCorruptOutbox, path, n, err)
		}
		if p != nil {
			if err := p.Open(ctx, customerStream(e.CustomerID), OutboxSealType, e.personal()); err != nil {
				return fmt.Errorf("greeting: outbox: %s line %d (customer %s): %w", path, n, e.CustomerID, err)
			}
		}
		if err := fn(e); err != nil {
			return err
		}
	}
}

// sealClearLines seals, in the outbox file at path, the To and Body of the
// lines that hold them in clear (an erased customer's become pii.Erased).
// It rewrites the file only when there is such a line: the new content
// goes to a temporary file, which replaces the old one; then the old
// file's bytes are overwritten with zeros, so that the clear text does not
// stay in freed blocks. A temporary file left by a crash is removed.
func sealClearLines(ctx context.Context, path string, p codec.Protector, log *slog.Logger) error {
	tmp := path + ".sealing"
	if err := os.Remove(tmp); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("greeting: outbox: %w", err)
	}
	old, err := os.OpenFile(path, os.O_RDWR, 0)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("greeting: outbox: %w", err)
	}
	defer old.Close()
	clearLines, err := countClearLines(old, path)
	if err != nil || clearLines == 0 {
		return err
	}
	if _, err := old.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("greeting: outbox: %w", err)
	}
	out, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("greeting: outbox: %w", err)
	}
	committed := false
	defer func() {
		if !committed {
			_ = out.Close()
			_ = os.Remove(tmp)
		}
	}()
	bw := bufio.NewWriterSize(out, 1<<20)
	br := bufio.NewReaderSize(old, 1<<20)
	erased := 0
	for n := 1; ; n++ {
		line, err := br.ReadBytes('\n')
		if err == io.EOF {
			break // a partial last line: load drops it
		}
		if err != nil {
			return fmt.Errorf("greeting: outbox: read %s: %w", path, err)
		}
		var l OutboxLine
		if json.Unmarshal(line, &l) != nil || !hasClear(&l) {
			// Sealed already, or not a line at all (load refuses it).
			if _, err := bw.Write(line); err != nil {
				return fmt.Errorf("greeting: outbox: %w", err)
			}
			continue
		}
		err = p.Seal(ctx, customerStream(l.CustomerID), OutboxSealType, l.personal())
		switch {
		case errors.Is(err, pii.ErrDestroyed):
			for _, f := range l.personal() {
				if *f != "" {
					*f = pii.Erased
				}
			}
			erased++
		case err != nil:
			return fmt.Errorf("greeting: outbox: seal %s line %d (customer %s): %w", path, n, l.CustomerID, err)
		}
		b, err := json.Marshal(l)
		if err != nil {
			return fmt.Errorf("greeting: outbox: %w", err)
		}
		if _, err := bw.Write(append(b, '\n')); err != nil {
			return fmt.Errorf("greeting: outbox: %w", err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("greeting: outbox: write %s: %w", tmp, err)
	}
	if err := out.Sync(); err != nil {
		return fmt.Errorf("greeting: outbox: sync %s: %w", tmp, err)
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("greeting: outbox: close %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("greeting: outbox: replace %s: %w", path, err)
	}
	committed = true
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	// The old file is unlinked but still open: overwrite its bytes.
	if err := zeroFile(old); err != nil {
		log.Warn("outbox: sealed the clear lines but could not overwrite the old copy", "path", path, "err", err)
	}
	log.Info("outbox: sealed personal fields written in clear", "path", path, "lines", clearLines, "erased", erased)
	return nil
}

// countClearLines counts the lines of r holding To or Body in clear.
func countClearLines(r io.Reader, path string) (int, error) {
	br := bufio.NewReaderSize(r, 1<<20)
	n := 0
	for {
		line, err := br.ReadBytes('\n')
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return 0, fmt.Errorf("greeting: outbox: read %s: %w", path, err)
		}
		var l OutboxLine
		if json.Unmarshal(line, &l) == nil && hasClear(&l) {
			n++
		}
	}
}

// hasClear reports whether a line holds a personal field in clear.
func hasClear(l *OutboxLine) bool {
	for _, f := range l.personal() {
		if *f != "" && *f != pii.Erased && !strings.HasPrefix(*f, pii.Prefix) {
			return true
		}
	}
	return false
}

// zeroFile overwrites f's bytes with zeros and syncs it.
func zeroFile(f *os.File) error {
	st, err := f.Stat()
	if err != nil {
		return err
	}
	zeros := make([]byte, 64<<10)
	for off := int64(0); off < st.Size(); off += int64(len(zeros)) {
		n := min(int64(len(zeros)), st.Size()-off)
		if _, err := f.WriteAt(zeros[:n], off); err != nil {
			return err
		}
	}
	return f.Sync()
}
