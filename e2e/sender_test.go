package e2e_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"maps"
	"math/big"
	"mime"
	"net"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// What a gateway and a mail server get from kefu's senders, as their
// documentation says (README, "Greeting campaigns").
const (
	signatureHeader = "X-Kefu-Signature" // "sha256=" + hex(HMAC-SHA256(secret, body))
	idempotencyHdr  = "Idempotency-Key"
)

// greetee is a customer registered for a sender journey.
type greetee struct {
	id, name, phone, email string
	consent                bool
}

// registerGreetees registers customers of one account manager in zone.
func registerGreetees(t *testing.T, ctx context.Context, c *client, manager, zone string, gs []greetee) {
	t.Helper()
	at := stamp(time.Now().Add(-48 * time.Hour))
	for _, g := range gs {
		in := map[string]any{"id": g.id, "name": g.name, "accountManager": manager, "timezone": zone,
			"marketingConsent": g.consent, "occurredAt": at}
		if g.phone != "" {
			in["phone"] = g.phone
		}
		if g.email != "" {
			in["email"] = g.email
		}
		c.must(ctx, nil, `mutation($in: RegisterCustomerInput!) { registerCustomer(input: $in) { version } }`, map[string]any{"in": in})
	}
}

// scheduleDueCampaign schedules a campaign for manager's customers with a
// custom occasion on localDay at 09:00 local time, which daytimeZone makes
// due now, and returns it.
func scheduleDueCampaign(t *testing.T, ctx context.Context, c *client, occasion, manager, localDay, channel string) campaignView {
	t.Helper()
	var out struct {
		ScheduleGreetingCampaign struct{ Campaign campaignView }
	}
	c.must(ctx, &out, `mutation($in: ScheduleGreetingCampaignInput!) { scheduleGreetingCampaign(input: $in) { campaign { `+campaignFields+` } } }`,
		map[string]any{"in": map[string]any{"name": occasion + " " + channel, "occasion": occasion, "date": localDay, "sendAtLocal": "09:00",
			"audience":  map[string]any{"accountManager": manager},
			"templates": []any{map[string]any{"channel": channel, "body": "{{name}}，{{occasion}}快乐！"}}}})
	return out.ScheduleGreetingCampaign.Campaign
}

// waitHandled polls the campaign until n customers of its audience have an
// outcome (sent, failed or skipped) and returns it.
func waitHandled(t *testing.T, ctx context.Context, c *client, id string, n int) campaignView {
	t.Helper()
	var last campaignView
	eventually(t, ctx, 30*time.Second, "campaign "+id+" handles its audience of "+strconv.Itoa(n), func() (bool, string) {
		var d struct{ Campaign *campaignView }
		c.must(ctx, &d, `query($id: ID!) { campaign(id: $id) { `+campaignFields+` } }`, map[string]any{"id": id})
		if d.Campaign == nil {
			t.Fatalf("campaign(id: %q) is null", id)
		}
		last = *d.Campaign
		handled := last.Sent + last.Failed
		for _, k := range audienceSkips(last.SkippedByReason) {
			handled += k
		}
		return handled >= n, js(last)
	})
	return last
}

// outcomes are the customer's greetings of the campaign as the API shows
// them: "SENT EMAIL", "FAILED SMS HTTP_400", "SKIPPED NO_CONSENT" (a
// skipped greeting records no channel, so its channel is not compared).
func outcomes(t *testing.T, ctx context.Context, c *client, customerID, campaignID string) []string {
	t.Helper()
	var d struct {
		Customer struct {
			Greetings []struct {
				Campaign        *struct{ ID string }
				Status, Channel string
				Reason          *string
			}
		}
	}
	c.must(ctx, &d, `query($id: ID!) { customer(id: $id) { greetings { campaign { id } status channel reason } } }`, map[string]any{"id": customerID})
	var got []string
	for _, g := range d.Customer.Greetings {
		if g.Campaign == nil || g.Campaign.ID != campaignID {
			continue
		}
		o := g.Status
		if g.Status != "SKIPPED" {
			o += " " + g.Channel
		}
		if g.Reason != nil && *g.Reason != "" {
			o += " " + *g.Reason
		}
		got = append(got, o)
	}
	return got
}

// hookMessage is the JSON body the webhook sender posts.
type hookMessage struct {
	IdempotencyKey, CampaignID, CustomerID, Occasion, OccasionName, Channel, To, Body string
}

// gateway is a webhook receiver that verifies every request the way the
// README tells a gateway to: the HMAC-SHA256 of the raw body under the
// shared secret, hex, after "sha256=" in X-Kefu-Signature.
type gateway struct {
	secret []byte

	mu        sync.Mutex
	attempts  map[string][]string      // customer → idempotency key of each attempt
	delivered map[string][]hookMessage // customer → messages answered 2xx
	problems  []string                 // what a gateway would refuse
}

// answer is the gateway's behaviour per customer: refused for good (400),
// or unavailable once (503) before it takes the greeting.
func (g *gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	g.mu.Lock()
	defer g.mu.Unlock()
	problem := func(what string) {
		g.problems = append(g.problems, what+": "+r.Method+" "+r.URL.String()+" "+string(body))
	}
	if err != nil || r.Method != http.MethodPost || r.URL.Path != "/kefu/greetings" || r.URL.Query().Get("tenant") != "e2e-tenant-token" {
		problem("unexpected request")
		http.Error(w, "not here", http.StatusNotFound)
		return
	}
	mac := hmac.New(sha256.New, g.secret)
	mac.Write(body)
	want := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	if got := r.Header.Get(signatureHeader); !hmac.Equal([]byte(got), []byte(want)) {
		problem("signature " + got + " is not " + want)
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	var m hookMessage
	if err := json.Unmarshal(body, &m); err != nil || m.IdempotencyKey == "" || m.CustomerID == "" {
		problem("not a greeting message")
		http.Error(w, "bad message", http.StatusBadRequest)
		return
	}
	if r.Header.Get(idempotencyHdr) != m.IdempotencyKey || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		problem("headers " + js(r.Header) + " do not match the message")
	}
	g.attempts[m.CustomerID] = append(g.attempts[m.CustomerID], m.IdempotencyKey)
	switch {
	case m.CustomerID == "wh-refused":
		http.Error(w, "number blocked", http.StatusBadRequest)
	case m.CustomerID == "wh-flaky" && len(g.attempts[m.CustomerID]) == 1:
		http.Error(w, "try again", http.StatusServiceUnavailable)
	default:
		g.delivered[m.CustomerID] = append(g.delivered[m.CustomerID], m)
		w.WriteHeader(http.StatusAccepted)
	}
}

// TestWebhookSender: `kefu serve --sender webhook` posts each greeting of a
// due campaign, signed, to a gateway; the gateway's answers become the
// campaign's counts and the customers' outcomes: 2xx SENT, a 503 retried,
// a 400 FAILED. The secret never appears in the server's output, nor the
// URL's query.
func TestWebhookSender(t *testing.T) {
	t.Parallel()
	ctx := journey(t, 60*time.Second)
	const secret = "whsec-e2e-5f1c0a9d7b3e"
	gw := &gateway{secret: []byte(secret), attempts: map[string][]string{}, delivered: map[string][]hookMessage{}}
	recv := httptest.NewServer(gw)
	t.Cleanup(recv.Close)

	dir := filepath.Join(t.TempDir(), "kefu-data")
	s := startServer(t, ctx, serveOpts{dir: dir,
		args: []string{"--sender", "webhook", "--webhook-url", recv.URL + "/kefu/greetings?tenant=e2e-tenant-token"},
		env:  []string{"KEFU_WEBHOOK_SECRET=" + secret, "KEFU_DISPATCH_INTERVAL=200ms"}})
	admin := s.client("")

	zone, localDay := daytimeZone(time.Now())
	people := []greetee{
		{id: "wh-1", name: "林晓", phone: "+86 139 1000 0001", consent: true},
		{id: "wh-2", name: "周敏", phone: "+86 139 1000 0002", consent: true},
		{id: "wh-flaky", name: "黄磊", phone: "+86 139 1000 0003", consent: true},
		{id: "wh-refused", name: "赵云", phone: "+86 139 1000 0004", consent: true},
		{id: "wh-noconsent", name: "吴芳", phone: "+86 139 1000 0005"},
	}
	registerGreetees(t, ctx, admin, "e2e.webhook", zone, people)
	a := scheduleDueCampaign(t, ctx, admin, "E2E webhook day", "e2e.webhook", localDay, "SMS")
	c := waitHandled(t, ctx, admin, a.ID, len(people))
	if c.Sent != 3 || c.Failed != 1 || !sameCounts(audienceSkips(c.SkippedByReason), map[string]int{"NO_CONSENT": 1}) {
		t.Errorf("campaign = %s; want 3 sent (one after a 503), 1 failed (the gateway's 400), 1 skipped NO_CONSENT", js(c))
	}

	want := map[string]string{"wh-1": "SENT SMS", "wh-2": "SENT SMS", "wh-flaky": "SENT SMS",
		"wh-refused": "FAILED SMS HTTP_400", "wh-noconsent": "SKIPPED NO_CONSENT"}
	for id, w := range want {
		if got := outcomes(t, ctx, admin, id, a.ID); len(got) != 1 || got[0] != w {
			t.Errorf("customer %s: greetings of campaign %s = %v, want [%s]", id, a.ID, got, w)
		}
	}

	gw.mu.Lock()
	defer gw.mu.Unlock()
	for _, p := range gw.problems {
		t.Errorf("the gateway refused a request: %s", p)
	}
	keys := map[string]string{}
	for _, p := range people[:3] {
		ms := gw.delivered[p.id]
		if len(ms) != 1 {
			t.Errorf("gateway: %d greetings delivered to %s, want 1: %+v", len(ms), p.id, ms)
			continue
		}
		m := ms[0]
		if m.CampaignID != a.ID || m.Channel != "SMS" || m.To != p.phone || m.Body != p.name+"，E2E webhook day快乐！" || m.Occasion != "E2E webhook day" {
			t.Errorf("gateway: greeting to %s = %+v; want campaign %s, SMS to %q, body with the name and occasion", p.id, m, a.ID, p.phone)
		}
		if other, dup := keys[m.IdempotencyKey]; dup {
			t.Errorf("gateway: %s and %s got the same idempotency key %s", other, p.id, m.IdempotencyKey)
		}
		keys[m.IdempotencyKey] = p.id
	}
	if at := gw.attempts["wh-flaky"]; len(at) != 2 || at[0] != at[1] {
		t.Errorf("gateway: attempts for wh-flaky = %v; want 2 (a 503 is retried) under one idempotency key", at)
	}
	if at := gw.attempts["wh-refused"]; len(at) != 1 {
		t.Errorf("gateway: attempts for wh-refused = %v; want 1 (a 400 is not retried)", at)
	}
	if at := gw.attempts["wh-noconsent"]; len(at) != 0 {
		t.Errorf("gateway: a customer without consent was posted %d times", len(at))
	}
	if _, err := os.Stat(filepath.Join(dir, "greetings-outbox.ndjson")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("--sender webhook wrote an outbox file (stat: %v)", err)
	}

	logs := s.stderr.String()
	if !strings.Contains(logs, `msg="greetings are delivered by webhook"`) || !strings.Contains(logs, "sender=webhook") || !strings.Contains(logs, recv.Listener.Addr().String()) {
		t.Errorf("the start log does not say that greetings go to the webhook at %s:\n%s", recv.URL, tail(logs, 3000))
	}
	s.stop()
	for name, out := range map[string]string{"stdout": s.stdout.String(), "stderr": s.stderr.String()} {
		if strings.Contains(out, secret) {
			t.Errorf("the webhook secret appears on %s", name)
		}
		if strings.Contains(out, "e2e-tenant-token") {
			t.Errorf("the webhook URL's query (which may carry a token) appears on %s", name)
		}
	}
}

// mailbox is an SMTP server (github.com/emersion/go-smtp) that offers
// STARTTLS, accepts AUTH PLAIN only over TLS and mail only after AUTH, and
// keeps what it received.
type mailbox struct {
	user, password string

	mu    sync.Mutex
	mails []received
}

type received struct {
	from string
	to   []string
	tls  bool
	user string
	data string
}

func (b *mailbox) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &mailSession{b: b, c: c}, nil
}

type mailSession struct {
	b    *mailbox
	c    *smtp.Conn
	user string
	cur  received
}

func (s *mailSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *mailSession) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, password string) error {
		if user != s.b.user || password != s.b.password {
			return smtp.ErrAuthFailed
		}
		s.user = user
		return nil
	}), nil
}

func (s *mailSession) Mail(from string, _ *smtp.MailOptions) error {
	if s.user == "" {
		return smtp.ErrAuthRequired
	}
	_, isTLS := s.c.TLSConnectionState()
	s.cur = received{from: from, tls: isTLS, user: s.user}
	return nil
}

func (s *mailSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.cur.to = append(s.cur.to, to)
	return nil
}

func (s *mailSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.cur.data = string(b)
	s.b.mu.Lock()
	s.b.mails = append(s.b.mails, s.cur)
	s.b.mu.Unlock()
	return nil
}

func (s *mailSession) Reset()        { s.cur = received{} }
func (s *mailSession) Logout() error { return nil }

// testCA writes a self-signed certificate for 127.0.0.1 as a PEM file (for
// the child's SSL_CERT_FILE) and returns it with the file's path.
func testCA(t *testing.T) (tls.Certificate, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "kefu e2e mail"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, path
}

// TestSMTPSender: `kefu serve --sender smtp` mails the EMAIL greetings of a
// due campaign through a mail server, upgrading with STARTTLS (verified
// against SSL_CERT_FILE) and authenticating with a password from a file;
// the campaign counts them SENT. Greetings on other channels go to the
// outbox.
func TestSMTPSender(t *testing.T) {
	t.Parallel()
	ctx := journey(t, 60*time.Second)
	const password = "smtp-e2e-pw-93b7c1d2"
	cert, caFile := testCA(t)
	box := &mailbox{user: "kefu-mailer", password: password}
	srv := smtp.NewServer(box)
	srv.Domain = "localhost"
	srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })

	pwFile := filepath.Join(t.TempDir(), "smtp-password")
	if err := os.WriteFile(pwFile, []byte(password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const from = "客服中心 <greetings@kefu.example>"
	dir := filepath.Join(t.TempDir(), "kefu-data")
	s := startServer(t, ctx, serveOpts{dir: dir,
		args: []string{"--sender", "smtp", "--smtp-addr", ln.Addr().String(), "--smtp-from", from,
			"--smtp-user", "kefu-mailer", "--smtp-password-file", pwFile, "--dispatch-interval", "200ms"},
		env: []string{"SSL_CERT_FILE=" + caFile}})
	admin := s.client("")

	zone, localDay := daytimeZone(time.Now())
	people := []greetee{
		{id: "em-1", name: "林晓", email: "lin.xiao@example.com", phone: "+86 139 2000 0001", consent: true},
		{id: "em-2", name: "周敏", email: "zhou.min@example.com", consent: true},
		{id: "em-nomail", name: "郑强", phone: "+86 139 2000 0003", consent: true},
	}
	registerGreetees(t, ctx, admin, "e2e.smtp", zone, people)
	a := scheduleDueCampaign(t, ctx, admin, "店庆", "e2e.smtp", localDay, "EMAIL")
	c := waitHandled(t, ctx, admin, a.ID, len(people))
	if c.Sent != 2 || c.Failed != 0 || !sameCounts(audienceSkips(c.SkippedByReason), map[string]int{"NO_CHANNEL": 1}) {
		t.Errorf("campaign = %s; want 2 sent, 1 skipped NO_CHANNEL", js(c))
	}
	for id, w := range map[string]string{"em-1": "SENT EMAIL", "em-2": "SENT EMAIL", "em-nomail": "SKIPPED NO_CHANNEL"} {
		if got := outcomes(t, ctx, admin, id, a.ID); len(got) != 1 || got[0] != w {
			t.Errorf("customer %s: greetings of campaign %s = %v, want [%s]", id, a.ID, got, w)
		}
	}

	box.mu.Lock()
	mails := slices.Clone(box.mails)
	box.mu.Unlock()
	byRcpt := map[string]received{}
	for _, m := range mails {
		if len(m.to) != 1 {
			t.Errorf("a mail to %v, want one recipient per greeting", m.to)
			continue
		}
		if _, dup := byRcpt[m.to[0]]; dup {
			t.Errorf("two mails to %s", m.to[0])
		}
		byRcpt[m.to[0]] = m
	}
	if len(byRcpt) != 2 {
		t.Errorf("the mail server got mails to %v, want lin.xiao@example.com and zhou.min@example.com", slices.Sorted(maps.Keys(byRcpt)))
	}
	dec := new(mime.WordDecoder)
	for _, p := range people[:2] {
		m, ok := byRcpt[p.email]
		if !ok {
			continue
		}
		if m.from != "greetings@kefu.example" || !m.tls || m.user != "kefu-mailer" {
			t.Errorf("mail to %s: MAIL FROM %q, TLS %v, AUTH user %q; want greetings@kefu.example over STARTTLS as kefu-mailer", p.email, m.from, m.tls, m.user)
		}
		msg, err := mail.ReadMessage(strings.NewReader(m.data))
		if err != nil {
			t.Errorf("mail to %s is not a message: %v\n%s", p.email, err, m.data)
			continue
		}
		subject, err := dec.DecodeHeader(msg.Header.Get("Subject"))
		body, _ := io.ReadAll(msg.Body)
		// The display name travels RFC 2047-encoded; read it as a mail client does.
		gotFrom, ferr := msg.Header.AddressList("From")
		if ferr != nil || len(gotFrom) != 1 || gotFrom[0].Name+" <"+gotFrom[0].Address+">" != from || msg.Header.Get("To") != p.email || err != nil || subject != "店庆" ||
			strings.TrimRight(string(body), "\r\n") != p.name+"，店庆快乐！" || msg.Header.Get("Message-ID") == "" {
			t.Errorf("mail to %s: From %q (%v), To %q, Subject %q (%v), Message-ID %q, body %q; want From %q, the occasion as subject and the greeting with the name",
				p.email, msg.Header.Get("From"), ferr, msg.Header.Get("To"), subject, err, msg.Header.Get("Message-ID"), body, from)
		}
	}

	// An SMS campaign under --sender smtp goes to the outbox.
	b := scheduleDueCampaign(t, ctx, admin, "短信日", "e2e.smtp", localDay, "SMS")
	if c := waitHandled(t, ctx, admin, b.ID, len(people)); c.Sent != 2 {
		t.Errorf("SMS campaign under --sender smtp = %s; want 2 sent (em-1 and em-nomail have phones)", js(c))
	}
	checkOutbox(t, ctx, s, "", filepath.Join(dir, "greetings-outbox.ndjson"), b.ID, map[string]string{"em-1": "林晓", "em-nomail": "郑强"})
	box.mu.Lock()
	if n := len(box.mails); n != len(mails) {
		t.Errorf("the SMS campaign sent %d mails", n-len(mails))
	}
	box.mu.Unlock()

	logs := s.stderr.String()
	if !strings.Contains(logs, `msg="greetings are delivered by smtp"`) || !strings.Contains(logs, "addr="+ln.Addr().String()) || !strings.Contains(logs, "tls=starttls") {
		t.Errorf("the start log does not say that greetings go by SMTP to %s with STARTTLS:\n%s", ln.Addr(), tail(logs, 3000))
	}
	s.stop()
	if strings.Contains(s.stdout.String()+s.stderr.String(), password) {
		t.Error("the SMTP password appears in the server's output")
	}
}

// TestSenderSettings: every mistake in the delivery settings stops `kefu
// serve` before it opens the data directory, with exit status 2 (1 for an
// unreadable secret file) and a message that says what to do; secrets
// never appear in the output, not even in --help.
func TestSenderSettings(t *testing.T) {
	t.Parallel()
	ctx := journey(t, 60*time.Second)
	const secret = "never-print-me-8d2f"
	emptyFile := filepath.Join(t.TempDir(), "empty-secret")
	if err := os.WriteFile(emptyFile, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	hook := []string{"--sender", "webhook", "--webhook-url", "https://gateway.example.com/kefu"}
	mailer := []string{"--sender", "smtp", "--smtp-addr", "smtp.example.com:587", "--smtp-from", "greetings@example.com"}
	withSecret := []string{"KEFU_WEBHOOK_SECRET=" + secret}
	tests := []struct {
		name string
		args []string
		env  []string
		code int
		want []string // in stderr
	}{
		{"unknown sender", []string{"--sender", "sms"}, nil, 2, []string{`--sender "sms": unknown sender`, "outbox", "webhook", "smtp"}},
		{"unknown sender in env", nil, []string{"KEFU_SENDER=mail"}, 2, []string{`KEFU_SENDER "mail": unknown sender`}},
		{"webhook without URL", []string{"--sender", "webhook"}, withSecret, 2, []string{"--sender webhook needs --webhook-url", "KEFU_WEBHOOK_URL"}},
		{"webhook URL not http", []string{"--sender", "webhook", "--webhook-url", "ftp://gateway.example.com/x"}, withSecret, 2, []string{`--webhook-url "ftp://gateway.example.com/x" is not an http(s) URL`}},
		{"webhook URL without host", []string{"--sender", "webhook", "--webhook-url", "https:///kefu"}, withSecret, 2, []string{"is not an http(s) URL with a host"}},
		{"webhook without secret", hook, nil, 2, []string{"needs the shared secret", "KEFU_WEBHOOK_SECRET", "--webhook-secret-file"}},
		{"webhook secret file empty", append(slices.Clone(hook), "--webhook-secret-file", emptyFile), nil, 2, []string{"--webhook-secret-file " + emptyFile + " is empty"}},
		{"webhook secret file missing", append(slices.Clone(hook), "--webhook-secret-file", emptyFile+".missing"), nil, 1, []string{"--webhook-secret-file: open", "give a readable file"}},
		{"webhook secret twice", append(slices.Clone(hook), "--webhook-secret", secret, "--webhook-secret-file", emptyFile), nil, 2, []string{"--webhook-secret and --webhook-secret-file both give the secret"}},
		{"webhook settings for the outbox", []string{"--webhook-url", "https://gateway.example.com/kefu"}, withSecret, 2,
			[]string{"--webhook-url is a setting of the webhook sender, but the sender is outbox", "KEFU_WEBHOOK_SECRET is a setting of the webhook sender", "add --sender webhook"}},
		{"smtp without anything", []string{"--sender", "smtp"}, nil, 2, []string{"--sender smtp needs --smtp-addr HOST:PORT", "--sender smtp needs --smtp-from"}},
		{"smtp addr without port", []string{"--sender", "smtp", "--smtp-addr", "smtp.example.com", "--smtp-from", "greetings@example.com"}, nil, 2, []string{`--smtp-addr "smtp.example.com": want HOST:PORT`}},
		{"smtp from not an address", []string{"--sender", "smtp", "--smtp-addr", "smtp.example.com:587", "--smtp-from", "greetings"}, nil, 2, []string{`--smtp-from "greetings" is not an email address`}},
		{"smtp from in env", []string{"--sender", "smtp", "--smtp-addr", "smtp.example.com:587"}, []string{"KEFU_SMTP_FROM=@@"}, 2, []string{`KEFU_SMTP_FROM "@@" is not an email address`}},
		{"smtp tls unknown", append(slices.Clone(mailer), "--smtp-tls", "ssl"), nil, 2, []string{`--smtp-tls "ssl": choose starttls`}},
		{"smtp user without password", append(slices.Clone(mailer), "--smtp-user", "amy"), nil, 2, []string{`--smtp-user "amy" needs its password`, "KEFU_SMTP_PASSWORD"}},
		{"smtp password without user", mailer, []string{"KEFU_SMTP_PASSWORD=" + secret}, 2, []string{"an SMTP password is given (KEFU_SMTP_PASSWORD) but no user"}},
		{"smtp auth in the clear", append(slices.Clone(mailer), "--smtp-user", "amy", "--smtp-tls", "none"), []string{"KEFU_SMTP_PASSWORD=" + secret}, 2, []string{"--smtp-tls none with --smtp-user", "use --smtp-tls starttls"}},
		{"smtp settings for the webhook", append(slices.Clone(hook), "--smtp-from", "greetings@example.com"), withSecret, 2, []string{"--smtp-from is a setting of the smtp sender, but the sender is webhook"}},
		{"dispatch interval negative", []string{"--dispatch-interval", "-1s"}, nil, 2, []string{"--dispatch-interval -1s: must not be negative"}},
		{"dispatch interval env", nil, []string{"KEFU_DISPATCH_INTERVAL=soon"}, 2, []string{`KEFU_DISPATCH_INTERVAL="soon": want a positive duration`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "kefu-data")
			args := append([]string{"serve", "--data", dir, "--addr", "127.0.0.1:0"}, tt.args...)
			// A check that lets the server start would serve forever: bound it.
			rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			r, err := kefuExitEnv(rctx, tt.env, args...)
			if err == nil || r.code != tt.code {
				t.Fatalf("kefu %s: %v (code %d), want exit status %d\nstderr: %s", strings.Join(args, " "), err, r.code, tt.code, r.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("kefu %s: stderr does not say %q:\n%s", strings.Join(args, " "), w, r.stderr)
				}
			}
			if strings.Contains(r.stdout+r.stderr, secret) {
				t.Errorf("kefu %s: a secret appears in the output:\n%s%s", strings.Join(args, " "), r.stdout, r.stderr)
			}
			if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("kefu %s: the data directory was created before the settings were checked (stat: %v)", strings.Join(args, " "), err)
			}
		})
	}

	// --help shows the flags, not the secrets in the environment.
	r, err := kefuExitEnv(ctx, []string{"KEFU_WEBHOOK_SECRET=" + secret, "KEFU_SMTP_PASSWORD=" + secret}, "serve", "--help")
	if err != nil || !strings.Contains(r.stdout, "-sender") || !strings.Contains(r.stdout, "-webhook-secret-file") {
		t.Fatalf("kefu serve --help: %v\n%s", err, r.stdout)
	}
	if strings.Contains(r.stdout+r.stderr, secret) {
		t.Errorf("kefu serve --help prints a secret from the environment:\n%s", r.stdout)
	}
}
