package http_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coworks-go/cws/internal/testutil"
	"github.com/coworks-go/cws/runtime"
	cwshttp "github.com/coworks-go/cws/transport/http"
)

// shop is the service the hostile requests attack: a store a refused
// request must leave unchanged.
type shop struct {
	mu    sync.Mutex
	items []item
}

type item struct {
	Name  string   `json:"name"`
	Price float64  `json:"price"`
	Tags  []string `json:"tags"`
}

func (s *shop) PostItems(ctx context.Context, it item) (item, error) {
	if it.Name == "" {
		return item{}, runtime.NewProblem(422, "an item needs a name")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.items = append(s.items, it)
	return it, nil
}

func (s *shop) GetItems(ctx context.Context) []item {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]item{}, s.items...)
}

func (s *shop) GetItem(ctx context.Context, name string) (item, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, it := range s.items {
		if it.Name == name {
			return it, nil
		}
	}
	return item{}, runtime.NotFound("no item %q", name)
}

func (s *shop) ConfigureEntries(c *runtime.EntryConfig) {
	for _, e := range []string{"PostItems", "GetItems", "GetItem"} {
		c.Entry(e, runtime.NoAuth())
	}
}

func (s *shop) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.items)
}

// hostileServer serves a shop with ListenAndServe, the local server of
// `cws run`, on a TCP port; logs gets the server's and the App's logs.
func hostileServer(t *testing.T, hopts []cwshttp.HandlerOption, opts ...cwshttp.Option) (s *shop, addr string, logs *testutil.SyncBuffer) {
	t.Helper()
	logs = &testutil.SyncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, nil))
	s = &shop{}
	app, err := runtime.New(s, runtime.WithLogger(logger))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan net.Addr, 1)
	done := make(chan error, 1)
	opts = append(opts, cwshttp.WithLogger(logger), cwshttp.WithReady(func(a net.Addr) { addrc <- a }),
		cwshttp.WithShutdownTimeout(time.Second))
	go func() { done <- cwshttp.ListenAndServe(ctx, "127.0.0.1:0", cwshttp.NewHandler(app, hopts...), opts...) }()
	select {
	case a := <-addrc:
		addr = a.String()
	case err := <-done:
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		<-done
		// No panic, no internal error: every hostile request was refused
		// as bad input.
		if out := logs.String(); strings.Contains(out, "panic") || strings.Contains(out, "level=ERROR") {
			t.Errorf("the server logged a panic or an error:\n%s", out)
		}
	})
	return s, addr, logs
}

// rawExchange writes a request as bytes and returns the status of the first
// answer, or 0 when the server closed the connection without one, and
// whether the server closed the connection after it. It fails when the
// server neither answers nor closes within the deadline (a hang).
func rawExchange(t *testing.T, addr string, raw string) (status int, body string, closed bool) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(conn, raw); err != nil && !isClosed(err) {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		if isTimeout(err) {
			t.Fatalf("no answer and no close within 5s: %v", err)
		}
		return 0, "", true
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	_ = conn.SetReadDeadline(time.Now().Add(time.Second))
	_, err = br.Peek(1)
	return resp.StatusCode, string(data), err != nil && !isTimeout(err)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func isClosed(err error) bool {
	return errors.Is(err, net.ErrClosed) || strings.Contains(err.Error(), "reset by peer") || strings.Contains(err.Error(), "broken pipe")
}

func query(n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte('&')
		}
		fmt.Fprintf(&b, "p%d=1", i)
	}
	return b.String()
}

// TestHostileRequests is the catalog of hostile HTTP requests (the table
// of docs/reliability.md, "Hostile input"): each is a 4xx, or a connection
// the server closes for a request it cannot frame, never a 5xx, a panic, a
// hang or a changed store.
func TestHostileRequests(t *testing.T) {
	s, addr, _ := hostileServer(t, nil)
	base := "http://" + addr
	client := &http.Client{Timeout: 10 * time.Second}
	deep := strings.Repeat("[", 10_001) + strings.Repeat("]", 10_001)

	t.Run("client", func(t *testing.T) {
		for _, tc := range []struct {
			name, method, target, contentType, body string
			header                                  http.Header
			want                                    int
		}{
			{"JSON nested 10,001 deep", "POST", "/items", "application/json", `{"tags":` + deep + `}`, nil, 400},
			{"JSON number 1e999", "POST", "/items", "application/json", `{"name":"a","price":1e999}`, nil, 422},
			{"JSON integer of 10,000 digits", "POST", "/items", "application/json", `{"name":"a","price":` + strings.Repeat("9", 10_000) + `0e-1}`, nil, 422},
			{"JSON with invalid UTF-8", "POST", "/items", "application/json", "{\"name\":\"caf\xe9\"}", nil, 400},
			{"JSON with a lone surrogate escape", "POST", "/items", "application/json", `{"name":"\udead"}`, nil, 400},
			{"JSON then garbage", "POST", "/items", "application/json", `{"name":"a"} {"name":"b"}`, nil, 400},
			{"JSON null", "POST", "/items", "application/json", `null`, nil, 422},
			{"unknown content type", "POST", "/items", "application/xml", `<name>a</name>`, nil, 415},
			{"malformed content type", "POST", "/items", "application/json; =", `{"name":"a"}`, nil, 415},
			{"10,000 form parameters", "POST", "/items", "application/x-www-form-urlencoded", query(10_000), nil, 422},
			{"multipart without a boundary", "POST", "/items", "multipart/form-data", "x", nil, 400},
			{"body over the 6 MiB limit", "POST", "/items", "application/json", `{"name":"` + strings.Repeat("a", 6<<20) + `"}`, nil, 413},
			{"NUL in the path", "GET", "/item/a%00b", "", "", nil, 404},
			{"dot-dot in the path", "GET", "/item/../items", "", "", nil, 404},
			{"escaped dot-dot in the path", "GET", "/item/%2e%2e/items", "", "", nil, 404},
			{"escaped slash in the path", "GET", "/item/a%2fb", "", "", nil, 404},
			{"bad escape in the query", "GET", "/items?a=%zz", "", "", nil, 400},
			{"1,000 query parameters", "GET", "/items?" + query(1000), "", "", nil, 422},
			{"10,000 query parameters: over the header limit", "GET", "/items?" + query(10_000), "", "", nil, 431},
			{"a GET with a body", "GET", "/items", "application/json", `{"name":"a"}`, nil, 400},
			{"header values of 11 KB", "GET", "/items", "", "", http.Header{"X-Big": {strings.Repeat("a", 11_000)}}, 431},
			{"a header of 1 MB", "GET", "/items", "", "", http.Header{"X-Big": {strings.Repeat("a", 1<<20)}}, 431},
			{"600 headers over 10 KB", "GET", "/items", "", "", manyHeaders(600), 431},
		} {
			t.Run(tc.name, func(t *testing.T) {
				req, err := http.NewRequest(tc.method, base+tc.target, strings.NewReader(tc.body))
				if err != nil {
					t.Fatal(err)
				}
				if tc.body == "" {
					req.Body = nil
				}
				if tc.contentType != "" {
					req.Header.Set("Content-Type", tc.contentType)
				}
				for k, vs := range tc.header {
					req.Header[k] = vs
				}
				resp, err := client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				data, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != tc.want {
					t.Fatalf("status %d, want %d: %.300s", resp.StatusCode, tc.want, data)
				}
			})
		}
	})

	t.Run("raw", func(t *testing.T) {
		for _, tc := range []struct {
			name, raw string
			want      int // 0: the server closes the connection without an answer
			closes    bool
		}{
			{"duplicate Content-Length, different values",
				"POST /items HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 12\r\nContent-Length: 13\r\n\r\n{\"name\":\"a\"}", 400, true},
			// The chunked body is empty (an item without a name: 422); the
			// request hidden after it is never read.
			{"Content-Length and Transfer-Encoding (smuggling)",
				"POST /items HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 50\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nPOST /items HTTP/1.1\r\nHost: x\r\nContent-Length: 12\r\n\r\n{\"name\":\"s\"}", 422, true},
			// net/http answers a transfer coding it does not implement with
			// the 501 RFC 9112 section 6.1 asks for, before the handler.
			{"Transfer-Encoding twice",
				"POST /items HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 501, true},
			{"Transfer-Encoding gzip",
				"POST /items HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n0\r\n\r\n", 501, true},
			{"a chunk size that is not hex",
				"POST /items HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{\"name\":\"a\"}\r\n0\r\n\r\n", 400, true},
			{"a chunk longer than its size",
				"POST /items HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{\"name\":\"a\"}\r\n0\r\n\r\n", 400, true},
			{"a chunk size of 2^64",
				"POST /items HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\nx\r\n0\r\n\r\n", 400, true},
			{"a negative Content-Length",
				"POST /items HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400, true},
			{"a bad escape in the path",
				"GET /item/%zz HTTP/1.1\r\nHost: x\r\n\r\n", 400, true},
			{"no Host header",
				"GET /items HTTP/1.1\r\n\r\n", 400, true},
			{"a NUL byte in the request line",
				"GET /item/a\x00b HTTP/1.1\r\nHost: x\r\n\r\n", 400, true},
			{"a NUL byte in a header value",
				"GET /items HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n", 400, true},
			{"a space in a header name",
				"GET /items HTTP/1.1\r\nHost: x\r\nX A: b\r\n\r\n", 400, true},
			// RFC 9112 section 5.2 lets a server unfold it into a space.
			{"an obsolete line folding",
				"GET /items HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n", 200, false},
			{"an unknown HTTP version",
				"GET /items HTTP/9.9\r\nHost: x\r\n\r\n", 505, true},
			{"garbage instead of a request line",
				"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 400, true},
		} {
			t.Run(tc.name, func(t *testing.T) {
				status, body, closed := rawExchange(t, addr, tc.raw)
				if status != tc.want {
					t.Fatalf("status %d, want %d: %.300s", status, tc.want, body)
				}
				if closed != tc.closes {
					t.Fatalf("connection closed after the answer: %v, want %v", closed, tc.closes)
				}
			})
		}
	})

	// No hostile request changed the store.
	if n := s.count(); n != 0 {
		t.Fatalf("the store holds %d items after hostile requests, want none: %+v", n, s.GetItems(context.Background()))
	}
	// The server still answers.
	resp, err := client.Post(base+"/items", "application/json", strings.NewReader(`{"name":"ok","price":1.5}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || s.count() != 1 {
		t.Fatalf("a good request after the hostile ones: %d, %d items", resp.StatusCode, s.count())
	}
}

func manyHeaders(n int) http.Header {
	h := http.Header{}
	for i := range n {
		h.Set(fmt.Sprintf("X-H%d", i), "abcdefghijklmnop")
	}
	return h
}

// TestHeaderLimitAsAPIGateway checks the limit is API Gateway's: request
// line and header values of 10,240 bytes pass, one more byte is a 431.
func TestHeaderLimitAsAPIGateway(t *testing.T) {
	_, addr, _ := hostileServer(t, nil)
	line := "GET /items HTTP/1.1" // the request line as API Gateway counts it
	for _, tc := range []struct {
		extra int
		want  int
	}{{0, 200}, {1, 431}} {
		// Host "x" is one byte of value.
		pad := cwshttp.MaxHeaderBytes - len(line) - 1 + tc.extra
		raw := line + "\r\nHost: x\r\nX-Pad: " + strings.Repeat("p", pad) + "\r\nConnection: close\r\n\r\n"
		// "close" is a value too.
		raw = strings.Replace(raw, strings.Repeat("p", pad), strings.Repeat("p", pad-len("close")), 1)
		if status, body, _ := rawExchange(t, addr, raw); status != tc.want {
			t.Errorf("%d bytes over the limit: status %d, want %d: %.200s", tc.extra, status, tc.want, body)
		}
	}
}

// dribble POSTs body to path a byte at a time, for up to 5s, until the
// server answers or closes the connection; it returns the answer (nil
// without one) and how long the client stayed connected.
func dribble(t *testing.T, addr, path, contentType, body string) (*http.Response, time.Duration) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	start := time.Now()
	_, _ = fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n", path, contentType, len(body))
	br := bufio.NewReader(conn)
	for i := 0; i < len(body) && time.Since(start) < 5*time.Second; i++ {
		if _, err := io.WriteString(conn, body[i:i+1]); err != nil {
			break // cut off
		}
		_ = conn.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		resp, err := http.ReadResponse(br, nil)
		if err == nil {
			return resp, time.Since(start) // answered
		}
		if !isTimeout(err) {
			break // closed
		}
	}
	return nil, time.Since(start)
}

// TestSlowAndIdleClients checks that a client sending its headers a byte at
// a time is cut off, and that idle connections neither block other clients
// nor stay open past the idle timeout.
func TestSlowAndIdleClients(t *testing.T) {
	s, addr, _ := hostileServer(t, []cwshttp.HandlerOption{cwshttp.WithBodyTimeout(time.Second)},
		cwshttp.WithReadHeaderTimeout(time.Second), cwshttp.WithIdleTimeout(time.Second))

	t.Run("slowloris", func(t *testing.T) {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		start := time.Now()
		_, _ = io.WriteString(conn, "GET /items HTTP/1.1\r\nHost: x\r\n")
		for time.Since(start) < 5*time.Second {
			if _, err := fmt.Fprintf(conn, "X-%d: y\r\n", time.Now().UnixNano()); err != nil {
				break // cut off
			}
			_ = conn.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
			if _, err := conn.Read(make([]byte, 1)); err != nil && !isTimeout(err) {
				break // closed
			}
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Fatalf("a slowloris client was still connected after %v (read header timeout 1s)", d)
		}
	})

	t.Run("slow body", func(t *testing.T) {
		body := `{"name":"slow","tags":["` + strings.Repeat("a", 80) + `"]}`
		resp, d := dribble(t, addr, "/items", "application/json", body)
		if d > 3*time.Second {
			t.Fatalf("a client sending its body a byte at a time was still connected after %v (body timeout 1s)", d)
		}
		if resp != nil {
			answer, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 400 || !strings.Contains(string(answer), "the body did not arrive in time") || strings.Contains(string(answer), "127.0.0.1") {
				t.Fatalf("a body too slow: %d %s, want 400 saying so and no address", resp.StatusCode, answer)
			}
		}
		if n := s.count(); n != 0 {
			t.Fatalf("a body cut off created %d items", n)
		}
		// A body sent at once, and an entry slower than the body timeout,
		// are answered: the deadline bounds the body only.
		resp, err := (&http.Client{Timeout: 5 * time.Second}).Post("http://"+addr+"/items", "application/json", strings.NewReader(`{"name":"quick"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("a good request after a slow body: %d", resp.StatusCode)
		}
	})

	t.Run("slow body to an endpoint", func(t *testing.T) {
		var got atomic.Int32
		events := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if _, err := io.ReadAll(r.Body); err != nil {
				http.Error(w, "the body could not be read", http.StatusBadRequest)
				return
			}
			got.Add(1)
			w.WriteHeader(http.StatusAccepted)
		})
		_, addr, _ := hostileServer(t, []cwshttp.HandlerOption{cwshttp.WithBodyTimeout(time.Second), cwshttp.WithEndpoint("/_cws/events", events)},
			cwshttp.WithReadHeaderTimeout(time.Second))
		body := `{"specversion":"1.0","id":"slow","source":"x","type":"t"}`
		resp, d := dribble(t, addr, "/_cws/events", "application/cloudevents+json", body)
		if d > 3*time.Second {
			t.Fatalf("a client sending an endpoint its body a byte at a time was still connected after %v (body timeout 1s)", d)
		}
		if resp != nil && resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("a body too slow for the endpoint: %d, want 400", resp.StatusCode)
		}
		// The same body at once is taken.
		resp, err := (&http.Client{Timeout: 5 * time.Second}).Post("http://"+addr+"/_cws/events", "application/cloudevents+json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted || got.Load() != 1 {
			t.Fatalf("the body at once: %d, %d taken", resp.StatusCode, got.Load())
		}
	})

	t.Run("many idle connections", func(t *testing.T) {
		const n = 300
		conns := make([]net.Conn, 0, n)
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for range n {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			conns = append(conns, c)
		}
		// Half of them made a request and keep the connection alive.
		for _, c := range conns[:n/2] {
			if _, err := io.WriteString(c, "GET /items HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
				t.Fatal(err)
			}
			_ = c.SetDeadline(time.Now().Add(5 * time.Second))
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		}
		// Another client is answered at once.
		client := &http.Client{Timeout: 2 * time.Second}
		resp, err := client.Get("http://" + addr + "/items")
		if err != nil {
			t.Fatalf("with %d idle connections: %v", n, err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("with %d idle connections: %d", n, resp.StatusCode)
		}
		// Every idle connection is closed by the server within the
		// timeouts (1s), not kept.
		deadline := time.Now().Add(4 * time.Second)
		for i, c := range conns {
			_ = c.SetReadDeadline(deadline)
			if _, err := io.Copy(io.Discard, c); err != nil {
				if isTimeout(err) {
					t.Fatalf("idle connection %d still open after the idle timeout", i)
				}
			}
		}
	})
}

// FuzzRequest reads arbitrary bytes as an HTTP/1.1 request, as the local
// server does, and serves what parses: the answer is never a 5xx (no entry
// of the shop fails) and the handler never panics.
func FuzzRequest(f *testing.F) {
	for _, s := range []string{
		"GET /items HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /item/a%20b?x=1 HTTP/1.1\r\nHost: x\r\n\r\n",
		"POST /items HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 12\r\n\r\n{\"name\":\"a\"}",
		"POST /items HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nname=a\r\n0\r\n\r\n",
		"POST /items HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: 52\r\n\r\n--b\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\na\r\n--b--\r\n",
		"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n",
	} {
		f.Add([]byte(s))
	}
	logs := &testutil.SyncBuffer{}
	app, err := runtime.New(&shop{}, runtime.WithLogger(slog.New(slog.NewTextHandler(logs, nil))))
	if err != nil {
		f.Fatal(err)
	}
	h := cwshttp.NewHandler(app)
	f.Fuzz(func(t *testing.T, raw []byte) {
		req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
		if err != nil {
			return // net/http refuses it before the handler
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%q: %d %s", raw, rec.Code, rec.Body)
		}
		if out := logs.String(); strings.Contains(out, "panic") {
			t.Fatalf("%q: %s", raw, out)
		}
	})
}
