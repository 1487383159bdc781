package kurrent

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/pii"
)

// Keystore keeps each customer's data key in its own stream of the
// cluster, "kefukey-<customer id>", as one event of type KeyEventType; it
// implements pii.Keystore. Every kefu instance on the cluster sees the same
// keys, and erasure is a hard delete (tombstone) of the key stream:
//
//   - After Destroy the stream can never be written again, so the key is
//     never re-created for an erased customer (Key returns
//     pii.ErrDestroyed), and no read returns the key any more.
//   - The key's bytes stay in the server's chunk files, on every node, until
//     a scavenge rewrites those chunks. Erasure is complete only after the
//     operator has run a scavenge on every node (see README.md), and after
//     backups older than that scavenge have expired.
//
// Key streams are hidden from ReadAll and Subscribe (isHidden), and the key
// event's type starts with '$', so the server-side filter of subscriptions
// drops it too: no key ever reaches a projection or a broker.
type Keystore struct {
	client *esdb.Client
	rand   io.Reader
}

var _ pii.Keystore = (*Keystore)(nil)

// KeystoreOptions configures a Keystore.
type KeystoreOptions struct {
	// Rand is the source of new keys; nil means crypto/rand.
	Rand io.Reader
}

// NewKeystore returns the keystore on the store's cluster.
func NewKeystore(s *Store, opts KeystoreOptions) *Keystore {
	r := opts.Rand
	if r == nil {
		r = rand.Reader
	}
	return &Keystore{client: s.client, rand: r}
}

// KeyStream is the stream that holds subject's data key.
func KeyStream(subject string) string { return KeyCategory + "-" + subject }

// keyNamespace derives the deterministic event ID of a subject's key event,
// so that two instances creating the same key race on one ID.
var keyNamespace = uuid.MustParse("6b0c3f5e-8a43-4d55-9f3e-4b6f2b9a1c07")

// KeyEventID is the event ID of subject's key event.
func KeyEventID(subject string) uuid.UUID {
	return uuid.NewSHA1(keyNamespace, []byte("kefu-data-key|"+subject))
}

// keyEvent is the data of a key event.
type keyEvent struct {
	Subject string `json:"subject"`
	Key     string `json:"key"` // base64, standard encoding
}

// encodeKeyEvent builds the key event for subject.
func encodeKeyEvent(subject string, key []byte) esdb.EventData {
	data, _ := json.Marshal(keyEvent{Subject: subject, Key: base64.StdEncoding.EncodeToString(key)})
	return esdb.EventData{
		EventID:     KeyEventID(subject),
		EventType:   KeyEventType,
		ContentType: esdb.ContentTypeJson,
		Data:        data,
	}
}

// decodeKeyEvent reads a key event back and checks it belongs to subject.
func decodeKeyEvent(subject, eventType string, data []byte) ([]byte, error) {
	if eventType != KeyEventType {
		return nil, fmt.Errorf("%w: key stream of %s holds a %q event", pii.ErrCorruptKey, subject, eventType)
	}
	var ke keyEvent
	if err := json.Unmarshal(data, &ke); err != nil {
		return nil, fmt.Errorf("%w: key event of %s: %v", pii.ErrCorruptKey, subject, err)
	}
	if ke.Subject != subject {
		return nil, fmt.Errorf("%w: key stream of %s holds the key of %q", pii.ErrCorruptKey, subject, ke.Subject)
	}
	key, err := base64.StdEncoding.DecodeString(ke.Key)
	if err != nil || len(key) != pii.KeySize {
		return nil, fmt.Errorf("%w: key event of %s: not a %d-byte base64 key", pii.ErrCorruptKey, subject, pii.KeySize)
	}
	return key, nil
}

func checkSubject(ctx context.Context, subject string) error {
	if !eventstore.ValidID(subject) {
		return fmt.Errorf("%w: %q", pii.ErrInvalidSubject, subject)
	}
	return ctx.Err()
}

// Key implements pii.Keystore.
func (k *Keystore) Key(ctx context.Context, subject string, create bool) ([]byte, error) {
	if err := checkSubject(ctx, subject); err != nil {
		return nil, err
	}
	key, err := k.read(ctx, subject)
	if !errors.Is(err, pii.ErrNoKey) || !create {
		return key, err
	}
	key = make([]byte, pii.KeySize)
	if _, err := io.ReadFull(k.rand, key); err != nil {
		return nil, fmt.Errorf("kurrent: new data key: %w", err)
	}
	if err := k.put(ctx, subject, key); err != nil {
		return nil, err
	}
	// Another instance may have created its key first: the stored one wins.
	return k.read(ctx, subject)
}

// Import stores a given key for subject (kefu migrate copies the embedded
// store's keys with it). Importing the key the subject already has is not
// an error; a different one is ErrKeyConflict; a destroyed subject is
// pii.ErrDestroyed.
func (k *Keystore) Import(ctx context.Context, subject string, key []byte) error {
	if err := checkSubject(ctx, subject); err != nil {
		return err
	}
	if len(key) != pii.KeySize {
		return fmt.Errorf("%w: key of %s has %d bytes, want %d", pii.ErrCorruptKey, subject, len(key), pii.KeySize)
	}
	if err := k.put(ctx, subject, key); err != nil {
		return err
	}
	got, err := k.read(ctx, subject)
	if err != nil {
		return err
	}
	if string(got) != string(key) {
		return fmt.Errorf("%w: customer %s", ErrKeyConflict, subject)
	}
	return nil
}

// put appends the key event if the stream has none; losing the race to
// another writer is not an error (the caller reads the winner's key).
func (k *Keystore) put(ctx context.Context, subject string, key []byte) error {
	_, err := k.client.AppendToStream(ctx, KeyStream(subject), esdb.AppendToStreamOptions{ExpectedRevision: esdb.NoStream{}}, encodeKeyEvent(subject, key))
	switch {
	case err == nil, isCode(err, esdb.ErrorCodeWrongExpectedVersion):
		return nil
	case isCode(err, esdb.ErrorCodeStreamDeleted):
		return fmt.Errorf("customer %s: %w", subject, pii.ErrDestroyed)
	case ctx.Err() != nil:
		return ctx.Err()
	}
	return mapError("store data key of "+subject, err)
}

// read returns the stored key, pii.ErrNoKey or pii.ErrDestroyed.
func (k *Keystore) read(ctx context.Context, subject string) ([]byte, error) {
	op := "read data key of " + subject
	rs, err := k.client.ReadStream(ctx, KeyStream(subject), esdb.ReadStreamOptions{Direction: esdb.Forwards, From: esdb.Start{}}, 1)
	if err != nil {
		return nil, keyReadError(ctx, subject, op, err)
	}
	defer rs.Close()
	re, err := rs.Recv()
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("customer %s: %w", subject, pii.ErrNoKey)
	}
	if err != nil {
		return nil, keyReadError(ctx, subject, op, err)
	}
	if re.Event == nil {
		return nil, fmt.Errorf("%w: key stream of %s", pii.ErrCorruptKey, subject)
	}
	return decodeKeyEvent(subject, re.Event.EventType, re.Event.Data)
}

func keyReadError(ctx context.Context, subject, op string, err error) error {
	switch {
	case isCode(err, esdb.ErrorCodeResourceNotFound):
		return fmt.Errorf("customer %s: %w", subject, pii.ErrNoKey)
	case isCode(err, esdb.ErrorCodeStreamDeleted):
		return fmt.Errorf("customer %s: %w", subject, pii.ErrDestroyed)
	case ctx.Err() != nil:
		return ctx.Err()
	}
	return mapError(op, err)
}

// Destroy implements pii.Keystore: it tombstones the key stream. The key
// is unreadable at once and gone from disk after the next scavenge.
func (k *Keystore) Destroy(ctx context.Context, subject string) error {
	if err := checkSubject(ctx, subject); err != nil {
		return err
	}
	_, err := k.client.TombstoneStream(ctx, KeyStream(subject), esdb.TombstoneStreamOptions{ExpectedRevision: esdb.Any{}})
	switch {
	case err == nil, isCode(err, esdb.ErrorCodeStreamDeleted):
		return nil
	case ctx.Err() != nil:
		return ctx.Err()
	}
	return mapError("destroy data key of "+subject, err)
}
