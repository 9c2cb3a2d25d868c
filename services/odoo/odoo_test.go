package odoo_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/coworks-go/cws/internal/servetest"
	"github.com/coworks-go/cws/internal/testutil"
	"github.com/coworks-go/cws/services/odoo"
	"github.com/coworks-go/cws/services/odoo/odootest"
)

func newOdoo() *odootest.Server {
	srv := odootest.New(map[string]*odootest.Model{
		"res.partner": {Required: []string{"name"}, Records: map[int64]map[string]any{
			1: {"name": "Acme", "is_company": true, "email": "info@acme.example"},
			2: {"name": "Ann", "is_company": false, "email": "ann@acme.example"},
			3: {"name": "Bolt", "is_company": true, "email": "hi@bolt.example"},
		}},
		"res.users": {ReadOnly: true, Records: map[int64]map[string]any{2: {"login": "admin"}}},
	})
	srv.Reports["sale.report_saleorder"] = "res.partner"
	return srv
}

// serve mounts the service under /odoo, over HTTP.
func serve(t *testing.T, svc *odoo.Service) func(method, path, body string) (int, string, []byte) {
	t.Helper()
	return servetest.Blueprint(t, "/odoo", svc)
}

func config(srv *odootest.Server) odoo.Config {
	return odoo.Config{URL: srv.URL, DB: srv.DB, User: srv.User, APIKey: srv.APIKey, Password: srv.Password}
}

// TestRecords: the entries call the real client against a server speaking
// Odoo's protocol: search_read with domain, fields, order, limit and offset;
// read; create; write; unlink; and Odoo's faults as problem+json.
func TestRecords(t *testing.T) {
	srv := newOdoo()
	defer srv.Close()
	do := serve(t, odoo.New(odoo.NewClient(config(srv))))

	q := url.Values{"domain": {`[["is_company","=",true]]`}, "fields": {"name,email"}, "order": {"name desc"}}
	status, ct, body := do("GET", "/odoo/res.partner?"+q.Encode(), "")
	if status != 200 || ct != "application/json" || string(body) != `[{"email":"hi@bolt.example","id":3,"name":"Bolt"},{"email":"info@acme.example","id":1,"name":"Acme"}]` {
		t.Errorf("search_read: %d %s %s", status, ct, body)
	}
	if status, _, body := do("GET", "/odoo/res.partner?limit=1&offset=1&fields=name", ""); status != 200 || string(body) != `[{"id":2,"name":"Ann"}]` {
		t.Errorf("limit and offset: %d %s", status, body)
	}
	if status, _, body := do("GET", "/odoo/res.partner/2?fields=email", ""); status != 200 || string(body) != `{"email":"ann@acme.example","id":2}` {
		t.Errorf("read: %d %s", status, body)
	}
	status, _, body = do("POST", "/odoo/res.partner", `{"name":"Cy","email":"cy@example.com"}`)
	if status != 201 || string(body) != `{"id":4}` {
		t.Errorf("create: %d %s", status, body)
	}
	if status, _, body := do("PUT", "/odoo/res.partner/4", `{"email":"cy@new.example"}`); status != 200 || !strings.Contains(string(body), `"email":"cy@new.example"`) {
		t.Errorf("write: %d %s", status, body)
	}
	if status, _, body := do("DELETE", "/odoo/res.partner/4", ""); status != 204 {
		t.Errorf("unlink: %d %s", status, body)
	}
	for _, c := range []struct {
		method, path, body string
		want               int
		says               string
	}{
		{"GET", "/odoo/res.partner/4", "", 404, "Record does not exist or has been deleted"},
		{"PUT", "/odoo/res.partner/99", `{"name":"x"}`, 404, "Record does not exist"},
		{"POST", "/odoo/res.partner", `{"email":"nameless@example.com"}`, 422, "The field 'name' is required"},
		{"PUT", "/odoo/res.users/2", `{"login":"root"}`, 403, "You are not allowed to modify 'res.users'"},
		{"GET", "/odoo/res.partner?domain=not-json", "", 422, "domain: not a JSON list"},
		{"GET", "/odoo/Not_A_Model", "", 422, "not an Odoo model name"},
		{"GET", `/odoo/res.partner?domain=[["name","~~","x"]]`, "", 502, "Invalid operator"},
		{"GET", "/odoo/sale.order", "", 502, "builtins.KeyError"},
	} {
		status, ct, body := do(c.method, strings.ReplaceAll(c.path, `"`, "%22"), c.body)
		if status != c.want || ct != "application/problem+json" || !strings.Contains(string(body), c.says) {
			t.Errorf("%s %s: %d %s %s, want %d saying %q", c.method, c.path, status, ct, body, c.want, c.says)
		}
	}
	if srv.Calls["res.partner.search_read"] != 3 {
		t.Errorf("calls %v", srv.Calls)
	}
}

// TestReport: the PDF of a report through a web session, as a binary
// answer; without the web password, the API key is refused (Odoo takes API
// keys for RPC only) with the reason.
func TestReport(t *testing.T) {
	srv := newOdoo()
	defer srv.Close()
	do := serve(t, odoo.New(odoo.NewClient(config(srv))))
	status, ct, body := do("GET", "/odoo/report/sale.report_saleorder/1", "")
	if status != 200 || ct != "application/pdf" || !bytes.Equal(body, odootest.PDF("sale.report_saleorder", 1)) {
		t.Errorf("a report: %d %s %q", status, ct, body)
	}
	if status, _, body := do("GET", "/odoo/report/sale.report_saleorder/42", ""); status != 404 {
		t.Errorf("the report of a missing record: %d %s", status, body)
	}
	cfg := config(srv)
	cfg.Password = ""
	do = serve(t, odoo.New(odoo.NewClient(cfg)))
	if status, _, body := do("GET", "/odoo/report/sale.report_saleorder/1", ""); status != 403 || !strings.Contains(string(body), "ODOO_PASSWORD") {
		t.Errorf("a report without the web password: %d %s", status, body)
	}
}

// TestCredentialsAndReach: a wrong API key is refused at login; an Odoo
// that cannot be reached is 503.
func TestCredentialsAndReach(t *testing.T) {
	srv := newOdoo()
	cfg := config(srv)
	cfg.APIKey = testutil.WrongToken
	var f *odoo.Fault
	err := odoo.NewClient(cfg).ExecuteKW(context.Background(), "res.partner", "search_read", []any{[]any{}}, nil, nil)
	if !errors.As(err, &f) || f.Name != odoo.AccessDenied {
		t.Errorf("a wrong API key: %v", err)
	}
	srv.Close()
	do := serve(t, odoo.New(odoo.NewClient(config(srv))))
	if status, _, body := do("GET", "/odoo/res.partner", ""); status != 503 || !strings.Contains(string(body), "cannot be reached") {
		t.Errorf("an Odoo that is down: %d %s", status, body)
	}
}

// TestProtocol: what the client sends is Odoo's JSON-RPC: a "call" of the
// object service's execute_kw with the database, the user's id, the API
// key, the model, the method, its arguments and keywords.
func TestProtocol(t *testing.T) {
	var got []map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req map[string]any
		_ = json.NewDecoder(r.Body).Decode(&req)
		got = append(got, req)
		result := any(7)
		if req["params"].(map[string]any)["method"] == "execute_kw" {
			result = []any{}
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"jsonrpc": "2.0", "id": req["id"], "result": result})
	}))
	defer srv.Close()
	c := odoo.NewClient(odoo.Config{URL: srv.URL, DB: "db", User: "u", APIKey: testutil.Token})
	var out []any
	if err := c.ExecuteKW(context.Background(), "res.partner", "search_read", []any{[]any{}}, map[string]any{"limit": 5}, &out); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(got)
	want := `[{"id":1,"jsonrpc":"2.0","method":"call","params":{"args":["db","u","` + testutil.Token + `",{}],"method":"authenticate","service":"common"}},` +
		`{"id":2,"jsonrpc":"2.0","method":"call","params":{"args":["db",7,"` + testutil.Token + `","res.partner","search_read",[[]],{"limit":5}],"method":"execute_kw","service":"object"}}]`
	if string(b) != want {
		t.Errorf("sent\n%s\nwant\n%s", b, want)
	}
}
