package greeting

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// Webhook headers.
const (
	// HeaderSignature carries "sha256=<hex HMAC-SHA256 of the body with the
	// shared secret>".
	HeaderSignature = "X-Kefu-Signature"
	// HeaderIdempotencyKey carries Message.IdempotencyKey (also in the body).
	HeaderIdempotencyKey = "Idempotency-Key"
)

// WebhookConfig configures a Webhook sender.
type WebhookConfig struct {
	// URL receives a POST of the Message as JSON.
	URL string
	// Secret keys the HMAC-SHA256 signature.
	Secret []byte
	// Timeout bounds each attempt; 0 means 10 s.
	Timeout time.Duration
	// MaxAttempts bounds the attempts per message; 0 means 5.
	MaxAttempts int
	// Backoff is the wait before the second attempt, doubled before each
	// further one up to MaxBackoff; 0 means 500 ms and 30 s.
	Backoff    time.Duration
	MaxBackoff time.Duration
	// Client is the HTTP client; nil means a new one.
	Client *http.Client
}

// Validate reports every problem of c.
func (c WebhookConfig) Validate() error {
	var errs []error
	if u, err := url.Parse(c.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("URL %q is not an http(s) URL", c.URL))
	}
	if len(c.Secret) == 0 {
		errs = append(errs, errors.New("webhook: Secret is empty"))
	}
	if c.Timeout < 0 || c.MaxAttempts < 0 || c.Backoff < 0 || c.MaxBackoff < 0 {
		errs = append(errs, errors.New("negative Timeout, MaxAttempts, Backoff or MaxBackoff"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w: webhook: %w", ErrInvalidConfig, err)
	}
	return nil
}

// Webhook posts each greeting to a gateway (SMS, WeChat …). A 2xx is
// delivered. A 5xx, a 408, a 429 or a transport error (timeout, refused
// connection) is retried with exponential backoff up to MaxAttempts; any
// other 4xx is permanent. The idempotency key travels in the body and in
// the Idempotency-Key header, so the gateway can dedupe re-deliveries.
type Webhook struct {
	cfg WebhookConfig
}

// NewWebhook returns a webhook sender.
func NewWebhook(cfg WebhookConfig) (*Webhook, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.MaxAttempts == 0 {
		cfg.MaxAttempts = 5
	}
	if cfg.Backoff == 0 {
		cfg.Backoff = 500 * time.Millisecond
	}
	if cfg.MaxBackoff == 0 {
		cfg.MaxBackoff = 30 * time.Second
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{}
	}
	return &Webhook{cfg: cfg}, nil
}

// Sign returns the signature header value for body: "sha256=<hex>".
func Sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify reports whether header is the valid signature of body (for
// gateways and tests), comparing in constant time.
func Verify(secret, body []byte, header string) bool {
	return hmac.Equal([]byte(header), []byte(Sign(secret, body)))
}

// Send implements Sender.
func (w *Webhook) Send(ctx context.Context, m Message) (Receipt, error) {
	body, err := json.Marshal(m)
	if err != nil {
		return Receipt{}, fmt.Errorf("greeting: webhook: %w", err)
	}
	sig := Sign(w.cfg.Secret, body)
	wait := w.cfg.Backoff
	var last error
	var lastReason string
	for attempt := 1; ; attempt++ {
		retry, reason, err := w.post(ctx, body, sig, m.IdempotencyKey)
		if err == nil {
			return Receipt{Attempts: attempt}, nil
		}
		if ctx.Err() != nil {
			return Receipt{}, ctx.Err() // stopping: not a delivery failure
		}
		last, lastReason = err, reason
		if !retry {
			return Receipt{}, &DeliveryError{Channel: m.Channel, Attempts: attempt, Permanent: true, Reason: reason, Err: err}
		}
		if attempt >= w.cfg.MaxAttempts {
			break
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return Receipt{}, ctx.Err()
		case <-t.C:
		}
		wait = min(2*wait, w.cfg.MaxBackoff)
	}
	return Receipt{}, &DeliveryError{Channel: m.Channel, Attempts: w.cfg.MaxAttempts, Reason: lastReason, Err: last}
}

// post makes one attempt; retry says whether another may succeed.
func (w *Webhook) post(ctx context.Context, body []byte, sig, key string) (retry bool, reason string, err error) {
	ctx, cancel := context.WithTimeout(ctx, w.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return false, "bad request", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(HeaderSignature, sig)
	req.Header.Set(HeaderIdempotencyKey, key)
	resp, err := w.cfg.Client.Do(req)
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return true, "TIMEOUT", err
		}
		return true, "TRANSPORT_ERROR", err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	switch c := resp.StatusCode; {
	case c >= 200 && c < 300:
		return false, "", nil
	case c >= 500, c == http.StatusRequestTimeout, c == http.StatusTooManyRequests:
		return true, fmt.Sprintf("HTTP_%d", c), fmt.Errorf("gateway answered %s", resp.Status)
	default:
		return false, fmt.Sprintf("HTTP_%d", c), fmt.Errorf("gateway answered %s", resp.Status)
	}
}
