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
	if a, b := customer.RecoveryFollowUpID(long, 1), customer.RecoveryFollowUpID(long, 2); a == b || len(a) > 64 {
		t.Fatalf("hashed IDs %q and %q: want distinct, ≤ 64 characters", a, b)
	}
	if a, b := customer.RecoveryFollowUpID(long, 1), customer.RecoveryFollowUpID(long, 1); a != b {
		t.Fatalf("hashed ID not deterministic: %q vs %q", a, b)
	}
}
