package exchange_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/kefu-crm/kefu/eventstore/memstore"
	"github.com/kefu-crm/kefu/exchange"
)

// A purchases CSV registers each customer at their first purchase; a bad
// row names its line, and nothing is written.
func ExampleImportPurchasesCSV() {
	ctx := context.Background()
	store := memstore.New(memstore.Options{})
	c, _ := newMemCodec()
	csv := "customer_id,date,amount,currency\nc-1,2024-01-15,99.00,CNY\nc-1,2024-03-02,12.5,CNY\n"
	st, err := exchange.ImportPurchasesCSV(ctx, store, c, strings.NewReader(csv), exchange.ImportOptions{File: "p.csv"})
	fmt.Println(st.Written, err)

	_, err = exchange.ImportPurchasesCSV(ctx, store, c, strings.NewReader(csv+"c-2,last week,1,CNY\n"), exchange.ImportOptions{File: "p.csv"})
	fmt.Println(err)

	var out bytes.Buffer
	_, _ = exchange.Export(ctx, store, c, exchange.DefaultTypes(), &out, exchange.ExportOptions{Types: []string{"PurchaseMade"}})
	fmt.Println(strings.Count(out.String(), "\n"), "purchases exported")
	// Output:
	// 3 <nil>
	// p.csv: 1 bad record(s), nothing written
	//   p.csv:4: date "last week" does not parse (want YYYY-MM-DD or RFC 3339)
	// 2 purchases exported
}
