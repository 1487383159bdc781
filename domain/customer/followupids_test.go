package customer_test

import (
	"strings"
	"testing"
	"time"

	"github.com/kefu-crm/kefu/domain/customer"
)

func TestFollowUpIDs(t *testing.T) {
	long := strings.Repeat("x", 60)
	at := time.Date(2025, 3, 4, 10, 0, 0, 0, time.FixedZone("CST", 8*3600))
	tests := []struct {
		name, got, want string
	}{
		{"recovery", customer.RecoveryFollowUpID("cp-17", 2), "fu-cp-17-2"},
		{"retry", customer.RetryFollowUpID("fu-cp-17-2", 1), "fu-cp-17-2.r1"},
		{"win-back in UTC", customer.WinBackFollowUpID("c000042", at), "wb-c000042-20250304T020000Z"},
		{"holiday by key", customer.HolidayFollowUpID("c000042", "CN:spring_festival", 2026), "hol-c000042-spring_festival-2026"},
		{"holiday by name", customer.HolidayFollowUpID("c000042", "national_day", 2025), "hol-c000042-national_day-2025"},
		{"replenishment by purchase day", customer.ReplenishmentFollowUpID("c000042", "rice", at), "rp-c000042-20250304-209f7641"},
		{"long is hashed", customer.RecoveryFollowUpID(long, 1), "fu-h" + customer.RecoveryFollowUpID(long, 1)[4:]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Fatalf("got %q, want %q", tt.got, tt.want)
			}
			if !customer.ValidID(tt.got) {
				t.Fatalf("%q is not a valid ID", tt.got)
			}
		})
	}
	if a, b := customer.ReplenishmentFollowUpID("c1", "rice", at), customer.ReplenishmentFollowUpID("c1", "cooking oil", at); a == b {
		t.Fatalf("replenishment IDs of two categories collide: %q", a)
	}
	if a, b := customer.RecoveryFollowUpID(long, 1), customer.RecoveryFollowUpID(long, 2); a == b || len(a) > 64 {
		t.Fatalf("hashed IDs %q and %q: want distinct, ≤ 64 characters", a, b)
	}
	if a, b := customer.RecoveryFollowUpID(long, 1), customer.RecoveryFollowUpID(long, 1); a != b {
		t.Fatalf("hashed ID not deterministic: %q vs %q", a, b)
	}
}

func TestParseRetryFollowUpID(t *testing.T) {
	long := "fu-" + strings.Repeat("y", 61)
	tests := []struct {
		id       string
		original string
		try      int
		ok       bool
	}{
		{customer.RetryFollowUpID("fu-cp-1-1", 1), "fu-cp-1-1", 1, true},
		{customer.RetryFollowUpID("fu-cp-1-1", 12), "fu-cp-1-1", 12, true},
		{"fu-cp-1-1", "", 0, false},
		{"x.r", "", 0, false},
		{"x.r0", "", 0, false},
		{"x.r01", "", 0, false},
		{"x.rx", "", 0, false},
		{".r1", "", 0, false},
		{"x.r12345", "", 0, false},
	}
	for _, tt := range tests {
		o, n, ok := customer.ParseRetryFollowUpID(tt.id)
		if o != tt.original || n != tt.try || ok != tt.ok {
			t.Errorf("ParseRetryFollowUpID(%q) = %q, %d, %v; want %q, %d, %v", tt.id, o, n, ok, tt.original, tt.try, tt.ok)
		}
	}
	// A long ID keeps its suffix: the next try derives from the parsed
	// original and stays valid.
	r1 := customer.RetryFollowUpID(long, 1)
	o, n, ok := customer.ParseRetryFollowUpID(r1)
	if !ok || n != 1 || !customer.ValidID(r1) {
		t.Fatalf("long retry %q: parsed %q %d %v", r1, o, n, ok)
	}
	r2 := customer.RetryFollowUpID(o, 2)
	if o2, n2, ok := customer.ParseRetryFollowUpID(r2); !ok || o2 != o || n2 != 2 || !customer.ValidID(r2) {
		t.Fatalf("second try %q: parsed %q %d %v, want %q 2", r2, o2, n2, ok, o)
	}
}
