package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/kefu-crm/kefu/exchange"
	"github.com/kefu-crm/kefu/internal/datadir"
	"github.com/kefu-crm/kefu/internal/progress"
)

// exportSummary is the command table's line for export.
const exportSummary = "stream the event log as NDJSON envelopes or CSV (optionally pseudonymized)"

func runExport(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "export", "export [--data DIR] [--format ndjson|csv] [--until T] [--types A,B] [--pseudonymize [--pseudonymize-key HEX]] [--out FILE]")
	data := fs.String("data", envDefault(e, "KEFU_DATA", "./kefu-data"), "data directory (env KEFU_DATA)")
	format := fs.String("format", "ndjson", "ndjson (one envelope per line, see exchange/FORMAT.md) or csv")
	until := fs.String("until", "", "only events with occurredAt ≤ T (RFC 3339 or YYYY-MM-DD, 00:00 UTC)")
	types := fs.String("types", "", "only these event types, comma-separated")
	pseudo := fs.Bool("pseudonymize", false, "replace customer, order, complaint, follow-up and event IDs with keyed HMAC pseudonyms and redact personal data")
	keyHex := fs.String("pseudonymize-key", envDefault(e, "KEFU_PSEUDONYMIZE_KEY", ""), "HMAC key in hex (≥ 16 bytes; env KEFU_PSEUDONYMIZE_KEY); default: a new random key, printed on stderr")
	out := fs.String("out", "-", "output file (- for stdout)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	f, err := exchange.ParseFormat(*format)
	if err != nil {
		return fmt.Errorf("%w: --format: %v", errUsage, err)
	}
	opts := exchange.ExportOptions{Format: f, Pseudonymize: *pseudo}
	if *until != "" {
		if opts.Until, err = parseEnd(*until, time.Time{}); err != nil {
			return fmt.Errorf("%w: --until: %v", errUsage, err)
		}
	}
	if *types != "" {
		for _, t := range strings.Split(*types, ",") {
			if t = strings.TrimSpace(t); t != "" {
				opts.Types = append(opts.Types, t)
			}
		}
	}
	if *pseudo {
		if *keyHex == "" {
			key := make([]byte, 32)
			if _, err := rand.Read(key); err != nil {
				return err
			}
			fmt.Fprintf(e.stderr, "pseudonymization key (keep it to link later exports): %s\n", hex.EncodeToString(key))
			opts.Key = key
		} else if opts.Key, err = hex.DecodeString(*keyHex); err != nil || len(opts.Key) < exchange.MinKeySize {
			return fmt.Errorf("%w: --pseudonymize-key must be at least %d bytes in hex", errUsage, exchange.MinKeySize)
		}
	} else if *keyHex != "" && e.getenv("KEFU_PSEUDONYMIZE_KEY") == "" {
		return fmt.Errorf("%w: --pseudonymize-key needs --pseudonymize", errUsage)
	}
	dir, err := datadir.Open(*data, datadir.Options{Logger: e.log, MustExist: true})
	if err != nil {
		return err
	}
	defer dir.Close()
	var w io.Writer = e.stdout
	var file *os.File
	if *out != "-" {
		if file, err = os.Create(*out); err != nil {
			return err
		}
		defer file.Close()
		w = file
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	head, err := dir.Store.Head(ctx)
	if err != nil {
		return err
	}
	bar := progress.New(e.stderr, "export", int64(head), "events")
	opts.Progress = func(n int) { bar.Add(int64(n)) }
	st, err := exchange.Export(ctx, dir.Store, dir.Codec, exchange.DefaultTypes(), bw, opts)
	took := bar.Finish()
	if err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if file != nil {
		// Flush to disk; devices and pipes (--out /dev/null) cannot sync
		// and need not.
		if err := file.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, syscall.ENOTSUP) {
			return err
		}
		if err := file.Close(); err != nil {
			return err
		}
	}
	fmt.Fprintf(e.stderr, "exported %d of %d events in %s (%.0f events/s)\n", st.Written, st.Read, took.Round(time.Millisecond), float64(st.Read)/max(took.Seconds(), 1e-9))
	return nil
}
