package checkpoint_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/projections/checkpoint"
)

func TestRoundTrip(t *testing.T) {
	at := time.Date(2025, 3, 4, 5, 6, 7, 8, time.UTC)
	tests := []struct {
		name string
		give checkpoint.Checkpoint
	}{
		{"zero", checkpoint.Checkpoint{}},
		{"position only", checkpoint.Checkpoint{Position: 42}},
		{"with snapshot", checkpoint.Checkpoint{Position: 1 << 40, RecordedAt: at, Snapshot: []byte(`{"n":3}`)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := checkpoint.Unmarshal(checkpoint.Marshal(tt.give))
			if err != nil {
				t.Fatal(err)
			}
			if got.Position != tt.give.Position || !got.RecordedAt.Equal(tt.give.RecordedAt) || !bytes.Equal(got.Snapshot, tt.give.Snapshot) {
				t.Fatalf("got %+v, want %+v", got, tt.give)
			}
		})
	}
}

func TestUnmarshalRejectsDamage(t *testing.T) {
	good := checkpoint.Marshal(checkpoint.Checkpoint{Position: 7, Snapshot: []byte("state")})
	flip := func(i int) []byte { b := bytes.Clone(good); b[i] ^= 1; return b }
	tests := []struct {
		name string
		give []byte
	}{
		{"empty", nil},
		{"truncated", good[:len(good)-1]},
		{"bad magic", flip(0)},
		{"position bit flipped", flip(9)},
		{"snapshot bit flipped", flip(len(good) - 6)},
		{"length bit flipped", flip(24)},
		{"crc bit flipped", flip(len(good) - 1)},
		{"trailing byte", append(bytes.Clone(good), 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := checkpoint.Unmarshal(tt.give)
			if !errors.Is(err, checkpoint.ErrCorrupt) {
				t.Fatalf("got %v, want ErrCorrupt", err)
			}
		})
	}
}

func TestDirSaveLoad(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ckpt")
	d, err := checkpoint.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Load("lifecycle"); !errors.Is(err, checkpoint.ErrNotFound) {
		t.Fatalf("Load before Save: got %v, want ErrNotFound", err)
	}
	for i := 1; i <= 3; i++ {
		if err := d.Save("lifecycle", checkpoint.Checkpoint{Position: eventstore.Position(10 * i), Snapshot: []byte{byte(i)}}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := d.Load("lifecycle")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Snapshot, []byte{3}) {
		t.Fatalf("snapshot %v, want the last saved [3]", got.Snapshot)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Fatalf("directory holds %d entries, want only the checkpoint (no temp files)", len(entries))
	}
}

func TestDirRejectsBadNames(t *testing.T) {
	d, err := checkpoint.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"", "../x", "Upper", "a/b", "-x"} {
		if err := d.Save(name, checkpoint.Checkpoint{}); !errors.Is(err, checkpoint.ErrInvalidName) {
			t.Errorf("Save(%q): got %v, want ErrInvalidName", name, err)
		}
		if _, err := d.Load(name); !errors.Is(err, checkpoint.ErrInvalidName) {
			t.Errorf("Load(%q): got %v, want ErrInvalidName", name, err)
		}
	}
}

func TestLoadCorruptFileNamesPath(t *testing.T) {
	d, err := checkpoint.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(d.Path("loyalty"), []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = d.Load("loyalty")
	ce, ok := errors.AsType[*checkpoint.CorruptError](err)
	if !ok || ce.Path != d.Path("loyalty") {
		t.Fatalf("got %v, want a CorruptError naming %s", err, d.Path("loyalty"))
	}
}

func FuzzUnmarshal(f *testing.F) {
	f.Add(checkpoint.Marshal(checkpoint.Checkpoint{Position: 3, Snapshot: []byte("x")}))
	f.Add([]byte("KEFUCKP1"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := checkpoint.Unmarshal(b)
		if err != nil {
			if !errors.Is(err, checkpoint.ErrCorrupt) {
				t.Fatalf("error %v does not match ErrCorrupt", err)
			}
			return
		}
		if !bytes.Equal(checkpoint.Marshal(c), b) {
			t.Fatalf("decoded %+v does not re-encode to the input", c)
		}
	})
}
