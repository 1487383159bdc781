package envelope_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/eventstore/embedded/internal/envelope"
)

func sample() eventstore.Event {
	return eventstore.Event{
		ID:            uuid.MustParse("0b7f3c1e-8f4a-4c52-9d7e-2a1b3c4d5e6f"),
		StreamID:      "customer-42",
		Revision:      300,
		Type:          "ContactLogged",
		SchemaVersion: 2,
		OccurredAt:    time.Date(1901, 2, 3, 4, 5, 6, 7, time.UTC),
		RecordedAt:    time.Date(2025, 6, 7, 8, 9, 10, 999999999, time.UTC),
		Data:          []byte(`{"channel":"PHONE"}`),
		Metadata:      []byte(`{"actor":"a"}`),
	}
}

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		edit func(*eventstore.Event)
	}{
		{"full", func(*eventstore.Event) {}},
		{"no metadata", func(e *eventstore.Event) { e.Metadata = nil }},
		{"revision 0", func(e *eventstore.Event) { e.Revision = 0 }},
		{"large data", func(e *eventstore.Event) { e.Data = bytes.Repeat([]byte("1"), 1<<20) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := sample()
			tc.edit(&want)
			b := envelope.Append([]byte("prefix"), &want)
			if len(b)-len("prefix") > envelope.Size(&want) {
				t.Fatalf("envelope %d bytes, Size said at most %d", len(b)-6, envelope.Size(&want))
			}
			var d envelope.Decoder
			var got eventstore.Event
			if err := d.Decode(b[len("prefix"):], &got); err != nil {
				t.Fatal(err)
			}
			if got.ID != want.ID || got.StreamID != want.StreamID || got.Revision != want.Revision ||
				got.Type != want.Type || got.SchemaVersion != want.SchemaVersion ||
				!got.OccurredAt.Equal(want.OccurredAt) || !got.RecordedAt.Equal(want.RecordedAt) ||
				!bytes.Equal(got.Data, want.Data) || !bytes.Equal(got.Metadata, want.Metadata) {
				t.Fatalf("decoded %+v, want %+v", got, want)
			}
			// Decoding copies: scribbling on the envelope changes nothing.
			clear(b)
			if !bytes.Equal(got.Data, want.Data) {
				t.Fatal("decoded data aliases the envelope")
			}
		})
	}
}

func TestDecodeRejects(t *testing.T) {
	e := sample()
	good := envelope.Append(nil, &e)
	tests := []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, envelope.ErrMalformed},
		{"truncated header", good[:10], envelope.ErrMalformed},
		{"truncated body", good[:len(good)-3], envelope.ErrMalformed},
		{"trailing byte", append(append([]byte{}, good...), 0), envelope.ErrMalformed},
		{"flipped data bit", func() []byte { b := append([]byte{}, good...); b[len(b)-20] ^= 1; return b }(), envelope.ErrMalformed},
		{"unknown version", func() []byte { b := append([]byte{}, good...); b[0] = 9; return b }(), envelope.ErrVersion},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var d envelope.Decoder
			var got eventstore.Event
			if err := d.Decode(tc.b, &got); !errors.Is(err, tc.want) {
				t.Fatalf("Decode: %v, want %v", err, tc.want)
			}
		})
	}
}

// FuzzDecode feeds arbitrary bytes to the decoder: it must not panic, and
// whatever it accepts must decode the same again after re-encoding. With
// fixCRC the fuzzer's bytes get a valid checksum, so that it explores the
// body rather than the checksum.
func FuzzDecode(f *testing.F) {
	e := sample()
	f.Add(envelope.Append(nil, &e), false)
	e.Metadata = nil
	f.Add(envelope.Append(nil, &e), true)
	f.Add([]byte{1, 0, 0, 0, 0}, true)
	f.Fuzz(func(t *testing.T, b []byte, fixCRC bool) {
		if fixCRC && len(b) >= 5 {
			binary.LittleEndian.PutUint32(b[1:5], crc32.Checksum(b[5:], crc32.MakeTable(crc32.Castagnoli)))
		}
		var d envelope.Decoder
		var got eventstore.Event
		if err := d.Decode(b, &got); err != nil {
			return
		}
		again := envelope.Append(nil, &got)
		var got2 eventstore.Event
		if err := d.Decode(again, &got2); err != nil {
			t.Fatalf("re-encoding of accepted %x does not decode: %v", b, err)
		}
		if got2.ID != got.ID || got2.StreamID != got.StreamID || got2.Revision != got.Revision ||
			got2.Type != got.Type || got2.SchemaVersion != got.SchemaVersion ||
			!got2.OccurredAt.Equal(got.OccurredAt) || !got2.RecordedAt.Equal(got.RecordedAt) ||
			!bytes.Equal(got2.Data, got.Data) || !bytes.Equal(got2.Metadata, got.Metadata) {
			t.Fatalf("accepted %x as %+v, re-decoded as %+v", b, got, got2)
		}
	})
}
