package greeting_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kefu-crm/kefu/automation/greeting"
	"github.com/kefu-crm/kefu/domain/campaign"
	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/eventstore/codec"
	"github.com/kefu-crm/kefu/eventstore/embedded"
)

// TestCampaignThroughput runs one campaign to KEFU_GREETING_CUSTOMERS
// customers (e.g. 1000000) through the outbox sender on the embedded store
// and reports greetings/s and peak RSS. It is skipped unless the variable is
// set; see BENCHMARKS.md.
func TestCampaignThroughput(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("KEFU_GREETING_CUSTOMERS"))
	if n <= 0 {
		t.Skip("set KEFU_GREETING_CUSTOMERS=N to run")
	}
	workers := 1024
	if w, _ := strconv.Atoi(os.Getenv("KEFU_GREETING_WORKERS")); w > 0 {
		workers = w
	}
	dir := t.TempDir()
	st, err := embedded.Open(dir, embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := t.Context()
	cd := newCodec(t)

	// Setup (not timed): n registered, consenting customers in 4 timezones.
	zonesList := []string{"Asia/Shanghai", "Asia/Tokyo", "Asia/Singapore", "Asia/Hong_Kong"}
	dir2 := genDirectory{n: n, zones: zonesList}
	setup := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 512 {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				id := "c" + strconv.Itoa(i)
				at := time.Date(2024, 3, 1, 2, 0, 0, 0, time.UTC)
				e := &customer.CustomerRegistered{CustomerID: id, Name: "客户" + id, Phone: fmt.Sprintf("138%08d", i), Tier: customer.TierGold,
					Timezone: zonesList[i%len(zonesList)], Locale: "zh-CN", MarketingConsent: true}
				stream := "customer-" + id
				rec, err := cd.Encode(ctx, stream, e, codec.Envelope{OccurredAt: at})
				if err != nil {
					t.Error(err)
					return
				}
				if _, err := st.Append(ctx, stream, eventstore.NoStream(), rec); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	t.Logf("setup: %d customers registered in %v", n, time.Since(setup).Round(time.Millisecond))

	ob, err := greeting.OpenOutbox(dir, greeting.OutboxOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer ob.Close()
	cmds := newCommands(t, st, cd, dir2, stages{}, func() time.Time { return scheduleAt })
	c, err := cmds.ScheduleCampaign.Handle(ctx, campaign.Schedule{Name: "春节", Occasion: "CN:spring_festival", By: "bench",
		Templates: []campaign.Template{{Channel: "SMS", Body: "{{name}}，祝您{{occasion}}快乐！"}}})
	if err != nil {
		t.Fatal(err)
	}
	d, err := greeting.New(greeting.Config{Customers: cmds.Customers, CampaignStreams: cmds.Campaigns, Directory: dir2, Stages: stages{}, Sender: ob,
		Campaigns: lister{c.ID}, Workers: workers})
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	var peakHeap atomic.Uint64
	stopSampling := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peakHeap.Load() {
				peakHeap.Store(ms.HeapInuse)
			}
			select {
			case <-stopSampling:
				return
			case <-time.After(250 * time.Millisecond):
			}
		}
	}()
	written0 := ioWriteBytes()
	start := time.Now()
	if err := d.Tick(ctx, time.Date(2025, 1, 29, 4, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	written := ioWriteBytes() - written0
	close(stopSampling)
	<-sampled
	p := d.Progress(c.ID)
	if p.Sent != n || ob.Len() != n {
		t.Fatalf("sent %d, outbox %d, want %d", p.Sent, ob.Len(), n)
	}
	if err := d.Tick(ctx, time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	head, _ := st.Head(ctx)
	t.Logf("campaign: %d greetings sent and recorded in %v = %.0f greetings/s (workers %d, GOMAXPROCS %d); store head %d; peak Go heap in use during the campaign %d MiB; process peak RSS (VmHWM, includes setup and the store's mmapped file pages) %s; written to disk during the campaign %d MiB (%.1f KiB per greeting)",
		n, took.Round(time.Millisecond), float64(n)/took.Seconds(), workers, runtime.GOMAXPROCS(0), head, peakHeap.Load()>>20, peakRSS(), written>>20, float64(written)/1024/float64(n))
}

// ioWriteBytes is what the process has caused to be written to storage
// (/proc/self/io write_bytes), 0 when unknown.
func ioWriteBytes() int64 {
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "write_bytes: "); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return n
		}
	}
	return 0
}

func peakRSS() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "unknown"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			return strings.TrimSpace(strings.TrimPrefix(l, "VmHWM:"))
		}
	}
	return "unknown"
}

// genDirectory is a Directory test double that generates its entries (the
// dispatcher needs only the id and timezone to plan), so that the peak RSS
// measures the dispatcher and the store, not a million test fixtures.
type genDirectory struct {
	n     int
	zones []string
}

func (g genDirectory) Each(ctx context.Context, fn func(greeting.Recipient) error) error {
	for i := range g.n {
		if i%4096 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		if err := fn(greeting.Recipient{CustomerID: "c" + strconv.Itoa(i), Timezone: g.zones[i%len(g.zones)]}); err != nil {
			return err
		}
	}
	return nil
}
