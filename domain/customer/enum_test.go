package customer_test

import (
	"errors"
	"testing"

	"github.com/kefu-crm/kefu/domain/aggregate"
	"github.com/kefu-crm/kefu/domain/customer"
)

// The value lists are shared by every parse: a caller that changes the
// slice it was given must not change what parses.
func TestEnumValueListsCannotBeChangedFromOutside(t *testing.T) {
	tiers := customer.Tiers()
	tiers[0] = customer.TierVIP
	if got := customer.Tiers()[0]; got != customer.TierStandard {
		t.Fatalf("Tiers()[0] after a caller changed its copy = %v, want STANDARD", got)
	}
	if v, err := customer.ParseTier("STANDARD"); err != nil || v != customer.TierStandard {
		t.Fatalf("ParseTier(STANDARD) = %v, %v", v, err)
	}
	chs := customer.Channels()
	chs = append(chs[:0], customer.ChannelSMS)
	if got := customer.Channels(); len(got) != 7 || got[0] != customer.ChannelPhone {
		t.Fatalf("Channels() after a caller reused its copy = %v", got)
	}
	_ = chs
}

func TestParseEnums(t *testing.T) {
	tests := []struct {
		name  string
		parse func(string) (string, error)
		ok    []string
	}{
		{"tier", wrap(customer.ParseTier), []string{"STANDARD", "GOLD", "VIP"}},
		{"channel", wrap(customer.ParseChannel), []string{"PHONE", "VISIT", "LETTER", "EMAIL", "CHAT", "WECHAT", "SMS"}},
		{"direction", wrap(customer.ParseDirection), []string{"INBOUND", "OUTBOUND"}},
		{"severity", wrap(customer.ParseSeverity), []string{"GENERAL", "MAJOR"}},
		{"outcome", wrap(customer.ParseOutcome), []string{"SATISFIED", "UNSATISFIED"}},
		{"step", wrap(customer.ParseRecoveryStep), []string{"APOLOGY", "URGENT_RESTORATION", "EMPATHY", "SYMBOLIC_ATONEMENT", "FOLLOW_UP"}},
		{"reason", wrap(customer.ParseFollowUpReason), []string{"RECOVERY", "HOLIDAY", "WIN_BACK", "ROUTINE", "REPLENISHMENT"}},
		{"follow-up outcome", wrap(customer.ParseFollowUpOutcome), []string{"SATISFIED", "UNSATISFIED", "NO_ANSWER"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, s := range tt.ok {
				// given a declared value, when parsed, then it round-trips
				if got, err := tt.parse(s); err != nil || got != s {
					t.Errorf("parse(%q) = %q, %v", s, got, err)
				}
			}
			// given an undeclared value, then an InvalidInputError
			for _, s := range []string{"", "gold", "UNKNOWN"} {
				var inv *aggregate.InvalidInputError
				if _, err := tt.parse(s); !errors.As(err, &inv) {
					t.Errorf("parse(%q): %v, want *InvalidInputError", s, err)
				}
			}
		})
	}
}

func wrap[E interface{ String() string }](f func(string) (E, error)) func(string) (string, error) {
	return func(s string) (string, error) {
		v, err := f(s)
		return v.String(), err
	}
}

func TestParseEnumDoesNotAllocate(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation count")
	}
	n := testing.AllocsPerRun(100, func() {
		if _, err := customer.ParseChannel("SMS"); err != nil {
			t.Fatal(err)
		}
	})
	if n != 0 {
		t.Fatalf("ParseChannel allocates %v times per call, want 0", n)
	}
}
