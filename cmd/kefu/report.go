package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"time"

	"github.com/kefu-crm/kefu/analytics"
	"github.com/kefu-crm/kefu/internal/datadir"
)

// reportSummary is the command table's line for report.
const reportSummary = "write a self-contained HTML report with lifecycle, funnel, loyalty and SLA charts"

func runReport(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "report", "report [--data DIR] --out report.html [--from T] [--to T] [--policy FILE]")
	data := fs.String("data", envDefault(e, "KEFU_DATA", "./kefu-data"), "data directory (env KEFU_DATA)")
	out := fs.String("out", "report.html", "the HTML file to write")
	from := fs.String("from", "", "start of the charts (RFC 3339 or YYYY-MM-DD, UTC); default: a year before --to")
	to := fs.String("to", "", "end of the charts and the instant the book is replayed to (business time); default: the latest event")
	policyFile := fs.String("policy", "", "lifecycle policy JSON, as for replay")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := replayConfig(*to, *policyFile)
	if err != nil {
		return err
	}
	opts := analytics.HTMLOptions{Generated: time.Now()}
	if *from != "" {
		if opts.From, err = parseEnd(*from, time.Time{}); err != nil {
			return fmt.Errorf("%w: --from: %v", errUsage, err)
		}
	}
	if !cfg.Until.IsZero() {
		opts.To = cfg.Until
		if !opts.From.IsZero() && !opts.From.Before(opts.To) {
			return fmt.Errorf("%w: --from must be before --to", errUsage)
		}
	}
	dir, err := datadir.Open(*data, datadir.Options{Logger: e.log, MustExist: true})
	if err != nil {
		return err
	}
	defer dir.Close()
	book, err := replayBook(ctx, e, dir, cfg)
	if err != nil {
		return err
	}
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	defer f.Close()
	bw := bufio.NewWriter(f)
	if err := analytics.WriteHTML(bw, book, opts); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "wrote %s (book as of %s%s)\n", *out, book.AsOf.UTC().Format(time.RFC3339), asOfNote(cfg))
	return nil
}
