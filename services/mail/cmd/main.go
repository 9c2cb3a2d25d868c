// Command mail runs cws's Mail service standalone: POST /send and GET
// /outbox (see package mail), configured by SMTP_HOST, SMTP_PORT,
// SMTP_USERNAME, SMTP_PASSWORD, SMTP_TLS, SMTP_FROM…; with TEMPLATES_DIR or
// TEMPLATES_S3_URI, mails take their bodies from those templates.
//
//	SMTP_HOST=127.0.0.1 SMTP_PORT=1025 SMTP_TLS=none cws run ./services/mail/cmd
package main

//go:generate go run github.com/coworks-go/cws/cmd/cws gen

import (
	"context"
	"fmt"
	"os"

	"github.com/coworks-go/cws"
	"github.com/coworks-go/cws/services/mail"
	"github.com/coworks-go/cws/services/templates"
)

func main() {
	var svc *mail.Service
	svc, err := service()
	if err != nil {
		fmt.Fprintln(os.Stderr, "mail:", err)
		os.Exit(1)
	}
	cws.Main(svc)
}

func service() (*mail.Service, error) {
	cfg, err := mail.ConfigFromEnv()
	if err != nil {
		return nil, err
	}
	var opts []mail.Option
	if os.Getenv(templates.EnvDir) != "" || os.Getenv(templates.EnvS3URI) != "" {
		tpl, err := templates.FromEnv(context.Background())
		if err != nil {
			return nil, err
		}
		opts = append(opts, mail.WithTemplates(tpl))
	}
	return mail.New(cfg, opts...)
}
