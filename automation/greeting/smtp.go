package greeting

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"strings"
	"time"
)

// SMTPConfig configures an SMTP sender for the EMAIL channel.
type SMTPConfig struct {
	// Addr is host:port of the SMTP server.
	Addr string
	// From is the envelope and header sender address.
	From string
	// Username and Password enable AUTH PLAIN (net/smtp only sends them
	// over TLS or to localhost).
	Username, Password string
	// TLS, when not nil, is used for STARTTLS when the server offers it.
	TLS *tls.Config
	// Timeout bounds each attempt; 0 means 30 s.
	Timeout time.Duration
	// MaxAttempts, Backoff and MaxBackoff: as in WebhookConfig (defaults
	// 5, 1 s, 60 s).
	MaxAttempts int
	Backoff     time.Duration
	MaxBackoff  time.Duration
	// Clock stamps the Date header; nil means time.Now.
	Clock func() time.Time
}

// Validate reports every problem of c.
func (c SMTPConfig) Validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		errs = append(errs, fmt.Errorf("smtp: Addr %q: %w", c.Addr, err))
	}
	if _, err := mail.ParseAddress(c.From); err != nil {
		errs = append(errs, fmt.Errorf("smtp: From %q: %w", c.From, err))
	}
	if c.Timeout < 0 || c.MaxAttempts < 0 || c.Backoff < 0 || c.MaxBackoff < 0 {
		errs = append(errs, errors.New("negative Timeout, MaxAttempts, Backoff or MaxBackoff"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w: smtp: %w", ErrInvalidConfig, err)
	}
	return nil
}

// SMTP sends EMAIL greetings with net/smtp. A 4xx reply or a network error
// is retried with exponential backoff; a 5xx reply (or an invalid
// address) is permanent. The Message-ID is derived from the idempotency
// key, so mail systems can recognise a re-delivery.
type SMTP struct {
	cfg SMTPConfig
}

// NewSMTP returns an SMTP sender.
func NewSMTP(cfg SMTPConfig) (*SMTP, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.MaxAttempts == 0 {
		cfg.MaxAttempts = 5
	}
	if cfg.Backoff == 0 {
		cfg.Backoff = time.Second
	}
	if cfg.MaxBackoff == 0 {
		cfg.MaxBackoff = time.Minute
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	return &SMTP{cfg: cfg}, nil
}

// Send implements Sender.
func (s *SMTP) Send(ctx context.Context, m Message) (Receipt, error) {
	to, err := mail.ParseAddress(m.To)
	if err != nil || strings.ContainsAny(m.To, "\r\n") {
		return Receipt{}, &DeliveryError{Channel: m.Channel, Attempts: 1, Permanent: true, Reason: "INVALID_ADDRESS", Err: err}
	}
	msg := s.compose(m, to.Address)
	wait := s.cfg.Backoff
	var last error
	for attempt := 1; ; attempt++ {
		err := s.deliver(ctx, to.Address, msg)
		if err == nil {
			return Receipt{Attempts: attempt}, nil
		}
		if ctx.Err() != nil {
			return Receipt{}, ctx.Err()
		}
		last = err
		var te *textproto.Error
		if errors.As(err, &te) && te.Code >= 500 {
			return Receipt{}, &DeliveryError{Channel: m.Channel, Attempts: attempt, Permanent: true, Reason: fmt.Sprintf("SMTP_%d", te.Code), Err: err}
		}
		if attempt >= s.cfg.MaxAttempts {
			break
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return Receipt{}, ctx.Err()
		case <-t.C:
		}
		wait = min(2*wait, s.cfg.MaxBackoff)
	}
	reason := "SMTP_UNAVAILABLE"
	var te *textproto.Error
	if errors.As(last, &te) {
		reason = fmt.Sprintf("SMTP_%d", te.Code)
	}
	return Receipt{}, &DeliveryError{Channel: m.Channel, Attempts: s.cfg.MaxAttempts, Reason: reason, Err: last}
}

func (s *SMTP) compose(m Message, to string) []byte {
	var b strings.Builder
	host, from := "kefu.invalid", s.cfg.From
	if a, err := mail.ParseAddress(s.cfg.From); err == nil {
		if i := strings.LastIndexByte(a.Address, '@'); i >= 0 {
			host = a.Address[i+1:]
		}
		from = a.String() // RFC 2047-encodes a display name that is not ASCII (客服部 <…>)
	}
	fmt.Fprintf(&b, "From: %s\r\n", from)
	fmt.Fprintf(&b, "To: %s\r\n", to)
	fmt.Fprintf(&b, "Subject: %s\r\n", mime.QEncoding.Encode("utf-8", m.OccasionName))
	fmt.Fprintf(&b, "Date: %s\r\n", s.cfg.Clock().Format(time.RFC1123Z))
	fmt.Fprintf(&b, "Message-ID: <%s@%s>\r\n", m.IdempotencyKey, host)
	fmt.Fprintf(&b, "X-Kefu-Idempotency-Key: %s\r\n", m.IdempotencyKey)
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")
	body := strings.ReplaceAll(strings.ReplaceAll(m.Body, "\r\n", "\n"), "\n", "\r\n")
	b.WriteString(body)
	b.WriteString("\r\n")
	return []byte(b.String())
}

// deliver makes one SMTP transaction.
func (s *SMTP) deliver(ctx context.Context, to string, msg []byte) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", s.cfg.Addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	host, _, _ := net.SplitHostPort(s.cfg.Addr)
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		return err
	}
	defer c.Close()
	if s.cfg.TLS != nil {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(s.cfg.TLS); err != nil {
				return err
			}
		}
	}
	if s.cfg.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", s.cfg.Username, s.cfg.Password, host)); err != nil {
			return err
		}
	}
	from, _ := mail.ParseAddress(s.cfg.From)
	if err := c.Mail(from.Address); err != nil {
		return err
	}
	if err := c.Rcpt(to); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(msg); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}
