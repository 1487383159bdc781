package greeting_test

import (
	"errors"
	"io"
	"mime"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/kefu-crm/kefu/automation/greeting"
	"github.com/kefu-crm/kefu/domain/aggregate"
	"github.com/kefu-crm/kefu/domain/campaign"
)

func msg(key string) greeting.Message {
	return greeting.Message{IdempotencyKey: key, CampaignID: "c", CustomerID: "x", Channel: "SMS", To: "13800000001",
		Body: "李雷，祝您春节快乐！", OccasionName: "春节"}
}

func TestWebhook(t *testing.T) {
	secret := []byte("s3cret")
	tests := []struct {
		name         string
		statuses     []int // answers in order; the last repeats
		slowFirst    bool
		wantAttempts int
		wantErr      bool
		permanent    bool
		reason       string
	}{
		{name: "200", statuses: []int{200}, wantAttempts: 1},
		{name: "503 twice then 200", statuses: []int{503, 503, 200}, wantAttempts: 3},
		{name: "429 is retried", statuses: []int{429, 202}, wantAttempts: 2},
		{name: "timeout then 200", statuses: []int{200}, slowFirst: true, wantAttempts: 2},
		{name: "400 is permanent", statuses: []int{400}, wantAttempts: 1, wantErr: true, permanent: true, reason: "HTTP_400"},
		{name: "500 until attempts run out", statuses: []int{500}, wantAttempts: 4, wantErr: true, reason: "HTTP_500"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int64
			release := make(chan struct{})
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n := int(calls.Add(1))
				body, _ := io.ReadAll(r.Body)
				if !greeting.Verify(secret, body, r.Header.Get(greeting.HeaderSignature)) {
					t.Errorf("bad signature %q", r.Header.Get(greeting.HeaderSignature))
				}
				if r.Header.Get(greeting.HeaderIdempotencyKey) != "k-1" || !strings.Contains(string(body), `"idempotencyKey":"k-1"`) {
					t.Errorf("idempotency key missing: %s", body)
				}
				if tt.slowFirst && n == 1 {
					select {
					case <-release:
					case <-r.Context().Done():
					}
				}
				w.WriteHeader(tt.statuses[min(n-1, len(tt.statuses)-1)])
			}))
			defer srv.Close()
			defer close(release)
			wh, err := greeting.NewWebhook(greeting.WebhookConfig{URL: srv.URL, Secret: secret, Timeout: 200 * time.Millisecond,
				MaxAttempts: 4, Backoff: time.Millisecond, MaxBackoff: 4 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			r, err := wh.Send(t.Context(), msg("k-1"))
			if tt.wantErr {
				var de *greeting.DeliveryError
				if !errors.As(err, &de) || !errors.Is(err, greeting.ErrDeliveryFailed) {
					t.Fatalf("err = %v", err)
				}
				if de.Attempts != tt.wantAttempts || de.Permanent != tt.permanent || de.Reason != tt.reason {
					t.Errorf("delivery error %+v", de)
				}
			} else if err != nil || r.Attempts != tt.wantAttempts {
				t.Fatalf("receipt %+v err %v", r, err)
			}
			if int(calls.Load()) != tt.wantAttempts {
				t.Errorf("%d calls, want %d", calls.Load(), tt.wantAttempts)
			}
		})
	}
}

func TestWebhookConfig(t *testing.T) {
	if _, err := greeting.NewWebhook(greeting.WebhookConfig{URL: "ftp://x", Secret: nil}); !errors.Is(err, greeting.ErrInvalidConfig) {
		t.Fatalf("err = %v", err)
	}
}

// smtpBackend is a real SMTP server session (github.com/emersion/go-smtp)
// that fails the first failN transactions with code.
type smtpBackend struct {
	mu    sync.Mutex
	failN int
	code  int
	tries int
	mails []string
}

func (b *smtpBackend) NewSession(*smtp.Conn) (smtp.Session, error) { return &smtpSession{b: b}, nil }

type smtpSession struct{ b *smtpBackend }

func (s *smtpSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	s.b.tries++
	if s.b.tries <= s.b.failN {
		return &smtp.SMTPError{Code: s.b.code, EnhancedCode: smtp.EnhancedCode{s.b.code / 100, 0, 0}, Message: "injected"}
	}
	return nil
}
func (s *smtpSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.b.mu.Lock()
	s.b.mails = append(s.b.mails, string(data))
	s.b.mu.Unlock()
	return nil
}
func (s *smtpSession) Reset()        {}
func (s *smtpSession) Logout() error { return nil }

func TestSMTP(t *testing.T) {
	tests := []struct {
		name      string
		failN     int
		code      int
		wantErr   bool
		permanent bool
		attempts  int
	}{
		{name: "delivered", attempts: 1},
		{name: "451 twice then delivered", failN: 2, code: 451, attempts: 3},
		{name: "550 is permanent", failN: 1, code: 550, wantErr: true, permanent: true, attempts: 1},
		{name: "421 until attempts run out", failN: 100, code: 421, wantErr: true, attempts: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			be := &smtpBackend{failN: tt.failN, code: tt.code}
			srv := smtp.NewServer(be)
			srv.Domain = "localhost"
			srv.AllowInsecureAuth = true
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			go func() { _ = srv.Serve(l) }()
			defer srv.Close()
			s, err := greeting.NewSMTP(greeting.SMTPConfig{Addr: l.Addr().String(), From: "客服部 <greetings@kefu.example>",
				Timeout: 5 * time.Second, MaxAttempts: 3, Backoff: time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			m := msg("key-42")
			m.Channel, m.To = "EMAIL", "li.lei@example.com"
			r, err := s.Send(t.Context(), m)
			if tt.wantErr {
				var de *greeting.DeliveryError
				if !errors.As(err, &de) || de.Permanent != tt.permanent || de.Attempts != tt.attempts {
					t.Fatalf("err = %v (%+v)", err, de)
				}
				return
			}
			if err != nil || r.Attempts != tt.attempts {
				t.Fatalf("receipt %+v err %v", r, err)
			}
			if len(be.mails) != 1 || !strings.Contains(be.mails[0], "Message-ID: <key-42@kefu.example>") || !strings.Contains(be.mails[0], "李雷，祝您春节快乐！") {
				t.Fatalf("mails %q", be.mails)
			}
			// Headers are 7-bit: a Chinese display name is RFC 2047-encoded.
			head, _, _ := strings.Cut(be.mails[0], "\r\n\r\n")
			from, err := (&mime.WordDecoder{}).DecodeHeader(headerValue(head, "From"))
			if err != nil || from != `"客服部" <greetings@kefu.example>` && from != "客服部 <greetings@kefu.example>" || !isASCII(head) {
				t.Fatalf("From header %q (decoded %q, %v); headers must be ASCII:\n%s", headerValue(head, "From"), from, err, head)
			}
		})
	}
	s, _ := greeting.NewSMTP(greeting.SMTPConfig{Addr: "127.0.0.1:1", From: "a@b.c"})
	m := msg("k")
	m.To = "not an address"
	if _, err := s.Send(t.Context(), m); !errors.Is(err, greeting.ErrDeliveryFailed) {
		t.Fatalf("bad address: %v", err)
	}
}

func TestOutbox(t *testing.T) {
	dir := t.TempDir()
	ob, err := greeting.OpenOutbox(dir, greeting.OutboxOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() {
			// every key twice, concurrently
			if _, err := ob.Send(ctx, msg(greeting.GreetingID("c", itoa(i%25)).String())); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if ob.Len() != 25 || len(readOutbox(t, ob.Path())) != 25 {
		t.Fatalf("len %d, lines %d", ob.Len(), len(readOutbox(t, ob.Path())))
	}
	if err := ob.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := ob.Send(ctx, msg("late")); !errors.Is(err, greeting.ErrClosed) {
		t.Fatalf("send after close: %v", err)
	}
	// a crash left half a line
	f, _ := os.OpenFile(ob.Path(), os.O_APPEND|os.O_WRONLY, 0)
	_, _ = f.WriteString(`{"idempotencyKey":"half`)
	_ = f.Close()
	ob2, err := greeting.OpenOutbox(dir, greeting.OutboxOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := ob2.Send(ctx, msg(greeting.GreetingID("c", "3").String()))
	if err != nil || !r.Duplicate {
		t.Fatalf("resend after reopen: %+v %v", r, err)
	}
	if _, err := ob2.Send(ctx, msg("half")); err != nil {
		t.Fatal(err)
	}
	_ = ob2.Close()
	if lines := readOutbox(t, ob2.Path()); len(lines) != 26 || lines[25].IdempotencyKey != "half" {
		t.Fatalf("%d lines", len(lines))
	}
	// a corrupt line is refused
	if err := os.WriteFile(ob.Path(), []byte("not json\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := greeting.OpenOutbox(dir, greeting.OutboxOptions{}); !errors.Is(err, greeting.ErrCorruptOutbox) {
		t.Fatalf("corrupt: %v", err)
	}
}

func TestPreview(t *testing.T) {
	e := newEnv(t, nil)
	e.add(t,
		person{id: "a", consent: true, phone: "13800000001"},
		person{id: "b", consent: true, email: "b@example.com"},
		person{id: "c", phone: "13800000003"},
		person{id: "d", consent: true, phone: "13800000004", tier: "STANDARD"},
	)
	cmd := campaign.Schedule{Name: "x", Occasion: "CN:spring_festival", By: "m",
		Audience:  campaign.Audience{Tiers: []string{"GOLD"}},
		Templates: []campaign.Template{{Channel: "SMS", Body: "{{name}}"}}}
	p, err := e.svc.Preview(e.ctx, cmd)
	if err != nil {
		t.Fatal(err)
	}
	if p.Evaluated != 4 || p.AudienceSize != 3 || p.Greeted != 1 || p.Skipped != 2 || p.SkippedByReason["NO_CHANNEL"] != 1 ||
		p.SkippedByReason["NO_CONSENT"] != 1 || p.Excluded != 1 || p.ExcludedByReason["TIER_EXCLUDED"] != 1 || len(p.ExcludedByReason) != 1 ||
		len(p.SkippedByReason) != 2 || p.ByChannel["SMS"] != 1 {
		t.Fatalf("preview %+v", p)
	}
	if n := len(greetings(t, e.ctx, e.store, e.codec, "preview")); n != 0 {
		t.Fatal("preview recorded something")
	}
	cmd.Templates[0].Body = "{{nme}}"
	if _, err := e.svc.Preview(e.ctx, cmd); !errors.Is(err, aggregate.ErrInvalidInput) {
		t.Fatalf("bad template: %v", err)
	}
	if _, err := e.svc.Schedule(e.ctx, cmd, ""); !errors.Is(err, aggregate.ErrInvalidInput) {
		t.Fatalf("bad schedule: %v", err)
	}
	// idempotent scheduling
	cmd.Templates[0].Body = "{{name}}"
	c1, err := e.svc.Schedule(e.ctx, cmd, "req-1")
	if err != nil {
		t.Fatal(err)
	}
	c2, err := e.svc.Schedule(e.ctx, cmd, "req-1")
	if err != nil || c2.ID() != c1.ID() {
		t.Fatalf("retry: %v %v", c2, err)
	}
}

// headerValue returns the value of the header name in a raw header block.
func headerValue(head, name string) string {
	for _, line := range strings.Split(head, "\r\n") {
		if v, ok := strings.CutPrefix(line, name+": "); ok {
			return v
		}
	}
	return ""
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
