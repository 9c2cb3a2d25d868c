// Package odoo is cws's Odoo service: Odoo's records and reports as
// entries, through Odoo's external API (JSON-RPC: common.authenticate, then
// object.execute_kw on /jsonrpc) and, for a report's PDF, a web session
// (/web/session/authenticate, then /report/pdf/REPORT/ID).
//
// Entries (model names as Odoo spells them: res.partner, sale.order):
//
//	GET    /{model}                 search_read: domain (JSON), fields, order, limit, offset
//	GET    /{model}/{id}            read
//	POST   /{model}                 create: the body holds the values; 201 {"id": …}
//	PUT    /{model}/{id}            write: the body holds the values
//	DELETE /{model}/{id}            unlink: 204
//	GET    /report/{report}/{id}    the PDF of a report (application/pdf)
//
// Odoo's faults are problem+json: an access error 403, a missing record
// 404, a validation or user error 422, any other 502; an Odoo that cannot
// be reached 503.
//
// Configuration (ConfigFromEnv): ODOO_URL, ODOO_DB, ODOO_USER, ODOO_API_KEY
// (the external API's credential), and ODOO_PASSWORD for reports (Odoo
// takes API keys for RPC, not for the web session reports need; without
// it the API key is tried).
package odoo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Environment variables of ConfigFromEnv.
const (
	EnvURL      = "ODOO_URL"
	EnvDB       = "ODOO_DB"
	EnvUser     = "ODOO_USER"
	EnvAPIKey   = "ODOO_API_KEY"
	EnvPassword = "ODOO_PASSWORD"
)

// Config is how to reach an Odoo.
type Config struct {
	URL, DB, User, APIKey, Password string
	// HTTP is the HTTP client (default: one with a 30 s timeout).
	HTTP *http.Client
}

// ConfigFromEnv reads the configuration from the environment.
func ConfigFromEnv() (Config, error) {
	c := Config{URL: os.Getenv(EnvURL), DB: os.Getenv(EnvDB), User: os.Getenv(EnvUser), APIKey: os.Getenv(EnvAPIKey), Password: os.Getenv(EnvPassword)}
	var missing []string
	for name, v := range map[string]string{EnvURL: c.URL, EnvDB: c.DB, EnvUser: c.User, EnvAPIKey: c.APIKey} {
		if v == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return c, fmt.Errorf("odoo: set %s", strings.Join(missing, ", "))
	}
	return c, nil
}

// Fault is an error Odoo answered: its exception's name (e.g.
// odoo.exceptions.AccessError) and message.
type Fault struct {
	Code    int
	Name    string
	Message string
}

func (f *Fault) Error() string { return fmt.Sprintf("odoo: %s: %s", f.Name, f.Message) }

// The exceptions of odoo.exceptions cws tells apart.
const (
	AccessError     = "odoo.exceptions.AccessError"
	AccessDenied    = "odoo.exceptions.AccessDenied"
	MissingError    = "odoo.exceptions.MissingError"
	ValidationError = "odoo.exceptions.ValidationError"
	UserError       = "odoo.exceptions.UserError"
)

// UnreachableError is an Odoo that did not answer.
type UnreachableError struct{ Err error }

func (e *UnreachableError) Error() string { return "odoo: cannot be reached: " + e.Err.Error() }
func (e *UnreachableError) Unwrap() error { return e.Err }

// Client calls Odoo's external API.
type Client struct {
	cfg  Config
	http *http.Client
	ids  atomic.Int64

	mu      sync.Mutex
	uid     int64
	session *http.Client // with the web session's cookie, for reports
}

// NewClient returns a client of cfg's Odoo; it authenticates on first use.
func NewClient(cfg Config) *Client {
	hc := cfg.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	cfg.URL = strings.TrimSuffix(cfg.URL, "/")
	return &Client{cfg: cfg, http: hc}
}

type rpcRequest struct {
	JSONRPC string `json:"jsonrpc"`
	Method  string `json:"method"`
	Params  any    `json:"params"`
	ID      int64  `json:"id"`
}

type rpcResponse struct {
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Data    struct {
			Name    string `json:"name"`
			Message string `json:"message"`
		} `json:"data"`
	} `json:"error"`
}

// call posts a JSON-RPC call to path and decodes its result into out.
func (c *Client) call(ctx context.Context, hc *http.Client, path string, params any, out any) error {
	body, err := json.Marshal(rpcRequest{JSONRPC: "2.0", Method: "call", Params: params, ID: c.ids.Add(1)})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.URL+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return &UnreachableError{Err: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return &UnreachableError{Err: err}
	}
	if resp.StatusCode != http.StatusOK {
		return &Fault{Code: resp.StatusCode, Name: "http", Message: fmt.Sprintf("%s %s answered %s", http.MethodPost, path, resp.Status)}
	}
	var r rpcResponse
	if err := json.Unmarshal(data, &r); err != nil {
		return &Fault{Name: "protocol", Message: fmt.Sprintf("not a JSON-RPC answer: %v", err)}
	}
	if r.Error != nil {
		f := &Fault{Code: r.Error.Code, Name: r.Error.Data.Name, Message: r.Error.Data.Message}
		if f.Message == "" {
			f.Message = r.Error.Message
		}
		return f
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(r.Result, out)
}

// login authenticates once: the user's id.
func (c *Client) login(ctx context.Context) (int64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.uid != 0 {
		return c.uid, nil
	}
	var uid any
	err := c.call(ctx, c.http, "/jsonrpc", map[string]any{"service": "common", "method": "authenticate",
		"args": []any{c.cfg.DB, c.cfg.User, c.cfg.APIKey, map[string]any{}}}, &uid)
	if err != nil {
		return 0, err
	}
	n, ok := uid.(float64)
	if !ok || n <= 0 {
		return 0, &Fault{Name: AccessDenied, Message: fmt.Sprintf("Odoo refused the login of %s to database %s", c.cfg.User, c.cfg.DB)}
	}
	c.uid = int64(n)
	return c.uid, nil
}

// ExecuteKW calls a model's method (execute_kw) and decodes its result
// into out.
func (c *Client) ExecuteKW(ctx context.Context, model, method string, args []any, kwargs map[string]any, out any) error {
	uid, err := c.login(ctx)
	if err != nil {
		return err
	}
	if args == nil {
		args = []any{}
	}
	if kwargs == nil {
		kwargs = map[string]any{}
	}
	return c.call(ctx, c.http, "/jsonrpc", map[string]any{"service": "object", "method": "execute_kw",
		"args": []any{c.cfg.DB, uid, c.cfg.APIKey, model, method, args, kwargs}}, out)
}

// Report returns the PDF of a report of a record, through a web session.
func (c *Client) Report(ctx context.Context, report string, id int64) ([]byte, error) {
	hc, err := c.webSession(ctx)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s/report/pdf/%s/%d", c.cfg.URL, url.PathEscape(report), id), nil)
	if err != nil {
		return nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, &UnreachableError{Err: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return nil, &UnreachableError{Err: err}
	}
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return nil, &Fault{Code: 404, Name: MissingError, Message: fmt.Sprintf("no report %s of record %d", report, id)}
	case resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusUnauthorized:
		return nil, &Fault{Code: resp.StatusCode, Name: AccessError, Message: fmt.Sprintf("the report %s of record %d is not allowed", report, id)}
	case resp.StatusCode != http.StatusOK:
		return nil, &Fault{Code: resp.StatusCode, Name: "http", Message: fmt.Sprintf("the report %s answered %s", report, resp.Status)}
	case !bytes.HasPrefix(data, []byte("%PDF-")):
		return nil, &Fault{Name: "report", Message: fmt.Sprintf("the report %s of record %d is not a PDF (%s)", report, id, resp.Header.Get("Content-Type"))}
	}
	return data, nil
}

// webSession returns an HTTP client holding a web session's cookie.
func (c *Client) webSession(ctx context.Context) (*http.Client, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.session != nil {
		return c.session, nil
	}
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Timeout: c.http.Timeout, Transport: c.http.Transport, Jar: jar}
	password := c.cfg.Password
	if password == "" {
		password = c.cfg.APIKey
	}
	var info struct {
		UID any `json:"uid"`
	}
	if err := c.call(ctx, hc, "/web/session/authenticate", map[string]any{"db": c.cfg.DB, "login": c.cfg.User, "password": password}, &info); err != nil {
		var f *Fault
		if errors.As(err, &f) && f.Name == AccessDenied {
			f.Message += " (reports need a web session: set " + EnvPassword + ")"
		}
		return nil, err
	}
	c.session = hc
	return hc, nil
}
