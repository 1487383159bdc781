package codec_test

import (
	stdjson "encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"testing"

	json "github.com/goccy/go-json"
	"github.com/google/uuid"

	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/eventstore/codec"
)

// The codec decodes plain JSON with a field plan and falls back to
// goccy/go-json for anything else; these tests hold the result to what
// goccy alone gives: same value when it succeeds, an ErrMalformed error
// when it fails.

// reference decodes the way the codec did before it had plans.
func reference(typ string, data, meta []byte) (_ any, _ codec.Metadata, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r) // goccy/go-json v0.10.5 panics on some truncated input
		}
	}()
	var spec customer.EventSpec
	for _, s := range customer.Events() {
		if s.Type == typ {
			spec = s
		}
	}
	if !stdjson.Valid(data) || len(meta) > 0 && !stdjson.Valid(meta) {
		// goccy/go-json may read past the end of invalid input (fatal
		// under -race); the codec refuses it first.
		return nil, codec.Metadata{}, errors.New("not JSON")
	}
	payload := any(spec.New())
	if err := json.Unmarshal(data, payload); err != nil {
		return nil, codec.Metadata{}, err
	}
	var m codec.Metadata
	if len(meta) > 0 {
		if err := json.Unmarshal(meta, &m); err != nil {
			return nil, codec.Metadata{}, err
		}
	}
	return payload, m, nil
}

func checkSameAsReference(t *testing.T, c *codec.Codec, typ string, data, meta []byte) {
	t.Helper()
	ev := eventstore.Event{ID: uuid.Nil, StreamID: "customer-1", Revision: 1, Position: 2, Type: typ, SchemaVersion: 1, Data: data, Metadata: meta}
	got, err := c.Decode(t.Context(), ev)
	want, wantMeta, wantErr := reference(typ, data, meta)
	switch {
	case wantErr != nil && err == nil:
		t.Fatalf("%s %q meta %q: decoded to %+v, goccy fails: %v", typ, data, meta, got.Payload, wantErr)
	case wantErr == nil && err != nil:
		t.Fatalf("%s %q meta %q: %v, goccy decodes %+v", typ, data, meta, err, want)
	case err != nil:
		if !errors.Is(err, codec.ErrMalformed) {
			t.Fatalf("%s %q: error %v is not ErrMalformed", typ, data, err)
		}
	default:
		if !reflect.DeepEqual(got.Payload, want) {
			t.Fatalf("%s %q:\n got %#v\nwant %#v", typ, data, got.Payload, want)
		}
		if got.Meta != wantMeta {
			t.Fatalf("meta %q: got %+v, want %+v", meta, got.Meta, wantMeta)
		}
	}
}

// Given the encoding of every sample and hand-made variants, when decoded,
// then the codec gives what goccy alone gives.
func TestDecodeMatchesGeneralDecoder(t *testing.T) {
	c := newCodec(t, codec.Options{})
	s := samples()
	types := make([]string, 0, len(s))
	for typ := range s {
		types = append(types, typ)
	}
	sort.Strings(types)
	meta := []byte(`{"correlationId":"seed/1/c1","actor":"kefu-seed"}`)
	for _, typ := range types {
		data, err := json.Marshal(s[typ])
		if err != nil {
			t.Fatal(err)
		}
		checkSameAsReference(t, c, typ, data, meta)
	}
	cases := []struct{ typ, data, meta string }{
		{customer.TypePurchaseMade, ` { "orderId" : "o-1" , "amount" : { "amountMinor" : -5 , "currency" : "CNY" } , "items" : [ "a" , "b" ] } `, `{}`},
		{customer.TypePurchaseMade, `{"orderId":"o-\u00e9","amount":{"amountMinor":5,"currency":"CNY"}}`, ``},
		{customer.TypePurchaseMade, `{"orderId":"o-1","items":[]}`, ``},
		{customer.TypePurchaseMade, `{"orderId":"o-1","items":null}`, ``},
		{customer.TypePurchaseMade, `{"orderId":"o-1","amount":{"amountMinor":1.5}}`, ``},
		{customer.TypePurchaseMade, `{"orderId":"o-1","amount":{"amountMinor":1e3}}`, ``},
		{customer.TypePurchaseMade, `{"orderId":"o-1","amount":{"amountMinor":99999999999999999999}}`, ``},
		{customer.TypePurchaseMade, `{"orderId":"o-1","amount":{"amountMinor":01}}`, ``},
		{customer.TypePurchaseMade, `{"orderId":"o-1","amount":{"amountMinor":1},"amount":{"currency":"X"}}`, ``},
		{customer.TypePurchaseMade, `{"ORDERID":"o-1"}`, ``},
		{customer.TypePurchaseMade, `{"orderId":"o-1","unknown":[1,{"x":null}]}`, ``},
		{customer.TypePurchaseMade, `{"orderId":"o-1"} x`, ``},
		{customer.TypePurchaseMade, `{"orderId":"o-1",}`, ``},
		{customer.TypePurchaseMade, `{"orderId":"o-1"`, ``},
		{customer.TypePurchaseMade, `{"orderId":"\xff"}`, ``},
		{customer.TypePurchaseMade, "{\"orderId\":\"a\tb\"}", ``},
		{customer.TypePurchaseMade, `null`, ``},
		{customer.TypePurchaseMade, `{}`, `null`},
		{customer.TypeContactLogged, `{"channel":"PHONE","direction":"INBOUND","agent":"a","summary":"王小明 &lt;"}`, `{"actor":"a\"b"}`},
		{customer.TypeContactLogged, `{"channel":"NOPE","direction":"INBOUND","agent":"a"}`, ``},
		{customer.TypeContactLogged, `{"channel":5,"direction":"INBOUND","agent":"a"}`, ``},
		{customer.TypeContactLogged, `{"channel":"PHONE","direction":"INBOUND","agent":"a"}`, `{"actor":5}`},
		{customer.TypeCustomerRegistered, `{"customerId":"c","name":"n","tier":"GOLD","marketingConsent":true}`, ``},
		{customer.TypeCustomerRegistered, `{"customerId":"c","marketingConsent":"yes"}`, ``},
		{customer.TypeCustomerRegistered, `{"customerId":"c","marketingConsent":tru}`, ``},
		{customer.TypeProfileUpdated, `{"name":"n","tier":"VIP","email":null}`, ``},
		{customer.TypeProfileUpdated, `{"name":"n","tier":"VIP"}`, ``},
		{customer.TypeComplaintFiled, `{"complaintId":"k","replyDueAt":"2025-03-14T09:30:00+08:00"}`, ``},
		{customer.TypeComplaintFiled, `{"complaintId":"k","replyDueAt":"2025-03-14"}`, ``},
		{customer.TypeComplaintFiled, `{"complaintId":"k","replyDueAt":12}`, ``},
		{customer.TypeRecoveryStepTaken, `{"complaintId":"k","compensation":{"amountMinor":3,"currency":"CNY"}}`, ``},
		{customer.TypeRecoveryStepTaken, `{"complaintId":"k","compensation":null}`, ``},
		{customer.TypeResolutionAccepted, `{"complaintId":"k","optionIndex":-0}`, ``},
	}
	for _, tc := range cases {
		checkSameAsReference(t, c, tc.typ, []byte(tc.data), []byte(tc.meta))
	}
}

// FuzzFastDecode: for any data and metadata of any customer event type, the
// codec's decode agrees with goccy/go-json's.
func FuzzFastDecode(f *testing.F) {
	c := newCodec(f, codec.Options{})
	types := make([]string, 0)
	for _, s := range customer.Events() {
		types = append(types, s.Type)
	}
	sort.Strings(types)
	s := samples()
	for i, typ := range types {
		data, err := json.Marshal(s[typ])
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(i), data, []byte(`{"correlationId":"x","actor":"y","role":"ADMIN"}`))
	}
	f.Fuzz(func(t *testing.T, typ uint8, data, meta []byte) {
		checkSameAsReference(t, c, types[int(typ)%len(types)], data, meta)
	})
}
