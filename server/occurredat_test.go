package server_test

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// No command is accepted with a business time before the customer was
// registered (nor a complaint step before the complaint was filed): each is
// BAD_USER_INPUT naming occurredAt, and appends nothing; dated after, the
// same commands are accepted.
func TestNothingBeforeTheRegistration(t *testing.T) {
	h := startServer(t, options{auth: true})
	registered := time.Now().Add(-10 * 24 * time.Hour).Truncate(time.Second)
	h.register("c1", "王芳", map[string]any{"occurredAt": ts(registered), "accountManager": "mia"})
	before := ts(registered.Add(-time.Hour))

	type mutation struct{ name, input, in string }
	customerMutations := []mutation{
		{"fileComplaint", "FileComplaintInput", `customerId:"c1", complaintId:"k-early", channel:PHONE, category:"delivery", description:"broken", owner:"mia"`},
		{"logContact", "LogContactInput", `customerId:"c1", channel:PHONE, direction:INBOUND, agent:"mia"`},
		{"recordPurchase", "RecordPurchaseInput", `customerId:"c1", orderId:"o-early", amount:{amountMinor:100, currency:"CNY"}`},
		{"voiceGrumble", "VoiceGrumbleInput", `customerId:"c1", channel:CHAT, summary:"slow"`},
		{"recordSatisfaction", "RecordSatisfactionInput", `customerId:"c1", score:4`},
		{"recordReferral", "RecordReferralInput", `customerId:"c1", referredCustomerId:"friend-1"`},
		{"setMarketingConsent", "SetMarketingConsentInput", `customerId:"c1", consent:false`},
		{"updateProfile", "UpdateProfileInput", `customerId:"c1", segment:"retail"`},
		{"markLost", "MarkLostInput", `customerId:"c1", reason:"moved", by:"mia"`},
		{"flagConduct", "FlagConductInput", `customerId:"c1", by:"mia", note:"shouted"`},
	}
	q := func(m mutation, at string) string {
		return fmt.Sprintf(`mutation{ %s(input:{%s, occurredAt:%q}){ version } }`, m.name, m.in, at)
	}
	for _, m := range customerMutations {
		t.Run(m.name+" before the registration", func(t *testing.T) {
			outer := h.t
			h.t = t
			defer func() { h.t = outer }()
			r := h.refused(tokAdmin, "BAD_USER_INPUT", q(m, before), nil)
			if len(r.Errors) == 0 {
				return
			}
			if f := fmt.Sprint(r.Errors[0].Extensions["fields"]); !strings.Contains(f, "occurredAt") {
				t.Errorf("extensions.fields = %s, want occurredAt", f)
			}
			if !strings.Contains(r.Errors[0].Message, "before the customer was registered") {
				t.Errorf("message %q does not say why", r.Errors[0].Message)
			}
		})
	}

	// After the registration, the same commands are accepted.
	filed := registered.Add(2 * time.Hour)
	for _, m := range customerMutations {
		at := ts(registered.Add(time.Hour))
		if m.name == "fileComplaint" {
			at = ts(filed)
		}
		h.ok(q(m, at), nil)
	}
	r := h.ok(`{ complaint(id:"k-early"){ filedAt } }`, nil)
	if got := mustTime(t, r.str("complaint.filedAt")); !got.Equal(filed) {
		t.Errorf("filedAt = %s, want %s", got, filed)
	}

	// A step on the complaint dated before it was filed (but after the
	// registration) is refused the same way.
	early := ts(filed.Add(-time.Minute))
	steps := []string{
		`acknowledgeComplaint(input:{complaintId:"k-early", by:"mia", occurredAt:%q})`,
		`takeRecoveryStep(input:{complaintId:"k-early", step:APOLOGY, by:"mia", occurredAt:%q})`,
		`declineComplaint(input:{complaintId:"k-early", by:"mia", reason:"outside contract", occurredAt:%q})`,
		`recordSatisfaction(input:{customerId:"c1", complaintId:"k-early", score:2, occurredAt:%q})`,
	}
	for _, s := range steps {
		t.Run(strings.SplitN(s, "(", 2)[0]+" before the filing", func(t *testing.T) {
			outer := h.t
			h.t = t
			defer func() { h.t = outer }()
			r := h.refused(tokAdmin, "BAD_USER_INPUT", "mutation{ "+fmt.Sprintf(s, early)+"{ version } }", nil)
			if len(r.Errors) > 0 && !strings.Contains(r.Errors[0].Message, "before complaint k-early was filed") {
				t.Errorf("message %q does not say why", r.Errors[0].Message)
			}
		})
	}
	h.ok(`mutation{ `+fmt.Sprintf(steps[0], ts(filed.Add(time.Minute)))+`{ version } }`, nil)
}
