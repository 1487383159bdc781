// Package progress draws a one-line progress bar for long CLI work (seed,
// replay, import, export, migrate) on a terminal or log stream: done/total,
// percentage, rate per second and ETA. It redraws at most a few times a
// second, so callers may call Add for every item.
package progress

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// redraw is the shortest time between two drawn lines, and before the first.
const redraw = 200 * time.Millisecond

// Bar is a progress bar. The zero value is not usable; call New.
type Bar struct {
	w     io.Writer
	label string
	unit  string
	total int64 // 0 = unknown
	done  atomic.Int64
	start time.Time
	now   func() time.Time

	mu       sync.Mutex
	lastDraw time.Time
	finished bool
}

// Option configures a Bar.
type Option func(*Bar)

// WithClock replaces the wall clock (tests).
func WithClock(now func() time.Time) Option { return func(b *Bar) { b.now = now } }

// New starts a bar that writes to w. total may be 0 when unknown; unit
// names what is counted ("events", "customers").
func New(w io.Writer, label string, total int64, unit string, opts ...Option) *Bar {
	b := &Bar{w: w, label: label, unit: unit, total: total, now: time.Now}
	for _, o := range opts {
		o(b)
	}
	b.start = b.now()
	return b
}

// Add counts n more items done and redraws when due.
func (b *Bar) Add(n int64) {
	d := b.done.Add(n)
	if d%256 != 0 && n < 256 {
		// Cheap path: check the clock only now and then.
		return
	}
	b.maybeDraw(false)
}

// Done returns how many items were counted.
func (b *Bar) Done() int64 { return b.done.Load() }

// Finish draws the final state and ends the line. It returns the elapsed
// time.
func (b *Bar) Finish() time.Duration {
	b.maybeDraw(true)
	return b.now().Sub(b.start)
}

func (b *Bar) maybeDraw(final bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.finished {
		return
	}
	now := b.now()
	// The first line waits until a rate means something: a tick a few
	// microseconds after the start would print millions per second.
	if !final && (now.Sub(b.lastDraw) < redraw || now.Sub(b.start) < redraw) {
		return
	}
	b.lastDraw = now
	line := Render(b.label, b.done.Load(), b.total, b.unit, now.Sub(b.start))
	if final {
		b.finished = true
		fmt.Fprintf(b.w, "\r%s\n", line)
		return
	}
	fmt.Fprintf(b.w, "\r%s", line)
}

// Render formats one progress line; exported for tests and for callers
// that log progress instead of drawing it.
func Render(label string, done, total int64, unit string, elapsed time.Duration) string {
	rate := 0.0
	if s := elapsed.Seconds(); s > 0 {
		rate = float64(done) / s
	}
	if total <= 0 {
		return fmt.Sprintf("%s %d %s  %s/s  %s", label, done, unit, human(rate), elapsed.Round(time.Second))
	}
	frac := float64(done) / float64(total)
	if frac > 1 {
		frac = 1
	}
	const width = 30
	filled := int(frac * width)
	bar := strings.Repeat("█", filled) + strings.Repeat("░", width-filled)
	eta := "--"
	if rate > 0 && done < total {
		eta = time.Duration(float64(total-done) / rate * float64(time.Second)).Round(time.Second).String()
	} else if done >= total {
		eta = "0s"
	}
	return fmt.Sprintf("%s %s %5.1f%% %d/%d %s  %s/s  ETA %s", label, bar, frac*100, done, total, unit, human(rate), eta)
}

func human(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.2fM", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.1fk", v/1e3)
	default:
		return fmt.Sprintf("%.0f", v)
	}
}
