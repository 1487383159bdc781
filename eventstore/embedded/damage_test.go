package embedded_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"

	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/eventstore/embedded"
)

// filledStore writes n events over 50 streams, in batches of 10, and
// closes the store.
func filledStore(t *testing.T, n int) string {
	t.Helper()
	dir := t.TempDir()
	s := open(t, dir)
	for i := 0; i < n; i += 10 {
		recs := make([]eventstore.Record, 10)
		for j := range recs {
			recs[j] = contactLogged(i + j)
		}
		if _, err := s.Append(t.Context(), fmt.Sprintf("customer-%d", i/10%50), eventstore.Any(), recs...); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

// pageLayout reads the page size, the high-water mark and the pages in use
// (neither free nor meta) of a closed store's file.
func pageLayout(t *testing.T, path string) (pageSize int, inUse []int) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, PreLoadFreelist: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	pageSize = db.Info().PageSize
	err = db.View(func(tx *bolt.Tx) error {
		for id := 2; ; id++ {
			p, err := tx.Page(id)
			if err != nil {
				return err
			}
			if p == nil {
				return nil
			}
			if p.Type == "leaf" || p.Type == "branch" {
				inUse = append(inUse, id)
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return pageSize, inUse
}

// highWater is the used size of a closed store's file: its page count
// times its page size.
func highWater(t *testing.T, path string) int64 {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int64
	_ = db.View(func(tx *bolt.Tx) error { n = tx.Size(); return nil })
	return n
}

// rootPage reads the root page's ID from the meta page bbolt uses (the
// valid one with the higher transaction ID; both are valid here): page
// header 16 bytes, then the meta's root pgid at 16 and txid at 48.
func rootPage(t *testing.T, path string, pageSize int) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	root, txid := 0, uint64(0)
	for _, off := range []int{0, pageSize} {
		m := b[off+16:]
		if tx := binary.NativeEndian.Uint64(m[48:]); tx >= txid {
			root, txid = int(binary.NativeEndian.Uint64(m[16:])), tx
		}
	}
	return root
}

func zeroPages(t *testing.T, path string, pageSize int, ids []int) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, id := range ids {
		if _, err := f.WriteAt(make([]byte, pageSize), int64(id*pageSize)); err != nil {
			t.Fatal(err)
		}
	}
}

// wantDamaged checks err is a DamagedError naming the file and what to do.
func wantDamaged(t *testing.T, what string, err error, detail string) {
	t.Helper()
	var de *embedded.DamagedError
	if !errors.Is(err, embedded.ErrDamaged) || !errors.As(err, &de) {
		t.Fatalf("%s: %v; want ErrDamaged", what, err)
	}
	for _, s := range []string{embedded.FileName, "restore", "backup", detail} {
		if !strings.Contains(err.Error(), s) {
			t.Fatalf("%s: %q does not say %q", what, err, s)
		}
	}
}

// A store file cut short used to open, and the first read past its end
// killed the process with SIGBUS; it is refused before it is mapped.
func TestOpenRefusesTruncatedFile(t *testing.T) {
	dir := filledStore(t, 3000)
	path := filepath.Join(dir, embedded.FileName)
	used := highWater(t, path)
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		size   int64
		detail string
	}{{used / 2, "cut short"}, {8 << 10, "cut short"}, {used - 1, "cut short"}, {5000, "cut short"}, {4100, "too short"}, {100, "too short"}} {
		size := tc.size
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			if err := os.WriteFile(path, orig[:size], 0o600); err != nil {
				t.Fatal(err)
			}
			s, err := embedded.Open(dir, embedded.Options{})
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			wantDamaged(t, "Open", err, tc.detail)
		})
	}
	// The whole file (and a file longer than its pages) opens.
	if err := os.WriteFile(path, append(orig[:used:used], make([]byte, 1<<20)...), 0o600); err != nil {
		t.Fatal(err)
	}
	s := open(t, dir)
	defer s.Close()
	if err := s.Verify(t.Context()); err != nil {
		t.Fatalf("Verify of an intact file: %v", err)
	}
}

// Twenty zeroed pages used to make bbolt panic on an assertion (killing
// the process); now Open or Verify reports the damage, and a store that
// found damage refuses reads and appends with it.
func TestZeroedPagesAreReportedNotPanicked(t *testing.T) {
	for _, at := range []string{"start", "middle", "end"} {
		t.Run(at, func(t *testing.T) {
			dir := filledStore(t, 3000)
			path := filepath.Join(dir, embedded.FileName)
			pageSize, inUse := pageLayout(t, path)
			if len(inUse) < 60 {
				t.Fatalf("only %d pages in use", len(inUse))
			}
			first := map[string]int{"start": 0, "middle": len(inUse)/2 - 10, "end": len(inUse) - 20}[at]
			zeroPages(t, path, pageSize, inUse[first:first+20])

			s, err := embedded.Open(dir, embedded.Options{})
			if err != nil {
				// The root page, or the way to the last event (which Open
				// reads), was among the zeroed pages.
				t.Logf("Open: %v", err)
				wantDamaged(t, "Open", err, "")
				return
			}
			defer s.Close()
			wantDamaged(t, "Verify", s.Verify(t.Context()), "assertion failed")
			if s.Damage() == nil {
				t.Fatal("Damage is nil after Verify found damage")
			}
			err = s.ReadAll(t.Context(), eventstore.Start, func(eventstore.Event) error { return nil })
			wantDamaged(t, "ReadAll", err, "")
			_, err = s.Append(t.Context(), "customer-1", eventstore.Any(), contactLogged(1))
			wantDamaged(t, "Append", err, "")
			_, err = s.ReadStream(t.Context(), "customer-1", eventstore.StreamRead{})
			wantDamaged(t, "ReadStream", err, "")
		})
	}
}

// Pages zeroed under an open store: the first read or append that meets
// the damage reports it (the catch-up scan; an append whose ID index page
// is gone) and the store refuses from then on.
func TestZeroedPagesFoundByReadsAndAppends(t *testing.T) {
	t.Run("read", func(t *testing.T) {
		dir := filledStore(t, 3000)
		path := filepath.Join(dir, embedded.FileName)
		pageSize, inUse := pageLayout(t, path)
		s := open(t, dir)
		defer s.Close()
		zeroPages(t, path, pageSize, inUse[len(inUse)/2-10:len(inUse)/2+10])
		err := s.ReadAll(t.Context(), eventstore.Start, func(eventstore.Event) error { return nil })
		if err == nil {
			// The zeroed pages held only index entries: a stream read meets them.
			for i := range 50 {
				if _, err = s.ReadStream(t.Context(), fmt.Sprintf("customer-%d", i), eventstore.StreamRead{}); err != nil {
					break
				}
			}
		}
		wantDamaged(t, "reads over zeroed pages", err, "assertion failed")
	})
	t.Run("append", func(t *testing.T) {
		dir := filledStore(t, 3000)
		path := filepath.Join(dir, embedded.FileName)
		pageSize, inUse := pageLayout(t, path)
		root := rootPage(t, path, pageSize)
		s := open(t, dir)
		defer s.Close()
		zeroPages(t, path, pageSize, slices.DeleteFunc(inUse, func(id int) bool { return id == root })) // every tree page but the root
		_, err := s.Append(t.Context(), "customer-3", eventstore.Any(), contactLogged(1))
		wantDamaged(t, "Append", err, "assertion failed")
		_, err = s.Append(t.Context(), "customer-new", eventstore.NoStream(), contactLogged(2))
		wantDamaged(t, "second Append", err, "")
		if err := s.Close(); err != nil {
			t.Fatalf("Close after a damaged append: %v", err)
		}
	})
}

// Overwritten meta, freelist or root pages are refused at Open.
func TestOpenRefusesDamagedMetaFreelistRoot(t *testing.T) {
	dir := filledStore(t, 500)
	path := filepath.Join(dir, embedded.FileName)
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, PreLoadFreelist: true})
	if err != nil {
		t.Fatal(err)
	}
	pageSize := db.Info().PageSize
	var freelist int
	_ = db.View(func(tx *bolt.Tx) error {
		for id := 2; ; id++ {
			p, _ := tx.Page(id)
			if p == nil {
				return nil
			}
			if p.Type == "freelist" && freelist == 0 {
				freelist = id
			}
		}
	})
	db.Close()
	if freelist == 0 {
		t.Fatal("no freelist page found")
	}
	tests := []struct {
		name   string
		pages  []int
		detail string
	}{
		{"both meta pages", []int{0, 1}, "is not a bbolt file"},
		{"meta page 1 only", []int{1}, ""}, // bbolt falls back to meta 0: opens
		{"freelist", []int{freelist}, "freelist"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.WriteFile(path, orig, 0o600); err != nil {
				t.Fatal(err)
			}
			zeroPages(t, path, pageSize, tc.pages)
			s, err := embedded.Open(dir, embedded.Options{})
			if tc.detail == "" {
				if err != nil {
					t.Fatalf("Open with one good meta page: %v", err)
				}
				s.Close()
				return
			}
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			if !strings.Contains(err.Error(), tc.detail) || !strings.Contains(err.Error(), "restore") {
				t.Fatalf("Open: %v; want it to mention %q and what to do", err, tc.detail)
			}
		})
	}
}

// A file cut short while the store is open: reads fault on the mapping,
// which used to kill the process with SIGBUS.
func TestTruncatedWhileOpenIsAnError(t *testing.T) {
	dir := filledStore(t, 3000)
	path := filepath.Join(dir, embedded.FileName)
	s := open(t, dir)
	defer s.Close()
	if err := os.Truncate(path, 8<<10); err != nil {
		t.Fatal(err)
	}
	err := s.ReadAll(t.Context(), eventstore.Start, func(eventstore.Event) error { return nil })
	wantDamaged(t, "ReadAll", err, "")
}

// Backup, taken while appends go on, is a complete store with every event
// up to its head, byte for byte.
func TestBackupWhileAppending(t *testing.T) {
	dir := filledStore(t, 2000)
	s := open(t, dir)
	defer s.Close()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := s.Append(t.Context(), fmt.Sprintf("writer-%d", g), eventstore.Any(), contactLogged(i), contactLogged(i+1)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	time.Sleep(20 * time.Millisecond)
	var buf bytes.Buffer
	info, err := s.Backup(t.Context(), &buf)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if info.Head < 2000 || info.Bytes != int64(buf.Len()) {
		t.Fatalf("Backup info %+v, wrote %d bytes", info, buf.Len())
	}
	copyDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(copyDir, embedded.FileName), buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	c := open(t, copyDir)
	defer c.Close()
	if err := c.VerifyFull(t.Context()); err != nil {
		t.Fatalf("VerifyFull of the copy: %v", err)
	}
	if h, _ := c.Head(t.Context()); h != info.Head {
		t.Fatalf("copy's head %d, Backup said %d", h, info.Head)
	}
	var orig, copied []eventstore.Event
	collect := func(dst *[]eventstore.Event) func(eventstore.Event) error {
		return func(e eventstore.Event) error {
			if e.Position <= info.Head {
				*dst = append(*dst, e)
			}
			return nil
		}
	}
	if err := s.ReadAll(t.Context(), eventstore.Start, collect(&orig)); err != nil {
		t.Fatal(err)
	}
	if err := c.ReadAll(t.Context(), eventstore.Start, collect(&copied)); err != nil {
		t.Fatal(err)
	}
	if len(orig) != len(copied) {
		t.Fatalf("copy has %d events up to %d, the store %d", len(copied), info.Head, len(orig))
	}
	for i := range orig {
		if orig[i].ID != copied[i].ID || !bytes.Equal(orig[i].Data, copied[i].Data) {
			t.Fatalf("event %d differs in the copy", orig[i].Position)
		}
	}
}

func TestIdentity(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	if _, ok, err := s.Identity(); ok || err != nil {
		t.Fatalf("new store: identity %v %v", ok, err)
	}
	id := uuid.New()
	if err := s.SetIdentity(id); err != nil {
		t.Fatal(err)
	}
	if err := s.SetIdentity(id); err != nil {
		t.Fatalf("same identity again: %v", err)
	}
	if err := s.SetIdentity(uuid.New()); err == nil {
		t.Fatal("another identity was accepted")
	}
	s.Close()
	s = open(t, dir)
	defer s.Close()
	if got, ok, err := s.Identity(); !ok || err != nil || got != id {
		t.Fatalf("after reopening: %v %v %v, want %v", got, ok, err, id)
	}
}
