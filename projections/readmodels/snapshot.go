package readmodels

import (
	"crypto/sha256"
	"fmt"
	"io"

	"github.com/kefu-crm/kefu/internal/statecodec"
)

// SnapshotVersion versions what the read models compute. Bump it with any
// change to a fold that leaves the read models' types as they were (a
// change of types is caught by the fingerprint on its own): a snapshot of
// another version is not loaded, and the set is rebuilt from the log.
const SnapshotVersion = 1

// snapshotRoots is the state a snapshot holds, in order: every read
// model, the lifecycle's position, then extra.
func (s *Set) snapshotRoots(extra []any) []any {
	return append([]any{s.Customers, s.Complaints, s.FollowUps, s.Lifecycle, s.Loyalty, s.Campaigns,
		s.Surveys, s.Transitions, s.PurchaseDays, s.Replenish, s.Churn, &s.lifePos}, extra...)
}

// SnapshotFingerprint identifies what a snapshot of the set (with extra,
// the caller's other read models) must have been written by: the layout
// of every type in it, SnapshotVersion and the lifecycle policy. Only a
// snapshot with the same fingerprint is loaded.
func (s *Set) SnapshotFingerprint(extra ...any) ([32]byte, error) {
	layout, err := statecodec.Fingerprint(s.snapshotRoots(extra)...)
	if err != nil {
		return [32]byte{}, err
	}
	return sha256.Sum256(fmt.Appendf(nil, "%x|%d|%+v", layout, SnapshotVersion, s.policy)), nil
}

// EncodeSnapshot writes the state of the set and of extra to w and
// returns the bytes written. Nothing may apply an event or move the
// clock meanwhile (the caller holds the runtime still — Runtime.Quiesce —
// and is the goroutine that advances the clock); queries may run.
func (s *Set) EncodeSnapshot(w io.Writer, extra ...any) (int64, error) {
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	e := statecodec.NewEncoder(w)
	err := e.Encode(s.snapshotRoots(extra)...)
	return e.Written(), err
}

// DecodeSnapshot replaces the state of a new set (and of extra) with a
// snapshot of size bytes that EncodeSnapshot wrote under the same
// fingerprint. On an error the set and extra are in an unknown state:
// throw them away and build new ones.
func (s *Set) DecodeSnapshot(r io.Reader, size int64, extra ...any) error {
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	d := statecodec.NewDecoder(r, size)
	if err := d.Decode(s.snapshotRoots(extra)...); err != nil {
		return err
	}
	if !d.AtEnd() {
		return fmt.Errorf("%w: bytes after the last read model", statecodec.ErrCorrupt)
	}
	// The states were computed under the churn model the snapshot holds.
	s.Lifecycle.RestoreChurn(s.Churn.View())
	return nil
}
