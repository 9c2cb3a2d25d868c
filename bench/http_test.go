package bench

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
	"github.com/go-chi/chi/v5"

	"github.com/coworks-go/cws/internal/testutil"
	"github.com/coworks-go/cws/runtime"
	cwshttp "github.com/coworks-go/cws/transport/http"
)

// The request every HTTP implementation answers: a token, a typed path
// parameter, a bool, a repeated int and an int from the query.
const (
	token    = "bench-token"
	target   = "/items/42?flag=true&ids=1&ids=2&ids=3&n=10"
	wantBody = `{"id":42,"flag":true,"ids":[1,2,3],"n":10}`
)

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func cwsApp(tb testing.TB) *runtime.App {
	app, err := runtime.New(Service{}, runtime.WithAuthorizer(runtime.TokenAuthorizer(token)), runtime.WithLogger(quietLogger()))
	if err != nil {
		tb.Fatal(err)
	}
	return app
}

// handWritten is the floor: the same work written by hand on net/http —
// token check, typed path parameter, typed query parameters with unknown
// keys refused, problem answers, JSON out.
func handWritten(pathValue func(r *http.Request, name string) string) http.HandlerFunc {
	want := []byte(token)
	fail := func(w http.ResponseWriter, status int, detail string) {
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]any{"title": http.StatusText(status), "status": status, "detail": detail})
	}
	return func(w http.ResponseWriter, r *http.Request) {
		tok := r.Header.Get("Authorization")
		if tok == "" {
			fail(w, 401, "missing Authorization header")
			return
		}
		if subtle.ConstantTimeCompare([]byte(tok), want) != 1 {
			fail(w, 403, "the token is refused")
			return
		}
		id, err := strconv.Atoi(pathValue(r, "id"))
		if err != nil {
			fail(w, 422, "id is not an integer")
			return
		}
		res := Result{ID: id}
		for k, vs := range r.URL.Query() {
			switch k {
			case "flag":
				if res.Flag, err = runtime.ParseBool(vs[0]); err != nil {
					fail(w, 422, "flag is not a boolean")
					return
				}
			case "n":
				if res.N, err = strconv.Atoi(vs[0]); err != nil {
					fail(w, 422, "n is not an integer")
					return
				}
			case "ids":
				for _, v := range vs {
					n, err := strconv.Atoi(v)
					if err != nil {
						fail(w, 422, "ids: not an integer")
						return
					}
					res.IDs = append(res.IDs, n)
				}
			default:
				fail(w, 422, "unknown keyword "+k)
				return
			}
		}
		body, err := json.Marshal(res)
		if err != nil {
			fail(w, 500, "")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}
}

func netHTTPHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /items/{id}", handWritten(func(r *http.Request, name string) string { return r.PathValue(name) }))
	return mux
}

func chiHandler() http.Handler {
	r := chi.NewRouter()
	r.Get("/items/{id}", handWritten(chi.URLParam))
	return r
}

type humaInput struct {
	Authorization string `header:"Authorization"`
	ID            int    `path:"id"`
	Flag          bool   `query:"flag"`
	IDs           []int  `query:"ids,explode"`
	N             int    `query:"n"`
}

type humaOutput struct {
	Body Result
}

func humaHandler() http.Handler {
	mux := http.NewServeMux()
	config := huma.DefaultConfig("bench", "1.0.0")
	config.CreateHooks = nil // no $schema link in the body: the same answer as the others
	config.RejectUnknownQueryParameters = true
	api := humago.New(mux, config)
	want := []byte(token)
	huma.Get(api, "/items/{id}", func(ctx context.Context, in *humaInput) (*humaOutput, error) {
		if in.Authorization == "" {
			return nil, huma.Error401Unauthorized("missing Authorization header")
		}
		if subtle.ConstantTimeCompare([]byte(in.Authorization), want) != 1 {
			return nil, huma.Error403Forbidden("the token is refused")
		}
		return &humaOutput{Body: Result{ID: in.ID, Flag: in.Flag, IDs: in.IDs, N: in.N}}, nil
	})
	return mux
}

// httpImpls are the HTTP implementations, by benchstat column name.
func httpImpls(tb testing.TB) []struct {
	name string
	h    http.Handler
} {
	return []struct {
		name string
		h    http.Handler
	}{
		{"cws", cwshttp.NewHandler(cwsApp(tb))},
		{"nethttp", netHTTPHandler()},
		{"chi", chiHandler()},
		{"huma", humaHandler()},
	}
}

func newRequest() *http.Request {
	r := httptest.NewRequest(http.MethodGet, target, nil)
	r.Header.Set("Authorization", token)
	r.Header.Set("Accept", "application/json")
	r.Header.Set("User-Agent", "bench/1.0")
	return r
}

// TestSameHTTPAnswers shows that every implementation does the work: the
// same answer to the benchmarked request, and a refusal without a token and
// for a bad parameter.
func TestSameHTTPAnswers(t *testing.T) {
	for _, impl := range httpImpls(t) {
		rec := httptest.NewRecorder()
		impl.h.ServeHTTP(rec, newRequest())
		if rec.Code != 200 || strings.TrimSpace(rec.Body.String()) != wantBody || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
			t.Errorf("%s: %d %q %s", impl.name, rec.Code, rec.Header().Get("Content-Type"), rec.Body)
		}
		for _, bad := range []struct {
			target, token string
			status        int
		}{
			{target, "", 401},
			{target, testutil.WrongToken, 403},
			{"/items/x?n=1", token, 422},
			{"/items/1?n=x", token, 422},
			{"/items/1?bogus=1", token, 422},
		} {
			r := httptest.NewRequest(http.MethodGet, bad.target, nil)
			if bad.token != "" {
				r.Header.Set("Authorization", bad.token)
			}
			rec := httptest.NewRecorder()
			impl.h.ServeHTTP(rec, r)
			if rec.Code != bad.status {
				t.Errorf("%s %s token %q: %d, want %d", impl.name, bad.target, bad.token, rec.Code, bad.status)
			}
		}
	}
}

// discard is a reusable ResponseWriter, so that the benchmarks measure the
// handlers and not a recorder.
type discard struct {
	h    http.Header
	code int
	n    int
}

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) WriteHeader(code int)        { d.code = code }
func (d *discard) Write(p []byte) (int, error) { d.n += len(p); return len(p), nil }

// SetReadDeadline is net/http's writer's: the transport/http door bounds a
// body's reading with it.
func (d *discard) SetReadDeadline(time.Time) error { return nil }

// BenchmarkHTTP serves the typed entry through each implementation.
func BenchmarkHTTP(b *testing.B) {
	for _, impl := range httpImpls(b) {
		b.Run("impl="+impl.name, func(b *testing.B) {
			req := newRequest()
			w := &discard{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				w.code, w.n = 200, 0
				impl.h.ServeHTTP(w, req)
			}
			if w.code != 200 || w.n != len(wantBody) && w.n != len(wantBody)+1 {
				b.Fatalf("%s answered %d with %d bytes", impl.name, w.code, w.n)
			}
		})
	}
}

// BenchmarkHTTPPost serves the JSON POST of the load test (TestLoad)
// through cws's door and the hand-written servers, with cws's checks of
// the input and without (bare).
func BenchmarkHTTPPost(b *testing.B) {
	for _, impl := range []struct {
		name string
		h    http.Handler
	}{{"cws", cwshttp.NewHandler(cwsApp(b))}, {"nethttp", handWrittenServer()}, {"bare", handWrittenServerChecking(false)}} {
		b.Run("impl="+impl.name, func(b *testing.B) {
			w := &discard{h: http.Header{}}
			body := strings.NewReader(postBody)
			req := httptest.NewRequest("POST", "/items", body)
			req.Header.Set("Authorization", token)
			req.Header.Set("Content-Type", "application/json")
			b.ReportAllocs()
			for b.Loop() {
				body.Reset(postBody)
				req.Body = io.NopCloser(body)
				clear(w.h)
				w.code, w.n = 200, 0
				impl.h.ServeHTTP(w, req)
			}
			if w.code != 200 || w.n < len(postBody) {
				b.Fatalf("%s answered %d with %d bytes", impl.name, w.code, w.n)
			}
		})
	}
}
