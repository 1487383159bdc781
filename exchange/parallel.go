package exchange

import (
	"context"
	"errors"
	"io"
	"runtime"

	"github.com/google/uuid"

	"github.com/kefu-crm/kefu/eventstore"
	"golang.org/x/sync/errgroup"
)

// lineResult is what a worker made of one line.
type lineResult struct {
	n       int
	tooLong bool
	blank   bool
	env     Envelope
	id      uuid.UUID
	reason  string // why the line is bad ("" if it is not)
	skip    bool   // pass 2: already in the store
	err     error  // pass 2: a failure that ends the import
	// pass 2: the record to append as revision of stream; payload is the
	// decoded data of a personal event until it is sealed into rec.
	stream   string
	revision uint64
	rec      eventstore.Record
	payload  any
}

type lineChunk struct {
	lines [][]byte
	res   []lineResult
	done  chan struct{}
}

const chunkLines = 512

// scanParallel reads r's lines, has workers run parse on each (in any
// order, concurrently) and then finish (if not nil) on each chunk of
// lines, and calls each with the results in line order.
// It is how both import passes use more than one core: parsing JSON is
// most of their work.
func scanParallel(ctx context.Context, r io.Reader, parse func(line []byte, res *lineResult), finish func(context.Context, *lineChunk), each func(*lineResult) error) error {
	workers := max(runtime.GOMAXPROCS(0), 1)
	g, gctx := errgroup.WithContext(ctx)
	work := make(chan *lineChunk, 2*workers)
	ordered := make(chan *lineChunk, 2*workers+2)
	g.Go(func() error {
		defer close(work)
		defer close(ordered)
		lr := newLineReader(r)
		var c *lineChunk
		var buf []byte
		flush := func() error {
			if c == nil {
				return nil
			}
			select {
			case ordered <- c:
			case <-gctx.Done():
				return gctx.Err()
			}
			select {
			case work <- c:
			case <-gctx.Done():
				return gctx.Err()
			}
			c = nil
			return nil
		}
		for {
			line, n, err := lr.next()
			if errors.Is(err, io.EOF) {
				return flush()
			}
			if err != nil && !errors.Is(err, errLineTooLong) {
				return err
			}
			if c == nil {
				c = &lineChunk{done: make(chan struct{}), res: make([]lineResult, 0, chunkLines), lines: make([][]byte, 0, chunkLines)}
				buf = make([]byte, 0, 64<<10)
			}
			if len(buf)+len(line) > cap(buf) {
				buf = make([]byte, 0, max(64<<10, len(line)))
			}
			start := len(buf)
			buf = append(buf, line...)
			c.lines = append(c.lines, buf[start:len(buf):len(buf)])
			c.res = append(c.res, lineResult{n: n, tooLong: errors.Is(err, errLineTooLong)})
			if len(c.lines) == chunkLines {
				if err := flush(); err != nil {
					return err
				}
			}
		}
	})
	for range workers {
		g.Go(func() error {
			for c := range work {
				for i, line := range c.lines {
					if !c.res[i].tooLong {
						parse(line, &c.res[i])
					}
				}
				if finish != nil {
					finish(gctx, c)
				}
				close(c.done)
			}
			return nil
		})
	}
	g.Go(func() error {
		for c := range ordered {
			select {
			case <-c.done:
			case <-gctx.Done():
				return gctx.Err()
			}
			for i := range c.res {
				if err := each(&c.res[i]); err != nil {
					return err
				}
			}
		}
		return nil
	})
	return g.Wait()
}
