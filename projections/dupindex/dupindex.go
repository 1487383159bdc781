// Package dupindex is the blind index that finds duplicate customers: the
// same person registered from a phone call, a WeChat message and an import.
//
// Each customer's contact details are normalised (Normalize*) and indexed
// as keyed HMAC-SHA256 digests under a server secret kept beside the data
// keys, never as plaintext, so the index says which customers share a
// detail and nothing the log does not. An erased customer's entries are
// removed (crypto-shredding leaves nothing to match), with those of the
// customers merged into it. A customer merged into another stands in the
// index as its survivor: the survivor's entries are its own details (with
// the profile fields the merge took) and those of every customer merged
// into it, through chains of merges, so the merged customer's phone or
// e-mail finds the survivor and a later registration sharing them is a
// candidate with the survivor. An unmerge gives the restored customer its
// own entries back.
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

// Options are the options the index was built with.
func (x *Index) Options() Options { return x.opts }

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

type entry struct {
	reason string
	digest [32]byte
}

// details are a customer's normalised details (in memory only, like the
// customers read model's profile).
type details struct {
	phone, email, wechat, name, birthday string
}

// Index is the blind index. It is safe for concurrent use.
type Index struct {
	// key, opts and mac are set by New and left out of snapshots (the
	// key never leaves the keystore).
	key  []byte    `snapshot:"-"`
	opts Options   `snapshot:"-"`
	mac  hash.Hash `snapshot:"-"`

	mu      sync.RWMutex
	of      map[string]details
	parked  map[string]details  // merged customers' own details
	members map[string][]string // survivor → the customers merged into it now
	into    map[string]string   // merged customer → its survivor
	entries map[string][]entry  // customer → its entries
	holders map[entry][]string  // entry → customers (mostly one)
}

// New returns an empty index keyed by key (at least 32 bytes).
func New(key []byte, opts Options) (*Index, error) {
	if len(key) < 32 {
		return nil, errors.New("dupindex: the index key must have at least 32 bytes")
	}
	return &Index{key: slices.Clone(key), opts: opts, of: map[string]details{}, parked: map[string]details{},
		members: map[string][]string{}, into: map[string]string{}, entries: map[string][]entry{}, holders: map[entry][]string{}}, nil
}

// Name is the projection's permanent name.
func (x *Index) Name() string { return Name }

// Wants keeps the events that change contact details or membership.
func (x *Index) Wants(t string) bool {
	switch t {
	case customer.TypeCustomerRegistered, customer.TypeProfileUpdated, customer.TypeCustomerErased,
		customer.TypeCustomerMerged, customer.TypeCustomersMergedIn, customer.TypeCustomerUnmerged, customer.TypeCustomersUnmerged:
		return true
	}
	return false
}

// Apply folds one customer event.
func (x *Index) Apply(_ context.Context, d projections.Decoded) error {
	id, ok := customerOf(d.Event)
	if !ok {
		return nil
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	switch e := d.Payload.(type) {
	case *customer.CustomerRegistered:
		x.of[id] = details{phone: NormalizePhone(e.Phone), email: x.normalizeEmail(e.Email), wechat: NormalizeWeChat(e.WeChat),
			name: NormalizeName(e.Name), birthday: strings.TrimSpace(e.Birthday)}
		x.reindex(id)
	case *customer.ProfileUpdated:
		x.update(id, e)
	case *customer.CustomerErased:
		x.erase(id)
	case *customer.CustomerMerged:
		// Kept aside: the survivor stands for it, and an unmerge puts it
		// back as it was (a merged customer's details cannot change
		// meanwhile).
		if d, ok := x.of[id]; ok {
			x.parked[id] = d
			delete(x.of, id)
		}
		x.drop(id)
		x.join(id, e.Into)
	case *customer.CustomersMergedIn:
		p := e.Profile()
		x.update(id, &p)
		for _, from := range e.From {
			x.join(from, id)
		}
	case *customer.CustomersUnmerged:
		for _, r := range e.IDs {
			x.leave(r, id)
		}
	case *customer.CustomerUnmerged:
		x.leave(id, e.From)
		if d, ok := x.parked[id]; ok {
			delete(x.parked, id)
			x.of[id] = d
			x.reindex(id)
		}
	}
	return nil
}

// update applies a profile change to a customer's own details.
func (x *Index) update(id string, e *customer.ProfileUpdated) {
	dt, ok := x.of[id]
	if !ok {
		return // erased, or merged (its details cannot change)
	}
	if e.Phone != nil {
		dt.phone = NormalizePhone(*e.Phone)
	}
	if e.Email != nil {
		dt.email = x.normalizeEmail(*e.Email)
	}
	if e.WeChat != nil {
		dt.wechat = NormalizeWeChat(*e.WeChat)
	}
	if e.Name != nil {
		dt.name = NormalizeName(*e.Name)
	}
	if e.Birthday != nil {
		dt.birthday = strings.TrimSpace(*e.Birthday)
	}
	x.of[id] = dt
	x.reindex(id)
}

// join records that merged is merged into survivor, which then stands for
// it (and for whatever is merged into it).
func (x *Index) join(merged, survivor string) {
	if merged == survivor {
		return
	}
	x.into[merged] = survivor
	if !slices.Contains(x.members[survivor], merged) {
		x.members[survivor] = append(x.members[survivor], merged)
	}
	x.reindex(x.top(survivor))
}

// leave undoes join.
func (x *Index) leave(merged, survivor string) {
	if x.into[merged] == survivor {
		delete(x.into, merged)
	}
	x.members[survivor] = slices.DeleteFunc(x.members[survivor], func(m string) bool { return m == merged })
	if len(x.members[survivor]) == 0 {
		delete(x.members, survivor)
	}
	x.reindex(x.top(survivor))
}

// erase forgets a customer's details and those of every customer merged
// into it (their keys are destroyed with its own).
func (x *Index) erase(id string) {
	var forget func(id string, depth int)
	forget = func(id string, depth int) {
		if depth > 64 {
			return
		}
		for _, m := range x.members[id] {
			forget(m, depth+1)
			delete(x.into, m)
		}
		delete(x.members, id)
		delete(x.parked, id)
		delete(x.of, id)
		x.drop(id)
	}
	forget(id, 0)
	if s, ok := x.into[id]; ok {
		// A merged customer erased on its own (logs from before that was
		// refused): its survivor no longer stands for its details.
		x.reindex(x.top(s))
	}
}

// top is the customer that stands for id in the index: id, or the
// survivor it is merged into, through a chain of merges.
func (x *Index) top(id string) string {
	for range 64 { // merges cannot cycle; bound the walk all the same
		s, ok := x.into[id]
		if !ok {
			return id
		}
		id = s
	}
	return id
}

// customerOf is the customer of a customer stream ("customer-<id>").
func customerOf(ev eventstore.Event) (string, bool) {
	return strings.CutPrefix(ev.StreamID, "customer-")
}

// reindex recomputes the entries of a customer that stands in the index:
// its own details and those of the customers merged into it (nothing for
// a customer merged into another, or erased).
func (x *Index) reindex(id string) {
	x.drop(id)
	d, ok := x.of[id]
	if !ok {
		return
	}
	if x.mac == nil {
		x.mac = hmac.New(sha256.New, x.key) // only reindex uses it, under x.mu
	}
	es := make([]entry, 0, 4)
	add := func(reason, v string) {
		if v == "" {
			return
		}
		if e := digest(x.mac, reason, v); !slices.Contains(es, e) {
			es = append(es, e)
		}
	}
	var walk func(d details, id string, depth int)
	walk = func(d details, id string, depth int) {
		add(SamePhone, d.phone)
		add(SameEmail, d.email)
		add(SameWeChat, d.wechat)
		if d.name != "" && d.birthday != "" {
			add(SameNameAndBirthday, d.name+"\x00"+d.birthday)
		}
		if depth > 64 {
			return
		}
		for _, m := range x.members[id] {
			walk(x.parked[m], m, depth+1)
		}
	}
	walk(d, id, 0)
	x.entries[id] = es
	for _, e := range es {
		x.holders[e] = append(x.holders[e], id)
	}
}

// digest is the entry of one detail: HMAC(key, reason ‖ 0 ‖ value).
func digest(mac hash.Hash, reason, v string) entry {
	mac.Reset()
	mac.Write([]byte(reason))
	mac.Write([]byte{0})
	mac.Write([]byte(v))
	e := entry{reason: reason}
	mac.Sum(e.digest[:0])
	return e
}

func (x *Index) drop(id string) {
	for _, e := range x.entries[id] {
		h := slices.DeleteFunc(x.holders[e], func(s string) bool { return s == id })
		if len(h) == 0 {
			delete(x.holders, e)
		} else {
			x.holders[e] = h
		}
	}
	delete(x.entries, id)
}

// Candidates returns the pairs scoring at least minScore, best first
// (then by the pair's IDs).
func (x *Index) Candidates(minScore float64) []Candidate {
	x.mu.RLock()
	shared := map[[2]string]map[string]bool{}
	for e, h := range x.holders {
		if len(h) < 2 || len(h) > MaxGroup {
			continue
		}
		ids := slices.Sorted(slices.Values(h))
		for i := range ids {
			for j := i + 1; j < len(ids); j++ {
				k := [2]string{ids[i], ids[j]}
				if shared[k] == nil {
					shared[k] = map[string]bool{}
				}
				shared[k][e.reason] = true
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
	for _, probe := range []struct{ reason, v string }{
		{SamePhone, NormalizePhone(s)}, {SameEmail, x.normalizeEmail(s)}, {SameWeChat, NormalizeWeChat(s)},
	} {
		if probe.v == "" {
			continue
		}
		for _, id := range x.holders[digest(hmac.New(sha256.New, x.key), probe.reason, probe.v)] {
			found[id] = true
		}
	}
	return slices.Sorted(maps.Keys(found))
}

// Digest hashes the entries (customer, reason, digest), sorted.
func (x *Index) Digest() [32]byte {
	x.mu.RLock()
	defer x.mu.RUnlock()
	ids := make([]string, 0, len(x.entries))
	for id := range x.entries {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	h := sha256.New()
	for _, id := range ids {
		for _, e := range x.entries[id] {
			h.Write([]byte(id))
			h.Write([]byte{0})
			h.Write([]byte(e.reason))
			h.Write(e.digest[:])
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
