package odoo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/coworks-go/cws/runtime"
)

// Service exposes an Odoo's records and reports as entries.
type Service struct {
	client *Client
}

// New returns the service of a client.
func New(c *Client) *Service { return &Service{client: c} }

// FromEnv returns the service of the Odoo the environment names.
func FromEnv() (*Service, error) {
	cfg, err := ConfigFromEnv()
	if err != nil {
		return nil, err
	}
	return New(NewClient(cfg)), nil
}

// ConfigureEntries declares the report's content type.
func (s *Service) ConfigureEntries(c *runtime.EntryConfig) {
	c.Entry((*Service).GetReport__, runtime.ContentType("application/pdf"))
}

// modelName is what Odoo's model names are.
var modelName = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$`)

func checkModel(model string) error {
	if !modelName.MatchString(model) {
		return runtime.Unprocessable("model %q is not an Odoo model name (res.partner, sale.order)", model)
	}
	return nil
}

// problem makes a client error a problem+json answer.
func problem(err error) error {
	var f *Fault
	var u *UnreachableError
	switch {
	case errors.As(err, &u):
		return runtime.NewProblem(http.StatusServiceUnavailable, "%v", u)
	case !errors.As(err, &f):
		return runtime.NewProblem(http.StatusBadGateway, "odoo: %v", err)
	}
	switch f.Name {
	case AccessError, AccessDenied:
		return runtime.NewProblem(http.StatusForbidden, "%s", f.Message)
	case MissingError:
		return runtime.NotFound("%s", f.Message)
	case ValidationError, UserError:
		return runtime.Unprocessable("%s", f.Message)
	}
	return runtime.NewProblem(http.StatusBadGateway, "%v", f)
}

// Query is the query of GET /{model}.
type Query struct {
	// Domain is an Odoo domain, in JSON: [["is_company", "=", true]].
	Domain string `json:"domain"`
	// Fields are the fields to read (all when none); repeat the key or
	// separate them with commas.
	Fields []string `json:"fields"`
	// Order is an Odoo order: "name asc, id desc".
	Order  string `json:"order"`
	Limit  int    `json:"limit"`
	Offset int    `json:"offset"`
}

// fields splits comma-separated fields.
func fields(list []string) []string {
	var out []string
	for _, f := range list {
		for _, p := range strings.Split(f, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// Get_ is GET /{model}: the records the domain selects (search_read).
func (s *Service) Get_(ctx context.Context, model string, q Query) ([]map[string]any, error) {
	if err := checkModel(model); err != nil {
		return nil, err
	}
	domain := []any{}
	if q.Domain != "" {
		if err := json.Unmarshal([]byte(q.Domain), &domain); err != nil {
			return nil, runtime.Unprocessable("domain: not a JSON list of conditions: %v", err)
		}
	}
	if q.Limit < 0 || q.Offset < 0 {
		return nil, runtime.Unprocessable("limit and offset are not negative")
	}
	kw := map[string]any{}
	if f := fields(q.Fields); len(f) > 0 {
		kw["fields"] = f
	}
	if q.Order != "" {
		kw["order"] = q.Order
	}
	if q.Limit > 0 {
		kw["limit"] = q.Limit
	}
	if q.Offset > 0 {
		kw["offset"] = q.Offset
	}
	var out []map[string]any
	if err := s.client.ExecuteKW(ctx, model, "search_read", []any{domain}, kw, &out); err != nil {
		return nil, problem(err)
	}
	if out == nil {
		out = []map[string]any{}
	}
	return out, nil
}

// Fields is the query of GET /{model}/{id}.
type Fields struct {
	Fields []string `json:"fields"`
}

// Get__ is GET /{model}/{id}: one record (read).
func (s *Service) Get__(ctx context.Context, model string, id int64, q Fields) (map[string]any, error) {
	if err := checkModel(model); err != nil {
		return nil, err
	}
	kw := map[string]any{}
	if f := fields(q.Fields); len(f) > 0 {
		kw["fields"] = f
	}
	var out []map[string]any
	if err := s.client.ExecuteKW(ctx, model, "read", []any{[]int64{id}}, kw, &out); err != nil {
		return nil, problem(err)
	}
	if len(out) == 0 {
		return nil, runtime.NotFound("no %s %d", model, id)
	}
	return out[0], nil
}

// Created is the answer of POST /{model}.
type Created struct {
	ID int64 `json:"id"`
}

// Post_ is POST /{model}: creates a record of the body's values.
func (s *Service) Post_(ctx context.Context, model string, values map[string]any) (Created, error) {
	if err := checkModel(model); err != nil {
		return Created{}, err
	}
	var id int64
	if err := s.client.ExecuteKW(ctx, model, "create", []any{values}, nil, &id); err != nil {
		return Created{}, problem(err)
	}
	runtime.SetStatus(ctx, http.StatusCreated)
	runtime.ResponseHeader(ctx).Set("Location", fmt.Sprintf("%d", id))
	return Created{ID: id}, nil
}

// Put__ is PUT /{model}/{id}: writes the body's values, then answers the
// record.
func (s *Service) Put__(ctx context.Context, model string, id int64, values map[string]any) (map[string]any, error) {
	if err := checkModel(model); err != nil {
		return nil, err
	}
	var ok bool
	if err := s.client.ExecuteKW(ctx, model, "write", []any{[]int64{id}, values}, nil, &ok); err != nil {
		return nil, problem(err)
	}
	return s.Get__(ctx, model, id, Fields{})
}

// Delete__ is DELETE /{model}/{id}: unlinks the record.
func (s *Service) Delete__(ctx context.Context, model string, id int64) error {
	if err := checkModel(model); err != nil {
		return err
	}
	var ok bool
	if err := s.client.ExecuteKW(ctx, model, "unlink", []any{[]int64{id}}, nil, &ok); err != nil {
		return problem(err)
	}
	return nil
}

// GetReport__ is GET /report/{report}/{id}: the PDF of a report of a
// record.
func (s *Service) GetReport__(ctx context.Context, report string, id int64) ([]byte, error) {
	if err := checkModel(report); err != nil {
		return nil, runtime.Unprocessable("report %q is not a report's name (sale.report_saleorder)", report)
	}
	pdf, err := s.client.Report(ctx, report, id)
	if err != nil {
		return nil, problem(err)
	}
	return pdf, nil
}
