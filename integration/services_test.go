//go:build integration

package integration

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/coworks-go/cws/internal/mailpit"
	"github.com/coworks-go/cws/internal/testutil"
	"github.com/coworks-go/cws/services/templates"
)

// TestInvoiceMailedThroughMailpit: examples/biz run with a real SMTP server
// (Mailpit) delivers the invoice its workflow renders with the Templates
// service and sends with the Mail service: both bodies from the templates,
// the HTML document attached.
func TestInvoiceMailedThroughMailpit(t *testing.T) {
	t.Parallel()
	if _, err := mailpit.Binary(); err != nil {
		if inCI() {
			t.Fatalf("no Mailpit in CI: %v", err)
		}
		t.Skip(err)
	}
	mp, err := mailpit.Start(context.Background(), t.TempDir(), mailpit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(mp.Stop)

	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bizBinary(t))
	cmd.Env = append(os.Environ(), "CWS_ADDR="+addr, "TOKEN="+serviceToken, "SMTP_HOST="+mp.SMTPHost,
		"SMTP_PORT="+strconv.Itoa(mp.SMTPPort), "SMTP_TLS=none", "SMTP_FROM=Office <office@example.com>")
	logs := &testutil.SyncBuffer{}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Signal(os.Interrupt); _ = cmd.Wait() })
	post := func() int {
		req, _ := http.NewRequest("POST", "http://"+addr+"/_cws/events", strings.NewReader(
			`{"specversion":"1.0","id":"M-1","source":"shop","type":"order.completed","datacontenttype":"application/json",`+
				`"data":{"order":"M-1","customer":"ann@example.com","total":1250}}`))
		req.Header.Set("Authorization", serviceToken)
		req.Header.Set("Content-Type", "application/cloudevents+json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	deadline := time.Now().Add(30 * time.Second)
	for post() != 202 {
		if time.Now().After(deadline) {
			t.Fatalf("examples/biz did not start:\n%s", logs)
		}
		time.Sleep(100 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	m, err := mp.Await(ctx, func(m mailpit.Message) bool { return m.Subject == "Invoice 1" })
	if err != nil {
		t.Fatalf("%v\n%s", err, logs)
	}
	if m.From.Address != "office@example.com" || len(m.To) != 1 || m.To[0].Address != "ann@example.com" {
		t.Errorf("addresses: %+v", m)
	}
	text := strings.ReplaceAll(m.Text, "\r\n", "\n")
	if !strings.Contains(text, "INVOICE 1\norder: M-1\ncustomer: ann@example.com\ntotal: 1250.00") || !strings.Contains(text, "Thank you for this large order.") {
		t.Errorf("the text body, from invoice.txt:\n%s", m.Text)
	}
	if !strings.Contains(m.HTML, "<h1>Invoice 1</h1>") || !strings.Contains(m.HTML, "<td>1250.00</td>") || !strings.Contains(m.HTML, "<footer>Office - ann@example.com</footer>") {
		t.Errorf("the HTML body, from invoice.html:\n%s", m.HTML)
	}
	if len(m.Attachments) != 1 || m.Attachments[0].FileName != "invoice-1.html" {
		t.Fatalf("attachments %+v", m.Attachments)
	}
	doc, err := mp.Part(m.ID, m.Attachments[0].PartID)
	if err != nil || !strings.Contains(string(doc), "<h1>Invoice 1</h1>") || strings.TrimSpace(string(doc)) != strings.TrimSpace(strings.ReplaceAll(m.HTML, "\r\n", "\n")) {
		t.Errorf("the attached document (%v):\n%s\nthe HTML body:\n%s", err, doc, m.HTML)
	}
}

// TestTemplatesFromS3: the Templates service reads its templates from an S3
// prefix (with extends across objects), and compiles a template again when
// its object changes.
func TestTemplatesFromS3(t *testing.T) {
	t.Parallel()
	cfg := need(t)
	c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	ctx := ctxFor(t, time.Minute)
	bucket := name(t, "tpl")
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	put := func(key, body string) {
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader(body)}); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		for _, k := range []string{"mail/base.html", "mail/invoice.html"} {
			_, _ = c.DeleteObject(context.Background(), &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(k)})
		}
		_, _ = c.DeleteBucket(context.Background(), &s3.DeleteBucketInput{Bucket: aws.String(bucket)})
	})
	put("mail/base.html", "<b>{% block x %}{% endblock %}</b>")
	put("mail/invoice.html", `{% extends "base.html" %}{% block x %}{{ who }}{% endblock %}`)
	src, err := templates.S3(c, "s3://"+bucket+"/mail")
	if err != nil {
		t.Fatal(err)
	}
	svc := templates.New(src, templates.WithCheckEvery(0))
	out, err := svc.Render(ctx, "invoice.html", map[string]any{"who": "<Ann>"})
	if err != nil || out != "<b>&lt;Ann&gt;</b>" {
		t.Fatalf("from S3: %q %v", out, err)
	}
	put("mail/base.html", "<i>{% block x %}{% endblock %}</i>")
	if out, err := svc.Render(ctx, "invoice.html", map[string]any{"who": "Bo"}); err != nil || out != "<i>Bo</i>" {
		t.Errorf("after the base changed in S3: %q %v", out, err)
	}
	var nf *templates.NotFoundError
	if _, err := svc.Render(ctx, "nope.html", nil); !errors.As(err, &nf) {
		t.Errorf("a missing object: %v", err)
	}
}
