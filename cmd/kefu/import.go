package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kefu-crm/kefu/exchange"
	"github.com/kefu-crm/kefu/internal/datadir"
	"github.com/kefu-crm/kefu/internal/progress"
)

// importSummary is the command table's line for import.
const importSummary = "import NDJSON envelopes or a purchases CSV (validated in full before anything is written)"

func runImport(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "import", "import [--data DIR] [--format auto|ndjson|csv] [--no-create] FILE")
	data := fs.String("data", envDefault(e, "KEFU_DATA", "./kefu-data"), "data directory (env KEFU_DATA); created if missing")
	format := fs.String("format", "auto", "ndjson (export envelopes), csv (purchases: customer_id,date,amount,currency) or auto (by file extension)")
	noCreate := fs.Bool("no-create", false, "purchases CSV: refuse the file (nothing written) if it names a customer the data directory does not have, instead of registering them with a placeholder profile")
	if err := parseFlagsArgs(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("%w: want exactly one FILE to import", errUsage)
	}
	path := fs.Arg(0)
	kind := strings.ToLower(*format)
	if kind == "auto" {
		kind = "ndjson"
		if strings.EqualFold(filepath.Ext(path), ".csv") {
			kind = "csv"
		}
	}
	if kind != "ndjson" && kind != "csv" {
		return fmt.Errorf("%w: --format %q (want auto, ndjson or csv)", errUsage, *format)
	}
	if *noCreate && kind != "csv" {
		return fmt.Errorf("%w: --no-create applies to a purchases CSV only (an NDJSON file carries its own registrations)", errUsage)
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var in io.ReadSeeker = f
	if _, err := f.Seek(0, io.SeekStart); err != nil { // a pipe: buffer it to re-read
		tmp, err := os.CreateTemp("", "kefu-import-*")
		if err != nil {
			return err
		}
		defer os.Remove(tmp.Name())
		defer tmp.Close()
		if _, err := io.Copy(tmp, f); err != nil {
			return err
		}
		if _, err := tmp.Seek(0, io.SeekStart); err != nil {
			return err
		}
		in = tmp
	}
	_, statErr := os.Stat(*data)
	created := errors.Is(statErr, os.ErrNotExist)
	dir, err := datadir.Open(*data, datadir.Options{Logger: e.log})
	if err != nil {
		return err
	}
	defer dir.Close()
	bar := progress.New(e.stderr, "import", 0, "events")
	opts := exchange.ImportOptions{
		File:     filepath.Base(path),
		Progress: func(n int) { bar.Add(int64(n)) },
		Shred:    func(ctx context.Context, id string) error { return dir.Vault.Destroy(ctx, id) },
		NoCreate: *noCreate,
	}
	var st exchange.ImportStats
	if kind == "csv" {
		st, err = exchange.ImportPurchasesCSV(ctx, dir.Store, dir.Codec, in, opts)
	} else {
		st, err = exchange.ImportNDJSON(ctx, dir.Store, dir.Codec, exchange.DefaultTypes(), in, opts)
	}
	took := bar.Finish()
	if err != nil {
		if created && (errors.Is(err, exchange.ErrInvalidInput) || errors.Is(err, exchange.ErrConflict) || errors.Is(err, exchange.ErrUnknownCustomer)) {
			// Nothing was written: do not leave behind the empty data
			// directory this run created.
			if cerr := dir.Close(); cerr == nil {
				_ = os.RemoveAll(*data)
			}
		}
		if errors.Is(err, exchange.ErrUnknownCustomer) {
			return fmt.Errorf("--no-create: %w (register the customers first, or import without --no-create to register them with a placeholder profile)", err)
		}
		return err
	}
	fmt.Fprintf(e.stderr, "imported %s: %d records, %d events written, %d already present, %d streams, %d customers created, in %s (%.0f records/s)\n",
		path, st.Records, st.Written, st.Existing, st.Streams, st.Created, took.Round(time.Millisecond), float64(st.Records)/max(took.Seconds(), 1e-9))
	if kind == "csv" && st.Created > 0 {
		fmt.Fprintf(e.stderr, "note: %d customer(s) of %s were not in %s and were registered with a placeholder profile (name \"Imported customer <id>\", no consent); --no-create refuses such a file instead\n",
			st.Created, path, *data)
	}
	return nil
}
