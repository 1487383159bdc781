package main

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/kefu-crm/kefu/automation/greeting"
)

// Greeting senders `kefu serve --sender` offers.
const (
	senderOutbox  = "outbox"
	senderWebhook = "webhook"
	senderSMTP    = "smtp"
)

// SMTP transport security (--smtp-tls): what greeting.SMTP supports.
const (
	smtpTLSStartTLS = "starttls"
	smtpTLSNone     = "none"
)

// senderFlags are serve's greeting-delivery settings. Secrets have no
// environment default in their flag (the usage text prints defaults); they
// are read by secret().
type senderFlags struct {
	fs *flagSet
	e  *env

	name string

	webhookURL, webhookSecret, webhookSecretFile string

	smtpAddr, smtpFrom, smtpUser, smtpPassword, smtpPasswordFile, smtpTLS string

	dispatchInterval time.Duration
	dispatchEnvErr   error
}

// addSenderFlags declares the --sender flags on fs.
func addSenderFlags(fs *flagSet, e *env) *senderFlags {
	f := &senderFlags{fs: fs, e: e}
	fs.StringVar(&f.name, "sender", envDefault(e, "KEFU_SENDER", senderOutbox),
		"how greetings are delivered: outbox (a JSON line per greeting in DIR/"+greeting.OutboxFileName+"), webhook (a signed POST to a gateway) or smtp (EMAIL greetings by mail; other channels to the outbox) (env KEFU_SENDER)")
	fs.StringVar(&f.webhookURL, "webhook-url", envDefault(e, "KEFU_WEBHOOK_URL", ""),
		"--sender webhook: the gateway's http(s) URL; each greeting is POSTed to it as JSON, signed in "+greeting.HeaderSignature+" (env KEFU_WEBHOOK_URL)")
	fs.StringVar(&f.webhookSecret, "webhook-secret", "",
		"--sender webhook: the HMAC-SHA256 signing secret; prefer env KEFU_WEBHOOK_SECRET or --webhook-secret-file (a command line is visible to every local user)")
	fs.StringVar(&f.webhookSecretFile, "webhook-secret-file", envDefault(e, "KEFU_WEBHOOK_SECRET_FILE", ""),
		"--sender webhook: file holding the signing secret (a trailing newline is ignored) (env KEFU_WEBHOOK_SECRET_FILE)")
	fs.StringVar(&f.smtpAddr, "smtp-addr", envDefault(e, "KEFU_SMTP_ADDR", ""),
		"--sender smtp: the mail server's HOST:PORT, e.g. smtp.example.com:587 (env KEFU_SMTP_ADDR)")
	fs.StringVar(&f.smtpFrom, "smtp-from", envDefault(e, "KEFU_SMTP_FROM", ""),
		"--sender smtp: the sender address, e.g. \"客服 <greetings@example.com>\" (env KEFU_SMTP_FROM)")
	fs.StringVar(&f.smtpUser, "smtp-user", envDefault(e, "KEFU_SMTP_USER", ""),
		"--sender smtp: user for AUTH PLAIN; needs a password (env KEFU_SMTP_USER)")
	fs.StringVar(&f.smtpPassword, "smtp-password", "",
		"--sender smtp: the AUTH password; prefer env KEFU_SMTP_PASSWORD or --smtp-password-file (a command line is visible to every local user)")
	fs.StringVar(&f.smtpPasswordFile, "smtp-password-file", envDefault(e, "KEFU_SMTP_PASSWORD_FILE", ""),
		"--sender smtp: file holding the AUTH password (a trailing newline is ignored) (env KEFU_SMTP_PASSWORD_FILE)")
	fs.StringVar(&f.smtpTLS, "smtp-tls", envDefault(e, "KEFU_SMTP_TLS", smtpTLSStartTLS),
		"--sender smtp: starttls (upgrade with STARTTLS when the server offers it, verifying its certificate against the system roots or SSL_CERT_FILE) or none (env KEFU_SMTP_TLS)")
	interval := time.Duration(0)
	if v := e.getenv("KEFU_DISPATCH_INTERVAL"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			f.dispatchEnvErr = fmt.Errorf("KEFU_DISPATCH_INTERVAL=%q: want a positive duration such as 30s or 500ms", v)
		} else {
			interval = d
		}
	}
	fs.DurationVar(&f.dispatchInterval, "dispatch-interval", interval,
		"how often the greeting dispatcher looks for due sends; 0 means every 30s (env KEFU_DISPATCH_INTERVAL)")
	return f
}

// senderChoice is the validated delivery configuration.
type senderChoice struct {
	name string
	// sender is nil for the outbox (the server opens it in the data
	// directory).
	sender greeting.Sender
	// byChannel routes particular channels (EMAIL → SMTP).
	byChannel map[string]greeting.Sender
	// logAttrs describe the choice for the start log, without secrets.
	logAttrs []any
	// warnings are said once at start.
	warnings []string
}

// choose validates the flags and builds the sender. Every problem of the
// configuration is reported at once as a usage error; a secret file that
// cannot be read is an ordinary error. dataDir names the outbox file in
// the log.
func (f *senderFlags) choose(dataDir string) (senderChoice, error) {
	var problems []error
	if f.dispatchEnvErr != nil && !f.fs.given("dispatch-interval") {
		problems = append(problems, f.dispatchEnvErr)
	}
	if f.dispatchInterval < 0 {
		problems = append(problems, fmt.Errorf("--dispatch-interval %s: must not be negative (0 means every 30s)", f.dispatchInterval))
	}
	name := f.name
	known := name == senderOutbox || name == senderWebhook || name == senderSMTP
	if !known {
		problems = append(problems, fmt.Errorf("%s %q: unknown sender; choose outbox (the default), webhook or smtp", f.source("sender", "KEFU_SENDER"), name))
	}
	// Settings of a sender that is not chosen are a mistake, not ignored.
	if known && name != senderWebhook {
		for _, s := range []struct{ flag, env, value string }{
			{"webhook-url", "KEFU_WEBHOOK_URL", f.webhookURL},
			{"webhook-secret", "", f.webhookSecret},
			{"webhook-secret-file", "KEFU_WEBHOOK_SECRET_FILE", f.webhookSecretFile},
			{"", "KEFU_WEBHOOK_SECRET", f.e.getenv("KEFU_WEBHOOK_SECRET")},
		} {
			if s.value != "" {
				problems = append(problems, fmt.Errorf("%s is a setting of the webhook sender, but the sender is %s: add --sender webhook (or KEFU_SENDER=webhook), or remove it", f.source(s.flag, s.env), name))
			}
		}
	}
	if known && name != senderSMTP {
		for _, s := range []struct{ flag, env, value string }{
			{"smtp-addr", "KEFU_SMTP_ADDR", f.smtpAddr},
			{"smtp-from", "KEFU_SMTP_FROM", f.smtpFrom},
			{"smtp-user", "KEFU_SMTP_USER", f.smtpUser},
			{"smtp-password", "", f.smtpPassword},
			{"smtp-password-file", "KEFU_SMTP_PASSWORD_FILE", f.smtpPasswordFile},
			{"", "KEFU_SMTP_PASSWORD", f.e.getenv("KEFU_SMTP_PASSWORD")},
			{"smtp-tls", "KEFU_SMTP_TLS", f.givenValue("smtp-tls", "KEFU_SMTP_TLS")},
		} {
			if s.value != "" {
				problems = append(problems, fmt.Errorf("%s is a setting of the smtp sender, but the sender is %s: add --sender smtp (or KEFU_SENDER=smtp), or remove it", f.source(s.flag, s.env), name))
			}
		}
	}
	var c senderChoice
	var err error
	switch name {
	case senderOutbox:
		c = senderChoice{name: name, logAttrs: []any{"file", filepath.Join(dataDir, greeting.OutboxFileName)}}
	case senderWebhook:
		c, err = f.webhook(&problems)
	case senderSMTP:
		c, err = f.smtp(&problems)
	}
	if p := errors.Join(problems...); p != nil {
		return senderChoice{}, fmt.Errorf("%w: greeting delivery:\n  %s", errUsage, strings.ReplaceAll(p.Error(), "\n", "\n  "))
	}
	if err != nil {
		return senderChoice{}, err
	}
	return c, nil
}

func (f *senderFlags) webhook(problems *[]error) (senderChoice, error) {
	c := senderChoice{name: senderWebhook}
	target := ""
	switch u, err := url.Parse(f.webhookURL); {
	case f.webhookURL == "":
		*problems = append(*problems, errors.New("--sender webhook needs --webhook-url URL (env KEFU_WEBHOOK_URL): the gateway's http(s) address that receives each greeting as a signed JSON POST"))
	case err != nil:
		*problems = append(*problems, fmt.Errorf("%s is not a URL; give e.g. https://gateway.example.com/kefu/greetings", f.source("webhook-url", "KEFU_WEBHOOK_URL")))
	case (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		*problems = append(*problems, fmt.Errorf("%s %q is not an http(s) URL with a host; give e.g. https://gateway.example.com/kefu/greetings", f.source("webhook-url", "KEFU_WEBHOOK_URL"), redactURL(f.webhookURL)))
	default:
		target = redactURL(f.webhookURL)
	}
	secret, from, err := f.secret("webhook-secret", "webhook-secret-file", "KEFU_WEBHOOK_SECRET", "KEFU_WEBHOOK_SECRET_FILE", problems)
	if err != nil {
		return c, err
	}
	if from == "" {
		*problems = append(*problems, fmt.Errorf("--sender webhook needs the shared secret that signs each request (%s: sha256=HMAC-SHA256 of the body): set KEFU_WEBHOOK_SECRET, or --webhook-secret-file FILE", greeting.HeaderSignature))
	}
	if len(*problems) > 0 {
		return c, nil
	}
	if f.fs.given("webhook-secret") {
		c.warnings = append(c.warnings, "--webhook-secret on the command line is visible to every local user (ps, /proc); prefer KEFU_WEBHOOK_SECRET or --webhook-secret-file")
	}
	w, err := greeting.NewWebhook(greeting.WebhookConfig{URL: f.webhookURL, Secret: []byte(secret)})
	if err != nil {
		return c, fmt.Errorf("%w: %w", errUsage, err)
	}
	c.sender = w
	c.logAttrs = []any{"url", target, "secret", from}
	return c, nil
}

func (f *senderFlags) smtp(problems *[]error) (senderChoice, error) {
	c := senderChoice{name: senderSMTP}
	host := ""
	switch h, port, err := net.SplitHostPort(f.smtpAddr); {
	case f.smtpAddr == "":
		*problems = append(*problems, errors.New("--sender smtp needs --smtp-addr HOST:PORT (env KEFU_SMTP_ADDR), the mail server, e.g. smtp.example.com:587"))
	case err != nil || h == "" || !validPort(port):
		*problems = append(*problems, fmt.Errorf("%s %q: want HOST:PORT with a port number, e.g. smtp.example.com:587", f.source("smtp-addr", "KEFU_SMTP_ADDR"), f.smtpAddr))
	default:
		host = h
	}
	switch _, err := mail.ParseAddress(f.smtpFrom); {
	case f.smtpFrom == "":
		*problems = append(*problems, errors.New("--sender smtp needs --smtp-from ADDRESS (env KEFU_SMTP_FROM), the sender of the greetings, e.g. \"客服 <greetings@example.com>\""))
	case err != nil || strings.ContainsAny(f.smtpFrom, "\r\n"):
		*problems = append(*problems, fmt.Errorf("%s %q is not an email address; give e.g. greetings@example.com or \"客服 <greetings@example.com>\"", f.source("smtp-from", "KEFU_SMTP_FROM"), f.smtpFrom))
	}
	var tlsConfig *tls.Config
	switch f.smtpTLS {
	case smtpTLSStartTLS:
		tlsConfig = &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	case smtpTLSNone:
	default:
		*problems = append(*problems, fmt.Errorf("%s %q: choose starttls (the default: STARTTLS when the server offers it) or none", f.source("smtp-tls", "KEFU_SMTP_TLS"), f.smtpTLS))
	}
	password, from, err := f.secret("smtp-password", "smtp-password-file", "KEFU_SMTP_PASSWORD", "KEFU_SMTP_PASSWORD_FILE", problems)
	if err != nil {
		return c, err
	}
	switch {
	case f.smtpUser != "" && from == "":
		*problems = append(*problems, fmt.Errorf("%s %q needs its password: set KEFU_SMTP_PASSWORD, or --smtp-password-file FILE", f.source("smtp-user", "KEFU_SMTP_USER"), f.smtpUser))
	case f.smtpUser == "" && from != "":
		*problems = append(*problems, fmt.Errorf("an SMTP password is given (%s) but no user: add --smtp-user USER (env KEFU_SMTP_USER), or remove the password", from))
	case f.smtpUser != "" && tlsConfig == nil && host != "" && !isLocalhost(host):
		// net/smtp refuses to send credentials in the clear to another
		// host: every greeting would fail.
		*problems = append(*problems, fmt.Errorf("--smtp-tls none with --smtp-user: the password would cross the network unencrypted to %s, which the SMTP client refuses; use --smtp-tls starttls", host))
	}
	if len(*problems) > 0 {
		return c, nil
	}
	if f.fs.given("smtp-password") {
		c.warnings = append(c.warnings, "--smtp-password on the command line is visible to every local user (ps, /proc); prefer KEFU_SMTP_PASSWORD or --smtp-password-file")
	}
	s, err := greeting.NewSMTP(greeting.SMTPConfig{Addr: f.smtpAddr, From: f.smtpFrom, Username: f.smtpUser, Password: password, TLS: tlsConfig})
	if err != nil {
		return c, fmt.Errorf("%w: %w", errUsage, err)
	}
	c.byChannel = map[string]greeting.Sender{"EMAIL": s}
	c.logAttrs = []any{"addr", f.smtpAddr, "from", f.smtpFrom, "tls", f.smtpTLS, "otherChannels", "outbox"}
	if f.smtpUser != "" {
		c.logAttrs = append(c.logAttrs, "user", f.smtpUser, "password", from)
	}
	return c, nil
}

// secret reads a secret from its flag, its file flag, or the environment
// (KEFU_…, KEFU_…_FILE); the command line wins over the environment, and
// two sources on the same level are a mistake. from names the source for
// the log ("" when no secret is given); the secret itself is never put in
// a message.
func (f *senderFlags) secret(flagName, fileFlag, envName, fileEnv string, problems *[]error) (secret, from string, err error) {
	value, file := f.fs.given(flagName), f.fs.given(fileFlag)
	switch {
	case value && file:
		*problems = append(*problems, fmt.Errorf("--%s and --%s both give the secret: keep one", flagName, fileFlag))
		return "", "", nil
	case value:
		if f.secretValue(flagName) == "" {
			*problems = append(*problems, fmt.Errorf("--%s is empty", flagName))
			return "", "", nil
		}
		return f.secretValue(flagName), "--" + flagName, nil
	case file:
		return readSecretFile("--"+fileFlag, f.fileValue(fileFlag), problems)
	}
	envValue, envFile := f.e.getenv(envName), f.e.getenv(fileEnv)
	switch {
	case envValue != "" && envFile != "":
		*problems = append(*problems, fmt.Errorf("%s and %s both give the secret: keep one", envName, fileEnv))
		return "", "", nil
	case envValue != "":
		return envValue, envName, nil
	case envFile != "":
		return readSecretFile(fileEnv, envFile, problems)
	}
	return "", "", nil
}

func (f *senderFlags) secretValue(flagName string) string {
	if flagName == "webhook-secret" {
		return f.webhookSecret
	}
	return f.smtpPassword
}

func (f *senderFlags) fileValue(fileFlag string) string {
	if fileFlag == "webhook-secret-file" {
		return f.webhookSecretFile
	}
	return f.smtpPasswordFile
}

// readSecretFile reads a secret file; one trailing newline (as editors and
// `echo` leave) is not part of the secret.
func readSecretFile(source, path string, problems *[]error) (secret, from string, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", "", fmt.Errorf("%s: %w (give a readable file holding the secret)", source, err)
	}
	s := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	if s == "" {
		*problems = append(*problems, fmt.Errorf("%s %s is empty: put the secret in it", source, path))
		return "", "", nil
	}
	return s, "file " + path, nil
}

// source names where a setting came from: the flag when given on the
// command line, else its environment variable when set, else the flag.
func (f *senderFlags) source(flagName, envName string) string {
	switch {
	case flagName != "" && f.fs.given(flagName):
		return "--" + flagName
	case envName != "" && f.e.getenv(envName) != "":
		return envName
	case flagName != "":
		return "--" + flagName
	default:
		return envName
	}
}

// givenValue is the flag's value when it was set on the command line or
// in the environment, "" when it has its default.
func (f *senderFlags) givenValue(flagName, envName string) string {
	if f.fs.given(flagName) || f.e.getenv(envName) != "" {
		return f.fs.Lookup(flagName).Value.String()
	}
	return ""
}

// redactURL is u for logs and messages: without a password and without
// the query, which may carry a token.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	if u.RawQuery != "" {
		u.RawQuery = "…"
	}
	u.Fragment = ""
	return u.Redacted()
}

func validPort(p string) bool {
	n, err := strconv.Atoi(p)
	return err == nil && n > 0 && n < 65536
}

// isLocalhost is net/smtp's rule for sending AUTH PLAIN without TLS.
func isLocalhost(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}
