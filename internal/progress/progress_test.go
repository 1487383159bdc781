package progress_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/kefu-crm/kefu/internal/progress"
)

func TestRender(t *testing.T) {
	tests := []struct {
		name        string
		done, total int64
		elapsed     time.Duration
		want        []string
	}{
		{"half way", 500, 1000, 10 * time.Second, []string{" 50.0%", "500/1000 events", "50/s", "ETA 10s"}},
		{"unknown total", 2_500_000, 0, 2 * time.Second, []string{"2500000 events", "1.25M/s"}},
		{"done", 1000, 1000, time.Second, []string{"100.0%", "ETA 0s"}},
		{"over total clamps", 1200, 1000, time.Second, []string{"100.0%"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := progress.Render("replay", tt.done, tt.total, "events", tt.elapsed)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("Render = %q, want it to contain %q", got, w)
				}
			}
		})
	}
}

func TestBarFinishDrawsFinalLine(t *testing.T) {
	var buf bytes.Buffer
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	b := progress.New(&buf, "seed", 10, "customers", progress.WithClock(func() time.Time { return now }))
	for range 10 {
		b.Add(1)
	}
	now = now.Add(2 * time.Second)
	if d := b.Finish(); d != 2*time.Second {
		t.Fatalf("Finish elapsed = %v, want 2s", d)
	}
	out := buf.String()
	if !strings.HasSuffix(out, "\n") || !strings.Contains(out, "10/10 customers") {
		t.Fatalf("final output %q lacks the finished line", out)
	}
	if b.Done() != 10 {
		t.Fatalf("Done = %d, want 10", b.Done())
	}
}

// Given a bar that counts many items in its first microseconds, then it
// draws nothing until a rate means something, and the first line it draws
// shows the rate over the time that really passed (it used to print
// "9394.12M/s" on the first tick).
func TestFirstLineWaitsForASaneRate(t *testing.T) {
	var buf bytes.Buffer
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	now := start
	b := progress.New(&buf, "seed", 100000, "customers", progress.WithClock(func() time.Time { return now }))
	now = start.Add(100 * time.Microsecond)
	b.Add(1024)
	if buf.Len() != 0 {
		t.Fatalf("drew %q 100µs after the start", buf.String())
	}
	now = start.Add(time.Second)
	b.Add(1024)
	if got := buf.String(); !strings.Contains(got, "2048/100000") || !strings.Contains(got, " 2.0k/s") {
		t.Fatalf("first line %q, want 2048 done at 2.0k/s", got)
	}
}
