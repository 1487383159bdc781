package graphql_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/kefu-crm/kefu/graphql"
)

func testTokens(t testing.TB) *graphql.Tokens {
	t.Helper()
	sum := sha256.Sum256([]byte("analyst-token"))
	toks, err := graphql.ParseTokens(strings.NewReader(`{"tokens": [
		{"token": "admin-token", "user": "root", "role": "ADMIN"},
		{"token": "am-token", "user": "alice", "role": "ACCOUNT_MANAGER"},
		{"token": "mkt-token", "user": "mia", "role": "MARKETING"},
		{"tokenSha256": "` + hex.EncodeToString(sum[:]) + `", "user": "ann", "role": "ANALYST"}
	]}`))
	if err != nil {
		t.Fatalf("ParseTokens: %v", err)
	}
	return toks
}

func TestParseTokensRejects(t *testing.T) {
	for name, body := range map[string]string{
		"not JSON":      `{`,
		"unknown field": `{"tokens": [], "x": 1}`,
		"no tokens":     `{"tokens": []}`,
		"bad role":      `{"tokens": [{"token": "a", "user": "u", "role": "ROOT"}]}`,
		"no user":       `{"tokens": [{"token": "a", "role": "ADMIN"}]}`,
		"no token":      `{"tokens": [{"user": "u", "role": "ADMIN"}]}`,
		"both":          `{"tokens": [{"token": "a", "tokenSha256": "00", "user": "u", "role": "ADMIN"}]}`,
		"bad digest":    `{"tokens": [{"tokenSha256": "zz", "user": "u", "role": "ADMIN"}]}`,
		"duplicate":     `{"tokens": [{"token": "a", "user": "u", "role": "ADMIN"}, {"token": "a", "user": "v", "role": "ANALYST"}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := graphql.ParseTokens(strings.NewReader(body)); !errors.Is(err, graphql.ErrAuthFile) {
				t.Errorf("err = %v, want ErrAuthFile", err)
			}
		})
	}
}

func TestAuthentication(t *testing.T) {
	s := newServer(t, graphql.HandlerConfig{Tokens: testTokens(t)})
	q := `{ viewer { user role canSeePII } }`
	wantCode(t, s.post(t, "", q, nil), http.StatusUnauthorized, "UNAUTHENTICATED")
	wantCode(t, s.post(t, "wrong", q, nil), http.StatusUnauthorized, "UNAUTHENTICATED")
	wantCode(t, s.get(t, "", q, ""), http.StatusUnauthorized, "UNAUTHENTICATED")
	for token, want := range map[string]string{"admin-token": "root ADMIN", "am-token": "alice ACCOUNT_MANAGER", "mkt-token": "mia MARKETING", "analyst-token": "ann ANALYST"} {
		r := s.post(t, token, q, nil)
		mustOK(t, r)
		if got := at(r.Data, "viewer", "user").(string) + " " + at(r.Data, "viewer", "role").(string); got != want {
			t.Errorf("%s: viewer %s, want %s", token, got, want)
		}
	}
	// The actor is recorded on the event.
	before := s.book.head()
	mustOK(t, s.post(t, "am-token", mutations[3].query, nil))
	if actor, _, _ := s.book.since(before, mutations[3].event); actor != "alice" {
		t.Errorf("actor = %q, want alice", actor)
	}
}

func TestRoleMatrixMutations(t *testing.T) {
	allowed := map[string][]string{
		"ADMIN":           {"*"},
		"ACCOUNT_MANAGER": {"*", "-scheduleGreetingCampaign", "-cancelGreetingCampaign", "-eraseCustomer"},
		"MARKETING":       {"scheduleGreetingCampaign", "cancelGreetingCampaign"},
		"ANALYST":         {},
	}
	tokens := map[string]string{"ADMIN": "admin-token", "ACCOUNT_MANAGER": "am-token", "MARKETING": "mkt-token", "ANALYST": "analyst-token"}
	users := map[string]string{"ADMIN": "root", "ACCOUNT_MANAGER": "alice", "MARKETING": "mia", "ANALYST": "ann"}
	for role, rules := range allowed {
		t.Run(role, func(t *testing.T) {
			s := newServer(t, graphql.HandlerConfig{Tokens: testTokens(t)})
			for _, m := range mutations {
				want := false
				for _, r := range rules {
					switch {
					case r == "*":
						want = true
					case r == "-"+m.name:
						want = false
					case r == m.name:
						want = true
					}
				}
				before := s.book.head()
				r := s.post(t, tokens[role], m.query, nil)
				if want {
					if len(r.Errors) > 0 {
						t.Errorf("%s %s: %s", role, m.name, r.Raw)
					}
					continue
				}
				if c := r.codes(); len(c) != 1 || c[0] != "FORBIDDEN" {
					t.Errorf("%s %s: want FORBIDDEN, got %s", role, m.name, r.Raw)
				}
				// The book's process managers may append meanwhile (a
				// follow-up the scheduler books): count the caller's.
				if n := s.book.byActor(before, users[role]); n != 0 {
					t.Errorf("%s %s: a forbidden mutation reached the commands (%d events recorded for %s)", role, m.name, n, users[role])
				}
			}
		})
	}
}

func TestAnalystSeesNoPII(t *testing.T) {
	s := newServer(t, graphql.HandlerConfig{Tokens: testTokens(t)})
	q := `{ customer(id: "c1") { id tier name phone email birthday
	        timeline(first: 5, oldestFirst: true) { edges { node { summary data } } }
	        openComplaints { description recoverySteps { note } }
	        followUps { note } }
	      events { edges { node { data } } } }`
	r := s.post(t, "analyst-token", q, nil)
	mustOK(t, r)
	for _, k := range []string{"name", "phone", "email", "birthday"} {
		if v := at(r.Data, "customer", k); v != nil {
			t.Errorf("analyst sees %s = %v", k, v)
		}
	}
	if at(r.Data, "customer", "tier") != "GOLD" {
		t.Errorf("non-PII hidden too: %s", r.Raw)
	}
	if strings.Contains(r.Raw, "王芳") || strings.Contains(r.Raw, "138") || strings.Contains(r.Raw, "包裹") {
		t.Errorf("PII leaked to analyst: %s", r.Raw)
	}
	if at(r.Data, "customer", "timeline", "edges", 0, "node", "summary") != "registered (gold tier, account manager alice)" {
		t.Errorf("summary for analyst: %s", r.Raw)
	}
	if at(r.Data, "customer", "timeline", "edges", 0, "node", "data", "tier") != "GOLD" {
		t.Errorf("non-PII event data removed: %s", r.Raw)
	}
	wantCode(t, s.post(t, "analyst-token", `{ customers(filter: {search: "王"}) { totalCount } }`, nil), 200, "FORBIDDEN")

	// The same query as an account manager and as marketing shows the PII.
	for _, tok := range []string{"am-token", "mkt-token", "admin-token"} {
		r = s.post(t, tok, q, nil)
		mustOK(t, r)
		if at(r.Data, "customer", "name") != "王芳" || !strings.Contains(r.Raw, "包裹丢失") {
			t.Errorf("%s does not see PII: %s", tok, r.Raw)
		}
	}
}

func TestAuthenticatorMiddleware(t *testing.T) {
	var seen graphql.Actor
	h := graphql.Authenticator(testTokens(t), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen, _ = graphql.ActorFrom(r.Context())
	}))
	req, _ := http.NewRequest(http.MethodGet, "/x", nil)
	rec := &recorder{header: http.Header{}}
	h.ServeHTTP(rec, req)
	if rec.status != http.StatusUnauthorized || !strings.Contains(rec.body.String(), "UNAUTHENTICATED") {
		t.Errorf("no token: %d %s", rec.status, rec.body.String())
	}
	req.Header.Set("Authorization", "bearer mkt-token")
	rec = &recorder{header: http.Header{}}
	h.ServeHTTP(rec, req)
	if seen != (graphql.Actor{User: "mia", Role: graphql.RoleMarketing}) {
		t.Errorf("actor = %+v", seen)
	}
	// Auth disabled: everyone is the local admin.
	h = graphql.Authenticator(nil, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { seen, _ = graphql.ActorFrom(r.Context()) }))
	h.ServeHTTP(&recorder{header: http.Header{}}, req)
	if seen != graphql.LocalActor {
		t.Errorf("actor = %+v", seen)
	}
}

type recorder struct {
	header http.Header
	status int
	body   strings.Builder
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = 200
	}
	return r.body.Write(b)
}
func (r *recorder) WriteHeader(s int) { r.status = s }

// Customer.wechat is personal data: the admin reads it, the analyst gets
// null.
func TestWeChatIsPersonalData(t *testing.T) {
	s := newServer(t, graphql.HandlerConfig{Tokens: testTokens(t)})
	mustOK(t, s.post(t, "admin-token", `mutation { registerCustomer(input: {id: "w1", name: "Wei", wechat: "wei-1988"}) { version } }`, nil))
	const q = `{ customer(id: "w1") { wechat } }`
	if got := at(s.post(t, "admin-token", q, nil).Data, "customer", "wechat"); got != "wei-1988" {
		t.Errorf("admin reads wechat %v, want wei-1988", got)
	}
	r := s.post(t, "analyst-token", q, nil)
	mustOK(t, r)
	if got := at(r.Data, "customer", "wechat"); got != nil {
		t.Errorf("analyst reads wechat %v, want null", got)
	}
}
