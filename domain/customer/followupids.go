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
// the original follow-up's ID with the next try number (see
// ParseRetryFollowUpID). A followUpID too long to take the suffix is
// shortened first, so the suffix always survives.
func RetryFollowUpID(followUpID string, try int) string {
	suffix := ".r" + strconv.Itoa(try)
	return boundedIDTo(followUpID, maxIDLen-len(suffix)) + suffix
}

// ParseRetryFollowUpID splits an ID made by RetryFollowUpID into the
// follow-up it retries (as shortened by RetryFollowUpID) and the try
// number; ok is false for any other ID. An ID chosen by hand that happens
// to end in ".r<digits>" reads as a retry too.
func ParseRetryFollowUpID(id string) (original string, try int, ok bool) {
	i := strings.LastIndex(id, ".r")
	if i <= 0 || i+2 == len(id) || len(id)-i-2 > 4 {
		return "", 0, false
	}
	n := 0
	for _, b := range []byte(id[i+2:]) {
		if b < '0' || b > '9' {
			return "", 0, false
		}
		n = n*10 + int(b-'0')
	}
	if n < 1 || id[i+2] == '0' {
		return "", 0, false
	}
	return id[:i], n, true
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

// ReplenishmentFollowUpID is the ID of the replenishment call (补货提醒)
// for the customer's purchase cycle of an item category that began with
// the purchase day lastPurchase: "rp-<customerID>-<YYYYMMDD>-<8 hex of
// the category's SHA-256>" (a category is free text, so it is hashed to
// fit the ID syntax). A later purchase of the category starts a new cycle
// and a new ID; a prediction that moves within one cycle keeps the ID.
func ReplenishmentFollowUpID(customerID, category string, lastPurchase time.Time) string {
	sum := sha256.Sum256([]byte(category))
	return boundedID("rp-" + customerID + "-" + lastPurchase.UTC().Format("20060102") + "-" + hex.EncodeToString(sum[:4]))
}

const maxIDLen = 64

// boundedID returns id when ValidID's length allows it, else a shortened
// form (see boundedIDTo).
func boundedID(id string) string { return boundedIDTo(id, maxIDLen) }

// boundedIDTo returns id when it is at most limit characters, else its
// prefix up to the first '-' (at most 8 characters), "-h" and as many hex
// digits of its SHA-256 as fit (at most 40).
func boundedIDTo(id string, limit int) string {
	if len(id) <= limit {
		return id
	}
	prefix, _, _ := strings.Cut(id, "-")
	if len(prefix) > 8 {
		prefix = prefix[:8]
	}
	sum := sha256.Sum256([]byte(id))
	h := hex.EncodeToString(sum[:20])
	if n := limit - len(prefix) - 2; n < len(h) {
		h = h[:n]
	}
	return prefix + "-h" + h
}
