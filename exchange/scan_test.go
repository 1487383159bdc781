package exchange_test

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"github.com/kefu-crm/kefu/exchange"
)

// sameEnvelope compares two parsed envelopes, data and metadata as bytes.
func sameEnvelope(a, b exchange.Envelope) bool {
	if !bytes.Equal(a.Data, b.Data) || !bytes.Equal(a.Metadata, b.Metadata) {
		return false
	}
	a.Data, a.Metadata, b.Data, b.Metadata = nil, nil, nil, nil
	return reflect.DeepEqual(a, b)
}

// TestScanEnvelope: the fast envelope scanner accepts Export's own form
// with the same result as encoding/json, and leaves everything unusual to
// encoding/json (given: a line; when: both parsers read it; then: the fast
// one declines or agrees).
func TestScanEnvelope(t *testing.T) {
	tests := []struct {
		name string
		line string
		fast bool // the scanner takes it
	}{
		{"export form", goodLine, true},
		{"white space", " { \"stream\" : \"customer-c1\",\t" + goodLine[strings.Index(goodLine, `"type"`):] + " \r", true},
		{"no metadata", strings.Replace(goodLine, `,"metadata":{"actor":"alice"}`, "", 1), true},
		{"nested data", strings.Replace(goodLine, `"orderId":"o-1"`, `"orderId":"o\"1","items":["a\u00e9",1.5e3,-0,true,false,null,{}]`, 1), true},
		{"escaped stream", strings.Replace(goodLine, `customer-c1`, `customer-\u00631`, 1), false},
		{"key in another case", strings.Replace(goodLine, `"stream"`, `"Stream"`, 1), false},
		{"repeated key", strings.Replace(goodLine, `"revision":0`, `"revision":0,"revision":1`, 1), false},
		{"null metadata", strings.Replace(goodLine, `{"actor":"alice"}`, `null`, 1), false},
		{"float revision", strings.Replace(goodLine, `"revision":0`, `"revision":0.0`, 1), false},
		{"negative schema", strings.Replace(goodLine, `"schemaVersion":1`, `"schemaVersion":-1`, 1), false},
		{"leading zero", strings.Replace(goodLine, `"position":1`, `"position":01`, 1), false},
		{"huge revision", strings.Replace(goodLine, `"revision":0`, `"revision":18446744073709551616`, 1), false},
		{"unknown key", strings.Replace(goodLine, `"revision":0`, `"revision":0,"x":1`, 1), false},
		{"missing id", strings.Replace(goodLine, `"id":"7f1c2a8e-4b1d-4c59-9a55-0a4b8f0c2d11",`, ``, 1), false},
		{"trailing data", goodLine + "{}", false},
		{"truncated", goodLine[:len(goodLine)-3], false},
		{"bad data", strings.Replace(goodLine, `"o-1"`, `"o-1",`, 1), false},
		{"control character", strings.Replace(goodLine, `"o-1"`, "\"o\x01\"", 1), false},
		{"empty recordedAt", strings.Replace(goodLine, `"2024-03-01T10:00:01Z"`, `""`, 1), false},
		{"non-ASCII type", strings.Replace(goodLine, `PurchaseMade`, `PurchaséMade`, 1), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fast, ok := exchange.ParseEnvelopeFast([]byte(tc.line))
			if ok != tc.fast {
				t.Fatalf("fast path took it: %v, want %v", ok, tc.fast)
			}
			if !ok {
				return
			}
			slow, err := exchange.ParseEnvelopeSlow([]byte(tc.line))
			if err != nil {
				t.Fatalf("fast path accepted what encoding/json refuses: %v", err)
			}
			if !sameEnvelope(fast, slow) {
				t.Fatalf("fast %+v\nslow %+v", fast, slow)
			}
		})
	}
}

// FuzzScanEnvelope: whatever the fast scanner accepts, encoding/json
// accepts with the same envelope.
func FuzzScanEnvelope(f *testing.F) {
	f.Add([]byte(goodLine))
	f.Add([]byte(strings.Replace(goodLine, `"orderId":"o-1"`, `"orderId":"o\"1","x":[1.5e3,-0,true,null,{}]`, 1)))
	f.Add([]byte(`{"stream":"customer-1","type":"CustomerErased","id":"7f1c2a8e-4b1d-4c59-9a55-0a4b8f0c2d11","revision":0,"occurredAt":"2024-01-01T00:00:00Z","schemaVersion":1,"data":{}}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		fast, ok := exchange.ParseEnvelopeFast(line)
		if !ok {
			return
		}
		slow, err := exchange.ParseEnvelopeSlow(line)
		if err != nil {
			t.Fatalf("fast path accepted %q, encoding/json refuses: %v", line, err)
		}
		if !sameEnvelope(fast, slow) {
			t.Fatalf("%q:\nfast %+v\nslow %+v", line, fast, slow)
		}
	})
}

// FuzzDecodeDataStrict: the first pass's strict decode of event data
// takes exactly what encoding/json takes, with the same value.
func FuzzDecodeDataStrict(f *testing.F) {
	types := exchange.DefaultTypes()
	names := []string{"PurchaseMade", "CustomerRegistered", "ContactLogged", "ComplaintFiled"}
	f.Add(uint8(0), []byte(`{"orderId":"o-1","amount":{"amountMinor":1200,"currency":"CNY"},"items":["a"]}`))
	f.Add(uint8(1), []byte(`{"customerId":"c1","name":"张刚","tier":"VIP","timezone":"Asia/Shanghai","locale":"zh-CN","marketingConsent":true}`))
	f.Add(uint8(2), []byte(`{"channel":"PHONE","direction":"OUTBOUND","agent":"a","summary":"s"}`))
	f.Add(uint8(3), []byte(`{"complaintId":"x","description":"d","severity":"HIGH"}`))
	f.Add(uint8(0), []byte(`{"OrderID":"o-1","amount":null,"x":1}`))
	f.Fuzz(func(t *testing.T, k uint8, data []byte) {
		name := names[int(k)%len(names)]
		fast, slow, fastErr, slowErr := exchange.DecodeDataStrict(types, name, data)
		if (fastErr == nil) != (slowErr == nil) {
			t.Fatalf("%s %q: decodeStrict %v, encoding/json %v", name, data, fastErr, slowErr)
		}
		if fastErr == nil && !reflect.DeepEqual(fast, slow) {
			t.Fatalf("%s %q:\ndecodeStrict %+v\nencoding/json %+v", name, data, fast, slow)
		}
	})
}
