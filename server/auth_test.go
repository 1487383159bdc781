package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/eventstore/codec"
)

// piiKeys are the event-data keys ANALYST must never see: every key any
// customer event names personal (its PersonalData).
var piiKeys = func() []string {
	c, err := codec.New(codec.Options{}, codec.SpecsOf(customer.Events()))
	if err != nil {
		panic(err)
	}
	var keys []string
	for _, t := range c.Types() {
		for _, k := range c.PersonalKeys(t) {
			if !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
		}
	}
	return keys
}()

// findKeys reports which of keys occur at any depth of v.
func findKeys(v any, keys []string) []string {
	var found []string
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				for _, p := range keys {
					if k == p {
						found = append(found, k)
					}
				}
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		case string:
			// JSON scalars may arrive as a string holding JSON.
			var inner any
			if strings.HasPrefix(strings.TrimSpace(x), "{") && json.Unmarshal([]byte(x), &inner) == nil {
				walk(inner)
			}
		}
	}
	walk(v)
	return found
}

// TestRoleMatrix drives the role matrix through the real server with an
// auth file: who may call which mutation, who sees personal data, and the
// acting user in every event's metadata.
func TestRoleMatrix(t *testing.T) {
	h := startServer(t, options{auth: true})
	h.register("c1", "Qian Duoduo", map[string]any{"phone": "+8613700000007", "email": "qian@example.com", "wechat": "qdd",
		"birthday": "1985-02-03", "accountManager": "mia", "marketingConsent": true})
	h.token = tokManager
	h.ok(`mutation{ logContact(input:{customerId:"c1", channel:PHONE, direction:INBOUND, agent:"mia", summary:"Qian called about her order"}){ version } }`, nil)
	k := h.fileComplaint("c1", map[string]any{"description": "Qian says the parcel was opened"})
	fu := h.ok(`mutation($d:DateTime!){ scheduleFollowUp(input:{customerId:"c1", reason:ROUTINE, owner:"mia", dueAt:$d, note:"ask Qian about the parcel"}){ followUp{ id } } }`,
		map[string]any{"d": ts(time.Now().Add(time.Hour))}).str("scheduleFollowUp.followUp.id")
	h.ok(`mutation{ recordSatisfaction(input:{customerId:"c1", score:3, comment:"Qian: so-so"}){ version } }`, nil)
	h.token = tokAdmin

	t.Run("mutations by role", func(t *testing.T) {
		outer := h.t
		h.t = t
		defer func() { h.t = outer }()
		// Each input is harmless when allowed (an unknown id or an invalid
		// field), so the matrix can be walked without side effects.
		muts := []struct {
			name, query string
			allowed     []string
		}{
			{"registerCustomer", `mutation{ registerCustomer(input:{id:"bad id!", name:"X"}){ version } }`, []string{"ADMIN", "ACCOUNT_MANAGER"}},
			{"updateProfile", `mutation{ updateProfile(input:{customerId:"ghost", segment:"x"}){ version } }`, []string{"ADMIN", "ACCOUNT_MANAGER"}},
			{"setMarketingConsent", `mutation{ setMarketingConsent(input:{customerId:"ghost", consent:true}){ version } }`, []string{"ADMIN", "ACCOUNT_MANAGER"}},
			{"logContact", `mutation{ logContact(input:{customerId:"ghost", channel:SMS, direction:OUTBOUND, agent:"a"}){ version } }`, []string{"ADMIN", "ACCOUNT_MANAGER"}},
			{"recordPurchase", `mutation{ recordPurchase(input:{customerId:"ghost", orderId:"o", amount:{amountMinor:1, currency:"CNY"}}){ version } }`, []string{"ADMIN", "ACCOUNT_MANAGER"}},
			{"recordReferral", `mutation{ recordReferral(input:{customerId:"ghost", referredCustomerId:"c1"}){ version } }`, []string{"ADMIN", "ACCOUNT_MANAGER"}},
			{"voiceGrumble", `mutation{ voiceGrumble(input:{customerId:"ghost", channel:SMS, summary:"s"}){ version } }`, []string{"ADMIN", "ACCOUNT_MANAGER"}},
			{"fileComplaint", `mutation{ fileComplaint(input:{customerId:"ghost", channel:SMS, category:"c", description:"d", owner:"o"}){ version } }`, []string{"ADMIN", "ACCOUNT_MANAGER"}},
			{"acknowledgeComplaint", `mutation{ acknowledgeComplaint(input:{complaintId:"ghost", by:"b"}){ version } }`, []string{"ADMIN", "ACCOUNT_MANAGER"}},
			{"escalateComplaint", `mutation{ escalateComplaint(input:{complaintId:"ghost", by:"b", to:"t", reason:"r", promisedReplyBy:"2999-01-01T00:00:00Z"}){ version } }`, []string{"ADMIN", "ACCOUNT_MANAGER"}},
			{"declineComplaint", `mutation{ declineComplaint(input:{complaintId:"ghost", by:"b", reason:"r"}){ version } }`, []string{"ADMIN", "ACCOUNT_MANAGER"}},
			{"proposeResolution", `mutation{ proposeResolution(input:{complaintId:"ghost", by:"b", options:["x"]}){ version } }`, []string{"ADMIN", "ACCOUNT_MANAGER"}},
			{"acceptResolution", `mutation{ acceptResolution(input:{complaintId:"ghost", optionIndex:0}){ version } }`, []string{"ADMIN", "ACCOUNT_MANAGER"}},
			{"takeRecoveryStep", `mutation{ takeRecoveryStep(input:{complaintId:"ghost", step:APOLOGY, by:"b"}){ version } }`, []string{"ADMIN", "ACCOUNT_MANAGER"}},
			{"resolveComplaint", `mutation{ resolveComplaint(input:{complaintId:"ghost", by:"b", outcome:SATISFIED}){ version } }`, []string{"ADMIN", "ACCOUNT_MANAGER"}},
			{"reopenComplaint", `mutation{ reopenComplaint(input:{complaintId:"ghost", by:"b"}){ version } }`, []string{"ADMIN", "ACCOUNT_MANAGER"}},
			{"fileIncidentReport", `mutation{ fileIncidentReport(input:{complaintId:"ghost", by:"b", impact:"i", handling:"h", cause:"c", correctiveActions:"a"}){ version } }`, []string{"ADMIN", "ACCOUNT_MANAGER"}},
			{"scheduleFollowUp", `mutation{ scheduleFollowUp(input:{customerId:"ghost", reason:ROUTINE, dueAt:"2999-01-01T00:00:00Z"}){ version } }`, []string{"ADMIN", "ACCOUNT_MANAGER"}},
			{"completeFollowUp", `mutation{ completeFollowUp(input:{followUpId:"ghost", by:"b", outcome:SATISFIED}){ version } }`, []string{"ADMIN", "ACCOUNT_MANAGER"}},
			{"recordSatisfaction", `mutation{ recordSatisfaction(input:{customerId:"ghost", score:5}){ version } }`, []string{"ADMIN", "ACCOUNT_MANAGER"}},
			{"markLost", `mutation{ markLost(input:{customerId:"ghost", reason:"r", by:"b"}){ version } }`, []string{"ADMIN", "ACCOUNT_MANAGER"}},
			{"flagConduct", `mutation{ flagConduct(input:{customerId:"ghost", by:"b", note:"n"}){ version } }`, []string{"ADMIN", "ACCOUNT_MANAGER"}},
			{"scheduleGreetingCampaign", `mutation{ scheduleGreetingCampaign(input:{name:"n", occasion:"BIRTHDAY", templates:[]}){ campaign{ id } } }`, []string{"ADMIN", "MARKETING"}},
			{"cancelGreetingCampaign", `mutation{ cancelGreetingCampaign(input:{campaignId:"ghost", reason:"r"}){ campaign{ id } } }`, []string{"ADMIN", "MARKETING"}},
			{"eraseCustomer", `mutation{ eraseCustomer(input:{customerId:"ghost", by:"b", reason:"r"}){ version } }`, []string{"ADMIN"}},
		}
		roles := map[string]string{"ADMIN": tokAdmin, "ACCOUNT_MANAGER": tokManager, "MARKETING": tokMarketing, "ANALYST": tokAnalyst}
		for _, m := range muts {
			for role, tok := range roles {
				allowed := false
				for _, a := range m.allowed {
					allowed = allowed || a == role
				}
				before := h.head()
				r := h.post(tok, m.query, nil)
				if h.head() != before {
					t.Errorf("%s by %s appended events", m.name, role)
				}
				if len(r.Errors) == 0 {
					t.Errorf("%s by %s: the harmless input succeeded: %s", m.name, role, r.Raw)
					continue
				}
				code := r.Errors[0].code()
				switch {
				case allowed && (code == "FORBIDDEN" || code == "UNAUTHENTICATED"):
					t.Errorf("%s by %s: %s, want it allowed: %s", m.name, role, code, r.Raw)
				case !allowed && code != "FORBIDDEN":
					t.Errorf("%s by %s: %s, want FORBIDDEN", m.name, role, code)
				}
			}
		}
	})

	t.Run("analyst sees no personal data", func(t *testing.T) {
		outer := h.t
		h.t = t
		defer func() { h.t = outer }()
		r := h.post(tokAnalyst, `{ customer(id:"c1"){ id name phone email birthday tier stage accountManager
			timeline(first:50){ totalCount edges{ node{ type summary data } } }
			openComplaints{ id description } } }`, nil)
		if len(r.Errors) > 0 {
			t.Fatalf("analyst read: %s", r.Raw)
		}
		for _, f := range []string{"name", "phone", "email", "birthday"} {
			if v := r.get("customer." + f); v != nil {
				t.Errorf("ANALYST sees customer.%s = %v", f, v)
			}
		}
		if r.str("customer.tier") != "STANDARD" || r.str("customer.stage") != "COMPLAINING" || r.str("customer.accountManager") != "mia" {
			t.Errorf("ANALYST lost non-personal fields: %s", r.Raw)
		}
		if got := r.get("customer.openComplaints.0.description"); got != nil {
			t.Errorf("ANALYST sees the complaint description %v", got)
		}
		if r.num("customer.timeline.totalCount") != 5 {
			t.Errorf("ANALYST timeline has %d entries, want 5", r.num("customer.timeline.totalCount"))
		}
		for i := range r.list("customer.timeline.edges") {
			node := fmt.Sprintf("customer.timeline.edges.%d.node", i)
			if keys := findKeys(r.get(node+".data"), piiKeys); len(keys) > 0 {
				t.Errorf("ANALYST timeline %s data has personal keys %v: %v", r.str(node+".type"), keys, r.get(node+".data"))
			}
			if s := r.str(node + ".summary"); s == "" || strings.Contains(s, "Qian") {
				t.Errorf("ANALYST timeline %s summary %q", r.str(node+".type"), s)
			}
		}
		if strings.Contains(r.Raw, "Qian") || strings.Contains(r.Raw, "qian@") || strings.Contains(r.Raw, "+86137") {
			t.Errorf("personal data in the ANALYST's response: %s", r.Raw)
		}
		ev := h.post(tokAnalyst, `{ events(filter:{streamId:"customer-c1"}){ edges{ node{ type data metadata } } } }`, nil)
		if len(ev.Errors) > 0 || len(ev.list("events.edges")) != 5 {
			t.Fatalf("ANALYST events: %s", ev.Raw)
		}
		for i := range ev.list("events.edges") {
			if keys := findKeys(ev.get(fmt.Sprintf("events.edges.%d.node.data", i)), piiKeys); len(keys) > 0 {
				t.Errorf("ANALYST events data has personal keys %v", keys)
			}
		}
		if strings.Contains(ev.Raw, "Qian") {
			t.Errorf("personal data in the ANALYST's events: %s", ev.Raw)
		}
		c := h.post(tokAnalyst, `query($k:ID!){ complaint(id:$k){ description } followUps{ edges{ node{ id note } } } }`, map[string]any{"k": k})
		if c.get("complaint.description") != nil || c.get("followUps.edges.0.node.note") != nil || len(c.Errors) > 0 {
			t.Errorf("ANALYST complaint/follow-up personal fields: %s", c.Raw)
		}
	})

	t.Run("marketing reads customers with personal data", func(t *testing.T) {
		outer := h.t
		h.t = t
		defer func() { h.t = outer }()
		r := h.post(tokMarketing, `{ customers(filter:{search:"Qian"}){ totalCount edges{ node{ id name email } } } }`, nil)
		if len(r.Errors) > 0 || r.num("customers.totalCount") != 1 || r.str("customers.edges.0.node.name") != "Qian Duoduo" {
			t.Errorf("MARKETING read: %s", r.Raw)
		}
		h.refused(tokMarketing, "FORBIDDEN", `mutation($k:ID!){ acknowledgeComplaint(input:{complaintId:$k, by:"mark"}){ version } }`, map[string]any{"k": k})
		h.refused(tokMarketing, "FORBIDDEN", `mutation($f:ID!){ completeFollowUp(input:{followUpId:$f, by:"mark", outcome:SATISFIED}){ version } }`, map[string]any{"f": fu})
	})

	t.Run("the acting user is in every event's metadata", func(t *testing.T) {
		outer := h.t
		h.t = t
		defer func() { h.t = outer }()
		r := h.ok(`{ events(filter:{streamId:"customer-c1"}){ edges{ node{ type metadata } } } }`, nil)
		wantActors := []string{"alice", "mia", "mia", "mia", "mia"}
		wantRoles := []string{"ADMIN", "ACCOUNT_MANAGER", "ACCOUNT_MANAGER", "ACCOUNT_MANAGER", "ACCOUNT_MANAGER"}
		edges := r.list("events.edges")
		if len(edges) != len(wantActors) {
			t.Fatalf("%d events, want %d", len(edges), len(wantActors))
		}
		for i := range edges {
			meta, _ := r.get(fmt.Sprintf("events.edges.%d.node.metadata", i)).(map[string]any)
			if meta["actor"] != wantActors[i] || meta["role"] != wantRoles[i] {
				t.Errorf("event %d (%s): metadata %v, want actor %s role %s", i, r.str(fmt.Sprintf("events.edges.%d.node.type", i)), meta, wantActors[i], wantRoles[i])
			}
		}
	})

	t.Run("no token", func(t *testing.T) {
		for _, hdr := range []string{"", "Bearer ", "Basic dG9rLWFkbWlu", "Bearer tok-admin-but-wrong"} {
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, h.http.URL+"/graphql", strings.NewReader(`{"query":"{ customers { totalCount } }"}`))
			req.Header.Set("Content-Type", "application/json")
			if hdr != "" {
				req.Header.Set("Authorization", hdr)
			}
			resp, err := h.http.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var body struct {
				Data   any        `json:"data"`
				Errors []gqlError `json:"errors"`
			}
			err = json.NewDecoder(resp.Body).Decode(&body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized || err != nil || len(body.Errors) != 1 || body.Errors[0].code() != "UNAUTHENTICATED" || body.Data != nil {
				t.Errorf("Authorization %q: HTTP %d %+v %v", hdr, resp.StatusCode, body, err)
			}
			if resp.Header.Get("WWW-Authenticate") == "" {
				t.Errorf("Authorization %q: no WWW-Authenticate header", hdr)
			}
		}
	})
}
