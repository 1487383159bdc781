// Package pii protects personal data in the event log by crypto-shredding.
//
// Every customer has a 256-bit data key kept outside the append-only log,
// in a Keystore. Before an event is written, each of its personal-data
// fields is encrypted with AES-256-GCM under that key; after it is read,
// the field is decrypted. Erasing a customer destroys the key: the log is
// never rewritten, but its personal data can no longer be read, and a read
// yields the marker Erased in place of each field, never an error, so
// history stays replayable.
//
// # Stored format
//
// A sealed field is the string
//
//	pii:v1:<base64 standard encoding without padding of nonce ‖ ciphertext ‖ tag>
//
// with a 12-byte random nonce and GCM's 16-byte tag. The additional
// authenticated data is
//
//	"kefu-pii-v1|" + subject + "|" + event type + "|" + field index (decimal)
//
// so a ciphertext moved to another customer, another event type or another
// field of the same event fails authentication. The field index is the
// position in the event's PersonalData() list. Empty fields are stored and
// read as they are.
//
// A field without the prefix is clear text written before the field was
// personal (stored events are never rewritten: the notes of complaint steps
// and follow-ups were clear until they were marked personal). Open leaves
// it as it is while the subject's key lives and replaces it with Erased
// once the key is destroyed, so erasure covers old events too.
package pii

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unsafe"

	"github.com/kefu-crm/kefu/domain/aggregate"

	"github.com/kefu-crm/kefu/eventstore"
)

// Erased replaces every personal-data field of a customer whose key was
// destroyed.
const Erased = "[erased]"

// Prefix starts every sealed field.
const Prefix = "pii:v1:"

// KeySize is the size of a data key: AES-256.
const KeySize = 32

const (
	nonceSize = 12
	tagSize   = 16
	adPrefix  = "kefu-pii-v1|"
)

// Sentinel errors. Test with errors.Is.
var (
	// ErrNoKey: the subject has no key (and none was to be created).
	ErrNoKey = errors.New("pii: no data key")
	// ErrDestroyed: the subject's key was destroyed; its personal data can
	// no longer be written or read.
	ErrDestroyed = errors.New("pii: data key destroyed")
	// ErrInvalidSubject: a subject that is not a valid entity ID, or a
	// stream outside the vault's category.
	ErrInvalidSubject = errors.New("pii: invalid subject")
	// ErrCorruptKey: a stored key that cannot be read back.
	ErrCorruptKey = errors.New("pii: corrupt keystore record")
	// ErrFormat: a keystore file or directory of an unknown format.
	ErrFormat = errors.New("pii: unknown keystore format")
	// ErrClosed: the keystore was closed.
	ErrClosed = errors.New("pii: keystore closed")
	// ErrTampered: a sealed field that does not decrypt under its
	// subject's live key (altered, truncated or moved from elsewhere).
	ErrTampered = errors.New("pii: sealed field does not authenticate")
)

// Keystore keeps one data key per subject (customer ID), outside the log.
// Implementations are safe for concurrent use.
type Keystore interface {
	// Key returns the subject's KeySize-byte key. When the subject has
	// none, it creates one durably if create is true and returns ErrNoKey
	// otherwise. When the key was destroyed it returns ErrDestroyed, and
	// never creates a new one.
	Key(ctx context.Context, subject string, create bool) ([]byte, error)
	// Destroy destroys the subject's key durably, leaving no copy in the
	// keystore's storage. Destroying a missing or destroyed key records the
	// subject as destroyed and is not an error.
	Destroy(ctx context.Context, subject string) error
}

// VaultOptions configures a Vault.
type VaultOptions struct {
	// Category is the stream category whose entity IDs are the subjects;
	// empty means "customer".
	Category string
	// CacheSize bounds how many subjects' ciphers are kept in memory;
	// 0 means 4096.
	CacheSize int
	// Rand is the source of nonces; nil means crypto/rand.
	Rand io.Reader
}

// Vault seals and opens personal-data fields with per-subject keys from a
// Keystore, caching ciphers in memory. It implements codec.Protector. It is
// safe for concurrent use. Destroy keys through the Vault, so that its cache
// forgets them.
type Vault struct {
	keys     Keystore
	category string
	rand     io.Reader

	mu    sync.Mutex
	gen   uint64 // bumped by every Destroy; a fill started earlier is dropped
	cache *lru

	scratch sync.Pool // *[]byte for Open
}

// NewVault returns a vault over keys.
func NewVault(keys Keystore, opts VaultOptions) *Vault {
	v := &Vault{keys: keys, category: opts.Category, rand: opts.Rand}
	if v.category == "" {
		v.category = "customer"
	}
	if v.rand == nil {
		v.rand = rand.Reader
	}
	size := opts.CacheSize
	if size <= 0 {
		size = 4096
	}
	v.cache = newLRU(size)
	v.scratch.New = func() any { b := make([]byte, 0, 256); return &b }
	return v
}

// Subject returns the subject (entity ID) of a stream of the vault's
// category: "customer-42" → "42".
func (v *Vault) Subject(stream string) (string, error) {
	// The hot path of every decode: no allocation, no regular expression.
	cat, id, ok := strings.Cut(stream, "-")
	if !ok || cat != v.category || !eventstore.ValidID(id) {
		return "", fmt.Errorf("%w: stream %q is not %s-<id> with id matching %s", ErrInvalidSubject, stream, v.category, aggregate.IDSyntax)
	}
	return id, nil
}

// Seal encrypts the non-empty fields in place with the key of stream's
// subject, creating the key on first use. It fails with ErrDestroyed for an
// erased subject.
func (v *Vault) Seal(ctx context.Context, stream, eventType string, fields []*string) error {
	if !anyNonEmpty(fields) {
		return nil
	}
	subject, err := v.Subject(stream)
	if err != nil {
		return err
	}
	aead, err := v.cipher(ctx, subject, true)
	if err != nil {
		return fmt.Errorf("%w (subject %s)", err, subject)
	}
	for i, f := range fields {
		if f == nil || *f == "" {
			continue
		}
		buf := make([]byte, nonceSize, nonceSize+len(*f)+tagSize)
		if _, err := io.ReadFull(v.rand, buf); err != nil {
			return fmt.Errorf("pii: nonce: %w", err)
		}
		sealed := aead.Seal(buf, buf, []byte(*f), additionalData(subject, eventType, i))
		*f = Prefix + base64.RawStdEncoding.EncodeToString(sealed)
	}
	return nil
}

// Open decrypts sealed fields in place. When the subject's key was
// destroyed every non-empty field — sealed, or clear text stored before the
// field was personal — becomes Erased and Open returns nil. A subject with
// sealed fields but neither a key nor a record of its destruction is
// ErrNoKey: the keystore is lost or not the one the data was written with,
// and reading on would pass real data off as erased. A sealed field that
// does not authenticate under a live key is ErrTampered. Clear fields of a
// live key (or of a subject that never had one) are left as they are.
func (v *Vault) Open(ctx context.Context, stream, eventType string, fields []*string) error {
	var (
		aead    cipher.AEAD
		subject string
		looked  bool
		noKey   bool // looked, and the subject has no key and no destruction record
		// plain holds every opened field's text, allocated once for all of
		// them (it never moves, so the strings can point into it); scratch
		// is the base64-decoded field and its additional data, reused.
		plain   []byte
		scratch *[]byte
	)
	defer func() {
		if scratch != nil {
			v.scratch.Put(scratch)
		}
	}()
	for i, f := range fields {
		if f == nil || *f == "" {
			continue
		}
		sealed := strings.HasPrefix(*f, Prefix)
		if !looked {
			var err error
			if subject, err = v.Subject(stream); err != nil {
				if !sealed {
					// Clear text outside the vault's category: no key can
					// cover it; look again only for a sealed field.
					continue
				}
				return err
			}
			aead, err = v.cipher(ctx, subject, false)
			switch {
			case errors.Is(err, ErrNoKey):
				noKey = true
			case err != nil && !errors.Is(err, ErrDestroyed):
				return err
			}
			looked = true
		}
		if noKey {
			if sealed {
				return fmt.Errorf("%w: %s has sealed personal data but no key and no record of its destruction (lost or wrong keystore?)", ErrNoKey, subject)
			}
			continue
		}
		if aead == nil {
			*f = Erased
			continue
		}
		if !sealed {
			continue
		}
		if plain == nil {
			plain = make([]byte, 0, sealedTextLen(fields[i:]))
			scratch = v.scratch.Get().(*[]byte)
		}
		enc := (*f)[len(Prefix):]
		buf := slices.Grow((*scratch)[:0], base64.RawStdEncoding.DecodedLen(len(enc))+len(adPrefix)+len(subject)+len(eventType)+8)
		n, err := base64.RawStdEncoding.Decode(buf[:cap(buf)], unsafe.Slice(unsafe.StringData(enc), len(enc)))
		if err != nil || n < nonceSize+tagSize {
			return fmt.Errorf("%w: field %d of %s in %s is not nonce|ciphertext in base64", ErrTampered, i, eventType, stream)
		}
		raw := buf[:n]
		ad := appendAdditionalData(buf[n:n], subject, eventType, i)
		*scratch = buf[:0]
		start := len(plain)
		if len(plain)+n-nonceSize-tagSize > cap(plain) {
			// Only when a field is not what sealedTextLen counted.
			plain = make([]byte, 0, n)
			start = 0
		}
		plain, err = aead.Open(plain, raw[:nonceSize], raw[nonceSize:], ad)
		if err != nil {
			return fmt.Errorf("%w: field %d of %s in %s", ErrTampered, i, eventType, stream)
		}
		if len(plain) == start {
			*f = ""
		} else {
			*f = unsafe.String(&plain[start], len(plain)-start)
		}
	}
	return nil
}

// sealedTextLen is the total length of the plain text of the sealed fields
// (when they are well formed).
func sealedTextLen(fields []*string) int {
	n := 0
	for _, f := range fields {
		if f != nil && strings.HasPrefix(*f, Prefix) {
			n += max(base64.RawStdEncoding.DecodedLen(len(*f)-len(Prefix))-nonceSize-tagSize, 0)
		}
	}
	return n
}

// Destroy destroys subject's key in the keystore, then forgets it. After
// Destroy returns, Open yields Erased for the subject's fields and Seal
// fails with ErrDestroyed.
func (v *Vault) Destroy(ctx context.Context, subject string) error {
	err := v.keys.Destroy(ctx, subject)
	v.mu.Lock()
	v.gen++
	v.cache.remove(subject)
	v.mu.Unlock()
	return err
}

// cipher returns subject's AEAD, or nil and the bare sentinel ErrDestroyed
// or ErrNoKey when it has no live key (unwrapped, so that the hot path of
// reading an erased customer's history allocates nothing).
func (v *Vault) cipher(ctx context.Context, subject string, create bool) (cipher.AEAD, error) {
	v.mu.Lock()
	e, ok := v.cache.get(subject)
	gen := v.gen
	v.mu.Unlock()
	if ok && (e.aead != nil || e.err == ErrDestroyed || !create) {
		return e.aead, e.err
	}
	key, err := v.keys.Key(ctx, subject, create)
	var ent entry
	switch {
	case err == nil:
		if len(key) != KeySize {
			return nil, fmt.Errorf("%w: key of %s has %d bytes", ErrCorruptKey, subject, len(key))
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		clear(key)
		ent = entry{aead: aead}
	case errors.Is(err, ErrDestroyed):
		ent = entry{err: ErrDestroyed}
	case errors.Is(err, ErrNoKey):
		ent = entry{err: ErrNoKey}
	default:
		return nil, err
	}
	v.mu.Lock()
	if v.gen == gen {
		v.cache.put(subject, ent)
	}
	v.mu.Unlock()
	return ent.aead, ent.err
}

func additionalData(subject, eventType string, i int) []byte {
	return appendAdditionalData(make([]byte, 0, len(adPrefix)+len(subject)+len(eventType)+6), subject, eventType, i)
}

func appendAdditionalData(b []byte, subject, eventType string, i int) []byte {
	b = append(b, adPrefix...)
	b = append(b, subject...)
	b = append(b, '|')
	b = append(b, eventType...)
	b = append(b, '|')
	return strconv.AppendInt(b, int64(i), 10)
}

func anyNonEmpty(fields []*string) bool {
	for _, f := range fields {
		if f != nil && *f != "" {
			return true
		}
	}
	return false
}
