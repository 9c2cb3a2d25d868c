package mail_test

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/coworks-go/cws/services/mail"
	"github.com/coworks-go/cws/services/templates"
)

// TestTemplateStatuses: a template the mail names that does not exist is a
// 404, as POST /templates/render/{name} answers it; one that does not
// compile is the mail's mistake, a 422.
func TestTemplateStatuses(t *testing.T) {
	tpl := templates.New(templates.FS(fstest.MapFS{
		"hi.txt":  {Data: []byte("hi {{ name }}")},
		"bad.txt": {Data: []byte("{% if %}")},
	}))
	do := serve(t, newService(t, mail.Config{From: "office@example.com"}, mail.WithTemplates(tpl)))
	for _, c := range []struct {
		template string
		want     int
		says     string
	}{
		{`{"text":"hi.txt","context":{"name":"Ann"}}`, 200, `"recipients":["ann@example.com"]`},
		{`{"text":"nonesuch.txt"}`, 404, "template.text: no template nonesuch.txt"},
		{`{"html":"nonesuch.html"}`, 404, "template.html: no template nonesuch.html"},
		{`{"text":"bad.txt"}`, 422, "template.text"},
	} {
		status, body := do(`{"to":["ann@example.com"],"template":` + c.template + `}`)
		if status != c.want || !strings.Contains(body, c.says) {
			t.Errorf("%s: %d %s, want %d saying %q", c.template, status, body, c.want, c.says)
		}
	}
}
