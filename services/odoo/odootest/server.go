// Package odootest is an HTTP server that speaks Odoo's external API, for
// tests of Odoo clients: no Odoo could be installed where cws is built (it
// is in neither PyPI nor Debian), so this double is built strictly from
// Odoo's documentation of that API (developer/reference/external_api:
// JSON-RPC 2.0 "call" on /jsonrpc with the common service's authenticate
// and the object service's execute_kw; the ORM's search_read, read,
// create, write and unlink, their domains, fields, order, limit and offset),
// from the JSON-RPC error body Odoo's HTTP layer writes (code 200, message
// "Odoo Server Error", data with the exception's qualified name and
// message), and from the web session's /web/session/authenticate and the
// report controller's /report/pdf/REPORT/IDS.
//
// Its models hold records in memory. It refuses what Odoo refuses: a wrong
// credential (AccessDenied), a model the user may not write
// (AccessError), a missing record (MissingError), a create without a
// required field (ValidationError).
package odootest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Model is a model of the server: its required fields, whether the user may
// write it, its records by id.
type Model struct {
	Required []string
	ReadOnly bool
	Records  map[int64]map[string]any
	next     int64
}

// Server is an Odoo external API double.
type Server struct {
	*httptest.Server
	DB, User, APIKey, Password string
	UID                        int64
	// Reports maps report names to the model they print.
	Reports map[string]string

	mu     sync.Mutex
	models map[string]*Model
	// Calls counts the execute_kw calls by "model.method".
	Calls map[string]int
}

// New starts a server with a database, a user with an API key and a
// password, and the models given.
func New(models map[string]*Model) *Server {
	s := &Server{DB: "cws", User: "admin", APIKey: "api-key-1", Password: "web-password", UID: 2,
		Reports: map[string]string{}, models: models, Calls: map[string]int{}}
	for _, m := range models {
		if m.Records == nil {
			m.Records = map[int64]map[string]any{}
		}
		for id := range m.Records {
			m.next = max(m.next, id)
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /jsonrpc", s.jsonrpc)
	mux.HandleFunc("POST /web/session/authenticate", s.sessionAuthenticate)
	mux.HandleFunc("GET /report/pdf/{report}/{ids}", s.report)
	s.Server = httptest.NewServer(mux)
	return s
}

type request struct {
	JSONRPC string `json:"jsonrpc"`
	Method  string `json:"method"`
	Params  struct {
		Service string `json:"service"`
		Method  string `json:"method"`
		Args    []any  `json:"args"`
		// /web/session/authenticate's
		DB       string `json:"db"`
		Login    string `json:"login"`
		Password string `json:"password"`
	} `json:"params"`
	ID any `json:"id"`
}

// fault is an Odoo exception, as the JSON-RPC error's data.
type fault struct{ name, message string }

func write(w http.ResponseWriter, id any, result any, f *fault) {
	w.Header().Set("Content-Type", "application/json")
	body := map[string]any{"jsonrpc": "2.0", "id": id}
	if f != nil {
		body["error"] = map[string]any{"code": 200, "message": "Odoo Server Error", "data": map[string]any{
			"name": f.name, "debug": "Traceback (most recent call last):\n  ...\n" + f.name + ": " + f.message,
			"message": f.message, "arguments": []any{f.message}, "context": map[string]any{}}}
	} else {
		body["result"] = result
	}
	_ = json.NewEncoder(w).Encode(body)
}

func (s *Server) jsonrpc(w http.ResponseWriter, r *http.Request) {
	var req request
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.JSONRPC != "2.0" || req.Method != "call" {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	p := req.Params
	switch {
	case p.Service == "common" && p.Method == "authenticate" && len(p.Args) == 4:
		if p.Args[0] == s.DB && p.Args[1] == s.User && p.Args[2] == s.APIKey {
			write(w, req.ID, s.UID, nil)
		} else {
			write(w, req.ID, false, nil) // Odoo answers false, not a fault
		}
	case p.Service == "object" && p.Method == "execute_kw" && len(p.Args) >= 5:
		result, f := s.executeKW(p.Args)
		write(w, req.ID, result, f)
	default:
		write(w, req.ID, nil, &fault{"werkzeug.exceptions.NotFound", fmt.Sprintf("no method %s of service %s", p.Method, p.Service)})
	}
}

func (s *Server) executeKW(args []any) (any, *fault) {
	uid, _ := args[1].(float64)
	if args[0] != s.DB || int64(uid) != s.UID || args[2] != s.APIKey {
		return nil, &fault{"odoo.exceptions.AccessDenied", "Access Denied"}
	}
	model, _ := args[3].(string)
	method, _ := args[4].(string)
	var pos []any
	kw := map[string]any{}
	if len(args) > 5 {
		pos, _ = args[5].([]any)
	}
	if len(args) > 6 {
		if m, ok := args[6].(map[string]any); ok {
			kw = m
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Calls[model+"."+method]++
	m, ok := s.models[model]
	if !ok {
		return nil, &fault{"builtins.KeyError", model}
	}
	switch method {
	case "search_read":
		var domain []any
		if len(pos) > 0 {
			domain, _ = pos[0].([]any)
		}
		if d, ok := kw["domain"].([]any); ok {
			domain = d
		}
		return m.searchRead(domain, kw)
	case "read":
		ids, f := idsOf(pos)
		if f != nil {
			return nil, f
		}
		var out []any
		for _, id := range ids {
			rec, ok := m.Records[id]
			if !ok {
				return nil, &fault{"odoo.exceptions.MissingError", fmt.Sprintf("Record does not exist or has been deleted.\n(Record: %s(%d,), User: %d)", model, id, s.UID)}
			}
			out = append(out, project(id, rec, kw["fields"]))
		}
		return out, nil
	case "create":
		if m.ReadOnly {
			return nil, &fault{"odoo.exceptions.AccessError", fmt.Sprintf("You are not allowed to create '%s' (%s) records.", model, model)}
		}
		vals, _ := firstMap(pos)
		for _, f := range m.Required {
			if v, ok := vals[f]; !ok || v == nil || v == "" || v == false {
				return nil, &fault{"odoo.exceptions.ValidationError", fmt.Sprintf("The field '%s' is required.", f)}
			}
		}
		m.next++
		m.Records[m.next] = vals
		return m.next, nil
	case "write", "unlink":
		if m.ReadOnly {
			return nil, &fault{"odoo.exceptions.AccessError", fmt.Sprintf("You are not allowed to modify '%s' (%s) records.", model, model)}
		}
		ids, f := idsOf(pos)
		if f != nil {
			return nil, f
		}
		for _, id := range ids {
			if _, ok := m.Records[id]; !ok {
				return nil, &fault{"odoo.exceptions.MissingError", fmt.Sprintf("Record does not exist or has been deleted.\n(Record: %s(%d,), User: %d)", model, id, s.UID)}
			}
		}
		for _, id := range ids {
			if method == "unlink" {
				delete(m.Records, id)
				continue
			}
			vals := map[string]any{}
			if len(pos) > 1 {
				vals, _ = pos[1].(map[string]any)
			}
			for k, v := range vals {
				m.Records[id][k] = v
			}
		}
		return true, nil
	}
	return nil, &fault{"builtins.AttributeError", fmt.Sprintf("The method '%s.%s' does not exist", model, method)}
}

func firstMap(pos []any) (map[string]any, bool) {
	if len(pos) == 0 {
		return map[string]any{}, false
	}
	m, ok := pos[0].(map[string]any)
	return m, ok
}

func idsOf(pos []any) ([]int64, *fault) {
	if len(pos) == 0 {
		return nil, &fault{"builtins.TypeError", "missing the record ids"}
	}
	var ids []int64
	switch v := pos[0].(type) {
	case []any:
		for _, e := range v {
			f, _ := e.(float64)
			ids = append(ids, int64(f))
		}
	case float64:
		ids = []int64{int64(v)}
	}
	return ids, nil
}

// project is a record with the fields asked (all without), and its id.
func project(id int64, rec map[string]any, fields any) map[string]any {
	out := map[string]any{"id": id}
	list, _ := fields.([]any)
	if len(list) == 0 {
		for k, v := range rec {
			out[k] = v
		}
		return out
	}
	for _, f := range list {
		name, _ := f.(string)
		if v, ok := rec[name]; ok {
			out[name] = v
		} else if name != "id" {
			out[name] = false // Odoo's empty value
		}
	}
	return out
}

func (m *Model) searchRead(domain []any, kw map[string]any) (any, *fault) {
	ids := make([]int64, 0, len(m.Records))
	for id, rec := range m.Records {
		ok, f := matches(id, rec, domain)
		if f != nil {
			return nil, f
		}
		if ok {
			ids = append(ids, id)
		}
	}
	order, _ := kw["order"].(string)
	field, desc := "id", false
	if order != "" {
		parts := strings.Fields(strings.Split(order, ",")[0])
		field, desc = parts[0], len(parts) > 1 && strings.EqualFold(parts[1], "desc")
	}
	sort.Slice(ids, func(i, j int) bool {
		a, b := value(ids[i], m.Records[ids[i]], field), value(ids[j], m.Records[ids[j]], field)
		less := fmt.Sprint(a) < fmt.Sprint(b)
		if fa, ok := a.(float64); ok {
			if fb, ok := b.(float64); ok {
				less = fa < fb
			}
		}
		if ia, ok := a.(int64); ok {
			if ib, ok := b.(int64); ok {
				less = ia < ib
			}
		}
		if desc {
			return !less && fmt.Sprint(a) != fmt.Sprint(b)
		}
		return less
	})
	if off, ok := kw["offset"].(float64); ok {
		ids = ids[min(int(off), len(ids)):]
	}
	if lim, ok := kw["limit"].(float64); ok && int(lim) < len(ids) {
		ids = ids[:int(lim)]
	}
	out := []any{}
	for _, id := range ids {
		out = append(out, project(id, m.Records[id], kw["fields"]))
	}
	return out, nil
}

func value(id int64, rec map[string]any, field string) any {
	if field == "id" {
		return id
	}
	return rec[field]
}

// matches evaluates a domain: conditions [field, operator, value] ANDed
// (Odoo's default), with the operators =, !=, <, <=, >, >=, in, not in,
// like, ilike.
func matches(id int64, rec map[string]any, domain []any) (bool, *fault) {
	for _, c := range domain {
		cond, ok := c.([]any)
		if !ok {
			if op, isOp := c.(string); isOp && op == "&" {
				continue // AND is the default
			}
			return false, &fault{"builtins.ValueError", fmt.Sprintf("Invalid leaf %v", c)}
		}
		if len(cond) != 3 {
			return false, &fault{"builtins.ValueError", fmt.Sprintf("Invalid leaf %v", c)}
		}
		field, _ := cond[0].(string)
		op, _ := cond[1].(string)
		v := value(id, rec, field)
		if n, isInt := v.(int64); isInt {
			v = float64(n)
		}
		want := cond[2]
		var hit bool
		switch op {
		case "=":
			hit = fmt.Sprint(v) == fmt.Sprint(want)
		case "!=":
			hit = fmt.Sprint(v) != fmt.Sprint(want)
		case "<", "<=", ">", ">=":
			a, okA := v.(float64)
			b, okB := want.(float64)
			if !okA || !okB {
				return false, &fault{"builtins.TypeError", fmt.Sprintf("cannot compare %v %s %v", v, op, want)}
			}
			hit = map[string]bool{"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]
		case "in", "not in":
			list, _ := want.([]any)
			for _, e := range list {
				if fmt.Sprint(e) == fmt.Sprint(v) {
					hit = true
				}
			}
			if op == "not in" {
				hit = !hit
			}
		case "like":
			hit = strings.Contains(fmt.Sprint(v), fmt.Sprint(want))
		case "ilike":
			hit = strings.Contains(strings.ToLower(fmt.Sprint(v)), strings.ToLower(fmt.Sprint(want)))
		default:
			return false, &fault{"builtins.ValueError", fmt.Sprintf("Invalid operator %q", op)}
		}
		if !hit {
			return false, nil
		}
	}
	return true, nil
}

func (s *Server) sessionAuthenticate(w http.ResponseWriter, r *http.Request) {
	var req request
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	p := req.Params
	if p.DB != s.DB || p.Login != s.User || p.Password != s.Password {
		write(w, req.ID, nil, &fault{"odoo.exceptions.AccessDenied", "Access Denied"})
		return
	}
	http.SetCookie(w, &http.Cookie{Name: "session_id", Value: "session-" + strconv.FormatInt(s.UID, 10), Path: "/"})
	write(w, req.ID, map[string]any{"uid": s.UID, "db": s.DB, "username": s.User}, nil)
}

// PDF is the document the report controller answers for a record.
func PDF(report string, id int64) []byte {
	return []byte(fmt.Sprintf("%%PDF-1.4\n%% report %s of record %d\n1 0 obj << /Type /Catalog >> endobj\n%%%%EOF\n", report, id))
}

func (s *Server) report(w http.ResponseWriter, r *http.Request) {
	c, err := r.Cookie("session_id")
	if err != nil || c.Value != "session-"+strconv.FormatInt(s.UID, 10) {
		http.Redirect(w, r, "/web/login", http.StatusSeeOther)
		return
	}
	report := r.PathValue("report")
	model, ok := s.Reports[report]
	id, err := strconv.ParseInt(r.PathValue("ids"), 10, 64)
	exists := false
	s.mu.Lock()
	if m, found := s.models[model]; ok && found {
		_, exists = m.Records[id]
	}
	s.mu.Unlock()
	if err != nil || !exists {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/pdf")
	_, _ = w.Write(PDF(report, id))
}
