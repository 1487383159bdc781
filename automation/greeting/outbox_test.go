package greeting_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kefu-crm/kefu/automation/greeting"
	"github.com/kefu-crm/kefu/pii"
)

// greetingFor is a message to customer id with a distinctive address and
// body (the customer's name rendered into it).
func greetingFor(id, phone, name string) greeting.Message {
	return greeting.Message{IdempotencyKey: greeting.GreetingID("camp-1", id).String(), CampaignID: "camp-1", CustomerID: id,
		Occasion: "CN:spring_festival", OccasionName: "春节", Channel: "SMS", To: phone, Locale: "zh-CN", Body: name + "，祝您春节快乐！"}
}

// readAll reads every line of the outbox through Read.
func readAll(t *testing.T, ob *greeting.Outbox) []greeting.OutboxEntry {
	t.Helper()
	var out []greeting.OutboxEntry
	if err := ob.Read(t.Context(), 0, 0, func(e greeting.OutboxEntry) error { out = append(out, e); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

func fileHolds(t *testing.T, path string, ss ...string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	for _, s := range ss {
		if bytes.Contains(b, []byte(s)) {
			found = append(found, s)
		}
	}
	return found
}

// TestOutboxSealsPersonalFieldsAndErasureCoversThem: with a protector the
// file holds the address and body only sealed under the customer's key;
// Read opens them; once the customer's key is destroyed they read as
// [erased], and another customer's stay readable.
func TestOutboxSealsPersonalFieldsAndErasureCoversThem(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	vault := pii.NewVault(pii.NewMemKeystore(), pii.VaultOptions{})
	ob, err := greeting.OpenOutbox(dir, greeting.OutboxOptions{Protector: vault})
	if err != nil {
		t.Fatal(err)
	}
	defer ob.Close()
	gone, kept := greetingFor("gone", "+8613911223344", "周巧玲"), greetingFor("kept", "+8613000000000", "王芳")
	for _, m := range []greeting.Message{gone, kept} {
		if _, err := ob.Send(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	if found := fileHolds(t, ob.Path(), gone.To, gone.Body, "周巧玲", kept.To, kept.Body); len(found) != 0 {
		t.Fatalf("the outbox file holds %q in clear", found)
	}
	got := readAll(t, ob)
	if len(got) != 2 || got[0].Line != 1 || got[1].Line != 2 || got[0].Message != gone || got[1].Message != kept {
		t.Fatalf("Read = %+v, want both messages as sent, lines 1 and 2", got)
	}
	if err := vault.Destroy(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	got = readAll(t, ob)
	if got[0].To != pii.Erased || got[0].Body != pii.Erased || got[0].CustomerID != "gone" || got[0].IdempotencyKey != gone.IdempotencyKey {
		t.Errorf("the erased customer's line = %+v, want to and body %q, the reference kept", got[0], pii.Erased)
	}
	if got[1].Message != kept {
		t.Errorf("the other customer's line = %+v, want it as sent", got[1])
	}
	// A greeting planned before the erasure and sent after it fails for
	// good: there is no key to seal it with.
	late := greetingFor("gone", "+8613911223344", "周巧玲")
	late.IdempotencyKey, late.CampaignID = greeting.GreetingID("camp-2", "gone").String(), "camp-2"
	var de *greeting.DeliveryError
	if _, err := ob.Send(ctx, late); !errors.As(err, &de) || !de.Permanent || de.Reason != greeting.ReasonErased {
		t.Fatalf("send to an erased customer: %v, want a permanent DeliveryError %s", err, greeting.ReasonErased)
	}
	if n := len(readAll(t, ob)); n != 2 {
		t.Fatalf("%d lines after the refused send, want 2", n)
	}
	// ReadOutboxFile reads the same, without the outbox open for writing.
	var file []greeting.OutboxEntry
	if err := greeting.ReadOutboxFile(ctx, ob.Path(), vault, 1, func(e greeting.OutboxEntry) error { file = append(file, e); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(file) != 1 || file[0].Line != 2 || file[0].Message != kept {
		t.Fatalf("ReadOutboxFile after 1 = %+v, want line 2 of kept", file)
	}
}

// TestOutboxReadPages: after and limit select lines by number, also for
// lines written after the outbox was reopened.
func TestOutboxReadPages(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	vault := pii.NewVault(pii.NewMemKeystore(), pii.VaultOptions{})
	ob, err := greeting.OpenOutbox(dir, greeting.OutboxOptions{Protector: vault})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := ob.Send(ctx, greetingFor("c"+itoa(i), "1380000000"+itoa(i), "name"+itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := ob.Close(); err != nil {
		t.Fatal(err)
	}
	if err := ob.Read(ctx, 0, 0, func(greeting.OutboxEntry) error { return nil }); !errors.Is(err, greeting.ErrClosed) {
		t.Fatalf("Read after Close: %v, want ErrClosed", err)
	}
	ob, err = greeting.OpenOutbox(dir, greeting.OutboxOptions{Protector: vault})
	if err != nil {
		t.Fatal(err)
	}
	defer ob.Close()
	for i := 3; i < 5; i++ {
		if _, err := ob.Send(ctx, greetingFor("c"+itoa(i), "1380000000"+itoa(i), "name"+itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct{ after, limit, first, n int }{{0, 0, 1, 5}, {0, 2, 1, 2}, {2, 2, 3, 2}, {3, 10, 4, 2}, {5, 1, 0, 0}, {9, 1, 0, 0}, {-1, 1, 1, 1}} {
		var got []greeting.OutboxEntry
		if err := ob.Read(ctx, tt.after, tt.limit, func(e greeting.OutboxEntry) error { got = append(got, e); return nil }); err != nil {
			t.Fatal(err)
		}
		if len(got) != tt.n {
			t.Errorf("Read(after %d, limit %d): %d lines, want %d", tt.after, tt.limit, len(got), tt.n)
			continue
		}
		for i, e := range got {
			k := tt.first + i
			if e.Line != k || e.CustomerID != "c"+itoa(k-1) || e.To != "1380000000"+itoa(k-1) || !strings.HasPrefix(e.Body, "name"+itoa(k-1)) {
				t.Errorf("Read(after %d, limit %d)[%d] = %+v, want line %d of c%d, opened", tt.after, tt.limit, i, e, k, k-1)
			}
		}
	}
}

// TestOutboxSealsClearLinesOnOpen: a file written in clear (before the
// outbox sealed, or without a protector) is sealed when opened with one:
// no clear address or body stays in the file, the lines read back as they
// were (an erased customer's as [erased]), dedupe still holds, and an
// unchanged file is not rewritten.
func TestOutboxSealsClearLinesOnOpen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	clear, err := greeting.OpenOutbox(dir, greeting.OutboxOptions{})
	if err != nil {
		t.Fatal(err)
	}
	gone, kept := greetingFor("gone", "+8613911223344", "周巧玲"), greetingFor("kept", "+8613000000000", "王芳")
	for _, m := range []greeting.Message{gone, kept} {
		if _, err := clear.Send(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	if err := clear.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, greeting.OutboxFileName)
	if found := fileHolds(t, path, gone.To, kept.Body); len(found) != 2 {
		t.Fatalf("without a protector the file holds %q, want both in clear (the old format)", found)
	}
	vault := pii.NewVault(pii.NewMemKeystore(), pii.VaultOptions{})
	// Both customers have keys (their registrations were sealed); gone was
	// erased before this start.
	for _, id := range []string{"gone", "kept"} {
		if err := vault.Seal(ctx, "customer-"+id, "CustomerRegistered", []*string{ptrTo("name")}); err != nil {
			t.Fatal(err)
		}
	}
	if err := vault.Destroy(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	ob, err := greeting.OpenOutbox(dir, greeting.OutboxOptions{Protector: vault})
	if err != nil {
		t.Fatal(err)
	}
	if found := fileHolds(t, path, gone.To, gone.Body, "周巧玲", kept.To, kept.Body, "王芳"); len(found) != 0 {
		t.Fatalf("after opening with a protector the file holds %q in clear", found)
	}
	got := readAll(t, ob)
	if len(got) != 2 || got[0].To != pii.Erased || got[0].Body != pii.Erased || got[1].Message != kept {
		t.Fatalf("Read = %+v, want gone's line erased and kept's as sent", got)
	}
	if r, err := ob.Send(ctx, kept); err != nil || !r.Duplicate {
		t.Fatalf("resend after sealing: %+v, %v; want a duplicate", r, err)
	}
	if err := ob.Close(); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	// Opening again finds nothing in clear and leaves the file alone.
	ob, err = greeting.OpenOutbox(dir, greeting.OutboxOptions{Protector: vault})
	if err != nil {
		t.Fatal(err)
	}
	defer ob.Close()
	if st2, err := os.Stat(path); err != nil || !os.SameFile(st, st2) {
		t.Errorf("a sealed outbox was rewritten on open (%v)", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("the outbox directory holds %d files, want only the outbox", len(entries))
	}
}

func ptrTo(s string) *string { return &s }
