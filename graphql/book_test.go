package graphql_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/kefu-crm/kefu/eventstore"
	"github.com/kefu-crm/kefu/graphql"
	kefu "github.com/kefu-crm/kefu/server"
)

// t0 is when the book's complaint was filed; the server's clock stands an
// hour later.
var t0 = time.Date(2025, 3, 4, 10, 0, 0, 0, time.FixedZone("CST", 8*3600))

// book is a real kefu — the embedded store in a temporary directory, the
// read models, the application — with a small book written through the
// API: 王芳 (c1, GOLD, three purchases, an open complaint k1 with an
// apology, a follow-up), 李雷 (c2, new) and a Spring Festival campaign.
// The API under test is built over its application; the server's own
// handler is not used.
type book struct {
	t   testing.TB
	srv *kefu.Server
	// seed is a handler without authentication (the local admin) over
	// the same application, for writing the book.
	seed http.Handler
	// FollowUp and Campaign are the IDs the book's follow-up and campaign
	// were given.
	FollowUp, Campaign string
}

func newBook(t testing.TB) *book {
	t.Helper()
	now := t0.Add(time.Hour)
	srv, err := kefu.New(t.Context(), kefu.Config{DataDir: t.TempDir(), Clock: func() time.Time { return now }})
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.WithoutCancel(t.Context()))
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("Run did not return 30s after cancel")
		}
		if err := srv.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	select {
	case <-srv.Ready():
	case err := <-done:
		t.Fatalf("Run returned before Ready: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("server not ready after 30s")
	}
	schema, err := graphql.NewSchema(graphql.Deps{App: srv.App()})
	if err != nil {
		t.Fatal(err)
	}
	h, err := graphql.NewHandler(schema, graphql.HandlerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	b := &book{t: t, srv: srv, seed: h}
	b.write()
	return b
}

// write writes the book through the API.
func (b *book) write() {
	b.mustDo(`mutation { registerCustomer(input: {id: "c1", name: "王芳", phone: "+86 138 0000 0000", email: "wang@example.com", tier: GOLD,
		segment: "retail", accountManager: "alice", birthday: "1990-05-17", marketingConsent: true, occurredAt: "2024-03-04T10:00:00+08:00"}) { version } }`)
	for i, day := range []string{"2024-04-01", "2024-06-01", "2024-09-01"} {
		b.mustDo(`mutation($o: String!, $at: DateTime!) { recordPurchase(input: {customerId: "c1", orderId: $o, amount: {amountMinor: 43300, currency: "CNY"}, items: ["rice"], occurredAt: $at}) { version } }`,
			"o", "o-"+string(rune('1'+i)), "at", day+"T12:00:00+08:00")
	}
	b.mustDo(`mutation { registerCustomer(input: {id: "c2", name: "李雷", tier: STANDARD, occurredAt: "2025-03-04T10:00:00+08:00"}) { version } }`)
	b.mustDo(`mutation { logContact(input: {customerId: "c1", channel: PHONE, direction: INBOUND, agent: "alice", summary: "王芳 called, upset", occurredAt: "2025-03-04T09:50:00+08:00"}) { version } }`)
	b.mustDo(`mutation { fileComplaint(input: {customerId: "c1", complaintId: "k1", channel: PHONE, category: "delivery", description: "包裹丢失", owner: "alice", occurredAt: "2025-03-04T10:00:00+08:00"}) { version } }`)
	b.mustDo(`mutation { takeRecoveryStep(input: {complaintId: "k1", step: APOLOGY, by: "alice", note: "called 王芳", occurredAt: "2025-03-04T10:01:00+08:00"}) { version } }`)
	b.mustDo(`mutation { takeRecoveryStep(input: {complaintId: "k1", step: SYMBOLIC_ATONEMENT, by: "alice", compensation: {amountMinor: 5000, currency: "CNY"}, occurredAt: "2025-03-04T10:02:00+08:00"}) { version } }`)
	r := b.mustDo(`mutation { scheduleFollowUp(input: {customerId: "c1", complaintId: "k1", reason: RECOVERY, owner: "alice", dueAt: "2025-03-07T10:00:00+08:00", note: "ask 王芳 about the parcel"}) { followUp { id } } }`)
	b.FollowUp, _ = at(r, "scheduleFollowUp", "followUp", "id").(string)
	r = b.mustDo(`mutation { scheduleGreetingCampaign(input: {name: "春节 2026", occasion: "CN:spring_festival", date: "2026-02-17",
		audience: {stages: [LOYAL], tiers: [GOLD]}, templates: [{channel: SMS, body: "{{name}}，{{occasion}}快乐"}]}) { campaign { id } } }`)
	b.Campaign, _ = at(r, "scheduleGreetingCampaign", "campaign", "id").(string)
	if b.FollowUp == "" || b.Campaign == "" {
		b.t.Fatalf("the book's follow-up %q or campaign %q has no ID", b.FollowUp, b.Campaign)
	}
}

// mustDo runs a mutation or query on the seeding handler (vars as name,
// value pairs) and returns its data.
func (b *book) mustDo(query string, vars ...string) map[string]any {
	b.t.Helper()
	v := map[string]any{}
	for i := 0; i+1 < len(vars); i += 2 {
		v[vars[i]] = vars[i+1]
	}
	body, _ := json.Marshal(map[string]any{"query": query, "variables": v})
	req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	b.seed.ServeHTTP(rec, req)
	var out struct {
		Data   map[string]any    `json:"data"`
		Errors []json.RawMessage `json:"errors"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || rec.Code != http.StatusOK || len(out.Errors) > 0 {
		b.t.Fatalf("writing the book: %.200s: %d %s", strings.Join(strings.Fields(query), " "), rec.Code, rec.Body.String())
	}
	return out.Data
}

// head is the position of the last event in the log: a refused request
// must leave it where it was.
func (b *book) head() eventstore.Position {
	b.t.Helper()
	p, err := b.srv.Store().Head(context.Background())
	if err != nil {
		b.t.Fatal(err)
	}
	return p
}

// since is the first event after position after of the given type,
// decoded: a mutation's own event, which a process manager reacting to it
// (the follow-up scheduler after a resolution, say) may already have
// followed with its own.
func (b *book) since(after eventstore.Position, eventType string) (actor string, data map[string]any, ok bool) {
	b.t.Helper()
	ctx := context.Background()
	var ev eventstore.Event
	err := b.srv.Store().ReadAll(ctx, after, func(e eventstore.Event) error {
		if e.Type != eventType {
			return nil
		}
		ev, ok = e, true
		return eventstore.ErrStop
	})
	if err != nil {
		b.t.Fatal(err)
	}
	if !ok {
		return "", nil, false
	}
	d, err := b.srv.Codec().Decode(ctx, ev)
	if err != nil {
		b.t.Fatal(err)
	}
	raw, _ := json.Marshal(d.Payload)
	_ = json.Unmarshal(raw, &data)
	return d.Meta.Actor, data, true
}

// expand puts the book's generated IDs into a query: $FOLLOWUP, $CAMPAIGN.
func (b *book) expand(q string) string {
	return strings.NewReplacer("$FOLLOWUP", b.FollowUp, "$CAMPAIGN", b.Campaign).Replace(q)
}

// byActor counts the events after a position recorded for actor: what
// one caller's requests appended, whatever the process managers of the
// book append meanwhile.
func (b *book) byActor(after eventstore.Position, actor string) int {
	b.t.Helper()
	ctx := context.Background()
	n := 0
	err := b.srv.Store().ReadAll(ctx, after, func(e eventstore.Event) error {
		d, err := b.srv.Codec().Decode(ctx, e)
		if err != nil {
			return err
		}
		if d.Meta.Actor == actor {
			n++
		}
		return nil
	})
	if err != nil {
		b.t.Fatal(err)
	}
	return n
}

// recordedBy reports whether an event of eventType was recorded for actor
// after a position (the book's process managers append beside the caller:
// the follow-up scheduler books follow-ups of its own).
func (b *book) recordedBy(after eventstore.Position, eventType, actor string) bool {
	b.t.Helper()
	ctx := context.Background()
	found := false
	err := b.srv.Store().ReadAll(ctx, after, func(e eventstore.Event) error {
		if e.Type != eventType {
			return nil
		}
		d, err := b.srv.Codec().Decode(ctx, e)
		if err != nil {
			return err
		}
		if d.Meta.Actor == actor {
			found = true
			return eventstore.ErrStop
		}
		return nil
	})
	if err != nil {
		b.t.Fatal(err)
	}
	return found
}
