// Package dupindex is the blind index that finds duplicate customers: the
// same person registered from a phone call, a WeChat message and an import.
//
// Each customer's contact details are normalised (Normalize*) and indexed
// as keyed HMAC-SHA256 digests under a server secret kept beside the data
// keys, never as plaintext, so the index says which customers share a
// detail and nothing the log does not. An erased customer's entries are
// removed (crypto-shredding leaves nothing to match); a customer merged
// into another leaves the index (its survivor stands for it) and comes
// back when the merge is undone.
//
// # Details and weights
//
//	reason                  detail                                   weight
//	SAME_WECHAT             WeChat ID, case and spaces ignored        0.90
//	SAME_PHONE              phone in E.164; CN mobiles without +86    0.85
//	SAME_EMAIL              e-mail, case ignored; Gmail dots and
//	                        +suffix ignored (Options.GmailDots)       0.85
//	SAME_NAME_AND_BIRTHDAY  name (case, spaces ignored) + birthday    0.75
//
// A pair's score is 1 − Π(1 − weight) over the reasons it shares, so two
// reasons score higher than either. A detail shared by more than MaxGroup
// customers (a company switchboard, a placeholder address) is not evidence
// and is left out.
package dupindex

import (
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"hash"
	"maps"
	"slices"
	"strings"
	"sync"
	"unicode"

	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/projections"
)

// Name is the projection's permanent name.
const Name = "duplicates"

// KeySubject is the keystore subject whose key keys the index: reserved
// (customer.ReservedIDPrefix), so no customer's erasure can destroy it.
const KeySubject = customer.ReservedIDPrefix + "blind-index"

// MaxGroup bounds how many customers may share a detail for it to count.
const MaxGroup = 20

// Reasons, in the order a candidate lists them.
const (
	SameWeChat          = "SAME_WECHAT"
	SamePhone           = "SAME_PHONE"
	SameEmail           = "SAME_EMAIL"
	SameNameAndBirthday = "SAME_NAME_AND_BIRTHDAY"
)

var weights = map[string]float64{SameWeChat: 0.90, SamePhone: 0.85, SameEmail: 0.85, SameNameAndBirthday: 0.75}

var reasonOrder = []string{SameWeChat, SamePhone, SameEmail, SameNameAndBirthday}

// Options configures an Index.
type Options struct {
	// GmailDots treats Gmail addresses that differ in dots or a +suffix of
	// the local part as one (Gmail delivers them to one mailbox).
	GmailDots bool
}

// Candidate is a pair of customers that share details.
type Candidate struct {
	Customers [2]string // ascending
	Score     float64
	Reasons   []string
}

// The reasons of a record's digests, in the order Digest hashes them.
const (
	phone = iota
	email
	wechat
	nameBirthday
	nReasons
)

var reasonOf = [nReasons]string{SamePhone, SameEmail, SameWeChat, SameNameAndBirthday}

// record is what the index keeps of a customer: the digest of each
// detail it has, and its normalised name and birthday (a profile update
// of one of them re-digests the pair with the other). The other details
// are not kept: an update replaces them whole. No plaintext but the name
// and birthday, one string; everything else is fixed-size.
type record struct {
	nb      string // name ‖ 0 ‖ birthday
	nameLen int32
	has     uint8 // bit r: digests[r] is an entry
	digests [nReasons]entryDigest
}

func (r *record) name() string     { return r.nb[:r.nameLen] }
func (r *record) birthday() string { return r.nb[r.nameLen+1:] }

// holding is the customers holding an entry whose digest starts with
// one key (mostly one customer; more when they share a detail, or —
// rarely — when two digests share their first 8 bytes: users compare the
// full digests in the customers' records).
type holding struct {
	id   string
	more []string
}

func (h holding) ids() []string {
	if h.id == "" {
		return nil
	}
	return append([]string{h.id}, h.more...)
}

// keyOf is the holders' key of a digest: its first 8 bytes.
func keyOf(d entryDigest) uint64 { return binary.LittleEndian.Uint64(d[:8]) }

// Index is the blind index. It is safe for concurrent use.
type Index struct {
	key  []byte
	opts Options
	mac  hash.Hash

	mu      sync.RWMutex
	of      map[string]record
	parked  map[string]record  // merged customers' records, for an unmerge
	holders map[uint64]holding // keyOf(entry digest) → customers (the reason is part of the digest)
}

// New returns an empty index keyed by key (at least 32 bytes).
func New(key []byte, opts Options) (*Index, error) {
	if len(key) < 32 {
		return nil, errors.New("dupindex: the index key must have at least 32 bytes")
	}
	return &Index{key: slices.Clone(key), opts: opts, of: map[string]record{}, parked: map[string]record{}, holders: map[uint64]holding{}}, nil
}

// Name is the projection's permanent name.
func (x *Index) Name() string { return Name }

// Wants keeps the events that change contact details or membership.
func (x *Index) Wants(t string) bool {
	switch t {
	case customer.TypeCustomerRegistered, customer.TypeProfileUpdated, customer.TypeCustomerErased,
		customer.TypeCustomerMerged, customer.TypeCustomersMergedIn, customer.TypeCustomerUnmerged:
		return true
	}
	return false
}

// Apply folds one customer event.
func (x *Index) Apply(_ context.Context, d projections.Decoded) error {
	id, ok := customerOf(d.Event)
	if !ok || id == "" { // "" marks an empty holding
		return nil
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	switch e := d.Payload.(type) {
	case *customer.CustomerRegistered:
		var r record
		x.detail(&r, phone, NormalizePhone(e.Phone))
		x.detail(&r, email, x.normalizeEmail(e.Email))
		x.detail(&r, wechat, NormalizeWeChat(e.WeChat))
		x.nameBirthday(&r, NormalizeName(e.Name), strings.TrimSpace(e.Birthday))
		x.set(id, r)
	case *customer.ProfileUpdated:
		r := x.of[id]
		if e.Phone != nil {
			x.detail(&r, phone, NormalizePhone(*e.Phone))
		}
		if e.Email != nil {
			x.detail(&r, email, x.normalizeEmail(*e.Email))
		}
		if e.WeChat != nil {
			x.detail(&r, wechat, NormalizeWeChat(*e.WeChat))
		}
		if e.Name != nil || e.Birthday != nil {
			name, birthday := "", ""
			if r.nb != "" {
				name, birthday = r.name(), r.birthday()
			}
			if e.Name != nil {
				name = NormalizeName(*e.Name)
			}
			if e.Birthday != nil {
				birthday = strings.TrimSpace(*e.Birthday)
			}
			x.nameBirthday(&r, name, birthday)
		}
		x.set(id, r)
	case *customer.CustomerErased:
		x.drop(id)
	case *customer.CustomerMerged:
		// Kept aside: an unmerge puts the customer back as it was (a
		// merged customer's details cannot change meanwhile).
		if r, ok := x.of[id]; ok {
			x.parked[id] = r
		}
		x.drop(id)
	case *customer.CustomerUnmerged:
		if r, ok := x.parked[id]; ok {
			delete(x.parked, id)
			x.set(id, r)
		}
	}
	return nil
}

// customerOf is the customer of a customer stream ("customer-<id>").
func customerOf(ev eventstore.Event) (string, bool) {
	return strings.CutPrefix(ev.StreamID, "customer-")
}

// detail sets r's entry of reason to the digest of v (none for "").
func (x *Index) detail(r *record, reason int, v string) {
	if v == "" {
		r.has &^= 1 << reason
		r.digests[reason] = entryDigest{}
		return
	}
	if x.mac == nil {
		x.mac = hmac.New(sha256.New, x.key) // only Apply uses it, under x.mu
	}
	r.has |= 1 << reason
	r.digests[reason] = digest(x.mac, reasonOf[reason], v)
}

// nameBirthday keeps the normalised name and birthday and sets the entry
// of the pair (none unless both are given).
func (x *Index) nameBirthday(r *record, name, birthday string) {
	r.nb, r.nameLen = "", 0
	if name != "" || birthday != "" {
		r.nb, r.nameLen = name+"\x00"+birthday, int32(len(name))
	}
	v := ""
	if name != "" && birthday != "" {
		v = r.nb
	}
	x.detail(r, nameBirthday, v)
}

func (x *Index) set(id string, r record) {
	x.drop(id)
	x.of[id] = r
	for reason := range nReasons {
		if r.has&(1<<reason) != 0 {
			k := keyOf(r.digests[reason])
			h := x.holders[k]
			if h.id == "" {
				h.id = id
			} else {
				h.more = append(h.more, id)
			}
			x.holders[k] = h
		}
	}
}

// entryDigest is an entry's HMAC-SHA256 truncated to 128 bits (enough
// to tell details apart among billions; half the bytes per entry).
type entryDigest [16]byte

// digest is the entry of one detail: HMAC(key, reason ‖ 0 ‖ value),
// truncated.
func digest(mac hash.Hash, reason, v string) entryDigest {
	mac.Reset()
	mac.Write([]byte(reason))
	mac.Write([]byte{0})
	mac.Write([]byte(v))
	var full [sha256.Size]byte
	var d entryDigest
	copy(d[:], mac.Sum(full[:0]))
	return d
}

func (x *Index) drop(id string) {
	r, ok := x.of[id]
	if !ok {
		return
	}
	for reason := range nReasons {
		if r.has&(1<<reason) == 0 {
			continue
		}
		k := keyOf(r.digests[reason])
		ids := slices.DeleteFunc(x.holders[k].ids(), func(s string) bool { return s == id })
		if len(ids) == 0 {
			delete(x.holders, k)
		} else {
			x.holders[k] = holding{id: ids[0], more: slices.Clip(ids[1:])}
		}
	}
	delete(x.of, id)
}

// Candidates returns the pairs scoring at least minScore, best first
// (then by the pair's IDs).
func (x *Index) Candidates(minScore float64) []Candidate {
	x.mu.RLock()
	shared := map[[2]string]map[string]bool{}
	for k, h := range x.holders {
		if len(h.more) == 0 {
			continue
		}
		// The entries under k, by full digest (one, but for a clash of
		// the first 8 bytes).
		type entry struct {
			reason int
			digest entryDigest
		}
		groups := map[entry][]string{}
		for _, id := range h.ids() {
			r := x.of[id]
			for reason := range nReasons {
				if r.has&(1<<reason) != 0 && keyOf(r.digests[reason]) == k {
					e := entry{reason, r.digests[reason]}
					groups[e] = append(groups[e], id)
				}
			}
		}
		for e, ids := range groups {
			if len(ids) < 2 || len(ids) > MaxGroup {
				continue
			}
			slices.Sort(ids)
			for i := range ids {
				for j := i + 1; j < len(ids); j++ {
					k := [2]string{ids[i], ids[j]}
					if shared[k] == nil {
						shared[k] = map[string]bool{}
					}
					shared[k][reasonOf[e.reason]] = true
				}
			}
		}
	}
	x.mu.RUnlock()
	var out []Candidate
	for pair, rs := range shared {
		c := Candidate{Customers: pair, Score: 1}
		for _, r := range reasonOrder {
			if rs[r] {
				c.Reasons = append(c.Reasons, r)
				c.Score *= 1 - weights[r]
			}
		}
		c.Score = 1 - c.Score
		if c.Score >= minScore {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b Candidate) int {
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Customers[0], b.Customers[0]); c != 0 {
			return c
		}
		return cmp.Compare(a.Customers[1], b.Customers[1])
	})
	return out
}

// Lookup returns the customers whose phone, e-mail or WeChat ID equals s
// once normalised (an exact-detail search in O(1)).
func (x *Index) Lookup(s string) []string {
	x.mu.RLock()
	defer x.mu.RUnlock()
	found := map[string]bool{}
	for _, probe := range []struct {
		reason int
		v      string
	}{
		{phone, NormalizePhone(s)}, {email, x.normalizeEmail(s)}, {wechat, NormalizeWeChat(s)},
	} {
		if probe.v == "" {
			continue
		}
		d := digest(hmac.New(sha256.New, x.key), reasonOf[probe.reason], probe.v)
		for _, id := range x.holders[keyOf(d)].ids() {
			if r := x.of[id]; r.has&(1<<probe.reason) != 0 && r.digests[probe.reason] == d {
				found[id] = true
			}
		}
	}
	return slices.Sorted(maps.Keys(found))
}

// Digest hashes the entries (customer, reason, digest), sorted.
func (x *Index) Digest() [32]byte {
	x.mu.RLock()
	defer x.mu.RUnlock()
	ids := make([]string, 0, len(x.of))
	for id := range x.of {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	h := sha256.New()
	for _, id := range ids {
		r := x.of[id]
		for reason := range nReasons {
			if r.has&(1<<reason) != 0 {
				h.Write([]byte(id))
				h.Write([]byte{0})
				h.Write([]byte(reasonOf[reason]))
				h.Write(r.digests[reason][:])
			}
		}
	}
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}

// NormalizePhone is a phone number in E.164 (+<country><number>): spaces,
// dashes, dots and brackets dropped, 00 read as +, and a Chinese mobile
// number (11 digits from 1) given without its country code taken as +86.
// It is "" for something that is not a phone number.
func NormalizePhone(s string) string {
	var b strings.Builder
	plus := false
	for i, r := range strings.TrimSpace(s) {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && i == 0:
			plus = true
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')':
		default:
			return ""
		}
	}
	d := b.String()
	switch {
	case plus:
	case strings.HasPrefix(d, "00"):
		d = d[2:]
	case len(d) == 11 && d[0] == '1':
		d = "86" + d
	case len(d) == 13 && strings.HasPrefix(d, "86"):
	default:
		if len(d) < 6 {
			return ""
		}
		return d // a local number: compared as it is
	}
	if len(d) < 6 {
		return ""
	}
	return "+" + d
}

func (x *Index) normalizeEmail(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" || domain == "" {
		return ""
	}
	if x.opts.GmailDots && (domain == "gmail.com" || domain == "googlemail.com") {
		local, _, _ = strings.Cut(local, "+")
		local = strings.ReplaceAll(local, ".", "")
		domain = "gmail.com"
	}
	return local + "@" + domain
}

// NormalizeWeChat is a WeChat ID with case and spaces ignored.
func NormalizeWeChat(s string) string {
	return strings.ToLower(strings.Join(strings.Fields(s), ""))
}

// NormalizeName is a name with case and white space ignored.
func NormalizeName(s string) string {
	var b strings.Builder
	for _, r := range s {
		if !unicode.IsSpace(r) {
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}
