package exchange_test

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/kefu-crm/kefu/automation/greeting"
	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/eventstore/codec"
	"github.com/kefu-crm/kefu/exchange"
)

// TestPseudonymizedExportResistsReidentification is issue 13 §2's attack on
// `kefu export --pseudonymize`. The attacker has the export and a list of
// candidate customer IDs (here every real one, among decoys), knows how
// kefu derives event IDs (UUIDv5 in public namespaces: a greeting's from
// campaign ID + "/" + customer ID, a seeded event's from the seed, the
// customer ID and its index), recomputes them for every candidate and
// looks for them among the export's event IDs; and reads the text of the
// export for raw IDs. On the clear export the attack names every
// customer; on the pseudonymized one it must name none, and no customer,
// complaint, order or follow-up ID may appear anywhere in it.
func TestPseudonymizedExportResistsReidentification(t *testing.T) {
	ctx := context.Background()
	src := seeded(t, 12)
	const campaignID = "camp-spring-2025"
	var customers []string
	for _, ev := range allEvents(t, src.Store) {
		if ev.Type == customer.TypeCustomerRegistered {
			_, id, _ := strings.Cut(ev.StreamID, "-")
			customers = append(customers, id)
		}
	}
	// What the dispatcher, the follow-up scheduler and the staff add: a
	// greeting under its deterministic ID, a win-back follow-up whose note
	// quotes a complaint ID (as the scheduler writes it), and a reason that
	// quotes the customer's ID.
	quoted := map[string]bool{}
	for _, id := range customers {
		stream := "customer-" + id
		k := "k-" + id + "-7"
		quoted[k] = true
		fu, err := src.Codec.Encode(ctx, stream, &customer.FollowUpScheduled{FollowUpID: customer.WinBackFollowUpID(id, seedEnd), Reason: customer.ReasonWinBack,
			Owner: "amy", DueAt: seedEnd, Note: "win-back: no inbound contact for 30 days after complaint " + k}, codecEnv())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := src.Store.Append(ctx, stream, eventstore.Any(), fu); err != nil {
			t.Fatal(err)
		}
		g, err := src.Codec.Encode(ctx, stream, &customer.GreetingSent{CampaignID: campaignID, Occasion: "CN:spring_festival", Channel: customer.ChannelSMS},
			codec.Envelope{ID: greeting.GreetingID(campaignID, id), OccurredAt: seedEnd})
		if err != nil {
			t.Fatal(err)
		}
		lost, err := src.Codec.Encode(ctx, stream, &customer.CustomerMarkedLost{By: "amy", Reason: "moved away after " + k + "; see the CRM card of " + id + "."}, codecEnv())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := src.Store.Append(ctx, stream, eventstore.Any(), g, lost); err != nil {
			t.Fatal(err)
		}
	}

	// The attacker's table: derived event ID → candidate customer.
	candidates := append([]string{"c999998", "c999999", "x-1"}, customers...)
	derived := map[uuid.UUID]string{}
	for _, c := range candidates {
		derived[greeting.GreetingID(campaignID, c)] = c
		for i := range 500 {
			derived[codec.DeterministicID("seed/7/"+c, strconv.Itoa(i))] = c
		}
	}
	attack := func(envs []exchange.Envelope) map[string]int {
		named := map[string]int{}
		for _, e := range envs {
			if c, ok := derived[uuid.MustParse(e.ID)]; ok {
				named[c]++
			}
		}
		return named
	}

	clear := envelopes(t, export(t, src, exchange.ExportOptions{}))
	if named := attack(clear); len(named) != len(customers) {
		t.Fatalf("the attack names %d of %d customers in the clear export: it does not work, so it proves nothing", len(named), len(customers))
	}
	// Every entity ID of the history, from the clear export.
	raw := quoted
	for _, id := range customers {
		raw[id] = true
	}
	idField := regexp.MustCompile(`"(?:customerId|referredCustomerId|orderId|complaintId|followUpId)":"([^"]+)"`)
	for _, e := range clear {
		for _, m := range idField.FindAllStringSubmatch(string(e.Data), -1) {
			raw[m[1]] = true
		}
	}

	for _, key := range []string{"0123456789abcdef0123", "another key, 16+ bytes"} {
		out := export(t, src, exchange.ExportOptions{Pseudonymize: true, Key: []byte(key)})
		ps := envelopes(t, out)
		if len(ps) != len(clear) {
			t.Fatalf("%d envelopes pseudonymized, want %d", len(ps), len(clear))
		}
		for c, n := range attack(ps) {
			t.Errorf("key %q: %d events re-identified as customer %s by recomputing their IDs", key, n, c)
		}
		ids := map[string]bool{}
		for _, e := range ps {
			u := uuid.MustParse(e.ID)
			if ids[e.ID] || u == uuid.Nil {
				t.Fatalf("event ID %s repeated or nil: a pseudonymized export must still import", e.ID)
			}
			ids[e.ID] = true
		}
		text := string(out)
		for id := range raw {
			if strings.Contains(text, id) {
				i := strings.Index(text, id)
				t.Errorf("key %q: the export still holds %q: …%s…", key, id, text[max(0, i-80):min(len(text), i+len(id)+40)])
			}
		}
		if t.Failed() {
			return
		}
		// Still an import file, and the quoted reason points at the
		// pseudonym the stream has.
		if _, err := importNDJSON(openDir(t, t.TempDir()), out); err != nil {
			t.Fatal(err)
		}
		for _, e := range ps {
			if e.Type == customer.TypeCustomerMarkedLost {
				_, p, _ := strings.Cut(e.Stream, "-")
				if !strings.Contains(string(e.Data), "card of "+p+".") {
					t.Errorf("reason %s does not quote the stream's pseudonym %s", e.Data, p)
				}
			}
		}
	}
}

// TestPseudonymizedTextQuotingShortIDs: a short customer ID quoted in text
// is replaced where it stands as a word, not inside other words or IDs.
func TestPseudonymizedTextQuotingShortIDs(t *testing.T) {
	ctx := context.Background()
	src := openDir(t, t.TempDir())
	var recs []eventstore.Record
	for _, e := range []any{
		&customer.CustomerRegistered{CustomerID: "c1", Name: "Li Lei", Tier: customer.TierStandard, Timezone: "Asia/Shanghai", Locale: "zh-CN"},
		&customer.CustomerMarkedLost{By: "amy", Reason: "c1 left; c10, abc1 and c1-x stay; ask c1."},
	} {
		r, err := src.Codec.Encode(ctx, "customer-c1", e, codecEnv())
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
	if _, err := src.Store.Append(ctx, "customer-c1", eventstore.NoStream(), recs...); err != nil {
		t.Fatal(err)
	}
	ps := envelopes(t, export(t, src, exchange.ExportOptions{Pseudonymize: true, Key: []byte("0123456789abcdef0123")}))
	_, p, _ := strings.Cut(ps[0].Stream, "-")
	want := `{"by":"amy","reason":"` + p + ` left; c10, abc1 and c1-x stay; ask ` + p + `."}`
	if string(ps[1].Data) != want {
		t.Fatalf("reason pseudonymized as %s, want %s", ps[1].Data, want)
	}
}
