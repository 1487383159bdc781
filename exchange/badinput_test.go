package exchange_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/kefu-crm/kefu/exchange"
)

const goodLine = `{"stream":"customer-c1","type":"PurchaseMade","id":"7f1c2a8e-4b1d-4c59-9a55-0a4b8f0c2d11","revision":0,"position":1,"occurredAt":"2024-03-01T10:00:00Z","recordedAt":"2024-03-01T10:00:01Z","schemaVersion":1,"data":{"orderId":"o-1","amount":{"amountMinor":1200,"currency":"CNY"}},"metadata":{"actor":"alice"}}`

func line2(rev int, id string) string {
	s := strings.Replace(goodLine, `"revision":0`, `"revision":`+string(rune('0'+rev)), 1)
	return strings.Replace(s, "7f1c2a8e-4b1d-4c59-9a55-0a4b8f0c2d11", id, 1)
}

// TestImportNDJSONBadInput: each bad line is reported with its number and
// what is wrong, and nothing is written — not even the good lines.
func TestImportNDJSONBadInput(t *testing.T) {
	ok1 := line2(1, "11111111-4b1d-4c59-9a55-0a4b8f0c2d11")
	tests := []struct {
		name    string
		file    string
		line    int
		message string
	}{
		{"truncated line", goodLine + "\n" + ok1[:len(ok1)-40] + "\n", 2, "truncated"},
		{"unknown event type", goodLine + "\n" + strings.Replace(ok1, "PurchaseMade", "PurchaseTeleported", 1) + "\n", 2, `unknown event type "PurchaseTeleported"`},
		{"date that does not parse", goodLine + "\n" + strings.Replace(ok1, "2024-03-01T10:00:00Z", "01/03/2024", 1), 2, `occurredAt: "01/03/2024" is not an RFC 3339 date-time`},
		{"invalid ID", strings.Replace(goodLine, "7f1c2a8e-4b1d-4c59-9a55-0a4b8f0c2d11", "not-a-uuid", 1), 1, "invalid event ID"},
		{"invalid stream", strings.Replace(goodLine, "customer-c1", "customer c1", 1), 1, "invalid stream ID"},
		{"negative amount", strings.Replace(goodLine, "1200", "-5", 1), 1, "negative purchase amount"},
		{"unknown data field", strings.Replace(goodLine, `"orderId"`, `"orderNo"`, 1), 1, `unknown field "orderNo"`},
		{"missing field", strings.Replace(goodLine, `"type":"PurchaseMade",`, ``, 1), 1, `missing field "type"`},
		{"revision gap", goodLine + "\n" + line2(2, "11111111-4b1d-4c59-9a55-0a4b8f0c2d11"), 2, "does not follow revision 0"},
		{"duplicate ID", goodLine + "\n" + line2(1, "7f1c2a8e-4b1d-4c59-9a55-0a4b8f0c2d11"), 2, "already used on line 1"},
		{"not JSON", "hello\n", 1, "malformed JSON"},
		{"future schema", strings.Replace(goodLine, `"schemaVersion":1`, `"schemaVersion":9`, 1), 1, "schema version 9"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dst := openDir(t, t.TempDir())
			_, err := importNDJSON(dst, []byte(tc.file))
			var ve *exchange.ValidationError
			if !errors.As(err, &ve) || !errors.Is(err, exchange.ErrInvalidInput) {
				t.Fatalf("err = %v, want a ValidationError", err)
			}
			if len(ve.Lines) == 0 || ve.Lines[0].Line != tc.line || !strings.Contains(ve.Lines[0].Reason, tc.message) {
				t.Fatalf("reported %v, want line %d: …%s…", ve.Lines, tc.line, tc.message)
			}
			if !strings.Contains(err.Error(), "in.ndjson:") {
				t.Fatalf("message does not name the file: %v", err)
			}
			if n := len(allEvents(t, dst.Store)); n != 0 {
				t.Fatalf("%d events written from a bad file", n)
			}
		})
	}
	// A good file of the same lines imports.
	dst := openDir(t, t.TempDir())
	if st, err := importNDJSON(dst, []byte(goodLine+"\n"+ok1+"\n\n")); err != nil || st.Written != 2 {
		t.Fatalf("good file: %+v %v", st, err)
	}
	evs := allEvents(t, dst.Store)
	if !evs[0].OccurredAt.Equal(mustTime("2024-03-01T10:00:00Z")) {
		t.Fatalf("occurredAt %v not kept", evs[0].OccurredAt)
	}
}

func TestImportReportsEveryBadLine(t *testing.T) {
	var b strings.Builder
	for i := range 150 {
		_ = i
		b.WriteString("{\n")
	}
	_, err := importNDJSON(openDir(t, t.TempDir()), []byte(b.String()))
	var ve *exchange.ValidationError
	if !errors.As(err, &ve) || ve.Count != 150 || len(ve.Lines) != exchange.MaxReported || ve.Lines[99].Line != 100 {
		t.Fatalf("%v", err)
	}
	if !strings.Contains(err.Error(), "and 50 more") {
		t.Fatalf("message does not say how many more: %v", err)
	}
}

const csvHeader = "customer_id,date,amount,currency\n"

func TestImportPurchasesCSV(t *testing.T) {
	dst := openDir(t, t.TempDir())
	run := func(data string) (exchange.ImportStats, error) {
		return exchange.ImportPurchasesCSV(context.Background(), dst.Store, dst.Codec, strings.NewReader(data), exchange.ImportOptions{File: "p.csv"})
	}
	file := csvHeader + "c-2,2024-02-01,10.5,cny\nc-1,2024-03-01,99,CNY\nc-1,2024-01-15T08:30:00+08:00,0.99,CNY\nc-1,2024-03-01,99,CNY\n"
	st, err := run(file)
	if err != nil {
		t.Fatal(err)
	}
	if st.Written != 6 || st.Streams != 2 { // 2 registrations + 4 purchases
		t.Fatalf("stats %+v", st)
	}
	out := envelopes(t, export(t, dst, exchange.ExportOptions{}))
	var c1 []exchange.Envelope
	for _, e := range out {
		if e.Stream == "customer-c-1" {
			c1 = append(c1, e)
		}
	}
	if len(c1) != 4 || c1[0].Type != "CustomerRegistered" || !c1[0].OccurredAt.Equal(mustTime("2024-01-15T00:30:00Z")) {
		t.Fatalf("c-1 history %+v", c1)
	}
	if !strings.Contains(string(c1[1].Data), `"amountMinor":99`) || !strings.Contains(string(c1[2].Data), `"amountMinor":9900`) {
		t.Fatalf("purchases not oldest first or amounts wrong: %s / %s", c1[1].Data, c1[2].Data)
	}
	// Re-run: nothing new. A new row: only it is appended.
	if st, err := run(file); err != nil || st.Written != 0 {
		t.Fatalf("re-run %+v %v", st, err)
	}
	if st, err := run(file + "c-1,2024-04-01,5,CNY\n"); err != nil || st.Written != 1 {
		t.Fatalf("added row %+v %v", st, err)
	}
	if n := len(allEvents(t, dst.Store)); n != 7 {
		t.Fatalf("%d events", n)
	}
}

// A purchases CSV counts the customers it registers; with NoCreate it
// refuses a file naming an unknown customer, naming the first one and its
// line, and writes nothing.
func TestImportPurchasesCSVCreatedAndNoCreate(t *testing.T) {
	ctx := context.Background()
	dst := openDir(t, t.TempDir())
	imp := func(data string, noCreate bool) (exchange.ImportStats, error) {
		return exchange.ImportPurchasesCSV(ctx, dst.Store, dst.Codec, strings.NewReader(data), exchange.ImportOptions{File: "p.csv", NoCreate: noCreate})
	}
	st, err := imp(csvHeader+"a,2024-01-01,1,CNY\nb,2024-01-02,2,CNY\na,2024-01-03,3,CNY\n", false)
	if err != nil || st.Created != 2 || st.Written != 5 {
		t.Fatalf("first import: %+v %v, want 2 customers created, 5 events", st, err)
	}
	if st, err := imp(csvHeader+"a,2024-01-01,1,CNY\nb,2024-02-01,2,CNY\n", false); err != nil || st.Created != 0 || st.Written != 1 {
		t.Fatalf("known customers: %+v %v, want none created, 1 event", st, err)
	}
	head := len(allEvents(t, dst.Store))
	_, err = imp(csvHeader+"a,2024-03-01,1,CNY\nzed,2024-03-01,1,CNY\nyan,2024-03-02,1,CNY\nzed,2024-03-03,1,CNY\n", true)
	var ue *exchange.UnknownCustomerError
	if !errors.As(err, &ue) || !errors.Is(err, exchange.ErrUnknownCustomer) {
		t.Fatalf("err = %v, want an UnknownCustomerError", err)
	}
	if ue.CustomerID != "zed" || ue.Line != 3 || ue.Count != 2 || !strings.Contains(err.Error(), `p.csv:3: customer "zed"`) {
		t.Fatalf("refusal %+v (%v), want zed on line 3 of 2 unknown", ue, err)
	}
	if n := len(allEvents(t, dst.Store)); n != head {
		t.Fatalf("a refused import wrote %d events", n-head)
	}
	if st, err := imp(csvHeader+"a,2024-03-01,1,CNY\n", true); err != nil || st.Created != 0 || st.Written != 1 {
		t.Fatalf("NoCreate with known customers only: %+v %v", st, err)
	}
}

func TestImportPurchasesCSVBadInput(t *testing.T) {
	tests := []struct {
		name, file string
		line       int
		message    string
	}{
		{"missing column", "customer_id,date,currency\nc-1,2024-01-01,CNY\n", 1, "missing column(s) amount"},
		{"date that does not parse", csvHeader + "c-1,2024-01-01,1,CNY\nc-2,yesterday,1,CNY\n", 3, `date "yesterday" does not parse`},
		{"negative amount", csvHeader + "c-1,2024-01-01,-3,CNY\n", 2, "negative amount"},
		{"bad amount", csvHeader + "c-1,2024-01-01,1.234,CNY\n", 2, "at most 2 decimals"},
		{"invalid ID", csvHeader + "c 1,2024-01-01,1,CNY\n", 2, "invalid customer_id"},
		{"bad currency", csvHeader + "c-1,2024-01-01,1,YUAN\n", 2, "invalid currency"},
		{"short row", csvHeader + "c-1,2024-01-01\n", 2, "2 field(s)"},
		{"bare quote", csvHeader + "c-1,\"2024-01-01,1,CNY\n", 2, "quote"},
		{"empty", "", 1, "empty file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dst := openDir(t, t.TempDir())
			_, err := exchange.ImportPurchasesCSV(context.Background(), dst.Store, dst.Codec, strings.NewReader(tc.file), exchange.ImportOptions{File: "p.csv"})
			var ve *exchange.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("err = %v, want a ValidationError", err)
			}
			if ve.Lines[0].Line != tc.line || !strings.Contains(ve.Lines[0].Reason, tc.message) {
				t.Fatalf("reported %v, want line %d: …%s…", ve.Lines, tc.line, tc.message)
			}
			if n := len(allEvents(t, dst.Store)); n != 0 {
				t.Fatalf("%d events written from a bad file", n)
			}
		})
	}
}

func FuzzParseNDJSON(f *testing.F) {
	f.Add([]byte(goodLine))
	f.Add([]byte(goodLine[:50]))
	f.Add([]byte(`{"stream":"customer-1","type":"CustomerErased","id":"7f1c2a8e-4b1d-4c59-9a55-0a4b8f0c2d11","revision":0,"occurredAt":"2024-01-01T00:00:00Z","schemaVersion":1,"data":{}}`))
	f.Add([]byte("{}\n{}"))
	types := exchange.DefaultTypes()
	f.Fuzz(func(t *testing.T, data []byte) {
		// Validation against an empty in-memory store: never panics, and
		// either accepts or names a line within the input.
		err := exchange.ValidateNDJSON(context.Background(), emptyStore(), types, bytes.NewReader(data), "fuzz")
		var ve *exchange.ValidationError
		if errors.As(err, &ve) {
			n := bytes.Count(data, []byte("\n")) + 1
			for _, l := range ve.Lines {
				if l.Line < 1 || l.Line > n || l.Reason == "" {
					t.Fatalf("line %d of %d: %q", l.Line, n, l.Reason)
				}
			}
		}
	})
}

func FuzzParsePurchasesCSV(f *testing.F) {
	f.Add(csvHeader + "c-1,2024-01-01,1.5,CNY\n")
	f.Add("customer_id,date\n")
	f.Add(csvHeader + "c-1,\"2024,1,CNY\n")
	f.Fuzz(func(t *testing.T, data string) {
		rows, err := exchange.ValidatePurchasesCSV(strings.NewReader(data), "fuzz")
		var ve *exchange.ValidationError
		if err != nil && !errors.As(err, &ve) {
			t.Fatalf("not a ValidationError: %v", err)
		}
		if err == nil {
			for _, r := range rows {
				if r.AmountMinor < 0 {
					t.Fatalf("negative amount accepted: %+v", r)
				}
			}
		}
	})
}
