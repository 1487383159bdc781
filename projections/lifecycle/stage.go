package lifecycle

import (
	"fmt"
	"time"

	"github.com/kefu-crm/kefu/domain/stage"
)

// Stage is a customer's lifecycle stage (DESIGN §4). It is a small integer,
// not a string, because the live read model keeps one per customer and
// indexes customers by it; the only values are the constants below, and
// ParseStage is the way in from text. The zero Stage (StageNone) means
// "no stage yet": the customer is not registered.
type Stage uint8

// The stages, in the order the API lists them.
const (
	StageNone Stage = iota
	StageNew
	StageActive
	StageLoyal
	StageGrumbling
	StageComplaining
	StageSilent
	StageDormant
	StageLost
)

// NumStages is one more than the largest Stage, for arrays indexed by Stage.
const NumStages = int(StageLost) + 1

// stageNames are the stages' names: stage.Names() after StageNone's "".
var stageNames = func() [NumStages]string {
	names := stage.Names()
	if len(names) != NumStages-1 {
		panic(fmt.Sprintf("lifecycle: %d stages, %d names", NumStages-1, len(names)))
	}
	var out [NumStages]string
	copy(out[1:], names)
	return out
}()

// String returns the stage's name as written in the API ("SILENT"); the
// zero Stage prints as "".
func (s Stage) String() string {
	if int(s) < NumStages {
		return stageNames[s]
	}
	return fmt.Sprintf("Stage(%d)", uint8(s))
}

// Stages lists every stage except StageNone, in order.
func Stages() []Stage {
	out := make([]Stage, 0, NumStages-1)
	for s := StageNew; int(s) < NumStages; s++ {
		out = append(out, s)
	}
	return out
}

// ParseStage turns a stage name ("SILENT") into a Stage. An unknown name
// gives an error matching ErrUnknownStage.
func ParseStage(name string) (Stage, error) {
	for i, n := range stageNames {
		if i > 0 && n == name {
			return Stage(i), nil
		}
	}
	return StageNone, fmt.Errorf("%w: %q", ErrUnknownStage, name)
}

// MarshalText writes the stage's name.
func (s Stage) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a stage's name; the empty text is StageNone.
func (s *Stage) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*s = StageNone
		return nil
	}
	v, err := ParseStage(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// StageChange is one transition on a customer's timeline: why the stage
// changed, and exactly when. Time-driven changes are dated at the instant
// the threshold was crossed (e.g. the last inbound contact + 30 days), not
// when someone looked.
type StageChange struct {
	// From is the stage before; StageNone for the first change.
	From Stage `json:"from"`
	// To is the stage after.
	To Stage `json:"to"`
	// At is when the change happened.
	At time.Time `json:"at"`
	// Reason says why, for people: "complaint c-17 filed", "no inbound
	// contact for 30 days after complaint c-17", …
	Reason string `json:"reason"`
	// Merge marks the change a merge or unmerge made (Recompose, Retire):
	// the customer's records were joined or parted, nothing happened to
	// the customer (the follow-up scheduler books no win-back for it).
	Merge bool `json:"merge,omitempty"`
}

// String renders the change for logs and test failures.
func (c StageChange) String() string {
	from := c.From.String()
	if from == "" {
		from = "∅"
	}
	return fmt.Sprintf("%s %s→%s (%s)", c.At.UTC().Format(time.RFC3339), from, c.To, c.Reason)
}
