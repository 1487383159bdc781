package codec_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/eventstore/codec"
)

// FuzzDecode: whatever is stored, Decode never panics, and either decodes
// or returns a *DecodeError matching one of the sentinels.
func FuzzDecode(f *testing.F) {
	c := newCodec(f, codec.Options{Protector: hexProtector{}}, thingSpecs())
	types := append(c.Types(), "", "Nope")
	f.Add(uint8(0), 1, []byte(`{"channel":"PHONE","direction":"INBOUND","agent":"a"}`), []byte(`{"actor":"u"}`))
	f.Add(uint8(3), 1, []byte(`{"label":"x"}`), []byte(``))
	f.Add(uint8(5), 0, []byte(`null`), []byte(`null`))
	f.Add(uint8(7), 9, []byte{0xff, 0xfe}, []byte(`{`))
	f.Add(uint8(1), 1, []byte(`{"summary":"sealed:customer-1:ContactLogged:zz"}`), []byte(`{}`))
	f.Fuzz(func(t *testing.T, typ uint8, version int, data, meta []byte) {
		ev := eventstore.Event{ID: uuid.New(), StreamID: "customer-1", Revision: 1, Position: 2,
			Type: types[int(typ)%len(types)], SchemaVersion: version, Data: data, Metadata: meta}
		d, err := c.Decode(t.Context(), ev)
		if err == nil {
			if d.Payload == nil {
				t.Fatal("no error and no payload")
			}
			if _, ok := d.Payload.(customer.Event); !ok {
				if _, ok := d.Payload.(*Thing); !ok {
					t.Fatalf("payload %T", d.Payload)
				}
			}
			return
		}
		var de *codec.DecodeError
		if !errors.As(err, &de) {
			t.Fatalf("untyped error %T: %v", err, err)
		}
		if de.Type != ev.Type || de.Position != ev.Position || de.Stream != ev.StreamID {
			t.Fatalf("DecodeError does not name the event: %+v", de)
		}
		sentinel := errors.Is(err, codec.ErrUnknownEventType) || errors.Is(err, codec.ErrMalformed) || errors.Is(err, codec.ErrUnsupportedVersion)
		if !sentinel && !strings.HasPrefix(strings.TrimLeft(string(data), " \t\r\n"), "{") {
			// Only the protector (opening a sealed field of valid JSON) may
			// fail without one of the codec's sentinels.
			t.Fatalf("error matches no sentinel: %v", err)
		}
	})
}
