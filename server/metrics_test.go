package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/kefu-crm/kefu/automation/greeting"
	"github.com/kefu-crm/kefu/server"
)

// scrape is one /metrics exposition, parsed.
type scrape map[string]*dto.MetricFamily

// scrapeMetrics fetches /metrics with token, checks the exposition format
// (it parses, and promlint finds nothing wrong with kefu's own metrics)
// and returns it.
func (h *harness) scrapeMetrics(token string) scrape {
	h.t.Helper()
	code, hdr, body := h.httpGet("/metrics", map[string]string{"Authorization": "Bearer " + token})
	if code != http.StatusOK {
		h.t.Fatalf("/metrics: HTTP %d", code)
	}
	if ct := hdr.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		h.t.Errorf("/metrics Content-Type %q", ct)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		h.t.Fatalf("/metrics is not the Prometheus text format: %v", err)
	}
	problems, err := promlint.New(strings.NewReader(body)).Lint()
	if err != nil {
		h.t.Fatalf("promlint: %v", err)
	}
	for _, p := range problems {
		if strings.HasPrefix(p.Metric, "kefu_") {
			h.t.Errorf("promlint: %s: %s", p.Metric, p.Text)
		}
	}
	return fams
}

// value is the sample of name whose labels include want (a counter's or a
// gauge's value, a histogram's count); 0 when there is none.
func (s scrape) value(name string, want map[string]string) float64 {
	f := s[name]
	if f == nil {
		return 0
	}
	total := 0.0
	for _, m := range f.GetMetric() {
		if !labelsMatch(m, want) {
			continue
		}
		switch {
		case m.Counter != nil:
			total += m.Counter.GetValue()
		case m.Gauge != nil:
			total += m.Gauge.GetValue()
		case m.Histogram != nil:
			total += float64(m.Histogram.GetSampleCount())
		}
	}
	return total
}

func labelsMatch(m *dto.Metric, want map[string]string) bool {
	have := map[string]string{}
	for _, l := range m.GetLabel() {
		have[l.GetName()] = l.GetValue()
	}
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return true
}

// labelValues lists the values label takes in name's samples.
func (s scrape) labelValues(name, label string) []string {
	seen := map[string]bool{}
	for _, m := range s[name].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == label {
				seen[l.GetValue()] = true
			}
		}
	}
	var out []string
	for v := range seen {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}

func labels(kv ...string) map[string]string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

// Given a server with a webhook gateway, when a scripted series of
// requests runs — successes, refusals before execution of every kind,
// refused commands, a complaint resolved SATISFIED (the follow-up
// scheduler books its calls) and a campaign sent through a gateway that
// retries and fails once —, then /metrics (valid exposition, promlint
// clean) moved by exactly what happened: operations by type, root field
// and code; command errors; greeting sends, retries and latency; outcomes
// recorded; campaigns by status; follow-ups booked; lag on every
// projection.
func TestMetricsAfterAScriptedSeries(t *testing.T) {
	secret := []byte("gateway-secret")
	gw := &gateway{t: t, secret: secret, hits: map[string]int{}, keys: map[string]map[string]bool{}, script: map[string][]int{
		"m-retry": {503, 503, 200}, "m-bad": {400}, "m-ok": {200},
	}}
	gwSrv := httptest.NewServer(gw)
	t.Cleanup(gwSrv.Close)
	wh, err := greeting.NewWebhook(greeting.WebhookConfig{URL: gwSrv.URL + "/sms", Secret: secret, Timeout: 5 * time.Second,
		MaxAttempts: 5, Backoff: time.Millisecond, MaxBackoff: 4 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	clock := newFakeClock(time.Date(2027, 1, 20, 0, 0, 0, 0, time.UTC))
	h := campaignServer(t, "", clock, func(c *server.Config) { c.Sender = wh })
	for _, c := range []campCustomer{
		{id: "m-retry", name: "重试", phone: "+8613200000001", consent: true},
		{id: "m-bad", name: "坏号", phone: "+8613200000002", consent: true},
		{id: "m-ok", name: "顺利", phone: "+8613200000003", consent: true},
		{id: "m-quiet", name: "不要", phone: "+8613200000004"},
	} {
		h.setup(c, clock.Now().Add(-time.Hour))
	}
	before := h.scrapeMetrics(tokAnalyst)
	delta := func(after scrape, name string, kv ...string) float64 {
		return after.value(name, labels(kv...)) - before.value(name, labels(kv...))
	}

	// Successes, with aliases: the label is the field's name.
	h.ok(`{ a: customer(id: "m-ok") { id } b: customer(id: "m-bad") { id } __typename }`, nil)
	h.ok(`{ customers(first: 5) { totalCount } }`, nil)
	// Refused before execution, each with its code.
	raw := func(contentType, body, token string) {
		req, _ := http.NewRequest(http.MethodPost, h.http.URL+"/graphql", bytes.NewReader([]byte(body)))
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := h.http.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	raw("application/json", `{"query": `, tokAdmin)                                                                                                 // malformed JSON
	raw("text/plain", `{"query": "{ __typename }"}`, tokAdmin)                                                                                      // 415
	raw("application/json", `{"query": "{ __typename }"}`, "")                                                                                      // 401
	raw("application/json", `{"query": "{ customer(id: \"x\") { shoe } }"}`, tokAdmin)                                                              // validation
	h.refused(tokAdmin, "BAD_USER_INPUT", `{ customers(first: 500) { edges { node { timeline(first: 500) { edges { node { data } } } } } } }`, nil) // complexity
	// Commands refused: an unknown customer, a role that may not.
	h.refused(tokAdmin, "NOT_FOUND", `mutation { logContact(input: {customerId: "ghost", channel: SMS, direction: OUTBOUND, agent: "a"}) { version } }`, nil)
	h.refused(tokAnalyst, "FORBIDDEN", `mutation { registerCustomer(input: {name: "No"}) { version } }`, nil)

	// A complaint resolved SATISFIED: the scheduler books two RECOVERY calls.
	k := h.fileComplaint("m-ok", nil)
	for _, step := range []string{
		`mutation($k: ID!) { acknowledgeComplaint(input: {complaintId: $k, by: "mia"}) { version } }`,
		`mutation($k: ID!) { proposeResolution(input: {complaintId: $k, by: "mia", options: ["refund"]}) { version } }`,
		`mutation($k: ID!) { acceptResolution(input: {complaintId: $k, optionIndex: 0}) { version } }`,
		`mutation($k: ID!) { resolveComplaint(input: {complaintId: $k, by: "mia", outcome: SATISFIED}) { version } }`,
	} {
		h.ok(step, map[string]any{"k": k})
	}
	deadline := time.Now().Add(30 * time.Second)
	for delta(h.scrapeMetrics(tokAnalyst), "kefu_followup_actions_total", "result", "booked") < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("the follow-up scheduler booked nothing in 30s")
		}
		time.Sleep(20 * time.Millisecond)
	}

	// A campaign through the gateway: one retried twice, one refused (400),
	// one straight through, one without consent.
	id, _ := h.schedule(map[string]any{"name": "Metrics", "occasion": "CN:spring_festival", "date": "2027-02-06",
		"templates": []any{map[string]any{"channel": "SMS", "body": "{{occasion}}快乐"}}})
	clock.Set(at(t, shanghai, 2027, 2, 6, 9, 0))
	h.waitCampaign(id, "every customer handled", func(s campaignState) bool { return s.Sent+s.Failed+s.Skipped == 4 })

	// The campaign's read model can show a greeting before the dispatcher
	// has counted it: read /metrics until it agrees (or 10 s pass).
	wants := []struct {
		name string
		kv   []string
		want float64
	}{
		{"kefu_graphql_operations_total", []string{"type", "query", "operation", "customer", "code", "OK"}, 2},
		{"kefu_graphql_operations_total", []string{"type", "query", "operation", "__typename", "code", "OK"}, 1},
		{"kefu_graphql_operations_total", []string{"type", "unknown", "operation", "none", "code", "BAD_USER_INPUT"}, 3}, // malformed, 415, validation
		{"kefu_graphql_operations_total", []string{"type", "unknown", "operation", "none", "code", "UNAUTHENTICATED"}, 1},
		{"kefu_graphql_operations_total", []string{"type", "query", "operation", "customers", "code", "BAD_USER_INPUT"}, 1}, // complexity
		{"kefu_graphql_operations_total", []string{"type", "mutation", "operation", "logContact", "code", "NOT_FOUND"}, 1},
		{"kefu_graphql_operations_total", []string{"type", "mutation", "operation", "registerCustomer", "code", "FORBIDDEN"}, 1},
		{"kefu_graphql_operations_total", []string{"type", "mutation", "operation", "resolveComplaint", "code", "OK"}, 1},
		{"kefu_command_errors_total", []string{"command", "logContact", "code", "NOT_FOUND"}, 1},
		{"kefu_command_errors_total", []string{"command", "registerCustomer", "code", "FORBIDDEN"}, 1},
		{"kefu_command_errors_total", nil, 2},
		{"kefu_greeting_sends_total", []string{"channel", "SMS", "result", "delivered"}, 2},
		{"kefu_greeting_sends_total", []string{"channel", "SMS", "result", "failed"}, 1},
		{"kefu_greeting_send_retries_total", []string{"channel", "SMS"}, 2},
		{"kefu_greeting_send_duration_seconds", []string{"channel", "SMS"}, 3},
		{"kefu_greetings_recorded_total", []string{"outcome", "sent"}, 2},
		{"kefu_greetings_recorded_total", []string{"outcome", "failed"}, 1},
		{"kefu_greetings_recorded_total", []string{"outcome", "skipped", "reason", "NO_CONSENT"}, 1},
		{"kefu_followup_actions_total", []string{"result", "booked"}, 2},
	}
	var after scrape
	var wrong []string
	for wait := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		after, wrong = h.scrapeMetrics(tokAnalyst), nil
		for _, c := range wants {
			if got := delta(after, c.name, c.kv...); got != c.want {
				wrong = append(wrong, fmt.Sprintf("%s%v moved by %v, want %v", c.name, c.kv, got, c.want))
			}
		}
		if len(wrong) == 0 || time.Now().After(wait) {
			break
		}
	}
	for _, w := range wrong {
		t.Error(w)
	}
	if n := after.value("kefu_greeting_campaigns", nil); n != 1 {
		t.Errorf("kefu_greeting_campaigns sums to %v, want 1 campaign", n)
	}
	if n := after.value("kefu_greeting_campaigns", labels("status", "RUNNING")) + after.value("kefu_greeting_campaigns", labels("status", "COMPLETED")); n != 1 {
		t.Errorf("the campaign is neither RUNNING nor COMPLETED in /metrics")
	}
	// The operation label only takes the schema's root field names.
	allowed := map[string]bool{"none": true, "other": true, "__schema": true, "__type": true, "__typename": true}
	schema := h.srv.Schema()
	for name := range schema.QueryType().Fields() {
		allowed[name] = true
	}
	for name := range schema.MutationType().Fields() {
		allowed[name] = true
	}
	for _, v := range after.labelValues("kefu_graphql_operations_total", "operation") {
		if !allowed[v] {
			t.Errorf("operation label %q is not a root field name", v)
		}
	}
	// Lag in seconds on every projection, in events on the embedded store.
	lagS, lagE := after.labelValues("kefu_projection_lag_seconds", "projection"), after.labelValues("kefu_projection_lag_events", "projection")
	if len(lagS) < 5 || strings.Join(lagS, ",") != strings.Join(lagE, ",") {
		t.Errorf("lag seconds for %v, lag events for %v", lagS, lagE)
	}
	code, _, body := h.httpGet("/healthz", map[string]string{"Authorization": "Bearer " + tokAdmin})
	var hz struct {
		Projections []map[string]any `json:"projections"`
	}
	if err := json.Unmarshal([]byte(body), &hz); err != nil || code != http.StatusOK {
		t.Fatalf("/healthz: %d %s", code, body)
	}
	for _, p := range hz.Projections {
		if _, ok := p["lagSeconds"]; !ok {
			t.Errorf("/healthz projection without lagSeconds: %v", p)
		}
		if _, ok := p["lagEvents"]; !ok {
			t.Errorf("/healthz projection without lagEvents on the embedded store: %v", p)
		}
	}
}
