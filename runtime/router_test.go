package runtime

import (
	"slices"
	"strings"
	"testing"
)

func testRouter(t testing.TB, routes ...string) *router {
	t.Helper()
	r := &router{}
	for _, rt := range routes {
		method, path, _ := strings.Cut(rt, " ")
		e := &entry{owner: "(*T)"}
		e.Method, e.Path, e.Entry = method, path, rt
		if err := r.add(e); err != nil {
			t.Fatalf("add %s: %v", rt, err)
		}
	}
	return r
}

func TestRouterLookup(t *testing.T) {
	r := testRouter(t,
		"GET /", "POST /", "GET /{id}", "PUT /{id}", "DELETE /{id}",
		"GET /content", "GET /content/{value}", "GET /content/{value}/{other}",
		"GET /service/test", "GET /a/b/c", "GET /{x}/b",
		"GET /files/{name}/raw", "GET /files/latest/{kind}",
	)
	for _, tc := range []struct {
		method, path string
		want         string // the matched route, "" for none
		params       []string
	}{
		{"GET", "/", "GET /", nil},
		{"POST", "/", "POST /", nil},
		{"GET", "/42", "GET /{id}", []string{"42"}},
		{"GET", "/content", "GET /content", nil},
		{"GET", "/content/", "GET /content", nil},
		{"GET", "/content/x", "GET /content/{value}", []string{"x"}},
		{"GET", "/content/x/y", "GET /content/{value}/{other}", []string{"x", "y"}},
		{"GET", "/content/a%2Fb/y", "GET /content/{value}/{other}", []string{"a%2Fb", "y"}},
		{"GET", "/service/test", "GET /service/test", nil},
		{"GET", "/service", "GET /{id}", []string{"service"}},
		// The static /a/b leads nowhere (only /a/b/c is a route): backtrack.
		{"GET", "/a/b", "GET /{x}/b", []string{"a"}},
		{"GET", "/a/b/c", "GET /a/b/c", nil},
		// The path picks the route, as OpenAPI matches paths: /content has
		// no PUT, and /{id} is not asked (schemathesis: unsupported_method).
		{"PUT", "/content", "", nil},
		{"GET", "/files/latest/raw", "GET /files/latest/{kind}", []string{"raw"}},
		{"GET", "/files/other/raw", "GET /files/{name}/raw", []string{"other"}},
		{"HEAD", "/42", "GET /{id}", []string{"42"}},
		{"GET", "/nope/x/y", "", nil},
		{"GET", "//", "GET /", nil},
		{"GET", "/a//b", "", nil},
		{"PATCH", "/42", "", nil},
		{"TRACE", "/", "", nil},
	} {
		e, params := r.lookup(tc.method, tc.path, nil)
		got := ""
		if e != nil {
			got = e.Entry
		}
		if got != tc.want || (e != nil && !slices.Equal(params, tc.params)) {
			t.Errorf("lookup(%s %s) = %q %q, want %q %q", tc.method, tc.path, got, params, tc.want, tc.params)
		}
	}
}

func TestRouterAllowed(t *testing.T) {
	r := testRouter(t, "GET /{id}", "PUT /{id}", "DELETE /{id}", "GET /content", "POST /only")
	for _, tc := range []struct {
		path string
		want []string
	}{
		{"/42", []string{"DELETE", "GET", "HEAD", "PUT"}},
		// Those of the route the path matches, not of every route that
		// could match it.
		{"/content", []string{"GET", "HEAD"}},
		{"/only", []string{"POST"}},
		{"/x/y", nil},
	} {
		if got := r.allowed(tc.path); !slices.Equal(got, tc.want) {
			t.Errorf("allowed(%s) = %q, want %q", tc.path, got, tc.want)
		}
	}
}

func TestRouterDuplicates(t *testing.T) {
	r := testRouter(t, "GET /content/{value}")
	e := &entry{owner: "(*T)"}
	e.Method, e.Path, e.Entry = "GET", "/content/{other}", "GetOther_"
	err := r.add(e)
	if err == nil || !strings.Contains(err.Error(), "duplicate route GET /content/{other}") {
		t.Fatalf("add duplicate = %v", err)
	}
	e.Method = "POST"
	if err := r.add(e); err != nil {
		t.Fatalf("another method on the same path: %v", err)
	}
}

func TestRouterManyStatic(t *testing.T) {
	var routes []string
	for _, s := range []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"} {
		routes = append(routes, "GET /"+s+"/x")
	}
	r := testRouter(t, append(routes, "GET /{p}/y")...)
	for _, s := range []string{"a", "f", "l"} {
		if e, _ := r.lookup("GET", "/"+s+"/x", nil); e == nil || e.Entry != "GET /"+s+"/x" {
			t.Errorf("/%s/x: got %v", s, e)
		}
	}
	if e, p := r.lookup("GET", "/k/y", nil); e == nil || e.Entry != "GET /{p}/y" || p[0] != "k" {
		t.Errorf("/k/y: got %v %q", e, p)
	}
}

func TestTemplateSegments(t *testing.T) {
	for _, bad := range []string{"x", "/a//b", "/{}", "/a{b}", "/{a}b", "/{a{b}}"} {
		if _, _, err := templateSegments(bad); err == nil {
			t.Errorf("templateSegments(%q): no error", bad)
		}
	}
	segs, params, err := templateSegments("/order-lines/{line-id}/x")
	if err != nil || !slices.Equal(segs, []string{"order-lines", "line-id", "x"}) || !slices.Equal(params, []bool{false, true, false}) {
		t.Errorf("templateSegments = %q %v %v", segs, params, err)
	}
}

// FuzzRouterLookup checks that a matched route, its template filled with the
// captured parameters, gives back the path it matched.
func FuzzRouterLookup(f *testing.F) {
	r := testRouter(f,
		"GET /", "GET /{id}", "GET /content", "GET /content/{value}", "GET /content/{value}/{other}",
		"GET /a/b/c", "GET /{x}/b", "GET /files/latest/{kind}", "GET /files/{name}/raw",
	)
	for _, s := range []string{"/", "/42", "/content/x/y", "/a/b", "/files/latest/raw", "//x", "/a/%2F/b", "/é/b/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, path string) {
		e, params := r.lookup("GET", path, nil)
		if e == nil {
			return
		}
		segs, isParam, _ := templateSegments(e.Path)
		var b strings.Builder
		n := 0
		for i, s := range segs {
			b.WriteByte('/')
			if isParam[i] {
				if params[n] == "" {
					t.Fatalf("%s matched %s with an empty parameter", path, e.Path)
				}
				s = params[n]
				n++
			}
			b.WriteString(s)
		}
		if n != len(params) {
			t.Fatalf("%s matched %s with %d parameters: %q", path, e.Path, len(params), params)
		}
		if want := "/" + trimPath(path); b.String() != want && !(want == "/" && b.Len() == 0) {
			t.Fatalf("%s matched %s, which rebuilds as %s", path, e.Path, b.String())
		}
	})
}
