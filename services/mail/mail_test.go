package mail_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/coworks-go/cws/internal/mailpit"
	"github.com/coworks-go/cws/internal/servetest"
	"github.com/coworks-go/cws/internal/testutil"
	"github.com/coworks-go/cws/services/mail"
)

// startMailpit starts a real SMTP server, or skips outside CI when there is
// none (make installs it: in CI a missing one fails).
func startMailpit(t *testing.T, o mailpit.Options) *mailpit.Server {
	t.Helper()
	if _, err := mailpit.Binary(); err != nil {
		if v := os.Getenv("CI"); v != "" && v != "false" && v != "0" {
			t.Fatalf("no Mailpit in CI: %v", err)
		}
		t.Skip(err)
	}
	s, err := mailpit.Start(context.Background(), t.TempDir(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

// serve mounts the mail service under /mail, over HTTP; do posts to
// /mail/send.
func serve(t *testing.T, svc *mail.Service) func(body string) (int, string) {
	t.Helper()
	do := servetest.Blueprint(t, "/mail", svc)
	return func(body string) (int, string) {
		status, _, b := do("POST", "/mail/send", body)
		return status, string(b)
	}
}

func newService(t *testing.T, cfg mail.Config, opts ...mail.Option) *mail.Service {
	t.Helper()
	svc, err := mail.New(cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

func pool(t *testing.T, caFile string) *x509.CertPool {
	t.Helper()
	pem, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	p := x509.NewCertPool()
	p.AppendCertsFromPEM(pem)
	return p
}

// sendAll sends a complete mail and checks, in what Mailpit received, its
// headers, both bodies, its attachments byte for byte, and that Bcc is in
// no header.
func sendAll(t *testing.T, do func(string) (int, string), mp *mailpit.Server) {
	t.Helper()
	pdf := bytes.Repeat([]byte("%PDF-1.7 \x00\x01\xff binary "), 500)
	body, _ := json.Marshal(map[string]any{
		"from": "Office <office@example.com>", "to": []string{"ann@example.com", "Bob <bob@example.com>"},
		"cc": []string{"cy@example.com"}, "bcc": []string{"hidden@example.com"}, "reply_to": "billing@example.com",
		"subject": "Invoice 7 — ünïcode", "text": "Dear Ann,\nyour invoice.", "html": "<p>Dear <b>Ann</b>,</p>",
		"attachments": []map[string]string{{"filename": "invoice-7.pdf", "content_type": "application/pdf", "content": base64.StdEncoding.EncodeToString(pdf)}},
		"headers":     map[string]string{"X-Campaign": "invoices"},
	})
	status, answer := do(string(body))
	var sent mail.Sent
	if status != 200 || json.Unmarshal([]byte(answer), &sent) != nil || sent.MessageID == "" {
		t.Fatalf("POST /mail/send: %d %s\n%s", status, answer, mp.Logs())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	m, err := mp.Await(ctx, func(m mailpit.Message) bool { return strings.Contains(sent.MessageID, m.MessageID) })
	if err != nil {
		t.Fatalf("Mailpit did not get %s: %v", sent.MessageID, err)
	}
	if m.From.Address != "office@example.com" || len(m.To) != 2 || m.To[1].Name != "Bob" || len(m.Cc) != 1 ||
		m.Subject != "Invoice 7 — ünïcode" || len(m.ReplyTo) != 1 || m.ReplyTo[0].Address != "billing@example.com" {
		t.Errorf("addresses and subject: %+v", m)
	}
	if !strings.Contains(strings.ReplaceAll(m.Text, "\r\n", "\n"), "Dear Ann,\nyour invoice.") || !strings.Contains(m.HTML, "<p>Dear <b>Ann</b>,</p>") {
		t.Errorf("bodies: text %q html %q", m.Text, m.HTML)
	}
	if len(m.Attachments) != 1 || m.Attachments[0].FileName != "invoice-7.pdf" || m.Attachments[0].ContentType != "application/pdf" {
		t.Fatalf("attachments %+v", m.Attachments)
	}
	got, err := mp.Part(m.ID, m.Attachments[0].PartID)
	if err != nil || !bytes.Equal(got, pdf) {
		t.Errorf("the attachment: %d bytes (%v), want %d byte for byte", len(got), err, len(pdf))
	}
	h, err := mp.Headers(m.ID)
	if err != nil {
		t.Fatal(err)
	}
	if h["X-Campaign"][0] != "invoices" || !strings.Contains(strings.Join(h["Content-Type"], ""), "multipart/mixed") {
		t.Errorf("headers %v", h)
	}
	// The source sent has no Bcc header. (Mailpit stores the envelope's Bcc
	// as a header of its own before its Return-Path and Received lines; what
	// the client sent follows them.)
	raw, err := mp.Raw(m.ID)
	if err != nil {
		t.Fatal(err)
	}
	header, _, _ := strings.Cut(string(raw), "\r\n\r\n")
	sentHeader := header
	if i := strings.Index(header, "\r\nReceived:"); i >= 0 {
		rest := header[i+2:]
		for _, line := range strings.SplitAfter(rest, "\r\n")[1:] {
			if !strings.HasPrefix(line, " ") && !strings.HasPrefix(line, "\t") {
				sentHeader = rest[strings.Index(rest, line):]
				break
			}
		}
	}
	if !strings.HasPrefix(sentHeader, "Date:") || strings.Contains(sentHeader, "hidden@example.com") {
		t.Errorf("the Bcc address is in the headers sent:\n%s", sentHeader)
	}
	// Bcc received it: Mailpit records the envelope's recipients.
	if len(m.Bcc) != 1 || m.Bcc[0].Address != "hidden@example.com" {
		t.Errorf("Bcc %+v", m.Bcc)
	}
}

func TestSendPlain(t *testing.T) {
	mp := startMailpit(t, mailpit.Options{})
	do := serve(t, newService(t, mail.Config{Host: mp.SMTPHost, Port: mp.SMTPPort, TLS: mail.TLSNone}))
	sendAll(t, do, mp)
}

func TestSendSTARTTLSWithAuth(t *testing.T) {
	const password = "mail-password-6d4a" // in testutil.Secrets
	mp := startMailpit(t, mailpit.Options{TLS: "starttls", Users: map[string]string{"office": password}})
	cfg := mail.Config{Host: mp.SMTPHost, Port: mp.SMTPPort, TLS: mail.TLSStartTLS, Username: "office", Password: password,
		RootCAs: pool(t, mp.CAFile), From: "office@example.com"}
	sendAll(t, serve(t, newService(t, cfg)), mp)

	// A wrong password: the server's refusal, 502 with its code.
	cfg.Password = testutil.WrongToken
	status, body := serve(t, newService(t, cfg))(`{"to":["ann@example.com"],"subject":"x","text":"y"}`)
	if status != 502 || !strings.Contains(body, "535") && !strings.Contains(body, "authentication") {
		t.Errorf("a wrong password: %d %s", status, body)
	}
	// A certificate nobody trusts: refused.
	cfg.Password, cfg.RootCAs = password, x509.NewCertPool()
	if status, body := serve(t, newService(t, cfg))(`{"to":["ann@example.com"],"subject":"x","text":"y"}`); status < 500 {
		t.Errorf("an untrusted certificate: %d %s", status, body)
	}
}

func TestSendImplicitTLS(t *testing.T) {
	mp := startMailpit(t, mailpit.Options{TLS: "tls"})
	cfg := mail.Config{Host: mp.SMTPHost, Port: mp.SMTPPort, TLS: mail.TLSImplicit, RootCAs: pool(t, mp.CAFile), From: "office@example.com"}
	status, body := serve(t, newService(t, cfg))(`{"to":["ann@example.com"],"subject":"over TLS","text":"y"}`)
	if status != 200 {
		t.Fatalf("%d %s", status, body)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := mp.Await(ctx, func(m mailpit.Message) bool { return m.Subject == "over TLS" }); err != nil {
		t.Error(err)
	}
}

// TestRefusals: what the service refuses, and how.
func TestRefusals(t *testing.T) {
	svc := newService(t, mail.Config{Host: "127.0.0.1", Port: 1, TLS: mail.TLSNone, From: "office@example.com", MaxAttachment: 10})
	do := serve(t, svc)
	big := base64.StdEncoding.EncodeToString([]byte("eleven bytes"))
	for _, c := range []struct {
		body string
		want int
		says string
	}{
		{`{"subject":"x","text":"y"}`, 422, "to: at least one recipient"},
		{`{"to":["ann@example.com","not an address"],"text":"y"}`, 422, `to[1]: \"not an address\" is not a mail address`},
		{`{"to":["ann@example.com"],"bcc":["@"],"text":"y"}`, 422, "bcc[0]"},
		{`{"to":["ann@example.com"],"subject":"no body"}`, 422, "text: a body"},
		{`{"to":["ann@example.com"],"text":"y","headers":{"Subject":"sneaky"}}`, 422, "headers.Subject"},
		{`{"to":["ann@example.com"],"text":"y","attachments":[{"filename":"a.bin","content":"` + big + `"}]}`, 413, "over the limit of 10"},
		{`{"to":["ann@example.com"],"text":"y","attachments":[{"filename":"a.bin","content":"%%%"}]}`, 422, "attachments[0].content"},
		{`{"to":["ann@example.com"],"text":"y","template":{"text":"a.txt"}}`, 422, "renders no templates"},
		{`{"to":["ann@example.com"],"subject":"x","text":"y"}`, 503, "cannot be reached"},
	} {
		status, body := do(c.body)
		if status != c.want || !strings.Contains(body, c.says) || !strings.Contains(body, `"status":`) {
			t.Errorf("%s: %d %s, want %d saying %q", c.body, status, body, c.want, c.says)
		}
	}
}

// renderer renders "greeting.txt" and "greeting.html".
type renderer struct{}

func (renderer) Render(_ context.Context, name string, data map[string]any) (string, error) {
	return name + " for " + data["name"].(string), nil
}

// TestOutboxAndTemplates: without an SMTP server, mails go to the in-memory
// outbox (after the failures it is told to rehearse); bodies come from
// templates.
func TestOutboxAndTemplates(t *testing.T) {
	svc := newService(t, mail.Config{From: "office@example.com", OutboxFailures: 1}, mail.WithTemplates(renderer{}))
	do := serve(t, svc)
	msg := `{"to":["ann@example.com"],"subject":"hi","template":{"text":"greeting.txt","html":"greeting.html","context":{"name":"Ann"}}}`
	if status, body := do(msg); status != 503 {
		t.Errorf("the rehearsed failure: %d %s", status, body)
	}
	if status, body := do(msg); status != 200 || !strings.Contains(body, `"message_id"`) {
		t.Errorf("then sent: %d %s", status, body)
	}
	out := svc.GetOutbox(context.Background())
	if len(out) != 1 || out[0].Text != "greeting.txt for Ann" || out[0].HTML != "greeting.html for Ann" || out[0].Recipients[0] != "ann@example.com" {
		t.Errorf("outbox %+v", out)
	}
}

func TestConfigFromEnv(t *testing.T) {
	t.Setenv(mail.EnvHost, "smtp.example.com")
	t.Setenv(mail.EnvTLS, "tls")
	t.Setenv(mail.EnvFrom, "Office <office@example.com>")
	cfg, err := mail.ConfigFromEnv()
	if err != nil || cfg.Port != 465 || cfg.MaxAttachment != mail.DefaultMaxAttachment {
		t.Errorf("%+v %v", cfg, err)
	}
	t.Setenv(mail.EnvTLS, "sometimes")
	if _, err := mail.ConfigFromEnv(); err == nil || !strings.Contains(err.Error(), "SMTP_TLS") {
		t.Errorf("a bad SMTP_TLS: %v", err)
	}
	t.Setenv(mail.EnvTLS, "")
	t.Setenv(mail.EnvPort, "many")
	if _, err := mail.ConfigFromEnv(); err == nil || !strings.Contains(err.Error(), "SMTP_PORT") {
		t.Errorf("a bad SMTP_PORT: %v", err)
	}
}
