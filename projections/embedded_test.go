package projections_test

import (
	"sync"
	"testing"

	"github.com/kefu-crm/kefu/eventstore/embedded"
	"github.com/kefu-crm/kefu/projections"
)

// The runtime on the embedded (file) store: concurrent appends while live,
// every position once, and a rebuild from the file equals the live state.
func TestOnEmbeddedStore(t *testing.T) {
	s, err := embedded.Open(t.TempDir(), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	ctx := t.Context()
	appendRange(t, ctx, s, 0, 100, 5)
	live := newCounter("live")
	r := mustNew(t, projections.Deps{Store: s, Decoder: testDecoder, Projections: []projections.Projection{live}}, projections.Config{})
	running(t, r)
	var wg sync.WaitGroup
	for w := range 3 {
		wg.Go(func() { appendRange(t, ctx, s, 1000*(w+1), 1000*(w+1)+60, 4) })
	}
	wg.Wait()
	h := head(t, s)
	if err := r.WaitFor(ctx, h); err != nil {
		t.Fatal(err)
	}
	checkExactlyOnce(t, "live", live.Seen(), h)
	rebuilt := newCounter("live")
	if err := projections.Rebuild(ctx, s, testDecoder, h, rebuilt); err != nil {
		t.Fatal(err)
	}
	if r.Digests()["live"].Digest != rebuilt.Digest() {
		t.Fatal("rebuild from the embedded store differs from the live state")
	}
}
