package customer

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"time"
)

// Deterministic follow-up IDs. Whoever plans a follow-up from history — the
// follow-up scheduler, the seed, an import — derives its ID here, so a
// replay, a restart or a rebuild plans the same ID again and the aggregate
// refuses it as a duplicate instead of queueing it twice.
//
// The IDs are unique across customers as well as within one (the
// follow-ups read model finds a follow-up by its ID alone): recovery IDs
// embed the complaint ID, the others the customer ID. An ID that would be
// longer than ValidID allows is shortened to its prefix and a hash of the
// whole, which is just as deterministic.

// RecoveryFollowUpID is the ID of the n-th (1-based) recovery follow-up
// planned for a complaint: "fu-<complaintID>-<n>". A SATISFIED resolution
// plans n = 1 (+3 days) and n = 2 (+30 days), an UNSATISFIED one n = 1; a
// complaint reopened and resolved again continues the numbering.
func RecoveryFollowUpID(complaintID string, n int) string {
	return boundedID("fu-" + complaintID + "-" + strconv.Itoa(n))
}

// RetryFollowUpID is the ID of the try-th (1-based) extra try of the
// follow-up followUpID, planned when that follow-up was completed
// UNSATISFIED or NO_ANSWER: "<followUpID>.r<try>". Retries of a retry use
// the original follow-up's ID with the next try number.
func RetryFollowUpID(followUpID string, try int) string {
	return boundedID(followUpID + ".r" + strconv.Itoa(try))
}

// WinBackFollowUpID is the ID of the win-back follow-up planned when the
// customer entered SILENT at silentSince: "wb-<customerID>-<UTC instant>".
// A customer who goes silent again later gets a new one.
func WinBackFollowUpID(customerID string, silentSince time.Time) string {
	return boundedID("wb-" + customerID + "-" + silentSince.UTC().Format("20060102T150405Z"))
}

// HolidayFollowUpID is the ID of the holiday follow-up of a recently
// recovered customer for one occurrence of a holiday, named by the
// occasion part of its calendar key ("spring_festival" of
// "CN:spring_festival") and the year: "hol-<customerID>-<occasion>-<year>".
func HolidayFollowUpID(customerID, occasion string, year int) string {
	if _, name, ok := strings.Cut(occasion, ":"); ok {
		occasion = name
	}
	return boundedID("hol-" + customerID + "-" + occasion + "-" + strconv.Itoa(year))
}

// boundedID returns id when it is at most 64 characters, else its prefix
// up to the first '-' and 40 hex digits of its SHA-256.
func boundedID(id string) string {
	if len(id) <= 64 {
		return id
	}
	prefix, _, _ := strings.Cut(id, "-")
	sum := sha256.Sum256([]byte(id))
	return prefix + "-h" + hex.EncodeToString(sum[:20])
}
