package server_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kefu-crm/kefu/analytics"
	"github.com/kefu-crm/kefu/exchange"
	"github.com/kefu-crm/kefu/internal/datadir"
	"github.com/kefu-crm/kefu/projections/readmodels"
)

// TestEraseCustomer erases a customer end to end: the API shows the
// customer as erased, the history stays replayable with "[erased]" in
// place of personal data, and no file of the data directory holds the
// original name, phone or e-mail any more — also after a restart.
//
// Personal data is what DESIGN §3 marks (name, phone, email, wechat,
// birthday, contact and grumble summaries, complaint descriptions,
// comments, conduct notes) and the free-text notes of complaint steps and
// follow-ups, which quote the customer: the test's notes hold the name and
// the phone number.
func TestEraseCustomer(t *testing.T) {
	dir := t.TempDir()
	h := startServer(t, options{dir: dir, auth: true})
	const (
		name  = "Xiaoming Erasable-Zhu"
		phone = "+8613911223344"
		email = "erasable.zhu@example.net"
		// Notes quoting the customer.
		stepNote     = "apologised to Xiaoming Erasable-Zhu in person"
		followUpNote = "call back on +8613911223344 after 6"
	)
	past := time.Now().Add(-time.Hour).Truncate(time.Second)
	h.register("gone", name, map[string]any{"phone": phone, "email": email, "wechat": "zhu-wx-8812", "birthday": "1993-07-08",
		"marketingConsent": true, "occurredAt": ts(past)})
	h.register("kept", "Kept Customer", map[string]any{"phone": "+8613000000000"})
	h.ok(`mutation{ logContact(input:{customerId:"gone", channel:PHONE, direction:INBOUND, agent:"mia", summary:"spoke to Xiaoming"}){ version } }`, nil)
	h.fileComplaint("gone", map[string]any{"complaintId": "kg", "description": "Xiaoming's phone +8613911223344 was published"})
	h.ok(`mutation($n:String){ takeRecoveryStep(input:{complaintId:"kg", step:APOLOGY, by:"mia", note:$n}){ version } }`, map[string]any{"n": stepNote})
	h.ok(`mutation($d:DateTime!, $n:String){ scheduleFollowUp(input:{customerId:"gone", reason:ROUTINE, owner:"mia", dueAt:$d, note:$n}){ version } }`,
		map[string]any{"d": ts(time.Now().Add(24 * time.Hour)), "n": followUpNote})
	h.ok(`mutation{ recordPurchase(input:{customerId:"gone", orderId:"o1", amount:{amountMinor:990, currency:"CNY"}}){ version } }`, nil)
	// Stop and restart once, so checkpoints and snapshots hold the customer.
	h.stop()
	h = startServer(t, options{dir: dir, auth: true})
	if r := h.ok(`{ customer(id:"gone"){ name } }`, nil); r.str("customer.name") != name {
		t.Fatalf("before erasure: %s", r.Raw)
	}

	before := h.head()
	r := h.ok(`mutation{ eraseCustomer(input:{customerId:"gone", by:"alice", reason:"GDPR request"}){ version customer{ id name phone email birthday erased } } }`, nil)
	if r.get("eraseCustomer.customer.erased") != true || r.get("eraseCustomer.customer.name") != nil || r.get("eraseCustomer.customer.phone") != nil ||
		r.get("eraseCustomer.customer.email") != nil || r.get("eraseCustomer.customer.birthday") != nil {
		t.Errorf("eraseCustomer payload: %s", r.Raw)
	}
	if h.head() != before+1 {
		t.Errorf("eraseCustomer appended %d events, want 1 (CustomerErased)", h.head()-before)
	}

	assertErased := func(h *harness) {
		t.Helper()
		r := h.ok(`{ customer(id:"gone"){ name phone email erased purchaseCount stage openComplaints{ id description recoverySteps{ note } }
			followUps{ note } timeline(first:50, oldestFirst:true){ totalCount edges{ node{ type summary data } } } }
			complaint(id:"kg"){ description recoverySteps{ note } } followUps{ edges{ node{ note } } }
			search: customers(filter:{search:"Xiaoming"}){ totalCount } kept: customer(id:"kept"){ name phone } }`, nil)
		if r.get("customer.name") != nil || r.get("customer.phone") != nil || r.get("customer.email") != nil || r.get("customer.erased") != true {
			t.Errorf("erased customer: %s", r.Raw)
		}
		if r.num("customer.purchaseCount") != 1 || r.str("customer.stage") == "" {
			t.Errorf("erasure lost non-personal history: %s", r.Raw)
		}
		if r.num("customer.timeline.totalCount") != 7 || r.str("customer.timeline.edges.6.node.type") != "CustomerErased" {
			t.Errorf("timeline after erasure: %s", r.Raw)
		}
		reg, _ := r.get("customer.timeline.edges.0.node.data").(map[string]any)
		if reg["name"] != "[erased]" || reg["phone"] != "[erased]" || reg["email"] != "[erased]" {
			t.Errorf("registration data after erasure: %v, want [erased] for name, phone, email", reg)
		}
		for _, s := range []string{name, phone, email, "Xiaoming", stepNote, followUpNote} {
			if strings.Contains(r.Raw, s) {
				t.Errorf("the API still returns %q: %s", s, r.Raw)
			}
		}
		if r.num("search.totalCount") != 0 {
			t.Errorf("search by the erased name still finds the customer")
		}
		if d := r.get("complaint.description"); d != nil {
			t.Errorf("complaint.description after erasure = %v, want null (schema: null after erasure)", d)
		}
		if r.str("kept.name") != "Kept Customer" || r.str("kept.phone") != "+8613000000000" {
			t.Errorf("erasure touched another customer: %s", r.Raw)
		}
		ev := h.ok(`{ events(filter:{streamId:"customer-gone"}){ edges{ node{ type data } } } }`, nil)
		if len(ev.list("events.edges")) != 7 || strings.Contains(ev.Raw, name) || strings.Contains(ev.Raw, phone) {
			t.Errorf("events after erasure: %s", ev.Raw)
		}
	}
	assertErased(h)
	h.refused(tokAdmin, "FAILED_PRECONDITION", `mutation{ logContact(input:{customerId:"gone", channel:PHONE, direction:INBOUND, agent:"mia"}){ version } }`, nil)
	h.stop()

	// No file under the data directory holds the personal data.
	if files := scanForPersonalData(t, personalNeedles(name, phone, email, stepNote, followUpNote), dir); files == 0 {
		t.Fatalf("no files in the data directory")
	}
	// Reopen: the erasure survives a rebuild from the log.
	h = startServer(t, options{dir: dir, auth: true})
	assertErased(h)
}

// personalNeedles are the forms of each string a file must not hold: as
// UTF-8, JSON-escaped, and base64 (standard and URL alphabets, padded or
// not) of the UTF-8.
func personalNeedles(ss ...string) map[string][]byte {
	out := map[string][]byte{}
	for _, s := range ss {
		out[s] = []byte(s)
		esc, _ := json.Marshal(s)
		out[s+" (JSON)"] = esc[1 : len(esc)-1]
		for i, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
			out[s+" (base64 #"+string(rune('0'+i))+")"] = []byte(enc.EncodeToString([]byte(s)))
		}
	}
	return out
}

// scanForPersonalData reads every file under the roots and reports each
// one that holds a needle; it returns how many files it read.
func scanForPersonalData(t *testing.T, needles map[string][]byte, roots ...string) int {
	t.Helper()
	files := 0
	for _, root := range roots {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			files++
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for what, n := range needles {
				if bytes.Contains(b, n) {
					rel, _ := filepath.Rel(root, path)
					t.Errorf("%s still holds %s", rel, what)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return files
}

// TestErasureCoversOutboxExportsAndReport is issue 13 §2's scan: a customer
// whose name and phone went into a greeting in the outbox (the default
// sender), and into the notes of a complaint and a follow-up, is erased;
// then no file of the data directory, no export (NDJSON, CSV,
// pseudonymized) and no HTML report holds the name, phone, e-mail or notes,
// while the other customer's greeting still reads through GET /outbox.
func TestErasureCoversOutboxExportsAndReport(t *testing.T) {
	const (
		name      = "Xiaoming Erasable-Zhu"
		phone     = "+8613911223344"
		email     = "erasable.zhu@example.net"
		ackNote   = "told Xiaoming Erasable-Zhu we are on it"
		stepNote  = "sent flowers to Xiaoming Erasable-Zhu at home"
		fuNote    = "call +8613911223344 before the holiday"
		keptName  = "Kept Wang-Customer"
		keptPhone = "+8613000000077"
	)
	t0 := time.Date(2027, 1, 20, 0, 0, 0, 0, time.UTC)
	clock := newFakeClock(t0)
	dir := t.TempDir()
	h := campaignServer(t, dir, clock, nil)
	h.setup(campCustomer{id: "gone", name: name, tier: "GOLD", phone: phone, email: email, consent: true}, t0.Add(-time.Hour))
	h.setup(campCustomer{id: "kept", name: keptName, tier: "GOLD", phone: keptPhone, consent: true}, t0.Add(-time.Hour))
	h.fileComplaint("gone", map[string]any{"complaintId": "kg", "occurredAt": ts(t0.Add(-30 * time.Minute))})
	h.ok(`mutation($n:String){ acknowledgeComplaint(input:{complaintId:"kg", by:"mia", note:$n}){ version } }`, map[string]any{"n": ackNote})
	h.ok(`mutation($n:String){ takeRecoveryStep(input:{complaintId:"kg", step:EMPATHY, by:"mia", note:$n}){ version } }`, map[string]any{"n": stepNote})
	h.ok(`mutation($d:DateTime!, $n:String){ scheduleFollowUp(input:{customerId:"gone", reason:ROUTINE, owner:"mia", dueAt:$d, note:$n}){ version } }`,
		map[string]any{"d": ts(t0.Add(48 * time.Hour)), "n": fuNote})

	id, _ := h.schedule(map[string]any{"name": "Spring 2027", "occasion": "CN:spring_festival", "date": "2027-02-06",
		"templates": []any{map[string]any{"channel": "SMS", "body": "Happy {{occasion}}, {{name}}"}}})
	clock.Set(at(t, shanghai, 2027, 2, 6, 9, 0))
	h.waitCampaign(id, "both greeted", func(s campaignState) bool { return s.Sent == 2 })
	byCustomer := outboxByCustomer(t, h.outbox(tokMarketing))
	if l := byCustomer[id+"/gone"]; l.To != phone || !strings.Contains(l.Body, name) {
		t.Fatalf("before erasure the outbox reads %+v for gone, want the greeting to %s with the name", l.Message, phone)
	}

	h.ok(`mutation{ eraseCustomer(input:{customerId:"gone", by:"alice", reason:"GDPR request"}){ version } }`, nil)
	byCustomer = outboxByCustomer(t, h.outbox(tokMarketing))
	if l := byCustomer[id+"/gone"]; l.To != "[erased]" || l.Body != "[erased]" || l.IdempotencyKey == "" {
		t.Errorf("after erasure the outbox reads %+v for gone, want to and body [erased], the line kept", l.Message)
	}
	if l := byCustomer[id+"/kept"]; l.To != keptPhone || l.Body != "Happy 春节, "+keptName {
		t.Errorf("after erasure the other customer's greeting reads %+v", l.Message)
	}
	h.stop()

	// What an analyst takes away: exports and the report, made after the
	// erasure as kefu export and kefu report make them.
	out := t.TempDir()
	d, err := datadir.Open(dir, datadir.Options{MustExist: true})
	if err != nil {
		t.Fatal(err)
	}
	for file, opts := range map[string]exchange.ExportOptions{
		"export.ndjson":        {Format: exchange.NDJSON},
		"export.csv":           {Format: exchange.CSV},
		"pseudonymized.ndjson": {Format: exchange.NDJSON, Pseudonymize: true, Key: []byte("a key of sixteen or more bytes")},
	} {
		f, err := os.Create(filepath.Join(out, file))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := exchange.Export(t.Context(), d.Store, d.Codec, exchange.DefaultTypes(), f, opts); err != nil {
			t.Fatalf("export %s: %v", file, err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
	plain, err := readmodels.PlainDecoder()
	if err != nil {
		t.Fatal(err)
	}
	book, err := analytics.Replay(t.Context(), d.Store, plain, analytics.ReplayConfig{})
	if err != nil {
		t.Fatal(err)
	}
	var report bytes.Buffer
	if err := analytics.WriteHTML(&report, book, analytics.HTMLOptions{Generated: clock.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(out, "report.html"), report.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}

	needles := personalNeedles(name, phone, email, ackNote, stepNote, fuNote, "Happy 春节, "+name)
	if files := scanForPersonalData(t, needles, dir, out); files < 6 {
		t.Errorf("scanned %d files, want at least the store, the keystore, the outbox, three exports and the report", files)
	}
	// The scan can see: the other customer's data is in the plain export.
	if b, err := os.ReadFile(filepath.Join(out, "export.ndjson")); err != nil || !bytes.Contains(b, []byte(keptName)) || !bytes.Contains(b, []byte(keptPhone)) {
		t.Errorf("the plain export lacks the other customer's name and phone (%v): the scan would see nothing", err)
	}
}
