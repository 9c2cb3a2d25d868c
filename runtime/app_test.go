package runtime_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coworks-go/cws/internal/testutil"
	"github.com/coworks-go/cws/runtime"
	"github.com/coworks-go/cws/runtime/cwsgen"
)

// svc exercises every parameter and result form.
type svc struct{}

type params struct {
	Flag   bool              `json:"flag"`
	IDs    []int             `json:"ids"`
	N      int               `json:"n"`
	Ratio  float64           `json:"ratio"`
	Name   *string           `json:"name"`
	When   time.Time         `json:"when"`
	Raw    json.RawMessage   `json:"raw"`
	Nested *nested           `json:"nested"`
	Labels map[string]string `json:"labels"`
	U8     uint8             `json:"u8"`
	Plain  string
	Skip   string `json:"-"`
}

type nested struct {
	A int    `json:"a"`
	B string `json:"b"`
}

type upload struct {
	Title string                  `json:"title"`
	File  *multipart.FileHeader   `json:"file"`
	Data  []byte                  `json:"data"`
	More  []*multipart.FileHeader `json:"more"`
}

type validated struct {
	Name string `json:"name"`
}

func (v *validated) Validate() error {
	if v.Name == "" {
		return errors.New("name is required")
	}
	return nil
}

type teapot struct{}

func (teapot) Error() string   { return "short and stout" }
func (teapot) StatusCode() int { return http.StatusTeapot }

// reflected is svc called through reflection: it is described without
// invokers. Every behaviour test runs on both.
type reflected struct{ svc }

func init() {
	params := map[string][]string{
		"GetPath_": {"n", "b", "f", "ids", "when", "opt"}, "GetStr_": {"s"}, "GetParams": {"p"}, "PostParams": {"p"},
		"PostPtr": {"p"}, "GetKw": {"kw"}, "PostKw": {"kw"}, "GetLists": {"kw"}, "GetSingle": {"kw"}, "PostUpload": {"u"},
		"PostValid": {"v"}, "GetRenamed_": {"line"}, "DeleteItem_": {"id"}, "PutItem_": {"id", "body"},
		"GetStatus_": {"code"}, "GetDynamic_": {"kind"},
	}
	docs := map[string]string{"GetPath_": "GetPath_ echoes.", "GetDoc": "GetDoc is documented."}
	// What `cws gen` writes for svc.
	invokers := map[string]cwsgen.Invoker{
		"GetPublic": cwsgen.Invoke0V((*svc).GetPublic), "GetText": cwsgen.Invoke0V((*svc).GetText),
		"GetHTML": cwsgen.Invoke0V((*svc).GetHTML), "GetJSON": cwsgen.Invoke0V((*svc).GetJSON),
		"GetNilSlice": cwsgen.Invoke0V((*svc).GetNilSlice), "GetNilMap": cwsgen.Invoke0V((*svc).GetNilMap),
		"GetNilPtr": cwsgen.Invoke0V((*svc).GetNilPtr), "GetNothing": cwsgen.Invoke0((*svc).GetNothing),
		"GetErrNil": cwsgen.Invoke0E((*svc).GetErrNil), "GetBytes": cwsgen.Invoke0V((*svc).GetBytes),
		"GetOctets": cwsgen.Invoke0V((*svc).GetOctets), "GetReader": cwsgen.Invoke0V((*svc).GetReader),
		"GetRaw": cwsgen.Invoke0V((*svc).GetRaw), "GetNumber": cwsgen.Invoke0V((*svc).GetNumber),
		"GetDoc": cwsgen.Invoke0V((*svc).GetDoc), "GetNoKeyword": cwsgen.Invoke0V((*svc).GetNoKeyword),
		"GetDevOnly": cwsgen.Invoke0V((*svc).GetDevOnly), "GetProdOnly": cwsgen.Invoke0V((*svc).GetProdOnly),
		"GetRenamed_": cwsgen.Invoke1V((*svc).GetRenamed_), "GetDynamic_": cwsgen.Invoke1VE((*svc).GetDynamic_),
		"GetStatus_": cwsgen.Invoke1VE((*svc).GetStatus_), "GetPath_": cwsgen.Invoke6V((*svc).GetPath_),
		"GetStr_": cwsgen.Invoke1V((*svc).GetStr_), "GetParams": cwsgen.Invoke1V((*svc).GetParams),
		"PostParams": cwsgen.Invoke1V((*svc).PostParams), "PostPtr": cwsgen.Invoke1V((*svc).PostPtr),
		"GetKw": cwsgen.Invoke1V((*svc).GetKw), "PostKw": cwsgen.Invoke1V((*svc).PostKw),
		"GetLists": cwsgen.Invoke1V((*svc).GetLists), "GetSingle": cwsgen.Invoke1V((*svc).GetSingle),
		"PostValid": cwsgen.Invoke1V((*svc).PostValid), "DeleteItem_": cwsgen.Invoke1E((*svc).DeleteItem_),
		"PutItem_": cwsgen.Invoke2V((*svc).PutItem_), "PostUpload": cwsgen.Invoke1VE((*svc).PostUpload),
	}
	fast, plain := map[string]cwsgen.MethodInfo{}, map[string]cwsgen.MethodInfo{}
	for name, inv := range invokers {
		mi := cwsgen.MethodInfo{Doc: docs[name], Params: params[name]}
		plain[name] = mi
		mi.Invoke = inv
		fast[name] = mi
	}
	cwsgen.Describe((*svc)(nil), cwsgen.TypeInfo{Methods: fast})
	cwsgen.Describe((*reflected)(nil), cwsgen.TypeInfo{Methods: plain})
}

// eachPath runs a behaviour test on svc through its invokers and through
// reflection.
func eachPath(t *testing.T, test func(t *testing.T, s any)) {
	t.Run("invoker", func(t *testing.T) { test(t, svc{}) })
	t.Run("reflect", func(t *testing.T) { test(t, reflected{}) })
}

func (svc) ConfigureEntries(c *runtime.EntryConfig) {
	c.Entry((*svc).GetPublic, runtime.NoAuth())
	c.Entry(svc.GetBytes, runtime.ContentType("image/png"))
	c.Entry("GetHTML", runtime.ContentType("text/html; charset=utf-8"))
	c.Entry((*svc).GetRenamed_, runtime.Path("/order-lines/{line-id}"))
	c.Entry((*svc).GetDevOnly, runtime.Stages("dev", "test"))
	c.Entry((*svc).GetProdOnly, runtime.Stages("prod"))
}

func (svc) GetPublic(ctx context.Context) string { return "public" }
func (svc) GetText(ctx context.Context) string   { return "hello" }
func (svc) GetHTML(ctx context.Context) string   { return "<p>hi</p>" }
func (svc) GetJSON(ctx context.Context) nested   { return nested{1, "x"} }
func (svc) GetNilSlice(ctx context.Context) []int {
	return nil
}
func (svc) GetNilMap(ctx context.Context) map[string]int { return nil }
func (svc) GetNilPtr(ctx context.Context) *nested        { return nil }
func (svc) GetNothing(ctx context.Context)               {}
func (svc) GetErrNil(ctx context.Context) error          { return nil }
func (svc) GetBytes(ctx context.Context) []byte          { return []byte{0x89, 'P', 'N', 'G'} }
func (svc) GetOctets(ctx context.Context) []byte         { return []byte{1, 2, 3} }
func (svc) GetReader(ctx context.Context) io.Reader      { return strings.NewReader("streamed") }
func (svc) GetRaw(ctx context.Context) json.RawMessage   { return json.RawMessage(`{"raw":true}`) }
func (svc) GetNumber(ctx context.Context) int            { return 42 }
func (svc) GetDoc(ctx context.Context) string            { return "doc" }
func (svc) GetNoKeyword(ctx context.Context) string      { return "none" }
func (svc) GetDevOnly(ctx context.Context) string        { return "dev" }
func (svc) GetProdOnly(ctx context.Context) string       { return "prod" }
func (svc) GetRenamed_(ctx context.Context, line int) int {
	return line
}

func (svc) GetDynamic_(ctx context.Context, kind string) (any, error) {
	switch kind {
	case "text":
		return "dyn", nil
	case "json":
		return map[string]int{"a": 1}, nil
	case "bytes":
		return []byte("b"), nil
	case "nil":
		return nil, nil
	}
	return nil, runtime.BadRequest("unknown kind %q", kind)
}

func (svc) GetStatus_(ctx context.Context, code int) (string, error) {
	switch code {
	case 201:
		runtime.SetStatus(ctx, 201)
		runtime.ResponseHeader(ctx).Set("Location", "/x")
		return "created", nil
	case 418:
		return "", teapot{}
	case 404:
		return "", runtime.NotFound("nothing at %d", code)
	case 409:
		return "", fmt.Errorf("wrapped: %w", runtime.Conflict("taken"))
	case 500:
		return "", errors.New("db password is hunter2")
	case 503:
		runtime.ResponseHeader(ctx).Set("Retry-After", "120")
		return "", runtime.NewProblem(503, "down for maintenance")
	case 599:
		panic("entry blew up")
	}
	return "ok", nil
}

type pathEcho struct {
	N    int       `json:"n"`
	B    bool      `json:"b"`
	F    float32   `json:"f"`
	IDs  []int64   `json:"ids"`
	When time.Time `json:"when"`
	Opt  *uint     `json:"opt"`
}

func (svc) GetPath_(ctx context.Context, n int, b bool, f float32, ids []int64, when time.Time, opt *uint) pathEcho {
	return pathEcho{n, b, f, ids, when, opt}
}

func (svc) GetStr_(ctx context.Context, s string) string { return s }

func (svc) GetParams(ctx context.Context, p params) params   { return p }
func (svc) PostParams(ctx context.Context, p params) params  { return p }
func (svc) PostPtr(ctx context.Context, p *params) *params   { return p }
func (svc) GetKw(ctx context.Context, kw map[string]any) any { return kw }
func (svc) PostKw(ctx context.Context, kw map[string]any) any {
	return kw
}
func (svc) GetLists(ctx context.Context, kw map[string][]string) any { return kw }
func (svc) GetSingle(ctx context.Context, kw map[string]string) any  { return kw }
func (svc) PostValid(ctx context.Context, v validated) string        { return "valid " + v.Name }
func (svc) DeleteItem_(ctx context.Context, id int) error            { return nil }
func (svc) PutItem_(ctx context.Context, id int, body nested) nested { body.A += id; return body }
func (svc) PostUpload(ctx context.Context, u upload) (map[string]any, error) {
	out := map[string]any{"title": u.Title, "data": string(u.Data), "more": len(u.More)}
	if u.File != nil {
		f, err := u.File.Open()
		if err != nil {
			return nil, err
		}
		defer f.Close()
		b, _ := io.ReadAll(f)
		out["file"] = u.File.Filename + ":" + string(b)
	}
	return out, nil
}

func TestResponses(t *testing.T) { eachPath(t, testResponses) }

func testResponses(t *testing.T, s any) {
	app, _ := newApp(t, s)
	get := func(target string) call { return call{method: "GET", target: target} }

	r := expect(t, app, get("/text"), 200, "hello")
	if ct := r.header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
		t.Errorf("string result: Content-Type %q", ct)
	}
	r = expect(t, app, get("/html"), 200, "<p>hi</p>")
	if ct := r.header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("declared content type: %q", ct)
	}
	r = expect(t, app, get("/json"), 200, `{"a":1,"b":"x"}`)
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("struct result: Content-Type %q", ct)
	}
	expect(t, app, get("/nil/slice"), 200, `[]`)
	expect(t, app, get("/nil/map"), 200, `{}`)
	expect(t, app, get("/number"), 200, `42`)
	expect(t, app, get("/raw"), 200, `{"raw":true}`)
	for _, p := range []string{"/nil/ptr", "/nothing", "/err/nil"} {
		r = expect(t, app, get(p), 204, "")
		if len(r.body) != 0 || r.header.Get("Content-Type") != "" {
			t.Errorf("%s: 204 with body %q, Content-Type %q", p, r.body, r.header.Get("Content-Type"))
		}
	}
	r = expect(t, app, get("/bytes"), 200, "")
	if ct := r.header.Get("Content-Type"); ct != "image/png" || !r.binary || !bytes.Equal(r.body, []byte{0x89, 'P', 'N', 'G'}) {
		t.Errorf("[]byte with ContentType: %q binary=%v %q", ct, r.binary, r.body)
	}
	r = expect(t, app, get("/octets"), 200, "")
	if ct := r.header.Get("Content-Type"); ct != "application/octet-stream" || !r.binary {
		t.Errorf("[]byte default: %q binary=%v", ct, r.binary)
	}
	r = expect(t, app, get("/reader"), 200, "streamed")
	if ct := r.header.Get("Content-Type"); ct != "application/octet-stream" || !r.binary {
		t.Errorf("io.Reader: %q binary=%v", ct, r.binary)
	}
	r = expect(t, app, get("/status/201"), 201, "created")
	if loc := r.header.Get("Location"); loc != "/x" {
		t.Errorf("Location %q", loc)
	}
	expect(t, app, get("/dynamic/text"), 200, "dyn")
	expect(t, app, get("/dynamic/json"), 200, `{"a":1}`)
	if r = expect(t, app, get("/dynamic/bytes"), 200, "b"); !r.binary {
		t.Error("dynamic []byte is not binary")
	}
	expect(t, app, get("/dynamic/nil"), 204, "")
}

func TestHeadAndOptions(t *testing.T) { eachPath(t, testHeadAndOptions) }

func testHeadAndOptions(t *testing.T, s any) {
	app, _ := newApp(t, s)
	r := expect(t, app, call{method: "HEAD", target: "/json"}, 200, "")
	if len(r.body) != 0 || r.header.Get("Content-Length") != "15" || r.header.Get("Content-Type") != "application/json" {
		t.Errorf("HEAD: body %q, headers %v", r.body, r.header)
	}
	r = expect(t, app, call{method: "OPTIONS", target: "/item/3"}, 204, "")
	if allow := r.header.Get("Allow"); allow != "DELETE, PUT" {
		t.Errorf("OPTIONS Allow %q", allow)
	}
}

func TestErrors(t *testing.T) { eachPath(t, testErrors) }

func testErrors(t *testing.T, s any) {
	app, logs := newApp(t, s)
	get := func(target string) call { return call{method: "GET", target: target} }

	p := expect(t, app, get("/status/404"), 404, "").problem(t)
	if p.Title != "Not Found" || p.Detail != "nothing at 404" || p.Instance != "/status/404" {
		t.Errorf("typed error: %+v", p)
	}
	if p = expect(t, app, get("/status/409"), 409, "").problem(t); p.Detail != "taken" {
		t.Errorf("wrapped typed error: %+v", p)
	}
	if p = expect(t, app, get("/status/418"), 418, "").problem(t); p.Detail != "short and stout" || p.Title != "I'm a teapot" {
		t.Errorf("StatusCode error: %+v", p)
	}
	r503 := expect(t, app, get("/status/503"), 503, "")
	if r503.problem(t).Detail != "down for maintenance" || r503.header.Get("Retry-After") != "120" {
		t.Errorf("503 with Retry-After: %v %s", r503.header, r503.body)
	}

	r := expect(t, app, get("/status/500"), 500, "")
	if p = r.problem(t); p.Detail != "" || strings.Contains(string(r.body), "hunter2") {
		t.Errorf("internal error leaks: %s", r.body)
	}
	if !strings.Contains(logs.String(), "hunter2") {
		t.Errorf("internal error not logged: %s", logs)
	}
	// The answer names the request, as the log line does: nothing else.
	if len(p.RequestID) != 16 || !strings.Contains(logs.String(), `"request_id":"`+p.RequestID+`"`) {
		t.Errorf("request id %q not in the log:\n%s", p.RequestID, logs)
	}
	if strings.Contains(string(r.body), "status.go") || strings.Contains(string(r.body), "goroutine") {
		t.Errorf("internals in the answer: %s", r.body)
	}

	r = expect(t, app, get("/status/599"), 500, "")
	if strings.Contains(string(r.body), "blew") || strings.Contains(string(r.body), "goroutine") {
		t.Errorf("panic leaks: %s", r.body)
	}
	if id := r.problem(t).RequestID; id == "" || id == p.RequestID || !strings.Contains(logs.String(), `"request_id":"`+id+`"`) {
		t.Errorf("the panic's request id %q (the error's %q) not in the log", id, p.RequestID)
	}
	if l := logs.String(); !strings.Contains(l, "entry blew up") || !strings.Contains(l, "goroutine") {
		t.Errorf("panic not logged with its stack: %s", l)
	}
	expect(t, app, get("/status/200"), 200, "ok") // still serving

	p = expect(t, app, get("/no/such/route"), 404, "").problem(t)
	if !strings.Contains(p.Detail, "GET /no/such/route") {
		t.Errorf("404 detail %q", p.Detail)
	}
	r = expect(t, app, call{method: "POST", target: "/text"}, 405, "")
	if allow := r.header.Get("Allow"); allow != "GET, HEAD" {
		t.Errorf("405 Allow %q", allow)
	}
	r.problem(t)
	expect(t, app, call{method: "TRACE", target: "/text"}, 405, "")

	p = expect(t, app, call{method: "POST", target: "/params", body: `{"n": 1`}, 400, "").problem(t)
	if !strings.Contains(p.Detail, "malformed JSON") {
		t.Errorf("400 detail %q", p.Detail)
	}
	expect(t, app, call{method: "POST", target: "/params", body: `{"n": 1} {}`}, 400, "")
	expect(t, app, call{method: "POST", target: "/params", body: `<xml/>`, contentType: "application/xml"}, 415, "")
	expect(t, app, call{method: "POST", target: "/params", body: `{"n":1}`, contentType: "text/plain"}, 415, "")
	p = expect(t, app, call{method: "POST", target: "/params", body: `{"n":1}`, contentType: "application/x-www-form-urlencoded"}, 415, "").problem(t)
	if !strings.Contains(p.Detail, "looks like JSON") {
		t.Errorf("form-encoded JSON: %q", p.Detail)
	}
	p = expect(t, app, call{method: "GET", target: "/text", body: `{"ignored":"no"}`}, 400, "").problem(t)
	if !strings.Contains(p.Detail, "a GET request takes no body") {
		t.Errorf("a GET with a body: %q", p.Detail)
	}
	expect(t, app, call{method: "GET", target: "/params?n=1;m=2"}, 400, "")
	expect(t, app, call{method: "GET", target: "/params?n=%zz"}, 400, "")
	expect(t, app, call{method: "GET", target: "/str/%zz"}, 400, "")
}

func TestBodyLimit(t *testing.T) { eachPath(t, testBodyLimit) }

func testBodyLimit(t *testing.T, s any) {
	app, _ := newApp(t, s, runtime.WithMaxBodyBytes(16))
	expect(t, app, call{method: "POST", target: "/params", body: `{"n": 1234567890}`}, 413, "").problem(t)
	expect(t, app, call{method: "POST", target: "/params", body: `{"n": 12345678}`}, 200, "")
}

func TestPathParameters(t *testing.T) { eachPath(t, testPathParameters) }

func testPathParameters(t *testing.T, s any) {
	app, _ := newApp(t, s)
	expect(t, app, call{method: "GET", target: "/path/-7/YES/1.5/1,2,3/2024-02-29T12:00:00Z/9"}, 200,
		`{"n":-7,"b":true,"f":1.5,"ids":[1,2,3],"when":"2024-02-29T12:00:00Z","opt":9}`)
	expect(t, app, call{method: "GET", target: "/path/0/no/0/5/2024-01-01T00:00:00%2B02:00/0"}, 200,
		`{"n":0,"b":false,"f":0,"ids":[5],"when":"2024-01-01T00:00:00+02:00","opt":0}`)
	for _, b := range []string{"true", "TRUE", "1", "yes", "Yes", "on", "ON"} {
		r := do(t, app, call{method: "GET", target: "/path/0/" + b + "/0/1/2024-01-01T00:00:00Z/0"})
		if !strings.Contains(r.text(), `"b":true`) {
			t.Errorf("bool %q: %s", b, r.body)
		}
	}
	for _, b := range []string{"false", "False", "0", "no", "NO", "off"} {
		r := do(t, app, call{method: "GET", target: "/path/0/" + b + "/0/1/2024-01-01T00:00:00Z/0"})
		if !strings.Contains(r.text(), `"b":false`) {
			t.Errorf("bool %q: %s", b, r.body)
		}
	}
	// Not a boolean: refused, not false (schemathesis sent ?flag=AAA).
	for _, b := range []string{"y", "AAA", "2", "truee", "nope", "%20"} {
		r := do(t, app, call{method: "GET", target: "/path/0/" + b + "/0/1/2024-01-01T00:00:00Z/0"})
		if r.status != 422 || !strings.Contains(r.text(), "is not a boolean") {
			t.Errorf("bool %q: %d %s", b, r.status, r.body)
		}
	}
	p := expect(t, app, call{method: "GET", target: "/path/x/1/y/1,z/yesterday/-1"}, 422, "").problem(t)
	want := []runtime.ParamError{
		{Name: "n", In: "path", Detail: `"x" is not an integer`},
		{Name: "f", In: "path", Detail: `"y" is not a number`},
		{Name: "ids", In: "path", Detail: `"z" is not an integer`},
		{Name: "when", In: "path", Detail: `"yesterday" is not an RFC 3339 time`},
		{Name: "opt", In: "path", Detail: `"-1" is not a non-negative integer`},
	}
	if fmt.Sprint(p.Errors) != fmt.Sprint(want) {
		t.Errorf("errors\n  %v\nwant\n  %v", p.Errors, want)
	}
	expect(t, app, call{method: "GET", target: "/path/99999999999999999999/1/1/1/2024-01-01T00:00:00Z/1"}, 422, "")
	expect(t, app, call{method: "GET", target: "/str/a%20b%2Fc"}, 200, "a b/c")
	expect(t, app, call{method: "GET", target: "/str/caf%C3%A9"}, 200, "café")
	expect(t, app, call{method: "GET", target: "/order-lines/12"}, 200, "12")
}

func TestQueryParameters(t *testing.T) { eachPath(t, testQueryParameters) }

func testQueryParameters(t *testing.T, s any) {
	app, _ := newApp(t, s)
	r := expect(t, app, call{method: "GET", target: "/params?flag=yes&ids=1&ids=2&n=3&ratio=0.5&name=bob&when=2024-01-02T03:04:05Z" +
		"&raw=%7B%22a%22%3A1%7D&nested=%7B%22a%22%3A2%7D&u8=255&Plain=p&labels=%7B%22k%22%3A%22v%22%7D"}, 200, "")
	var got params
	if err := json.Unmarshal(r.body, &got); err != nil {
		t.Fatal(err)
	}
	if !got.Flag || fmt.Sprint(got.IDs) != "[1 2]" || got.N != 3 || got.Ratio != 0.5 || got.Name == nil || *got.Name != "bob" ||
		!got.When.Equal(time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)) || string(got.Raw) != `{"a":1}` ||
		got.Nested == nil || got.Nested.A != 2 || got.U8 != 255 || got.Plain != "p" || got.Labels["k"] != "v" {
		t.Errorf("bound %+v", got)
	}
	r = expect(t, app, call{method: "GET", target: "/params?ids=7"}, 200, "")
	if !strings.Contains(r.text(), `"ids":[7]`) {
		t.Errorf("one value is a list: %s", r.body)
	}
	expect(t, app, call{method: "GET", target: "/params?PLAIN=case"}, 200, "")

	p := expect(t, app, call{method: "GET", target: "/params?n=1&n=2&u8=256&bogus=1&Skip=x&raw=%7B"}, 422, "").problem(t)
	want := []runtime.ParamError{
		{Name: "n", In: "query", Detail: "given more than once, but takes one value"},
		{Name: "u8", In: "query", Detail: `"256" is out of range`},
		{Name: "bogus", In: "query", Detail: "unknown keyword"},
		{Name: "Skip", In: "query", Detail: "unknown keyword"},
		{Name: "raw", In: "query", Detail: `"{" is not valid JSON`},
	}
	if fmt.Sprint(p.Errors) != fmt.Sprint(want) {
		t.Errorf("errors\n  %v\nwant\n  %v", p.Errors, want)
	}
	if !strings.HasPrefix(p.Detail, "5 parameters are invalid") {
		t.Errorf("detail %q", p.Detail)
	}

	expect(t, app, call{method: "GET", target: "/kw?a=1&b=x&b=y&c="}, 200, `{"a":"1","b":["x","y"],"c":""}`)
	expect(t, app, call{method: "GET", target: "/lists?a=1&b=x&b=y"}, 200, `{"a":["1"],"b":["x","y"]}`)
	expect(t, app, call{method: "GET", target: "/single?a=1&b=2"}, 200, `{"a":"1","b":"2"}`)
	expect(t, app, call{method: "GET", target: "/single?a=1&a=2"}, 422, "")
	expect(t, app, call{method: "GET", target: "/kw"}, 200, `{}`)
	p = expect(t, app, call{method: "GET", target: "/no/keyword?x=1"}, 422, "").problem(t)
	if p.Errors[0].Name != "x" {
		t.Errorf("no keyword: %+v", p)
	}
	// Decoded query values, as API Gateway REST delivers them.
	req := &runtime.Request{Method: "GET", Path: "/kw", Header: http.Header{"Authorization": {testToken}},
		Query: url.Values{"a": {"1 2"}, "b": {"x", "y"}}}
	if resp := app.Serve(context.Background(), req); string(resp.Body) != `{"a":"1 2","b":["x","y"]}` {
		t.Errorf("decoded query: %d %s", resp.Status, resp.Body)
	}
}

func TestBodyParameters(t *testing.T) { eachPath(t, testBodyParameters) }

func testBodyParameters(t *testing.T, s any) {
	app, _ := newApp(t, s)
	r := expect(t, app, call{method: "POST", target: "/params", body: `{"flag":true,"ids":[1],"n":2,"nested":{"a":3,"b":"c"},"raw":[1,2],"when":"2024-01-01T00:00:00Z"}`}, 200, "")
	var got params
	_ = json.Unmarshal(r.body, &got)
	if !got.Flag || got.N != 2 || got.Nested.B != "c" || string(got.Raw) != "[1,2]" {
		t.Errorf("JSON body: %s", r.body)
	}
	expect(t, app, call{method: "POST", target: "/ptr", body: `{"n":5}`}, 200, "")
	expect(t, app, call{method: "POST", target: "/params", body: `{"n":"five"}`}, 422, "")
	p := expect(t, app, call{method: "POST", target: "/params", body: `{"n":1,"extra":2}`}, 422, "").problem(t)
	if len(p.Errors) != 1 || p.Errors[0].Name != "extra" || p.Errors[0].In != "body" {
		t.Errorf("unknown body keyword: %+v", p)
	}
	expect(t, app, call{method: "POST", target: "/params", body: `[1,2]`}, 422, "")
	// A null body is no object of keywords (schemathesis: POST /reminders
	// with null was accepted, as if every keyword were absent).
	for _, target := range []string{"/params", "/kw"} {
		p = expect(t, app, call{method: "POST", target: target, body: " null\n"}, 422, "").problem(t)
		if len(p.Errors) != 1 || p.Errors[0].In != "body" || !strings.Contains(p.Errors[0].Detail, "JSON null") {
			t.Errorf("null body of %s: %+v", target, p)
		}
	}
	expect(t, app, call{method: "POST", target: "/params", body: `{"when":"soon"}`}, 422, "")
	expect(t, app, call{method: "POST", target: "/params", body: `{"n":1}`, contentType: "application/vnd.api+json"}, 200, "")
	expect(t, app, call{method: "POST", target: "/kw", body: `{"big":12345678901234567890,"l":[1,"a"]}`}, 200, `{"big":12345678901234567890,"l":[1,"a"]}`)
	// Form bodies.
	expect(t, app, call{method: "POST", target: "/kw", body: "a=1&b=2&b=3", contentType: "application/x-www-form-urlencoded"}, 200, `{"a":"1","b":["2","3"]}`)
	r = expect(t, app, call{method: "POST", target: "/params", body: "n=4&ids=1&ids=2", contentType: "application/x-www-form-urlencoded"}, 200, "")
	if !strings.Contains(r.text(), `"ids":[1,2]`) || !strings.Contains(r.text(), `"n":4`) {
		t.Errorf("form: %s", r.body)
	}
	// An empty body takes the query string.
	expect(t, app, call{method: "POST", target: "/kw?q=1"}, 200, `{"q":"1"}`)
	// Positional and keyword parameters together.
	expect(t, app, call{method: "PUT", target: "/item/10", body: `{"a":1,"b":"x"}`}, 200, `{"a":11,"b":"x"}`)
	expect(t, app, call{method: "DELETE", target: "/item/10"}, 204, "")
	// Validate.
	expect(t, app, call{method: "POST", target: "/valid", body: `{"name":"x"}`}, 200, "valid x")
	if p := expect(t, app, call{method: "POST", target: "/valid", body: `{}`}, 422, "").problem(t); p.Detail != "name is required" {
		t.Errorf("Validate: %+v", p)
	}
}

func TestMultipart(t *testing.T) { eachPath(t, testMultipart) }

func testMultipart(t *testing.T, s any) {
	app, _ := newApp(t, s)
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	_ = w.WriteField("title", "report")
	fw, _ := w.CreateFormFile("file", "a.txt")
	_, _ = fw.Write([]byte("file content"))
	fw, _ = w.CreateFormFile("data", "b.bin")
	_, _ = fw.Write([]byte("raw bytes"))
	for i := range 2 {
		fw, _ = w.CreateFormFile("more", fmt.Sprintf("m%d", i))
		_, _ = fw.Write([]byte("m"))
	}
	_ = w.Close()
	expect(t, app, call{method: "POST", target: "/upload", body: body.String(), contentType: w.FormDataContentType()}, 200,
		`{"data":"raw bytes","file":"a.txt:file content","more":2,"title":"report"}`)

	body.Reset()
	w = multipart.NewWriter(&body)
	fw, _ = w.CreateFormFile("title", "x")
	_, _ = fw.Write([]byte("x"))
	_ = w.Close()
	p := expect(t, app, call{method: "POST", target: "/upload", body: body.String(), contentType: w.FormDataContentType()}, 422, "").problem(t)
	if p.Errors[0].Name != "title" {
		t.Errorf("file for a text field: %+v", p)
	}
	expect(t, app, call{method: "POST", target: "/upload", body: "--x\r\nbroken", contentType: "multipart/form-data; boundary=x"}, 400, "")
	expect(t, app, call{method: "POST", target: "/upload", body: "x", contentType: "multipart/form-data"}, 400, "")
}

func TestAuthorization(t *testing.T) { eachPath(t, testAuthorization) }

func testAuthorization(t *testing.T, s any) {
	app, _ := newApp(t, s)
	p := expect(t, app, call{method: "GET", target: "/text", token: "-"}, 401, "").problem(t)
	if p.Detail != "missing Authorization header" {
		t.Errorf("401: %+v", p)
	}
	expect(t, app, call{method: "GET", target: "/text", token: testutil.WrongToken}, 403, "").problem(t)
	expect(t, app, call{method: "GET", target: "/text", token: testToken + "x"}, 403, "")
	expect(t, app, call{method: "GET", target: "/public", token: "-"}, 200, "public")
	// Authorization comes before binding: no parameter detail leaks to a
	// caller without a token.
	expect(t, app, call{method: "GET", target: "/str/%zz", token: "-"}, 401, "")

	t.Setenv("TOKEN", "")
	app2, err := runtime.New(s)
	if err != nil {
		t.Fatal(err)
	}
	if w := app2.Warnings(); len(w) == 0 || !strings.Contains(w[0], "TOKEN") {
		t.Errorf("no warning for an empty TOKEN: %q", w)
	}
	expect(t, app2, call{method: "GET", target: "/text", token: " "}, 403, "")
}

// selfAuth authorizes itself.
type selfAuth struct{ svc }

func (selfAuth) Authorize(ctx context.Context, token string) (bool, error) {
	if token == "failing-token-9e4b" {
		return false, errors.New("auth backend down")
	}
	return token == "Bearer friend-token-2c8e", nil
}

func TestCustomAuthorizer(t *testing.T) {
	app, logs := newApp(t, selfAuth{})
	expect(t, app, call{method: "GET", target: "/text", token: "Bearer friend-token-2c8e"}, 200, "hello")
	expect(t, app, call{method: "GET", target: "/text", token: testToken}, 403, "")
	r := expect(t, app, call{method: "GET", target: "/text", token: "failing-token-9e4b"}, 500, "")
	if strings.Contains(r.text(), "backend") || !strings.Contains(logs.String(), "auth backend down") {
		t.Errorf("authorizer error: body %s, log %s", r.body, logs)
	}
	if id := r.problem(t).RequestID; id == "" || !strings.Contains(logs.String(), `"request_id":"`+id+`"`) {
		t.Errorf("the authorizer's 500: request id %q not in the log %s", id, logs)
	}
	app, _ = newApp(t, selfAuth{}, runtime.WithAuthorizer(runtime.TokenAuthorizer(testutil.Token)))
	expect(t, app, call{method: "GET", target: "/text", token: testutil.Token}, 200, "hello")
	expect(t, app, call{method: "GET", target: "/text", token: "Bearer friend-token-2c8e"}, 403, "")
	if ok, _ := app.Authorize(context.Background(), ""); ok {
		t.Error("empty token authorized")
	}
}

func TestStages(t *testing.T) { eachPath(t, testStages) }

func testStages(t *testing.T, s any) {
	app, _ := newApp(t, s)
	if app.Stage() != "dev" {
		t.Errorf("default stage %q", app.Stage())
	}
	expect(t, app, call{method: "GET", target: "/dev/only"}, 200, "dev")
	expect(t, app, call{method: "GET", target: "/prod/only"}, 404, "")

	t.Setenv("CWS_STAGE", "prod")
	prod, err := runtime.New(s)
	if err != nil {
		t.Fatal(err)
	}
	expect(t, prod, call{method: "GET", target: "/dev/only"}, 404, "")
	expect(t, prod, call{method: "GET", target: "/prod/only"}, 200, "prod")
	test, _ := runtime.New(s, runtime.WithStage("test"))
	expect(t, test, call{method: "GET", target: "/dev/only"}, 200, "dev")

	for _, r := range prod.Routes() {
		switch r.Path {
		case "/dev/only":
			if r.Active || fmt.Sprint(r.Stages) != "[dev test]" {
				t.Errorf("dev route in prod: %+v", r)
			}
		case "/prod/only":
			if !r.Active {
				t.Errorf("prod route in prod: %+v", r)
			}
		}
	}
}

func TestRoutes(t *testing.T) { eachPath(t, testRoutes) }

func testRoutes(t *testing.T, s any) {
	app, _ := newApp(t, s)
	byPath := map[string]runtime.Route{}
	for _, r := range app.Routes() {
		byPath[r.Method+" "+r.Path] = r
	}
	r := byPath["GET /path/{n}/{b}/{f}/{ids}/{when}/{opt}"]
	if r.Entry != "GetPath_" || fmt.Sprint(r.Params) != "[n b f ids when opt]" || r.Doc != "GetPath_ echoes." || !r.Auth {
		t.Errorf("route %+v", r)
	}
	if r := byPath["GET /public"]; r.Auth {
		t.Errorf("NoAuth route %+v", r)
	}
	if r := byPath["GET /order-lines/{line-id}"]; r.Entry != "GetRenamed_" || fmt.Sprint(r.Params) != "[line-id]" {
		t.Errorf("Path route %+v", r)
	}
	if r := byPath["GET /bytes"]; r.ContentType != "image/png" {
		t.Errorf("ContentType route %+v", r)
	}
	if r := byPath["GET /params"]; fmt.Sprint(r.Keywords) != "[flag ids n ratio name when raw nested labels u8 Plain]" {
		t.Errorf("keywords %q", r.Keywords)
	}
	if r := byPath["GET /kw"]; fmt.Sprint(r.Keywords) != "[**]" {
		t.Errorf("kwargs %q", r.Keywords)
	}
	want := "svc"
	if _, ok := s.(reflected); ok {
		want = "reflected"
	}
	if app.Name() != want {
		t.Errorf("name %q, want %q", app.Name(), want)
	}
}

// undescribed has no generated description.
type undescribed struct{}

func (undescribed) GetThing_(ctx context.Context, a int, b string) string { return fmt.Sprint(a, b) }

func TestUndescribedParameterNames(t *testing.T) {
	app, _ := newApp(t, undescribed{})
	if r := app.Routes()[0]; r.Path != "/thing/{arg1}/{arg2}" {
		t.Errorf("path %s", r.Path)
	}
	if w := app.Warnings(); len(w) != 1 || !strings.Contains(w[0], "cws gen") {
		t.Errorf("warnings %q", w)
	}
	expect(t, app, call{method: "GET", target: "/thing/1/x"}, 200, "1x")
}
