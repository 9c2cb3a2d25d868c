// Package mail is cws's Mail service: POST /send sends a mail — text and/or
// HTML (multipart/alternative), Cc, Bcc, Reply-To, attachments, custom
// headers, a body rendered from templates — through SMTP with
// wneessen/go-mail, and answers its Message-ID.
//
// Errors are problem+json: an invalid address or no recipient is 422
// naming the field; an attachment over the limit 413; the SMTP server's
// refusal 502 with its code and text (503 when the refusal is temporary);
// a server that cannot be reached 503 (an asynchronous caller retries).
//
// Configuration (ConfigFromEnv):
//
//	SMTP_HOST        the SMTP server; without it, mails go to an in-memory
//	                 outbox (GET /outbox lists them): the embedded default
//	                 of cws run
//	SMTP_PORT        default 587 (25 with SMTP_TLS=none, 465 with tls)
//	SMTP_USERNAME, SMTP_PASSWORD   SMTP AUTH (PLAIN, or LOGIN/CRAM-MD5 as
//	                 the server offers)
//	SMTP_TLS         none, starttls (default) or tls
//	SMTP_TLS_CA      a PEM file of the CAs that sign the server's
//	                 certificate (a private server's), beside the system's
//	SMTP_FROM        the default sender
//	MAIL_MAX_ATTACHMENT_BYTES  the largest attachment (default 10 MiB)
//	MAIL_OUTBOX_FAILURES       the in-memory outbox refuses that many mails
//	                 with 503 first: to rehearse a caller's retries
//
// Use it as a blueprint (runtime.WithBlueprint("/mail", svc)) or standalone
// (services/mail/cmd).
package mail

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/mail"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/coworks-go/cws/runtime"
)

// Environment variables of ConfigFromEnv.
const (
	EnvHost           = "SMTP_HOST"
	EnvPort           = "SMTP_PORT"
	EnvUsername       = "SMTP_USERNAME"
	EnvPassword       = "SMTP_PASSWORD"
	EnvTLS            = "SMTP_TLS"
	EnvTLSCA          = "SMTP_TLS_CA"
	EnvFrom           = "SMTP_FROM"
	EnvMaxAttachment  = "MAIL_MAX_ATTACHMENT_BYTES"
	EnvOutboxFailures = "MAIL_OUTBOX_FAILURES"
)

// The TLS modes.
const (
	TLSNone     = "none"
	TLSStartTLS = "starttls"
	TLSImplicit = "tls"
)

// DefaultMaxAttachment is the largest attachment by default.
const DefaultMaxAttachment = 10 << 20

// Config is the SMTP configuration of the service.
type Config struct {
	// Host is the SMTP server; "" keeps mails in an in-memory outbox.
	Host               string
	Port               int
	Username, Password string
	// TLS is none, starttls (the default) or tls.
	TLS string
	// RootCAs are the CAs trusted for the server's certificate (nil: the
	// system's).
	RootCAs *x509.CertPool
	// From is the default sender.
	From string
	// MaxAttachment is the largest attachment, in bytes.
	MaxAttachment int
	// Timeout bounds a send (default 30 s).
	Timeout time.Duration
	// OutboxFailures is how many mails the in-memory outbox refuses first.
	OutboxFailures int
}

// ConfigFromEnv reads the configuration from the environment.
func ConfigFromEnv() (Config, error) {
	c := Config{Host: os.Getenv(EnvHost), Username: os.Getenv(EnvUsername), Password: os.Getenv(EnvPassword),
		TLS: strings.ToLower(os.Getenv(EnvTLS)), From: os.Getenv(EnvFrom)}
	num := func(name string, dst *int) error {
		if v := os.Getenv(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return fmt.Errorf("%s=%q is not a whole number", name, v)
			}
			*dst = n
		}
		return nil
	}
	for name, dst := range map[string]*int{EnvPort: &c.Port, EnvMaxAttachment: &c.MaxAttachment, EnvOutboxFailures: &c.OutboxFailures} {
		if err := num(name, dst); err != nil {
			return c, err
		}
	}
	if ca := os.Getenv(EnvTLSCA); ca != "" {
		pem, err := os.ReadFile(ca)
		if err != nil {
			return c, fmt.Errorf("%s: %w", EnvTLSCA, err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return c, fmt.Errorf("%s: %s holds no PEM certificate", EnvTLSCA, ca)
		}
		c.RootCAs = pool
	}
	return c, c.check()
}

func (c *Config) check() error {
	switch c.TLS {
	case "":
		c.TLS = TLSStartTLS
	case TLSNone, TLSStartTLS, TLSImplicit:
	default:
		return fmt.Errorf("%s=%q: none, starttls or tls", EnvTLS, c.TLS)
	}
	if c.Port == 0 {
		c.Port = map[string]int{TLSNone: 25, TLSStartTLS: 587, TLSImplicit: 465}[c.TLS]
	}
	if c.MaxAttachment == 0 {
		c.MaxAttachment = DefaultMaxAttachment
	}
	if c.Timeout == 0 {
		c.Timeout = 30 * time.Second
	}
	if c.From != "" {
		if _, err := mail.ParseAddress(c.From); err != nil {
			return fmt.Errorf("%s=%q is not a mail address", EnvFrom, c.From)
		}
	}
	return nil
}

// Renderer renders the templates of a mail's body: the Templates service
// (templates.Service) in process, say.
type Renderer interface {
	Render(ctx context.Context, name string, data map[string]any) (string, error)
}

// Service sends mails.
type Service struct {
	cfg       Config
	templates Renderer

	mu       sync.Mutex
	outbox   []Sent
	failures int
}

// Option configures a Service.
type Option func(*Service)

// WithTemplates lets mails take their body from templates.
func WithTemplates(r Renderer) Option { return func(s *Service) { s.templates = r } }

// New returns the service of cfg.
func New(cfg Config, opts ...Option) (*Service, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	s := &Service{cfg: cfg, failures: cfg.OutboxFailures}
	for _, o := range opts {
		o(s)
	}
	return s, nil
}

// Message is a mail to send: the body of POST /send.
type Message struct {
	// From is the sender (default: the configuration's).
	From    string   `json:"from" jsonschema:"format=email"`
	To      []string `json:"to" jsonschema:"format=email"`
	Cc      []string `json:"cc" jsonschema:"format=email"`
	Bcc     []string `json:"bcc" jsonschema:"format=email"`
	ReplyTo string   `json:"reply_to" jsonschema:"format=email"`
	Subject string   `json:"subject"`
	// Text and HTML are the bodies: with both, a multipart/alternative.
	Text string `json:"text"`
	HTML string `json:"html"`
	// Template renders the bodies from templates, when given.
	Template *Template `json:"template"`
	// Attachments are files attached to the mail.
	Attachments []Attachment `json:"attachments"`
	// Headers are more headers (X-Campaign …); those the mail sets itself
	// are refused.
	Headers map[string]string `json:"headers"`
}

// ExtendJSONSchema says in the OpenAPI document what build checks across
// the fields of a message: a recipient (to, cc or bcc), a body (text, html
// or a template), headers that are not the mail's own.
func (Message) ExtendJSONSchema(s map[string]any) {
	props, _ := s["properties"].(map[string]any)
	nonEmpty := func(field string, keyword string) any {
		typ := map[string]string{"minItems": "array", "minLength": "string"}[keyword]
		return map[string]any{"required": []any{field}, "properties": map[string]any{field: map[string]any{"type": typ, keyword: 1}}}
	}
	template := func(field string) any {
		names := nonEmpty(field, "minLength").(map[string]any)
		names["type"] = "object"
		return map[string]any{"required": []any{"template"}, "properties": map[string]any{"template": names}}
	}
	var reservedNames []any
	for h := range reserved {
		var p strings.Builder
		for _, r := range h {
			if up := strings.ToUpper(string(r)); up != string(r) {
				p.WriteString("[" + up + string(r) + "]")
			} else {
				p.WriteString(regexp.QuoteMeta(string(r)))
			}
		}
		reservedNames = append(reservedNames, map[string]any{"pattern": "^" + p.String() + "$"})
	}
	sort.Slice(reservedNames, func(i, j int) bool {
		return reservedNames[i].(map[string]any)["pattern"].(string) < reservedNames[j].(map[string]any)["pattern"].(string)
	})
	props["headers"] = map[string]any{
		"type":                 []any{"object", "null"},
		"additionalProperties": map[string]any{"type": "string", "pattern": "^[^\r\n]*$"},
		"propertyNames":        map[string]any{"pattern": "^[^: \r\n]*$", "not": map[string]any{"anyOf": reservedNames}},
	}
	s["allOf"] = []any{
		map[string]any{"anyOf": []any{nonEmpty("to", "minItems"), nonEmpty("cc", "minItems"), nonEmpty("bcc", "minItems")}},
		map[string]any{"anyOf": []any{nonEmpty("text", "minLength"), nonEmpty("html", "minLength"), template("text"), template("html")}},
	}
}

// Template names the templates of a mail's bodies and their context.
type Template struct {
	Text    string         `json:"text"`
	HTML    string         `json:"html"`
	Context map[string]any `json:"context"`
}

// Attachment is a file attached to a mail.
type Attachment struct {
	Filename    string `json:"filename" jsonschema:"required,pattern=^[^/\\\\\\r\\n]+$"`
	ContentType string `json:"content_type"`
	// Content is the file, base64-encoded.
	Content string `json:"content" jsonschema:"pattern=^([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"`
}

// Sent is a sent mail: its Message-ID and recipients.
type Sent struct {
	MessageID  string    `json:"message_id"`
	From       string    `json:"from"`
	Recipients []string  `json:"recipients"`
	Subject    string    `json:"subject"`
	Text       string    `json:"text,omitempty"`
	HTML       string    `json:"html,omitempty"`
	Date       time.Time `json:"date"`
}

// reserved are the headers a mail sets itself.
var reserved = map[string]bool{"from": true, "to": true, "cc": true, "bcc": true, "subject": true, "reply-to": true,
	"date": true, "message-id": true, "mime-version": true, "content-type": true, "content-transfer-encoding": true}

// fieldError is a mistake of a message, naming the field.
func fieldError(field, format string, args ...any) error {
	return runtime.Unprocessable("%s: %s", field, fmt.Sprintf(format, args...))
}

// renderError is a template's failure to render: the renderer's own
// status when it has one (404 for a template that does not exist, as POST
// /templates/render/{name} answers), else a mistake of the field (422).
func renderError(field string, err error) error {
	var sc interface{ StatusCode() int }
	if errors.As(err, &sc) && sc.StatusCode() >= 400 && sc.StatusCode() < 500 {
		return runtime.NewProblem(sc.StatusCode(), "%s: %v", field, err)
	}
	return fieldError(field, "%v", err)
}

// build makes the go-mail message of m, checking every field.
func (s *Service) build(ctx context.Context, m Message) (*gomail.Msg, []byte, error) {
	msg := gomail.NewMsg()
	from := m.From
	if from == "" {
		from = s.cfg.From
	}
	if from == "" {
		return nil, nil, fieldError("from", "no sender, and no default sender (%s)", EnvFrom)
	}
	if _, err := mail.ParseAddress(from); err != nil {
		return nil, nil, fieldError("from", "%q is not a mail address", from)
	}
	if err := msg.From(from); err != nil {
		return nil, nil, fieldError("from", "%v", err)
	}
	if len(m.To)+len(m.Cc)+len(m.Bcc) == 0 {
		return nil, nil, fieldError("to", "at least one recipient (to, cc or bcc)")
	}
	for field, list := range map[string][]string{"to": m.To, "cc": m.Cc, "bcc": m.Bcc} {
		for i, a := range list {
			if _, err := mail.ParseAddress(a); err != nil {
				return nil, nil, fieldError(fmt.Sprintf("%s[%d]", field, i), "%q is not a mail address", a)
			}
		}
	}
	if len(m.To) > 0 {
		if err := msg.To(m.To...); err != nil {
			return nil, nil, fieldError("to", "%v", err)
		}
	}
	if len(m.Cc) > 0 {
		if err := msg.Cc(m.Cc...); err != nil {
			return nil, nil, fieldError("cc", "%v", err)
		}
	}
	if len(m.Bcc) > 0 {
		if err := msg.Bcc(m.Bcc...); err != nil {
			return nil, nil, fieldError("bcc", "%v", err)
		}
	}
	if m.ReplyTo != "" {
		if _, err := mail.ParseAddress(m.ReplyTo); err != nil {
			return nil, nil, fieldError("reply_to", "%q is not a mail address", m.ReplyTo)
		}
		if err := msg.ReplyTo(m.ReplyTo); err != nil {
			return nil, nil, fieldError("reply_to", "%v", err)
		}
	}
	msg.Subject(m.Subject)
	text, html := m.Text, m.HTML
	if t := m.Template; t != nil {
		if s.templates == nil {
			return nil, nil, fieldError("template", "this mail service renders no templates")
		}
		var err error
		if t.Text != "" {
			if text, err = s.templates.Render(ctx, t.Text, t.Context); err != nil {
				return nil, nil, renderError("template.text", err)
			}
		}
		if t.HTML != "" {
			if html, err = s.templates.Render(ctx, t.HTML, t.Context); err != nil {
				return nil, nil, renderError("template.html", err)
			}
		}
	}
	switch {
	case text != "" && html != "":
		msg.SetBodyString(gomail.TypeTextPlain, text)
		msg.AddAlternativeString(gomail.TypeTextHTML, html)
	case html != "":
		msg.SetBodyString(gomail.TypeTextHTML, html)
	case text != "":
		msg.SetBodyString(gomail.TypeTextPlain, text)
	default:
		return nil, nil, fieldError("text", "a body: text, html or a template")
	}
	for i, a := range m.Attachments {
		field := fmt.Sprintf("attachments[%d]", i)
		if a.Filename == "" || strings.ContainsAny(a.Filename, "/\\\r\n") {
			return nil, nil, fieldError(field+".filename", "%q is no file name", a.Filename)
		}
		data, err := base64.StdEncoding.DecodeString(a.Content)
		if err != nil {
			return nil, nil, fieldError(field+".content", "not base64: %v", err)
		}
		if len(data) > s.cfg.MaxAttachment {
			return nil, nil, runtime.NewProblem(http.StatusRequestEntityTooLarge, "%s: %s is %d bytes, over the limit of %d", field, a.Filename, len(data), s.cfg.MaxAttachment)
		}
		ct := a.ContentType
		if ct == "" {
			ct = "application/octet-stream"
		}
		if err := msg.AttachReader(a.Filename, strings.NewReader(string(data)), gomail.WithFileContentType(gomail.ContentType(ct))); err != nil {
			return nil, nil, fieldError(field, "%v", err)
		}
	}
	for k, v := range m.Headers {
		if reserved[strings.ToLower(k)] || strings.ContainsAny(k, ": \r\n") || strings.ContainsAny(v, "\r\n") {
			return nil, nil, fieldError("headers."+k, "a header the mail sets itself, or not a header")
		}
		msg.SetGenHeader(gomail.Header(k), v)
	}
	msg.SetMessageID()
	msg.SetDate()
	return msg, []byte(text + "\x00" + html), nil
}

// Send sends a mail and returns what was sent.
func (s *Service) Send(ctx context.Context, m Message) (*Sent, error) {
	msg, bodies, err := s.build(ctx, m)
	if err != nil {
		return nil, err
	}
	text, html, _ := strings.Cut(string(bodies), "\x00")
	sent := &Sent{MessageID: msg.GetMessageID(), From: firstOr(msg.GetFromString()), Recipients: recipients(m), Subject: m.Subject,
		Date: time.Now().UTC()}
	if s.cfg.Host == "" {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.failures > 0 {
			s.failures--
			return nil, runtime.NewProblem(http.StatusServiceUnavailable, "the outbox refuses this mail (%s: %d more)", EnvOutboxFailures, s.failures)
		}
		sent.Text, sent.HTML = text, html
		s.outbox = append(s.outbox, *sent)
		return sent, nil
	}
	if err := s.deliver(ctx, msg); err != nil {
		return nil, err
	}
	return sent, nil
}

func firstOr(list []string) string {
	if len(list) > 0 {
		return list[0]
	}
	return ""
}

func recipients(m Message) []string {
	return append(append(append([]string{}, m.To...), m.Cc...), m.Bcc...)
}

// deliver sends a message through the SMTP server.
func (s *Service) deliver(ctx context.Context, msg *gomail.Msg) error {
	opts := []gomail.Option{gomail.WithPort(s.cfg.Port), gomail.WithTimeout(s.cfg.Timeout),
		gomail.WithTLSConfig(&tls.Config{ServerName: s.cfg.Host, RootCAs: s.cfg.RootCAs, MinVersion: tls.VersionTLS12})}
	switch s.cfg.TLS {
	case TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	case TLSStartTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case TLSImplicit:
		opts = append(opts, gomail.WithSSL())
	}
	if s.cfg.Username != "" {
		opts = append(opts, gomail.WithUsername(s.cfg.Username), gomail.WithPassword(s.cfg.Password),
			gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover))
	}
	client, err := gomail.NewClient(s.cfg.Host, opts...)
	if err != nil {
		return runtime.NewProblem(http.StatusInternalServerError, "the SMTP client: %v", err)
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	err = client.DialAndSendWithContext(ctx, msg)
	if err == nil {
		return nil
	}
	var se *gomail.SendError
	var ne net.Error
	var oe *net.OpError
	switch {
	case errors.As(err, &se) && se.ErrorCode() != 0:
		status := http.StatusBadGateway
		if se.IsTemp() {
			status = http.StatusServiceUnavailable
		}
		return runtime.NewProblem(status, "the SMTP server %s refused the mail: %d %s", s.cfg.Host, se.ErrorCode(), smtpText(se))
	case errors.As(err, &oe) && oe.Op == "dial", errors.As(err, &ne) && ne.Timeout():
		return runtime.NewProblem(http.StatusServiceUnavailable, "the SMTP server %s:%d cannot be reached: %v", s.cfg.Host, s.cfg.Port, err)
	}
	return runtime.NewProblem(http.StatusBadGateway, "sending through %s:%d: %v", s.cfg.Host, s.cfg.Port, err)
}

// smtpText is the server's text of a refusal.
func smtpText(se *gomail.SendError) string {
	msg := se.Error()
	if i := strings.Index(msg, ": "); i >= 0 {
		return msg[i+2:]
	}
	return msg
}

// PostSend is the entry POST /send: it sends the mail and answers its
// Message-ID.
func (s *Service) PostSend(ctx context.Context, m Message) (*Sent, error) {
	sent, err := s.Send(ctx, m)
	if err != nil {
		return nil, err
	}
	sent.Text, sent.HTML = "", ""
	return sent, nil
}

// GetOutbox is the entry GET /outbox: the mails of the in-memory outbox
// (none when an SMTP server sends them).
func (s *Service) GetOutbox(ctx context.Context) []Sent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Sent{}, s.outbox...)
}
