package runtime

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// CORS is a cross-origin resource sharing policy: which web pages of other
// origins may call the entries from a browser. Give it to a whole service
// (WithCORS) or to an entry (EntryCORS, NoCORS). Every door applies it, as
// it runs through the one dispatch path: the local server, API Gateway REST
// and HTTP API events, Function URLs.
//
// A preflight (OPTIONS with Origin and Access-Control-Request-Method) of an
// allowed origin and method answers 204 with the Access-Control-Allow-*
// headers, without the authorizer (browsers send no credentials then); an
// actual request of an allowed origin gets Access-Control-Allow-Origin (and
// Expose-Headers, Allow-Credentials) on every answer, errors included; the
// service's policy answers the requests no entry serves (404, 405). A
// disallowed origin gets no CORS header: the browser refuses the answer.
type CORS struct {
	// AllowOrigins are the origins allowed: exact (https://app.example.com),
	// with a wildcard subdomain (https://*.example.com), or "*" for any.
	AllowOrigins []string
	// AllowMethods are the methods a preflight allows (default: the
	// methods the path serves).
	AllowMethods []string
	// AllowHeaders are the request headers a preflight allows (default:
	// Authorization, Content-Type).
	AllowHeaders []string
	// ExposeHeaders are the answer's headers scripts may read (e.g.
	// Location).
	ExposeHeaders []string
	// AllowCredentials lets requests carry cookies and credentials; it
	// needs explicit origins.
	AllowCredentials bool
	// MaxAge is how long a browser keeps a preflight's answer (0: its
	// default).
	MaxAge time.Duration
}

// DefaultCORSHeaders are the request headers a policy allows without
// AllowHeaders.
var DefaultCORSHeaders = []string{"Authorization", "Content-Type"}

// WithCORS sets the CORS policy of the service's entries (an entry's own,
// EntryCORS or NoCORS, replaces it).
func WithCORS(c CORS) Option {
	return optionFunc(func(o *options) { o.cors = &c })
}

// EntryCORS gives an entry a CORS policy of its own.
func EntryCORS(c CORS) EntryOption { return func(o *entryOptions) { o.cors, o.noCORS = &c, false } }

// NoCORS keeps an entry out of the service's CORS policy: it answers no
// CORS header.
func NoCORS() EntryOption { return func(o *entryOptions) { o.cors, o.noCORS = nil, true } }

func (c *CORS) check() error {
	if len(c.AllowOrigins) == 0 {
		return errors.New("CORS: AllowOrigins is empty")
	}
	for _, o := range c.AllowOrigins {
		if o == "*" {
			if c.AllowCredentials {
				return errors.New("CORS: credentials need explicit origins, not *")
			}
			continue
		}
		u, err := url.Parse(strings.Replace(o, "://*.", "://wildcard.", 1))
		if err != nil || u.Scheme != "http" && u.Scheme != "https" || u.Host == "" || u.Path != "" || u.RawQuery != "" ||
			u.Fragment != "" || u.User != nil || strings.Contains(u.Host, "*") || strings.HasSuffix(o, "/") {
			// A browser's Origin is scheme://host[:port]: a path or a
			// slash would never match.
			return errors.New("CORS: origin " + strconv.Quote(o) + " is not scheme://host[:port], scheme://*.domain or *")
		}
	}
	return nil
}

// allows reports whether an origin is allowed.
func (c *CORS) allows(origin string) bool {
	if origin == "" {
		return false
	}
	origin = strings.ToLower(origin)
	for _, o := range c.AllowOrigins {
		o = strings.ToLower(o)
		switch {
		case o == "*", o == origin:
			return true
		case strings.Contains(o, "://*."):
			scheme, domain, _ := strings.Cut(o, "://*.")
			rest, ok := strings.CutPrefix(origin, scheme+"://")
			if ok && strings.HasSuffix(rest, "."+domain) && len(rest) > len(domain)+1 {
				return true
			}
		}
	}
	return false
}

// anyOrigin reports whether the answer may say "*".
func (c *CORS) anyOrigin() bool {
	return !c.AllowCredentials && len(c.AllowOrigins) == 1 && c.AllowOrigins[0] == "*"
}

// decorate adds to h the headers of an answer to origin.
func (c *CORS) decorate(h http.Header, origin string) {
	if c.anyOrigin() {
		h.Set("Access-Control-Allow-Origin", "*")
	} else {
		h.Set("Access-Control-Allow-Origin", origin)
		h.Add("Vary", "Origin")
	}
	if c.AllowCredentials {
		h.Set("Access-Control-Allow-Credentials", "true")
	}
}

// preflight answers a preflight of origin for a path serving methods, of
// which corsMethods let origin call (a browser keeps the answer for each
// method it lists).
func (c *CORS) preflight(origin string, methods, corsMethods []string) *Response {
	h := make(http.Header, 6)
	c.decorate(h, origin)
	allow := corsMethods
	if len(c.AllowMethods) > 0 {
		allow = nil
		for _, m := range c.AllowMethods {
			if slices.Contains(corsMethods, strings.ToUpper(m)) {
				allow = append(allow, strings.ToUpper(m))
			}
		}
	}
	h.Set("Access-Control-Allow-Methods", strings.Join(allow, ", "))
	headers := c.AllowHeaders
	if len(headers) == 0 {
		headers = DefaultCORSHeaders
	}
	h.Set("Access-Control-Allow-Headers", strings.Join(headers, ", "))
	if c.MaxAge > 0 {
		h.Set("Access-Control-Max-Age", strconv.Itoa(int(c.MaxAge/time.Second)))
	}
	h.Set("Allow", strings.Join(methods, ", "))
	return &Response{Status: http.StatusNoContent, Header: h}
}

// corsPreflight answers a CORS preflight, or nil when req is none.
func (a *App) corsPreflight(req *Request) *Response {
	origin, method := req.Header.Get("Origin"), req.Header.Get("Access-Control-Request-Method")
	if req.Method != http.MethodOptions || origin == "" || method == "" {
		return nil
	}
	methods := a.router.allowed(req.Path)
	if len(methods) == 0 {
		return nil
	}
	e, _ := a.router.lookup(method, req.Path, nil)
	if e == nil || e.cors == nil || !e.cors.allows(origin) {
		// No CORS headers: the browser refuses the call. The answer
		// depends on the origin all the same: caches must know.
		h := make(http.Header, 2)
		h.Set("Allow", strings.Join(methods, ", "))
		h.Set("Vary", "Origin")
		return &Response{Status: http.StatusNoContent, Header: h}
	}
	// Only the methods whose entries let origin call: a browser caches each
	// method listed, and would send an entry kept out of CORS (NoCORS, or
	// another policy) without asking again.
	corsMethods := make([]string, 0, len(methods))
	for _, m := range methods {
		if other, _ := a.router.lookup(m, req.Path, nil); other != nil && other.cors != nil && other.cors.allows(origin) {
			corsMethods = append(corsMethods, m)
		}
	}
	return e.cors.preflight(origin, methods, corsMethods)
}

// corsDecorate adds the CORS headers of the routed entry to an answer, or
// those of the service's policy when no entry serves the request (a 404 or
// 405 a page can read).
func (a *App) corsDecorate(req *Request, resp *Response) {
	policy := a.corsPolicy
	if req.entry != nil {
		policy = req.entry.cors
	}
	if policy == nil {
		return
	}
	origin := req.Header.Get("Origin")
	if resp.Header == nil {
		resp.Header = make(http.Header, 4)
	}
	if !policy.allows(origin) {
		// The answer to another origin differs: caches must know.
		if !policy.anyOrigin() {
			resp.Header.Add("Vary", "Origin")
		}
		return
	}
	policy.decorate(resp.Header, origin)
	if len(policy.ExposeHeaders) > 0 {
		resp.Header.Set("Access-Control-Expose-Headers", strings.Join(policy.ExposeHeaders, ", "))
	}
}
