package exchange

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kefu-crm/kefu/domain/aggregate"

	"github.com/google/uuid"
	"golang.org/x/sync/errgroup"

	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/eventstore/codec"
)

// Defaults of the placeholder profile a purchases CSV registers customers
// with (see FORMAT.md).
const (
	// ImportActor is the metadata actor of imported CSV events.
	ImportActor = "kefu-import"
	// PlaceholderTimezone is the imported customers' timezone.
	PlaceholderTimezone = "Asia/Shanghai"
	// PlaceholderLocale is the imported customers' locale.
	PlaceholderLocale = "zh-CN"
)

// csvNamespace is the DeterministicID namespace of CSV-imported events.
// Never change it: re-running an import relies on it.
const csvNamespace = "kefu.import.csv"

// PurchaseColumns are the columns a purchases CSV must have (in any
// order; other columns are ignored).
var PurchaseColumns = []string{"customer_id", "date", "amount", "currency"}

type purchaseRow struct {
	line     int
	customer string
	at       time.Time
	amount   int64
	text     string // amount as written, normalised, for the ID
	currency string
}

// ImportPurchasesCSV registers the customers of a purchases CSV (header
// customer_id,date,amount,currency) at their first purchase, with a
// placeholder profile, and records their purchases, oldest first. It
// validates every row before writing anything; bad rows give a
// *ValidationError. Event IDs are derived from the row's content, so a
// re-run writes nothing new, and rows added to the file later are appended.
// A customer whose stream exists but was not registered by an import gets
// the purchases only. ImportStats.Created counts the customers registered;
// with opts.NoCreate a file naming a customer the store does not have is
// refused with an *UnknownCustomerError (ErrUnknownCustomer) instead.
func ImportPurchasesCSV(ctx context.Context, store eventstore.Store, enc Encoder, r io.Reader, opts ImportOptions) (ImportStats, error) {
	rows, err := parsePurchases(r, opts.File)
	if err != nil {
		return ImportStats{Records: int64(len(rows))}, err
	}
	st := ImportStats{Records: int64(len(rows))}
	by := make(map[string][]purchaseRow)
	var order []string // customers by their first row, in file order
	firstLine := make(map[string]int)
	for _, row := range rows {
		if by[row.customer] == nil {
			order = append(order, row.customer)
			firstLine[row.customer] = row.line
		}
		by[row.customer] = append(by[row.customer], row)
	}
	var unknown *UnknownCustomerError
	st.Streams = len(order)
	type planned struct {
		stream string
		first  uint64
		events []any
		envs   []codec.Envelope
	}
	plans := make([]planned, 0, len(order))
	for _, id := range order {
		rs := by[id]
		slices.SortStableFunc(rs, func(a, b purchaseRow) int { return a.at.Compare(b.at) })
		stream := eventstore.StreamID(customer.StreamCategory, id)
		var events []any
		var envs []codec.Envelope
		meta := codec.Metadata{Actor: ImportActor, CorrelationID: "import/" + id}
		events = append(events, &customer.CustomerRegistered{
			CustomerID: id, Name: "Imported customer " + id, Tier: customer.TierStandard,
			Timezone: PlaceholderTimezone, Locale: PlaceholderLocale,
		})
		envs = append(envs, codec.Envelope{ID: codec.DeterministicID(csvNamespace, id+"/registered"), OccurredAt: rs[0].at, Meta: meta})
		seen := map[string]int{}
		for _, row := range rs {
			key := id + "/" + row.at.UTC().Format(time.RFC3339Nano) + "/" + row.text + "/" + row.currency
			k := seen[key]
			seen[key]++
			eid := codec.DeterministicID(csvNamespace, key+"/"+strconv.Itoa(k))
			events = append(events, &customer.PurchaseMade{
				OrderID: "csv-" + strings.ReplaceAll(eid.String(), "-", "")[:16],
				Amount:  customer.Money{AmountMinor: row.amount, Currency: row.currency},
			})
			envs = append(envs, codec.Envelope{ID: eid, OccurredAt: row.at, Meta: meta})
		}
		stored, err := store.ReadStream(ctx, stream, eventstore.StreamRead{Direction: eventstore.Forward})
		if err != nil && !errors.Is(err, eventstore.ErrStreamNotFound) {
			return st, err
		}
		if len(stored) > 0 {
			have := make(map[uuid.UUID]bool, len(stored))
			for _, ev := range stored {
				have[ev.ID] = true
			}
			keep := 0
			for i := range events {
				// The registration only opens a new stream.
				if i == 0 || have[envs[i].ID] {
					st.Existing++
					continue
				}
				events[keep], envs[keep] = events[i], envs[i]
				keep++
			}
			st.Existing-- // the registration was not in the file
			events, envs = events[:keep], envs[:keep]
			if len(events) == 0 {
				continue
			}
			plans = append(plans, planned{stream: stream, first: stored[len(stored)-1].Revision + 1, events: events, envs: envs})
			continue
		}
		if opts.NoCreate {
			if unknown == nil {
				unknown = &UnknownCustomerError{File: opts.File, Line: firstLine[id], CustomerID: id}
			}
			unknown.Count++
			continue
		}
		st.Created++
		plans = append(plans, planned{stream: stream, first: 0, events: events, envs: envs})
	}
	if unknown != nil {
		return st, unknown
	}
	c := newCommitter(ctx, store, opts)
	// Encode a window of customers concurrently (a new customer's key
	// waits for the keystore's group commit, which they share), then
	// append them in order.
	const window = 1024
	for lo := 0; lo < len(plans); lo += window {
		part := plans[lo:min(lo+window, len(plans))]
		recs := make([][]eventstore.Record, len(part))
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(sealParallel)
		for k, p := range part {
			g.Go(func() error {
				recs[k] = make([]eventstore.Record, len(p.events))
				for i, ev := range p.events {
					rec, err := enc.Encode(gctx, p.stream, ev, p.envs[i])
					if err != nil {
						return fmt.Errorf("exchange: encode %s event %d: %w", p.stream, i, err)
					}
					recs[k][i] = rec
				}
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			n, _ := c.abort()
			st.Written = n
			return st, err
		}
		for k, p := range part {
			for i, rec := range recs[k] {
				if err := c.add(p.stream, p.first+uint64(i), rec); err != nil {
					n, cerr := c.abort()
					st.Written = n
					if cerr != nil {
						err = cerr
					}
					return st, err
				}
			}
		}
	}
	n, err := c.close()
	st.Written = n
	return st, err
}

// Purchase is one valid row of a purchases CSV.
type Purchase struct {
	// Line is the row's line number.
	Line       int
	CustomerID string
	At         time.Time
	// AmountMinor is the amount in minor units (×100).
	AmountMinor int64
	Currency    string
}

// ValidatePurchasesCSV checks every row of a purchases CSV as
// ImportPurchasesCSV would and returns the rows.
func ValidatePurchasesCSV(r io.Reader, file string) ([]Purchase, error) {
	rows, err := parsePurchases(r, file)
	out := make([]Purchase, len(rows))
	for i, p := range rows {
		out[i] = Purchase{Line: p.line, CustomerID: p.customer, At: p.at, AmountMinor: p.amount, Currency: p.currency}
	}
	return out, err
}

// parsePurchases reads and validates every row.
func parsePurchases(r io.Reader, file string) ([]purchaseRow, error) {
	bad := &ValidationError{File: file}
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		bad.add(1, "empty file: want a header line %s", strings.Join(PurchaseColumns, ","))
		return nil, bad
	}
	if err != nil {
		bad.add(csvLine(err, 1), "%v", csvReason(err))
		return nil, bad
	}
	col := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if _, dup := col[h]; dup {
			bad.add(1, "column %q appears twice", h)
		}
		col[h] = i
	}
	var missing []string
	for _, c := range PurchaseColumns {
		if _, ok := col[c]; !ok {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		bad.add(1, "missing column(s) %s (want a header with %s)", strings.Join(missing, ", "), strings.Join(PurchaseColumns, ","))
	}
	if bad.Count > 0 {
		return nil, bad
	}
	var rows []purchaseRow
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			bad.add(csvLine(err, 0), "%v", csvReason(err))
			var pe *csv.ParseError
			if errors.As(err, &pe) && errors.Is(pe.Err, csv.ErrFieldCount) {
				continue
			}
			if !errors.As(err, &pe) {
				return nil, err
			}
			continue
		}
		line, _ := cr.FieldPos(0)
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // blank line
		}
		if len(rec) < len(header) {
			bad.add(line, "%d field(s), the header has %d", len(rec), len(header))
			continue
		}
		row, reason := parsePurchaseRow(rec, col)
		if reason != "" {
			bad.add(line, "%s", reason)
			continue
		}
		row.line = line
		rows = append(rows, row)
	}
	if bad.Count > 0 {
		return rows, bad
	}
	return rows, nil
}

func csvLine(err error, def int) int {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return pe.Line
	}
	return def
}

func csvReason(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

func parsePurchaseRow(rec []string, col map[string]int) (purchaseRow, string) {
	id := strings.TrimSpace(rec[col["customer_id"]])
	if !eventstore.ValidID(id) {
		return purchaseRow{}, fmt.Sprintf("invalid customer_id %q (want %s)", id, aggregate.IDSyntax)
	}
	at, err := parseDate(strings.TrimSpace(rec[col["date"]]))
	if err != nil {
		return purchaseRow{}, err.Error()
	}
	amount, text, err := parseAmount(strings.TrimSpace(rec[col["amount"]]))
	if err != nil {
		return purchaseRow{}, err.Error()
	}
	cur := strings.ToUpper(strings.TrimSpace(rec[col["currency"]]))
	if len(cur) != 3 || strings.Trim(cur, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
		return purchaseRow{}, fmt.Sprintf("invalid currency %q (want an ISO 4217 code such as CNY)", rec[col["currency"]])
	}
	return purchaseRow{customer: id, at: at, amount: amount, text: text, currency: cur}, ""
}

// parseDate reads YYYY-MM-DD (midnight UTC) or an RFC 3339 date-time.
func parseDate(s string) (time.Time, error) {
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return checkYear(t, s)
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return checkYear(t, s)
	}
	return time.Time{}, fmt.Errorf("date %q does not parse (want YYYY-MM-DD or RFC 3339)", s)
}

func checkYear(t time.Time, s string) (time.Time, error) {
	if y := t.Year(); y < 1900 || y > 2200 {
		return time.Time{}, fmt.Errorf("date %q is out of range (years 1900–2200)", s)
	}
	return t, nil
}

// parseAmount reads a non-negative decimal with at most two fraction
// digits ("12", "12.5", "12.50") as minor units (×100).
func parseAmount(s string) (int64, string, error) {
	if strings.HasPrefix(s, "-") {
		return 0, "", fmt.Errorf("negative amount %q", s)
	}
	whole, frac, hasFrac := strings.Cut(s, ".")
	if whole == "" || len(whole) > 15 || strings.Trim(whole, "0123456789") != "" ||
		(hasFrac && (frac == "" || len(frac) > 2 || strings.Trim(frac, "0123456789") != "")) {
		return 0, "", fmt.Errorf("amount %q is not a decimal number with at most 2 decimals", s)
	}
	w, _ := strconv.ParseInt(whole, 10, 64)
	f := int64(0)
	if hasFrac {
		f, _ = strconv.ParseInt(frac, 10, 64)
		if len(frac) == 1 {
			f *= 10
		}
	}
	minor := w*100 + f
	return minor, strconv.FormatInt(minor, 10), nil
}
