package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/kefu-crm/kefu/automation/erasure"
	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/internal/snapfile"
	"github.com/kefu-crm/kefu/pii"
	"github.com/kefu-crm/kefu/projections"
	"github.com/kefu-crm/kefu/projections/dupindex"
	"github.com/kefu-crm/kefu/projections/lifecycle"
	"github.com/kefu-crm/kefu/projections/readmodels"
)

// Snapshots of the read models
//
// Every read model lives in memory and is a fold of the log. Folding the
// whole log at every start costs seconds per million events, so the
// server keeps a snapshot: the state of every read model (the set, the
// duplicates' blind index and the erasure bookkeeping) at one position,
// taken while the runtime holds them still (projections.Runtime.Quiesce).
// A start loads it, checks that it belongs to this log (the event at its
// position has the ID it recorded), this code (a fingerprint of the read
// models' types, readmodels.SnapshotVersion and the lifecycle policy)
// and this data directory's keys, and folds only the events after it.
// Anything that does not check out is logged and the log is folded from
// the start, as without a snapshot: a snapshot can make a start faster,
// never different (the tests compare a restored server's digests with a
// rebuild's).
//
// The read models hold personal data, so the snapshot is sealed
// (package snapfile) with a key of the keystore kept for it alone, a new
// one for every snapshot, the previous one destroyed once the new file is
// in place. An erasure destroys the key of the snapshot on disk the moment
// the erasure reaches the read models (snapshotGuard): from then on no
// snapshot holding the erased customer's data can be opened, and the
// next one written no longer holds it.

// SnapshotConfig says when the read models' snapshot is written.
type SnapshotConfig struct {
	// Disabled: never write nor load one (every start folds the log).
	Disabled bool
	// Check is how often the server looks whether a snapshot is due; 0
	// means 1 minute.
	Check time.Duration
	// Events: a snapshot is due once this many events were applied since
	// the last one; 0 means 20,000.
	Events uint64
	// MaxAge: a snapshot is due when the last one is older than this and
	// any event was applied since; 0 means 10 minutes.
	MaxAge time.Duration
	// NotAtShutdown: do not write one when Run returns (a quick stop; the
	// next start folds the events since the last one).
	NotAtShutdown bool
}

func (c SnapshotConfig) validate() error {
	if c.Check < 0 || c.MaxAge < 0 {
		return errors.New("server: Snapshots.Check and Snapshots.MaxAge must not be negative")
	}
	return nil
}

func (c SnapshotConfig) withDefaults() SnapshotConfig {
	if c.Check == 0 {
		c.Check = time.Minute
	}
	if c.Events == 0 {
		c.Events = 20000
	}
	if c.MaxAge == 0 {
		c.MaxAge = 10 * time.Minute
	}
	return c
}

// snapState is the snapshot the server restored from or wrote last.
type snapState struct {
	restored    bool
	restoredPos uint64
	// pos is the position of the snapshot on disk (0: none), rec when
	// its event was recorded, gen its key's generation, at when it was
	// written or loaded.
	pos uint64
	rec time.Time
	gen uint64
	at  time.Time
}

// SnapshotStatus says where the read models' snapshot stands.
type SnapshotStatus struct {
	// Restored: this start loaded the read models from a snapshot, of
	// RestoredPosition.
	Restored         bool   `json:"restored"`
	RestoredPosition uint64 `json:"restoredPosition,omitempty"`
	// Position is that of the snapshot on disk (0: none; an erasure
	// destroys it), written (or loaded) at WrittenAt.
	Position  uint64    `json:"position"`
	WrittenAt time.Time `json:"writtenAt,omitzero"`
}

// SnapshotStatus reports the read models' snapshot.
func (s *Server) SnapshotStatus() SnapshotStatus {
	s.snapMu.Lock()
	defer s.snapMu.Unlock()
	st := SnapshotStatus{Restored: s.snap.restored, RestoredPosition: s.snap.restoredPos, Position: s.snap.pos}
	if s.snap.pos > 0 {
		st.WrittenAt = s.snap.at
	}
	return st
}

// WriteSnapshot writes a snapshot of the read models now (when they have
// moved since the last one); Run writes them on its own.
func (s *Server) WriteSnapshot(ctx context.Context) error { return s.writeSnapshot(ctx) }

// snapshotSubjectPrefix names the keystore subjects of snapshot keys
// (reserved, like the blind index's).
const snapshotSubjectPrefix = customer.ReservedIDPrefix + "readmodels-snapshot-"

func snapshotSubject(gen uint64) string { return snapshotSubjectPrefix + strconv.FormatUint(gen, 10) }

// snapshotFile is where the snapshot is kept.
func (s *Server) snapshotFile() string {
	return filepath.Join(s.dir.Path, "snapshots", "readmodels.snap")
}

// newReadModels builds empty read models: the set, the duplicates' blind
// index and the erasure projection.
func (s *Server) newReadModels(ctx context.Context) error {
	var err error
	// The follow-up scheduler, built later, hears the lifecycle's stage
	// changes (entered SILENT → win-back); none come before Run.
	if s.Set, err = readmodels.New(s.policy, func(id string, c lifecycle.StageChange) { s.sched.StageChanged(id, c) }); err != nil {
		return err
	}
	// A merge folds the survivor's union history, read from the log.
	plain, err := readmodels.PlainDecoder()
	if err != nil {
		return err
	}
	s.Set.UseLog(s.dir.Store, plain)
	// The duplicates' blind index, keyed by a secret kept beside the data
	// keys (a reserved subject of the keystore, so it moves with them).
	indexKey, err := s.dir.Keystore.Key(ctx, dupindex.KeySubject, true)
	if err != nil {
		return fmt.Errorf("server: the duplicates index key: %w", err)
	}
	if s.dupes, err = dupindex.New(indexKey, dupindex.Options{GmailDots: true}); err != nil {
		return err
	}
	s.erasure = &erasure.Projection{Keys: s.dir.Vault}
	// Every read model must be one a snapshot can hold (a field the
	// codec cannot write is a programming error, found here by every
	// test that builds a server).
	if _, err := s.Set.SnapshotFingerprint(s.snapshotExtra()...); err != nil {
		return fmt.Errorf("server: read models' snapshot: %w", err)
	}
	return nil
}

// snapshotExtra is the state a snapshot holds besides the set.
func (s *Server) snapshotExtra() []any { return []any{s.dupes, s.erasure} }

// snapshotted names the projections a snapshot holds.
func (s *Server) snapshotted() []string {
	var names []string
	for _, p := range s.Set.Projections() {
		names = append(names, p.Name())
	}
	return append(names, s.dupes.Name(), s.erasure.Name(), snapshotGuardName)
}

// restoreSnapshot loads the snapshot into the new read models when it is
// good; when it is not, the read models stay (or are built again) empty.
func (s *Server) restoreSnapshot(ctx context.Context) error {
	if s.cfg.Snapshots.Disabled {
		return nil
	}
	start := time.Now()
	h, err := s.loadSnapshot(ctx)
	s.destroyOtherSnapshotKeys(ctx, h.Generation)
	var skip *snapshotSkipped
	switch {
	case err == nil:
		s.snap = snapState{restored: true, restoredPos: h.Position, pos: h.Position, rec: h.RecordedAt, gen: h.Generation, at: time.Now()}
		s.log.Info("read models restored from their snapshot", "position", h.Position, "took", time.Since(start))
		return nil
	case errors.As(err, &skip):
		if skip.reason != "" {
			s.log.Info("read models' snapshot not used: folding the log from the start", "reason", skip.reason)
		}
		return nil
	case ctx.Err() != nil:
		return ctx.Err()
	}
	s.log.Warn("read models' snapshot unreadable: folding the log from the start", "err", err)
	// The decode may have filled part of the read models: start afresh.
	return s.newReadModels(ctx)
}

// snapshotSkipped: there is no snapshot, or one this server must not use.
type snapshotSkipped struct{ reason string }

func (e *snapshotSkipped) Error() string { return "snapshot not used: " + e.reason }

// loadSnapshot decodes the snapshot into the read models.
func (s *Server) loadSnapshot(ctx context.Context) (snapfile.Header, error) {
	path := s.snapshotFile()
	h, err := snapfile.ReadHeader(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return h, &snapshotSkipped{}
	case err != nil:
		return snapfile.Header{}, err
	}
	fp, err := s.Set.SnapshotFingerprint(s.snapshotExtra()...)
	if err != nil {
		return h, err
	}
	if fp != h.Fingerprint {
		return h, &snapshotSkipped{"written by another version of kefu or under another lifecycle policy"}
	}
	if err := s.checkSnapshotEvent(ctx, h); err != nil {
		return h, err
	}
	key, err := s.dir.Keystore.Key(ctx, snapshotSubject(h.Generation), false)
	if errors.Is(err, pii.ErrDestroyed) || errors.Is(err, pii.ErrNoKey) {
		return h, &snapshotSkipped{"its key is gone (destroyed by an erasure after it was written)"}
	}
	if err != nil {
		return h, err
	}
	f, err := snapfile.Open(path, key)
	if err != nil {
		return h, err
	}
	defer f.Close()
	return h, s.Set.DecodeSnapshot(f, f.Size, s.snapshotExtra()...)
}

// checkSnapshotEvent checks that the log holds, at the snapshot's
// position, the event the snapshot recorded there.
func (s *Server) checkSnapshotEvent(ctx context.Context, h snapfile.Header) error {
	ev, ok, err := s.eventAt(ctx, eventstore.Position(h.Position))
	switch {
	case err != nil:
		return err
	case !ok:
		return &snapshotSkipped{fmt.Sprintf("the log ends before its position %d (another log?)", h.Position)}
	case [16]byte(ev.ID) != h.EventID:
		return &snapshotSkipped{fmt.Sprintf("the event at its position %d is another (a snapshot of another log)", h.Position)}
	}
	return nil
}

// eventAt reads the event at pos.
func (s *Server) eventAt(ctx context.Context, pos eventstore.Position) (eventstore.Event, bool, error) {
	var out eventstore.Event
	found := false
	if pos == 0 {
		return out, false, nil
	}
	err := s.dir.Store.ReadAll(ctx, pos-1, func(ev eventstore.Event) error {
		out, found = ev, ev.Position == pos
		return eventstore.ErrStop
	})
	if errors.Is(err, eventstore.ErrStop) {
		err = nil
	}
	return out, found, err
}

// destroyOtherSnapshotKeys destroys every snapshot key but keep's (left
// by a crash between writing a snapshot and destroying the old key).
func (s *Server) destroyOtherSnapshotKeys(ctx context.Context, keep uint64) {
	lister, ok := s.dir.Keystore.(interface{ Subjects() []string })
	if !ok {
		return
	}
	for _, sub := range lister.Subjects() {
		if !strings.HasPrefix(sub, snapshotSubjectPrefix) || sub == snapshotSubject(keep) {
			continue
		}
		if err := s.dir.Keystore.Destroy(ctx, sub); err != nil {
			s.log.Warn("an old snapshot key could not be destroyed", "subject", sub, "err", err)
		}
	}
}

// snapshotDue reports whether a snapshot should be written now.
func (s *Server) snapshotDue(applied uint64, now time.Time) bool {
	s.snapMu.Lock()
	defer s.snapMu.Unlock()
	c := s.cfg.Snapshots.withDefaults()
	switch {
	case c.Disabled || applied <= s.snap.pos:
		return false
	case applied-s.snap.pos >= c.Events:
		return true
	}
	return now.Sub(s.snap.at) >= c.MaxAge
}

// appliedPosition is the position the snapshotted read models have
// applied (the guard's, which moves with them).
func (s *Server) appliedPosition() uint64 {
	st, err := s.runtime.Status(context.Background())
	if err != nil {
		return 0
	}
	var p uint64
	for _, x := range st {
		if x.Name == snapshotGuardName {
			p = uint64(x.Checkpoint)
		}
	}
	return p
}

// writeSnapshot writes a snapshot of the read models as they are now,
// holding the runtime still meanwhile; nothing when the one on disk is
// of the same position.
func (s *Server) writeSnapshot(ctx context.Context) error {
	if s.cfg.Snapshots.Disabled {
		return nil
	}
	start := time.Now()
	var size int64
	var pos eventstore.Position
	err := s.runtime.Quiesce(ctx, s.snapshotted(), func(p eventstore.Position, rec time.Time) error {
		pos = p
		s.snapMu.Lock()
		defer s.snapMu.Unlock()
		if uint64(p) == s.snap.pos || p == 0 {
			return nil
		}
		ev, ok, err := s.eventAt(ctx, p)
		if err != nil || !ok {
			return errors.Join(err, fmt.Errorf("server: snapshot: no event at position %d", p))
		}
		fp, err := s.Set.SnapshotFingerprint(s.snapshotExtra()...)
		if err != nil {
			return err
		}
		gen := max(uint64(time.Now().UnixNano()), s.snap.gen+1)
		key, err := s.dir.Keystore.Key(ctx, snapshotSubject(gen), true)
		if err != nil {
			return err
		}
		h := snapfile.Header{Fingerprint: fp, Position: uint64(p), EventID: [16]byte(ev.ID), RecordedAt: rec, Generation: gen}
		size, err = snapfile.Write(s.snapshotFile(), h, key, func(w io.Writer) error {
			_, err := s.Set.EncodeSnapshot(w, s.snapshotExtra()...)
			return err
		})
		clear(key)
		if err != nil {
			_ = s.dir.Keystore.Destroy(context.WithoutCancel(ctx), snapshotSubject(gen))
			return err
		}
		old := s.snap.gen
		s.snap.pos, s.snap.rec, s.snap.gen, s.snap.at = uint64(p), rec, gen, time.Now()
		if old != 0 {
			if err := s.dir.Keystore.Destroy(context.WithoutCancel(ctx), snapshotSubject(old)); err != nil {
				s.log.Warn("the previous snapshot's key could not be destroyed", "err", err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if size > 0 {
		s.log.Info("read models' snapshot written", "position", pos, "bytes", size, "took", time.Since(start))
		s.metrics.snapshots.Observe(time.Since(start).Seconds())
	}
	return nil
}

// snapshotGuardName is the guard's permanent name.
const snapshotGuardName = "readmodels-snapshot-guard"

// snapshotGuard destroys the key of the snapshot on disk when an erasure
// reaches the read models, so that no snapshot holding the erased
// customer's personal data can be opened again.
type snapshotGuard struct{ s *Server }

func (snapshotGuard) Name() string         { return snapshotGuardName }
func (snapshotGuard) Wants(t string) bool  { return t == customer.TypeCustomerErased }
func (snapshotGuard) Digest() (d [32]byte) { return d }
func (g snapshotGuard) Apply(ctx context.Context, _ projections.Decoded) error {
	s := g.s
	s.snapMu.Lock()
	defer s.snapMu.Unlock()
	if s.snap.gen == 0 {
		return nil
	}
	if err := s.dir.Keystore.Destroy(ctx, snapshotSubject(s.snap.gen)); err != nil {
		return fmt.Errorf("server: destroy the snapshot's key after an erasure: %w", err)
	}
	_ = os.Remove(s.snapshotFile())
	s.log.Info("read models' snapshot destroyed by an erasure; the next one is written soon")
	s.snap.pos, s.snap.gen, s.snap.at = 0, 0, time.Time{}
	return nil
}
