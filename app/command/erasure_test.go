package command_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/kefu-crm/kefu/app/command"
	"github.com/kefu-crm/kefu/domain/aggregate"
	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/eventstore/embedded"
	"github.com/kefu-crm/kefu/pii"
)

// notes are the free-text notes of the complaint steps and follow-ups the
// erasure tests record: personal data too (they quote the customer).
var notes = []string{
	"acknowledged: Zhou will be home after 6",
	"apologised to Zhou Qiaoling in person",
	"Zhou accepted the voucher for 周巧玲's order",
	"reopened: Zhou says the parcel is still missing",
	"call Zhou on her mobile after work",
	"Zhou was happy with the call",
}

// description is the complaint's description.
const description = "the parcel for Zhou Qiaoling never arrived"

// personal returns the personal strings of the registration, the contacts,
// the complaint and the notes the erasure tests record.
func personal() []string {
	r := registration()
	return append([]string{r.Name, r.Phone, r.Email, r.WeChat, r.Birthday, "complained about the parcel to Zhou", "asked for 周巧玲's invoice",
		description}, notes...)
}

func recordHistory(t *testing.T, f *fixture, id string) {
	t.Helper()
	ctx := t.Context()
	register(t, f, id)
	p := personal()
	for _, s := range p[5:7] {
		if _, err := logContact(ctx, f, id, nil, s); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := do(ctx, f, id, nil, customer.RecordPurchase{OrderID: "o-1", Amount: customer.Money{AmountMinor: 100, Currency: "CNY"}}, (*customer.Customer).RecordPurchase); err != nil {
		t.Fatal(err)
	}
	k := "k-" + id
	steps := []func() (command.Result, error){
		func() (command.Result, error) {
			return f.cmds.FileComplaint.Handle(ctx, id, nil, customer.FileComplaint{ComplaintID: k, Channel: must(customer.ParseChannel("PHONE")), Category: "delivery",
				Severity: customer.SeverityGeneral, Description: description, Owner: "agent-7"})
		},
		func() (command.Result, error) {
			return do(ctx, f, id, nil, customer.AcknowledgeComplaint{ComplaintID: k, By: "agent-7", Note: notes[0]}, (*customer.Customer).AcknowledgeComplaint)
		},
		func() (command.Result, error) {
			return do(ctx, f, id, nil, customer.TakeRecoveryStep{ComplaintID: k, Step: must(customer.ParseRecoveryStep("APOLOGY")), By: "agent-7", Note: notes[1]},
				(*customer.Customer).TakeRecoveryStep)
		},
		func() (command.Result, error) {
			return do(ctx, f, id, nil, customer.ResolveComplaint{ComplaintID: k, By: "agent-7", Outcome: must(customer.ParseOutcome("SATISFIED")), Note: notes[2]},
				(*customer.Customer).ResolveComplaint)
		},
		func() (command.Result, error) {
			return do(ctx, f, id, nil, customer.ReopenComplaint{ComplaintID: k, By: "agent-7", Note: notes[3]}, (*customer.Customer).ReopenComplaint)
		},
		func() (command.Result, error) {
			return do(ctx, f, id, nil, customer.ScheduleFollowUp{FollowUpID: "f-" + id, Reason: customer.ReasonRoutine, Owner: "agent-7", DueAt: now.Add(time.Hour), Note: notes[4]},
				(*customer.Customer).ScheduleFollowUp)
		},
		func() (command.Result, error) {
			return do(ctx, f, id, nil, customer.CompleteFollowUp{FollowUpID: "f-" + id, By: "agent-7", Outcome: customer.FollowUpOutcomes()[0], Note: notes[5]},
				(*customer.Customer).CompleteFollowUp)
		},
	}
	for i, step := range steps {
		if _, err := step(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
}

func TestPersonalDataIsEncryptedAtRest(t *testing.T) {
	f := newMemFixture(t)
	recordHistory(t, f, "c1")
	evs, err := f.store.ReadStream(t.Context(), "customer-c1", eventstore.StreamRead{})
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range evs {
		for _, s := range personal() {
			if bytes.Contains(ev.Data, []byte(s)) || bytes.Contains(ev.Metadata, []byte(s)) {
				t.Errorf("%s stores %q in clear: %s", ev.Type, s, ev.Data)
			}
		}
	}
	c, err := f.repo.Load(t.Context(), "c1")
	if err != nil {
		t.Fatal(err)
	}
	if c.Name() != registration().Name || c.Phone() != registration().Phone {
		t.Fatalf("loaded %q %q: want the plaintext back", c.Name(), c.Phone())
	}
}

func TestAfterErasureEveryPersonalFieldReadsErased(t *testing.T) {
	f := newMemFixture(t)
	recordHistory(t, f, "c1")
	recordHistory(t, f, "c2")
	if _, err := f.cmds.EraseCustomer.Handle(t.Context(), "c1", nil, customer.Erase{By: "admin", Reason: "customer request"}); err != nil {
		t.Fatal(err)
	}
	evs, err := f.store.ReadStream(t.Context(), "customer-c1", eventstore.StreamRead{})
	if err != nil {
		t.Fatal(err)
	}
	if last := evs[len(evs)-1]; last.Type != customer.TypeCustomerErased {
		t.Fatalf("last event %s, want CustomerErased", last.Type)
	}
	sealed := 0
	for _, ev := range evs {
		d, err := f.codec.Decode(t.Context(), ev)
		if err != nil {
			t.Fatalf("decode %s after erasure: %v", ev.Type, err)
		}
		if p, ok := d.Payload.(customer.Personal); ok {
			for _, field := range p.PersonalData() {
				if *field != "" {
					sealed++
					if *field != pii.Erased {
						t.Errorf("%s field reads %q, want %q", ev.Type, *field, pii.Erased)
					}
				}
			}
		}
	}
	if want := len(personal()); sealed != want {
		t.Fatalf("%d personal fields seen, want %d", sealed, want)
	}
	c, err := f.repo.Load(t.Context(), "c1")
	if err != nil {
		t.Fatal(err)
	}
	// (The aggregate itself forgets personal data on CustomerErased.)
	if !c.Erased() || (c.Name() != pii.Erased && c.Name() != "") {
		t.Fatalf("erased customer loads as %q (erased %v)", c.Name(), c.Erased())
	}
	// The other customer is untouched.
	if c2, err := f.repo.Load(t.Context(), "c2"); err != nil || c2.Name() != registration().Name {
		t.Fatalf("other customer: %v, %v", c2, err)
	}
	// Erasing again is refused by the domain, and still makes sure the key is gone.
	if _, err := f.cmds.EraseCustomer.Handle(t.Context(), "c1", nil, customer.Erase{By: "admin", Reason: "again"}); !errors.Is(err, aggregate.ErrFailedPrecondition) {
		t.Fatalf("second erase: %v", err)
	}
}

// TestErasureLeavesNoPersonalDataInTheDataDirectory is issue 2 §3's scan:
// with the embedded store and the file keystore in one data directory,
// register a customer with distinctive personal data and some contacts,
// erase them, close everything, and read every file under the directory.
// None may contain the name, phone, email or contact summaries as UTF-8,
// as JSON-escaped text, or base64 (standard and URL alphabets, padded or
// not) of the UTF-8 — nor the customer's data key.
func TestErasureLeavesNoPersonalDataInTheDataDirectory(t *testing.T) {
	dir := t.TempDir()
	store, err := embedded.Open(dir, embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	keys, err := pii.OpenFileKeystore(filepath.Join(dir, "keys"))
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, store, keys, 0)
	recordHistory(t, f, "c1")
	recordHistory(t, f, "keep") // another customer, not erased: a positive control
	key, err := keys.Key(t.Context(), "c1", false)
	if err != nil {
		t.Fatal(err)
	}
	keepKey, err := keys.Key(t.Context(), "keep", false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.cmds.EraseCustomer.Handle(t.Context(), "c1", nil, customer.Erase{By: "admin", Reason: "customer request"}); err != nil {
		t.Fatal(err)
	}
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}

	needles := map[string][]byte{"c1's data key": key}
	for _, s := range personal() {
		if len(s) < 8 {
			continue // the birthday; too short to be distinctive in binary files
		}
		b := []byte(s)
		esc, _ := json.Marshal(s)
		needles[s] = b
		needles[s+" (JSON)"] = esc[1 : len(esc)-1]
		for i, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
			needles[s+" (base64 #"+string(rune('0'+i))+")"] = []byte(enc.EncodeToString(b))
		}
	}
	files := 0
	var keeps int // files holding the key of the customer who was not erased
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		files++
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for name, n := range needles {
			if bytes.Contains(b, n) {
				t.Errorf("%s contains %s", p, name)
			}
		}
		if bytes.Contains(b, keepKey) {
			keeps++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 2 || keeps != 1 {
		t.Fatalf("scanned %d files, %d live key files: want the store, the keystore, and the other customer's live key in exactly one file", files, keeps)
	}

	// Reopened, the history replays with the marker.
	store, err = embedded.Open(dir, embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	keys, err = pii.OpenFileKeystore(filepath.Join(dir, "keys"))
	if err != nil {
		t.Fatal(err)
	}
	f = newFixture(t, store, keys, 0)
	evs, err := store.ReadStream(t.Context(), "customer-c1", eventstore.StreamRead{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	d, err := f.codec.Decode(t.Context(), evs[0])
	if err != nil {
		t.Fatal(err)
	}
	if reg := d.Payload.(*customer.CustomerRegistered); reg.Name != pii.Erased || reg.Email != pii.Erased || reg.Phone != pii.Erased {
		t.Fatalf("after reopen: %+v", reg)
	}
	if c, err := f.repo.Load(t.Context(), "c1"); err != nil || !c.Erased() {
		t.Fatalf("erased customer after reopen: %v", err)
	}
	if k, err := f.repo.Load(t.Context(), "keep"); err != nil || k.Name() != registration().Name {
		t.Fatalf("kept customer after reopen: %v", err)
	}
}

// TestClearNotesOfOldEventsReadErasedAfterErasure: events written before
// notes were personal hold them in clear, and the log is never rewritten.
// Read back, such a note is the text while the customer's key lives and
// the erasure marker once it is destroyed — through the codec and through
// the aggregate.
func TestClearNotesOfOldEventsReadErasedAfterErasure(t *testing.T) {
	f := newMemFixture(t)
	ctx := t.Context()
	register(t, f, "c1")
	res, err := f.cmds.FileComplaint.Handle(ctx, "c1", nil, customer.FileComplaint{ComplaintID: "k1", Channel: must(customer.ParseChannel("PHONE")),
		Category: "delivery", Severity: customer.SeverityGeneral, Description: description, Owner: "agent-7"})
	if err != nil {
		t.Fatal(err)
	}
	const old = "old clear note: Zhou is at 12 Lane 3"
	// As the codec wrote it before: schema version 1, the note in clear.
	if _, err := f.store.Append(ctx, "customer-c1", eventstore.Exact(res.Revision), eventstore.Record{
		ID: uuid.New(), Type: customer.TypeRecoveryStepTaken, SchemaVersion: 1, OccurredAt: now,
		Data: []byte(`{"complaintId":"k1","step":"APOLOGY","by":"agent-7","note":"` + old + `"}`)}); err != nil {
		t.Fatal(err)
	}
	read := func() (string, string) {
		t.Helper()
		evs, err := f.store.ReadStream(ctx, "customer-c1", eventstore.StreamRead{})
		if err != nil {
			t.Fatal(err)
		}
		var note string
		for _, ev := range evs {
			if ev.Type != customer.TypeRecoveryStepTaken {
				continue
			}
			d, err := f.codec.Decode(ctx, ev)
			if err != nil {
				t.Fatal(err)
			}
			note = d.Payload.(*customer.RecoveryStepTaken).Note
		}
		c, err := f.repo.Load(ctx, "c1")
		if err != nil {
			t.Fatal(err)
		}
		k, _ := c.Complaint("k1")
		if len(k.RecoverySteps) != 1 {
			t.Fatalf("loaded %d recovery steps, want 1", len(k.RecoverySteps))
		}
		return note, k.RecoverySteps[0].Note
	}
	if dec, agg := read(); dec != old || agg != old {
		t.Fatalf("before erasure: decoded %q, loaded %q; want the clear note", dec, agg)
	}
	if _, err := f.cmds.EraseCustomer.Handle(ctx, "c1", nil, customer.Erase{By: "admin", Reason: "customer request"}); err != nil {
		t.Fatal(err)
	}
	if dec, agg := read(); dec != pii.Erased || agg != "" {
		t.Fatalf("after erasure: decoded %q, loaded %q; want %q and nothing", dec, agg, pii.Erased)
	}
}
