package pii_test

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/pii"
)

// countingKeys counts keystore lookups, to see the vault's cache at work.
type countingKeys struct {
	pii.Keystore
	lookups atomic.Int64
}

func (c *countingKeys) Key(ctx context.Context, subject string, create bool) ([]byte, error) {
	c.lookups.Add(1)
	return c.Keystore.Key(ctx, subject, create)
}

// fields returns pointers to fresh copies of ss.
func fields(ss ...string) []*string {
	out := make([]*string, len(ss))
	for i, s := range ss {
		out[i] = &s
	}
	return out
}

func values(fs []*string) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = *f
	}
	return out
}

func TestVaultSealOpenRoundTrip(t *testing.T) {
	keystores(t, func(t *testing.T, ks pii.Keystore) {
		ctx := t.Context()
		v := pii.NewVault(ks, pii.VaultOptions{})
		plain := []string{"王小明", "", "+86 138 0013 8000", "xm@example.cn"}
		fs := fields(plain...)
		if err := v.Seal(ctx, "customer-c1", "CustomerRegistered", fs); err != nil {
			t.Fatal(err)
		}
		for i, f := range fs {
			switch {
			case plain[i] == "" && *f != "":
				t.Errorf("empty field %d sealed as %q", i, *f)
			case plain[i] != "" && (!strings.HasPrefix(*f, pii.Prefix) || strings.Contains(*f, plain[i])):
				t.Errorf("field %d sealed as %q", i, *f)
			case plain[i] != "":
				raw, err := base64.RawStdEncoding.DecodeString(strings.TrimPrefix(*f, pii.Prefix))
				if err != nil || len(raw) != 12+len(plain[i])+16 {
					t.Errorf("field %d: %d bytes (%v), want nonce+plaintext+tag", i, len(raw), err)
				}
			}
		}
		again := fields(plain...)
		_ = v.Seal(ctx, "customer-c1", "CustomerRegistered", again)
		if *again[0] == *fs[0] {
			t.Error("sealing twice gave the same ciphertext: nonces repeat")
		}
		if err := v.Open(ctx, "customer-c1", "CustomerRegistered", fs); err != nil {
			t.Fatal(err)
		}
		if got := values(fs); strings.Join(got, "|") != strings.Join(plain, "|") {
			t.Fatalf("opened %q, want %q", got, plain)
		}
		// A fresh vault on the same keystore (no cache) opens it too.
		if err := pii.NewVault(ks, pii.VaultOptions{}).Open(ctx, "customer-c1", "CustomerRegistered", again); err != nil || *again[0] != plain[0] {
			t.Fatalf("fresh vault: %q, %v", *again[0], err)
		}
	})
}

func TestVaultCiphertextIsBoundToSubjectTypeAndField(t *testing.T) {
	ctx := t.Context()
	v := pii.NewVault(pii.NewMemKeystore(), pii.VaultOptions{})
	fs := fields("secret one", "secret two")
	if err := v.Seal(ctx, "customer-a", "ContactLogged", fs); err != nil {
		t.Fatal(err)
	}
	if err := v.Seal(ctx, "customer-b", "ContactLogged", fields("make b a key")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		stream string
		typ    string
		fields []*string
	}{
		{"other customer", "customer-b", "ContactLogged", fields(*fs[0])},
		{"other event type", "customer-a", "GrumbleVoiced", fields(*fs[0])},
		{"other field", "customer-a", "ContactLogged", fields(*fs[1], *fs[0])},
		{"truncated", "customer-a", "ContactLogged", fields((*fs[0])[:len(*fs[0])-3])},
		{"not base64", "customer-a", "ContactLogged", fields(pii.Prefix + "!!!")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := v.Open(ctx, tt.stream, tt.typ, tt.fields); !errors.Is(err, pii.ErrTampered) {
				t.Fatalf("err = %v, want ErrTampered", err)
			}
		})
	}
}

func TestVaultAfterDestroy(t *testing.T) {
	keystores(t, func(t *testing.T, ks pii.Keystore) {
		ctx := t.Context()
		v := pii.NewVault(ks, pii.VaultOptions{})
		fs := fields("Zhang San", "", "zs@example.cn", "clear, from before the field was personal")
		sealed := fields("Zhang San", "", "zs@example.cn")
		if err := v.Seal(ctx, "customer-c1", "CustomerRegistered", sealed); err != nil {
			t.Fatal(err)
		}
		fs[0], fs[1], fs[2] = sealed[0], sealed[1], sealed[2]
		// Warm the cache, then destroy: the cache must forget the key.
		if err := v.Open(ctx, "customer-c1", "CustomerRegistered", fields(*fs[0])); err != nil {
			t.Fatal(err)
		}
		if err := v.Destroy(ctx, "c1"); err != nil {
			t.Fatal(err)
		}
		for _, vault := range []*pii.Vault{v, pii.NewVault(ks, pii.VaultOptions{})} {
			got := fields(values(fs)...)
			if err := vault.Open(ctx, "customer-c1", "CustomerRegistered", got); err != nil {
				t.Fatalf("Open after Destroy: %v, want no error", err)
			}
			want := []string{pii.Erased, "", pii.Erased, pii.Erased}
			if strings.Join(values(got), "|") != strings.Join(want, "|") {
				t.Fatalf("after Destroy: %q, want %q", values(got), want)
			}
			if err := vault.Seal(ctx, "customer-c1", "ContactLogged", fields("new secret")); !errors.Is(err, pii.ErrDestroyed) {
				t.Fatalf("Seal after Destroy: %v, want ErrDestroyed", err)
			}
		}
		// Nothing personal to seal needs no key, even for an erased customer.
		if err := v.Seal(ctx, "customer-c1", "ContactLogged", fields("")); err != nil {
			t.Fatalf("Seal of empty fields after Destroy: %v", err)
		}
	})
}

// TestVaultClearTextOfAnErasedSubjectReadsErased: a field stored in clear
// because it was written before the field was marked personal (the notes of
// complaint steps and follow-ups) reads as it is while the key lives, and as
// Erased once the key is destroyed — the log is never rewritten, so this is
// how erasure reaches old events.
func TestVaultClearTextOfAnErasedSubjectReadsErased(t *testing.T) {
	keystores(t, func(t *testing.T, ks pii.Keystore) {
		ctx := t.Context()
		v := pii.NewVault(ks, pii.VaultOptions{})
		const note = "called 周巧玲 at home"
		open := func(stream string) (string, error) {
			f := fields(note, "")
			err := v.Open(ctx, stream, "ComplaintAcknowledged", f)
			if *f[1] != "" {
				t.Errorf("empty field opened as %q", *f[1])
			}
			return *f[0], err
		}
		// No key yet (nothing was ever sealed for c1): clear text stays.
		if got, err := open("customer-c1"); err != nil || got != note {
			t.Fatalf("no key: %q, %v; want the clear text and no error", got, err)
		}
		if err := v.Seal(ctx, "customer-c1", "CustomerRegistered", fields("Zhou")); err != nil {
			t.Fatal(err)
		}
		if got, err := open("customer-c1"); err != nil || got != note {
			t.Fatalf("live key: %q, %v; want the clear text", got, err)
		}
		if err := v.Destroy(ctx, "c1"); err != nil {
			t.Fatal(err)
		}
		for _, vault := range []*pii.Vault{v, pii.NewVault(ks, pii.VaultOptions{})} {
			f := fields(note)
			if err := vault.Open(ctx, "customer-c1", "ComplaintAcknowledged", f); err != nil || *f[0] != pii.Erased {
				t.Fatalf("after Destroy: %q, %v; want %q", *f[0], err, pii.Erased)
			}
		}
		// Outside the vault's category there is no key to destroy.
		if got, err := open("campaign-1"); err != nil || got != note {
			t.Fatalf("campaign stream: %q, %v; want the clear text", got, err)
		}
	})
}

func TestVaultCachesKeysBounded(t *testing.T) {
	ctx := t.Context()
	keys := &countingKeys{Keystore: pii.NewMemKeystore()}
	v := pii.NewVault(keys, pii.VaultOptions{CacheSize: 2})
	seal := func(stream string) {
		if err := v.Seal(ctx, stream, "ContactLogged", fields("x")); err != nil {
			t.Fatal(err)
		}
	}
	seal("customer-a")
	seal("customer-a")
	seal("customer-a")
	if n := keys.lookups.Load(); n != 1 {
		t.Fatalf("%d lookups for one subject, want 1 (cached)", n)
	}
	seal("customer-b")
	seal("customer-c") // evicts a
	seal("customer-a")
	if n := keys.lookups.Load(); n != 4 {
		t.Fatalf("%d lookups, want 4 (a evicted by b and c)", n)
	}
}

func TestVaultRefusesOtherCategories(t *testing.T) {
	v := pii.NewVault(pii.NewMemKeystore(), pii.VaultOptions{})
	for _, stream := range []string{"campaign-1", "customer", "customer-a/b"} {
		if err := v.Seal(t.Context(), stream, "X", fields("x")); !errors.Is(err, pii.ErrInvalidSubject) {
			t.Errorf("Seal in %s: %v, want ErrInvalidSubject", stream, err)
		}
	}
}

// FuzzSubject: the vault's own stream parsing agrees with the port's.
func FuzzSubject(f *testing.F) {
	v := pii.NewVault(pii.NewMemKeystore(), pii.VaultOptions{})
	for _, s := range []string{"customer-42", "customer-", "customer-a-b", "campaign-1", "customer-" + strings.Repeat("x", 65), "customer-ä", "-x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, stream string) {
		got, err := v.Subject(stream)
		cat, id, perr := eventstore.ParseStreamID(stream)
		want := perr == nil && cat == "customer"
		if (err == nil) != want || (want && got != id) {
			t.Fatalf("Subject(%q) = %q, %v; ParseStreamID = %q %q %v", stream, got, err, cat, id, perr)
		}
		if err != nil && !errors.Is(err, pii.ErrInvalidSubject) {
			t.Fatalf("untyped error %v", err)
		}
	})
}

func TestVaultOpenWithoutAnyKeyIsAnError(t *testing.T) {
	ctx := t.Context()
	fs := fields("secret")
	if err := pii.NewVault(pii.NewMemKeystore(), pii.VaultOptions{}).Seal(ctx, "customer-c1", "ContactLogged", fs); err != nil {
		t.Fatal(err)
	}
	// Another, empty keystore: the data must not silently read as erased.
	if err := pii.NewVault(pii.NewMemKeystore(), pii.VaultOptions{}).Open(ctx, "customer-c1", "ContactLogged", fs); !errors.Is(err, pii.ErrNoKey) {
		t.Fatalf("err = %v, want ErrNoKey", err)
	}
}
