package lifecycle_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/kefu-crm/kefu/projections/lifecycle"
)

func TestDefaultPolicyIsValid(t *testing.T) {
	if err := lifecycle.DefaultPolicy().Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestLoadPolicy(t *testing.T) {
	tests := []struct {
		name      string
		json      string
		wantField string // "" = no error
		check     func(lifecycle.Policy) bool
	}{
		{"empty object keeps defaults", `{}`, "", func(p lifecycle.Policy) bool { return p == lifecycle.DefaultPolicy() }},
		{"overrides one threshold", `{"silentAfterDays": 14}`, "", func(p lifecycle.Policy) bool {
			return p.SilentAfterDays == 14 && p.LostAfterSilentDays == 60
		}},
		{"unknown field", `{"silentAfterDays": 14, "silentAfterDay": 3}`, "silentAfterDay", nil},
		{"negative threshold", `{"lostAfterSilentDays": -5}`, "lostAfterSilentDays", nil},
		{"zero threshold", `{"loyalPurchaseDays": 0}`, "loyalPurchaseDays", nil},
		{"probability out of range", `{"dormantBelowPAlive": 1.5}`, "dormantBelowPAlive", nil},
		{"lost above dormant", `{"lostBelowPAlive": 0.4}`, "lostBelowPAlive", nil},
		{"wrong type", `{"silentAfterDays": "thirty"}`, "silentAfterDays", nil},
		{"trailing data", `{} {}`, "(document)", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := lifecycle.LoadPolicy(strings.NewReader(tt.json))
			if tt.wantField == "" {
				if err != nil {
					t.Fatal(err)
				}
				if !tt.check(p) {
					t.Errorf("policy %+v", p)
				}
				return
			}
			if !errors.Is(err, lifecycle.ErrInvalidPolicy) {
				t.Fatalf("err = %v, want ErrInvalidPolicy", err)
			}
			var pe *lifecycle.PolicyError
			if !errors.As(err, &pe) || pe.Field != tt.wantField {
				t.Fatalf("err = %v, want a PolicyError naming %q", err, tt.wantField)
			}
			if !strings.Contains(err.Error(), tt.wantField) {
				t.Errorf("message %q does not name %q", err, tt.wantField)
			}
		})
	}
}

func TestValidateReportsEveryField(t *testing.T) {
	err := lifecycle.Policy{}.Validate()
	for _, field := range []string{"newBelowPurchases", "loyalPurchaseDays", "loyalWindowDays", "silentAfterDays",
		"lostAfterSilentDays", "dormantMinFitted", "satisfiedScore", "dormantBelowPAlive", "lostBelowPAlive"} {
		if err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("Validate of the zero policy does not name %s: %v", field, err)
		}
	}
}

func TestStageAtRejectsInvalidPolicy(t *testing.T) {
	p := lifecycle.DefaultPolicy()
	p.SilentAfterDays = -1
	if _, err := lifecycle.StageAt(nil, t0, p, nil); !errors.Is(err, lifecycle.ErrInvalidPolicy) {
		t.Fatalf("err = %v", err)
	}
	if _, err := lifecycle.New(lifecycle.Config{Policy: p}); !errors.Is(err, lifecycle.ErrInvalidPolicy) {
		t.Fatalf("New err = %v", err)
	}
}

func TestParseStage(t *testing.T) {
	for _, s := range lifecycle.Stages() {
		got, err := lifecycle.ParseStage(s.String())
		if err != nil || got != s {
			t.Errorf("ParseStage(%q) = %v, %v", s, got, err)
		}
	}
	if _, err := lifecycle.ParseStage("GONE"); !errors.Is(err, lifecycle.ErrUnknownStage) {
		t.Errorf("err = %v", err)
	}
}

func FuzzLoadPolicy(f *testing.F) {
	f.Add(`{}`)
	f.Add(`{"silentAfterDays": 14, "dormantBelowPAlive": 0.2}`)
	f.Add(`{"x": 1}`)
	f.Fuzz(func(t *testing.T, s string) {
		p, err := lifecycle.LoadPolicy(strings.NewReader(s))
		if err != nil {
			if !errors.Is(err, lifecycle.ErrInvalidPolicy) {
				t.Fatalf("error %v does not match ErrInvalidPolicy", err)
			}
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("LoadPolicy accepted an invalid policy: %v", err)
		}
	})
}
