package kurrent_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/kefu-crm/kefu/eventstore/kurrent"
	"github.com/kefu-crm/kefu/pii"
)

func TestKeyEventRoundTrip(t *testing.T) {
	key := bytes.Repeat([]byte{0xA5}, pii.KeySize)
	ed := kurrent.EncodeKeyEvent("42", key)
	if ed.EventType != kurrent.KeyEventType || ed.EventID != kurrent.KeyEventID("42") {
		t.Fatalf("key event %+v: wrong type or ID", ed)
	}
	if !kurrent.IsHidden(kurrent.KeyStream("42"), ed.EventType) {
		t.Fatal("key events are not hidden from reads of $all")
	}
	got, err := kurrent.DecodeKeyEvent("42", ed.EventType, ed.Data)
	if err != nil || !bytes.Equal(got, key) {
		t.Fatalf("DecodeKeyEvent: %x, %v", got, err)
	}
}

func TestKeyEventIDs(t *testing.T) {
	if a, b := kurrent.KeyEventID("42"), kurrent.KeyEventID("42"); a != b {
		t.Fatal("key event ID is not deterministic")
	}
	if kurrent.KeyEventID("42") == kurrent.KeyEventID("43") {
		t.Fatal("two subjects share a key event ID")
	}
	if kurrent.KeyStream("42") != "kefukey-42" {
		t.Fatalf("KeyStream = %s", kurrent.KeyStream("42"))
	}
}

func TestDecodeKeyEventRefusesCorruption(t *testing.T) {
	good := kurrent.EncodeKeyEvent("42", make([]byte, pii.KeySize))
	short, _ := json.Marshal(map[string]string{"subject": "42", "key": "AAAA"})
	tests := []struct {
		name, subject, eventType string
		data                     []byte
	}{
		{"another subject's key", "43", kurrent.KeyEventType, good.Data},
		{"wrong type", "42", "ContactLogged", good.Data},
		{"not JSON", "42", kurrent.KeyEventType, []byte("{")},
		{"short key", "42", kurrent.KeyEventType, short},
		{"not base64", "42", kurrent.KeyEventType, []byte(`{"subject":"42","key":"***"}`)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := kurrent.DecodeKeyEvent(tc.subject, tc.eventType, tc.data); !errors.Is(err, pii.ErrCorruptKey) {
				t.Fatalf("DecodeKeyEvent: %v, want ErrCorruptKey", err)
			}
		})
	}
}

func TestKeystoreRefusesBadSubjectsBeforeAnyRequest(t *testing.T) {
	ks := kurrent.NewKeystore(kurrent.New(nil, kurrent.Options{}), kurrent.KeystoreOptions{})
	for _, subject := range []string{"", "a b", "x/y", strings.Repeat("a", 65)} {
		if _, err := ks.Key(t.Context(), subject, true); !errors.Is(err, pii.ErrInvalidSubject) {
			t.Errorf("Key(%q): %v, want ErrInvalidSubject", subject, err)
		}
		if err := ks.Destroy(t.Context(), subject); !errors.Is(err, pii.ErrInvalidSubject) {
			t.Errorf("Destroy(%q): %v, want ErrInvalidSubject", subject, err)
		}
		if err := ks.Import(t.Context(), subject, make([]byte, pii.KeySize)); !errors.Is(err, pii.ErrInvalidSubject) {
			t.Errorf("Import(%q): %v, want ErrInvalidSubject", subject, err)
		}
	}
	if err := ks.Import(t.Context(), "42", []byte("short")); !errors.Is(err, pii.ErrCorruptKey) {
		t.Errorf("Import of a short key: %v, want ErrCorruptKey", err)
	}
}
