package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/eventstore/kurrent"
	"github.com/kefu-crm/kefu/eventstore/migrate"
	"github.com/kefu-crm/kefu/eventstore/postgres"
	"github.com/kefu-crm/kefu/internal/datadir"
	"github.com/kefu-crm/kefu/internal/progress"
)

// runMigrate copies a data directory's embedded event log and its data
// keys into PostgreSQL or an EventStoreDB/KurrentDB cluster. Summary line
// for the command table: "copy a data directory's events and data keys into
// PostgreSQL or EventStoreDB/KurrentDB".
func runMigrate(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "migrate", "migrate --from DIR --to postgres://user@host:5432/db | 'esdb://host:2113?tls=false'")
	from := fs.String("from", envDefault(e, "KEFU_DATA", "./kefu-data"), "data directory to copy (env KEFU_DATA); `kefu serve` must not be running on it")
	to := fs.String("to", e.getenv("KEFU_STORE"), "connection string of the target: postgres://…[?schema=NAME], or esdb://… / esdb+discover://… (env KEFU_STORE)")
	batch := fs.Int("batch", 500, "most events per append")
	every := fs.Int("checkpoint-every", 1000, "events between checkpoint saves")
	restart := fs.Bool("restart", false, "ignore the checkpoint and go over the whole log again (events already copied are recognised and skipped)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if !postgres.IsURL(*to) && !strings.HasPrefix(*to, "esdb://") && !strings.HasPrefix(*to, "esdb+discover://") {
		return fmt.Errorf("%w: --to must be a postgres://, esdb:// or esdb+discover:// connection string", errUsage)
	}
	if *batch < 1 || *every < 1 {
		return fmt.Errorf("%w: --batch and --checkpoint-every must be at least 1", errUsage)
	}
	dir, err := datadir.Open(*from, datadir.Options{Logger: e.log, MustExist: true})
	if err != nil {
		return err
	}
	defer dir.Close()
	target, targetKeys, err := openTarget(ctx, e, *to)
	if err != nil {
		return err
	}
	defer target.Close()

	// Keys first: copied events must stay readable, erased customers erased.
	subjects := dir.Keys.Subjects()
	keyBar := progress.New(e.stderr, "keys", int64(len(subjects)), "customers")
	ks, err := migrate.Keys(ctx, subjects, dir.Keys, targetKeys)
	keyBar.Add(int64(ks.Copied + ks.Destroyed + ks.Missing))
	keyBar.Finish()
	if err != nil {
		return err
	}

	cp := migrate.FileCheckpoint{Path: checkpointPath(*from, *to)}
	if *restart {
		if err := os.Remove(cp.Path); err != nil && !os.IsNotExist(err) {
			return err
		}
	}
	start, err := cp.Load()
	if err != nil {
		return err
	}
	head, err := dir.Store.Head(ctx)
	if err != nil {
		return err
	}
	// The embedded store numbers events densely: head − checkpoint is what
	// is left.
	bar := progress.New(e.stderr, "migrate", int64(head-start), "events")
	st, err := migrate.Migrate(ctx, dir.Store, target, migrate.Options{
		Checkpoint:      cp,
		CheckpointEvery: *every,
		MaxBatch:        *batch,
		Progress:        func(n int, _ eventstore.Position) { bar.Add(int64(n)) },
	})
	took := bar.Finish()
	if err != nil {
		return fmt.Errorf("%w (run the same command again to resume from the checkpoint in %s)", err, cp.Path)
	}
	fmt.Fprintf(e.stdout, "migrated %s to the target store in %s\n", *from, took.Round(time.Millisecond))
	fmt.Fprintf(e.stdout, "  events      %d (%d already there), %d appends, source position %d of %d\n", st.Events, st.Skipped, st.Appends, st.Last, head)
	fmt.Fprintf(e.stdout, "  data keys   %d copied, %d erased customers kept erased\n", ks.Copied, ks.Destroyed)
	fmt.Fprintf(e.stdout, "  checkpoint  %s\n", cp.Path)
	return nil
}

// openTarget opens the store a migration copies into and its keystore.
func openTarget(ctx context.Context, e *env, to string) (eventstore.Store, migrate.KeyImporter, error) {
	if postgres.IsURL(to) {
		s, err := postgres.Open(ctx, to, postgres.Options{Logger: e.log})
		if err != nil {
			return nil, nil, err
		}
		return s, postgres.NewKeystore(s, postgres.KeystoreOptions{}), nil
	}
	s, err := kurrent.Open(ctx, to, kurrent.Options{Logger: e.log})
	if err != nil {
		return nil, nil, err
	}
	return s, kurrent.NewKeystore(s, kurrent.KeystoreOptions{}), nil
}

// checkpointPath is the checkpoint of copying dir to one target: one file
// per target, so that a copy to another cluster starts from the beginning.
func checkpointPath(dir, target string) string {
	sum := sha256.Sum256([]byte(target))
	return filepath.Join(dir, "migrate-"+hex.EncodeToString(sum[:6])+".checkpoint")
}
