package datadir

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/uuid"

	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/eventstore/embedded"
	"github.com/kefu-crm/kefu/pii"
)

// # Integrity
//
// A data directory is its log (events/events.db) and its keystore
// (keys/keys.dat); each is useless without the other. Open refuses, with a
// *DamagedError, every state in which serving would show less than what is
// there — never an empty or partial book:
//
//   - a damaged log (embedded.ErrDamaged: cut short, overwritten pages);
//   - a damaged key record (its customer's personal data cannot be read);
//   - a keystore whose end was cut off inside a record whose key sealed
//     events in the log (the key was handed out and is lost) — a record
//     torn by a crash was never handed out, sealed nothing, and is cut off
//     with a WARN line;
//   - a log and a keystore that do not belong together. Both record the
//     directory's identity, a random UUID written into the meta bucket of
//     events.db and an identity record of keys.dat when the directory is
//     created (and into the files of a directory of an earlier version the
//     first time it is opened: the log first, then the keystore, so that an
//     interrupted binding is completed on the next open). A log deleted,
//     emptied or replaced while the keystore holds keys, or a keystore lost
//     while the log holds events, no longer matches.
//
// Every refusal names the file and says to restore the directory from a
// backup (README, "Backup and restore"; `kefu backup`).

// ErrDamaged: the data directory's files are damaged, missing or do not
// belong together. See DamagedError.
var ErrDamaged = errors.New("datadir: damaged data directory")

// DamagedError says what is wrong with a data directory. It matches
// ErrDamaged and unwraps to the underlying error, if any.
type DamagedError struct {
	// Dir is the data directory.
	Dir string
	// Detail says what is wrong, naming the file.
	Detail string
	// Err is the underlying error (embedded.ErrDamaged, pii.ErrCorruptKey…).
	Err error
}

func (e *DamagedError) Error() string {
	msg := fmt.Sprintf("data directory %s is damaged: %s", e.Dir, e.Detail)
	switch {
	case e.Detail == "" && e.Err != nil:
		msg = fmt.Sprintf("data directory %s: %v", e.Dir, e.Err)
	case e.Err != nil:
		msg += ": " + e.Err.Error()
	}
	if !strings.Contains(msg, "backup") {
		msg += "; restore the data directory from a backup (README, \"Backup and restore\")"
	}
	return msg
}

// Unwrap returns ErrDamaged and the cause.
func (e *DamagedError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrDamaged}
	}
	return []error{ErrDamaged, e.Err}
}

// IsDamage reports whether err is damage found in a data directory's files
// — when opening it, or later while reading the log or keys: the embedded
// store's ErrDamaged or ErrCorrupt, a damaged key record, or sealed data
// without a key (lost keystore).
func IsDamage(err error) bool {
	return errors.Is(err, ErrDamaged) || errors.Is(err, embedded.ErrDamaged) || errors.Is(err, embedded.ErrCorrupt) ||
		errors.Is(err, pii.ErrCorruptKey) || errors.Is(err, pii.ErrNoKey)
}

const (
	eventsFile = "events/" + embedded.FileName
	keysFile   = "keys/" + pii.FileName
)

// preflight refuses, before anything is created, a directory whose log is
// missing or empty while its keystore holds keys.
func preflight(path string, mustExist bool) error {
	events, eerr := os.Stat(filepath.Join(path, eventsFile))
	keys, kerr := os.Stat(filepath.Join(path, keysFile))
	for _, err := range []error{eerr, kerr} {
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("datadir: %w", err)
		}
	}
	hasEvents := eerr == nil && events.Size() > 0
	if !hasEvents && kerr == nil {
		// More than the header and the identity record: keys.
		empty := int64(len("kefuks02"))
		if _, ok, err := pii.ReadFileKeystoreIdentity(filepath.Dir(filepath.Join(path, keysFile))); err == nil && ok {
			empty += 1 + 8 + 1 + pii.KeySize + 4
		}
		if keys.Size() > empty {
			what := "is missing"
			if eerr == nil {
				what = "is empty"
			}
			return &DamagedError{Dir: path, Detail: fmt.Sprintf("%s %s, but %s holds data keys (%d bytes): the log was deleted or lost; starting on an empty log would show no customer", eventsFile, what, keysFile, keys.Size())}
		}
	}
	if !hasEvents && mustExist {
		return fmt.Errorf("%w at %s (create one with `kefu seed --data %s` or `kefu serve --data %s`)", ErrNoData, path, path, path)
	}
	return nil
}

// keysLost refuses a log with events whose keystore file is missing.
func keysLost(path string, head eventstore.Position) error {
	if head == 0 {
		return nil
	}
	if _, err := os.Stat(filepath.Join(path, keysFile)); errors.Is(err, fs.ErrNotExist) {
		return &DamagedError{Dir: path, Detail: fmt.Sprintf("%s holds %d events, but %s is missing: the keystore was deleted or lost, and with it every customer's personal data", eventsFile, head, keysFile)}
	}
	return nil
}

// tornTail decides whether the keystore may cut off an incomplete final
// record: only if no event of its subject carries sealed personal data (a
// key that sealed something was handed out, so the record was complete
// once). It logs what is cut.
func tornTail(path string, store eventstore.Store, log *slog.Logger) func(pii.TornTail) error {
	return func(tt pii.TornTail) error {
		if tt.Subject != "" {
			stream := eventstore.StreamID("customer", tt.Subject)
			evs, err := store.ReadStream(context.Background(), stream, eventstore.StreamRead{})
			if err != nil && !errors.Is(err, eventstore.ErrStreamNotFound) {
				return err
			}
			for _, ev := range evs {
				if bytes.Contains(ev.Data, []byte(pii.Prefix)) {
					return &DamagedError{Dir: path, Detail: fmt.Sprintf("%s ends in an incomplete record (byte %d, %d bytes) of customer %s, whose key sealed personal data in the log (%s at position %d): the end of the file was lost, and with it that key",
						keysFile, tt.Offset, tt.Bytes, tt.Subject, ev.Type, ev.Position)}
				}
			}
		}
		log.Warn("keystore: cutting off an incomplete final record (a write torn by a crash: it was never acknowledged, and no event sealed anything with it)",
			"path", tt.Path, "offset", tt.Offset, "bytes", tt.Bytes, "subject", tt.Subject)
		return nil
	}
}

// checkKeys refuses damaged key records.
func checkKeys(path string, keys *pii.FileKeystore) error {
	d := keys.Damaged()
	if len(d) == 0 {
		return nil
	}
	names := make([]string, 0, min(len(d), 5))
	for _, r := range d[:min(len(d), 5)] {
		names = append(names, fmt.Sprintf("customer %s at byte %d", r.Subject, r.Offset))
	}
	more := ""
	if len(d) > 5 {
		more = fmt.Sprintf(" and %d more", len(d)-5)
	}
	what := fmt.Sprintf("%d key records do not match their checksums", len(d))
	if len(d) == 1 {
		what = "a key record does not match its checksum"
	}
	return &DamagedError{Dir: path, Detail: fmt.Sprintf("%s: %s (%s%s), so that personal data cannot be read", keysFile, what, strings.Join(names, ", "), more),
		Err: pii.ErrCorruptKey}
}

// bind checks that the log and the keystore belong to the same directory,
// recording the identity in a new directory (or one of an earlier version).
// See the comment at the top of this file.
func bind(ctx context.Context, path string, store *embedded.Store, keys *pii.FileKeystore, log *slog.Logger) error {
	logID, logHas, err := store.Identity()
	if err != nil {
		return err
	}
	keyArr, keysHas := keys.Identity()
	keyID := uuid.UUID(keyArr)
	head, err := store.Head(ctx)
	if err != nil {
		return err
	}
	st := keys.Stats()
	records := st.Live + st.Destroyed + st.Corrupt
	damaged := func(format string, args ...any) error {
		return &DamagedError{Dir: path, Detail: fmt.Sprintf(format, args...)}
	}
	switch {
	case logHas && keysHas && logID == keyID:
		return nil
	case logHas && keysHas:
		return damaged("%s belongs to data directory %s, %s to data directory %s: the two files come from different directories; put back the pair that belongs together, or restore both from one backup",
			eventsFile, logID, keysFile, keyID)
	case keysHas:
		if head == 0 && records == 0 {
			// Nothing in either: a new directory whose log was recreated.
			return store.SetIdentity(keyID)
		}
		what := "is empty"
		if head > 0 {
			what = fmt.Sprintf("holds %d events but does not belong to it", head)
		}
		return damaged("%s holds %d data keys of data directory %s, but %s %s: the log was deleted, emptied or replaced; starting on it would show customers missing",
			keysFile, records, keyID, eventsFile, what)
	case logHas:
		if head > 0 && records == 0 {
			return damaged("%s (%d events) belongs to data directory %s, but %s holds no key and no record of it: the keystore was deleted or replaced, and with it every customer's personal data",
				eventsFile, head, logID, keysFile)
		}
		// A new directory, or one of an earlier version, whose binding was
		// interrupted after the log: finish it.
		log.Info("data directory identity recorded in the keystore", "dir", path, "identity", logID)
		return keys.SetIdentity(ctx, logID)
	default:
		if head == 0 && records > 0 {
			return damaged("%s holds %d data keys, but %s is empty: the log was deleted or emptied; starting on it would show no customer",
				keysFile, records, eventsFile)
		}
		id := uuid.New()
		if err := store.SetIdentity(id); err != nil {
			return err
		}
		if err := keys.SetIdentity(ctx, id); err != nil {
			return err
		}
		if head > 0 {
			log.Info("data directory of an earlier version: identity recorded in the log and the keystore", "dir", path, "identity", id)
		}
		return nil
	}
}

// Verify reads every page of the embedded store's file (a few hundred
// milliseconds per gigabyte), so that a command that reads only some of it
// — a replay reads the events, not the stream and ID indexes — still
// refuses a damaged log instead of answering from it. A store without the
// check (EventStoreDB) passes.
func (d *Dir) Verify(ctx context.Context) error {
	v, ok := d.Store.(interface{ Verify(context.Context) error })
	if !ok {
		return nil
	}
	if err := v.Verify(ctx); err != nil {
		if IsDamage(err) {
			return &DamagedError{Dir: d.Path, Detail: "the event store's file failed its check", Err: err}
		}
		return err
	}
	return nil
}
