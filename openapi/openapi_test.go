package openapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/config"
	"github.com/pb33f/libopenapi-validator/schema_validation"

	"github.com/coworks-go/cws/internal/testutil"
	"github.com/coworks-go/cws/openapi"
	"github.com/coworks-go/cws/runtime"
	"github.com/coworks-go/cws/runtime/cwsgen"
)

// kinds has an entry for every kind of parameter and result the runtime
// serves.
type kinds struct{}

// Item is a stored thing.
type Item struct {
	ID      int               `json:"id"`
	Name    string            `json:"name"`
	Tags    []string          `json:"tags"`
	Note    string            `json:"note,omitempty"`
	Parent  *Item             `json:"parent"`
	Counts  map[string]int    `json:"counts"`
	When    time.Time         `json:"when"`
	Blob    []byte            `json:"blob"`
	Raw     json.RawMessage   `json:"raw"`
	Any     any               `json:"any"`
	Big     int64             `json:"big,string"`
	Skipped string            `json:"-"`
	Small   uint8             `json:"small"`
	Extra   map[string]string `json:"extra,omitempty"`
	Embedded
}

// Embedded is promoted into Item.
type Embedded struct {
	Origin string `json:"origin"`
}

// Input is a JSON body.
type Input struct {
	Name  string   `json:"name" jsonschema:"required,minLength=1,maxLength=20"`
	Level string   `json:"level" jsonschema:"enum=low,enum=high"`
	Price float64  `json:"price" jsonschema:"minimum=0"`
	Tags  []string `json:"tags" jsonschema:"maxItems=3,pattern=^[a-z]+$"`
	Child *Child   `json:"child"`
}

// Child is nested in Input.
type Child struct {
	N int `json:"n"`
}

// Validate enforces what the tags declare.
func (in *Input) Validate() error {
	switch {
	case in.Name == "" || len(in.Name) > 20:
		return errors.New("name: 1 to 20 characters")
	case in.Level != "" && in.Level != "low" && in.Level != "high":
		return errors.New("level: low or high")
	case in.Price < 0:
		return errors.New("price: not negative")
	case len(in.Tags) > 3:
		return errors.New("tags: 3 at most")
	}
	for _, t := range in.Tags {
		if t == "" || strings.Trim(t, "abcdefghijklmnopqrstuvwxyz") != "" {
			return errors.New("tags: lower-case letters")
		}
	}
	return nil
}

// Query is a GET's keywords.
type Query struct {
	Flag  bool       `json:"flag"`
	N     *int       `json:"n"`
	IDs   []int      `json:"ids"`
	Since time.Time  `json:"since"`
	Pos   Child      `json:"pos"`
	Addr  netip.Addr `json:"addr"`
	Tiny  int8       `json:"tiny"`
	Order string     `json:"order" jsonschema:"enum=asc,enum=desc"`
}

// Validate enforces what the tags declare.
func (q *Query) Validate() error {
	if q.Order != "" && q.Order != "asc" && q.Order != "desc" {
		return errors.New("order: asc or desc")
	}
	return nil
}

// Upload is a multipart body.
type Upload struct {
	Title string                  `json:"title"`
	File  *multipart.FileHeader   `json:"file"`
	More  []*multipart.FileHeader `json:"more"`
}

func (kinds) ConfigureEntries(c *runtime.EntryConfig) {
	c.Entry(kinds.PostItems, runtime.Status(201, 409))
	c.Entry(kinds.GetLogo, runtime.ContentType("image/png"), runtime.NoAuth())
	c.Entry(kinds.GetPage, runtime.ContentType("text/html; charset=utf-8", "text/plain; charset=utf-8"))
	c.Entry(kinds.GetSecret, runtime.Stages("prod"))
}

func (kinds) GetItems_(ctx context.Context, id int) (*Item, error) {
	if id == 0 {
		return nil, nil
	}
	if id < 0 {
		return nil, runtime.NotFound("no item %d", id)
	}
	return &Item{ID: id, Name: "n", Tags: nil, When: time.Unix(0, 0).UTC(), Blob: []byte("b"), Raw: json.RawMessage(`{"a":1}`), Any: 1.5, Big: 1 << 60, Small: 7}, nil
}

func (kinds) GetItems(ctx context.Context, q Query) []Item { return nil }

func (kinds) PostItems(ctx context.Context, in Input) (Item, error) {
	return Item{Name: in.Name, Tags: in.Tags, Counts: map[string]int{"a": 1}}, nil
}

func (kinds) PutItems_(ctx context.Context, id int, in *Input) error { return nil }

func (kinds) DeleteItems_(ctx context.Context, id int, q struct {
	Force bool `json:"force"`
}) {
}

func (kinds) GetPath_(ctx context.Context, s string, b bool, f float64, ids []int, t time.Time, a netip.Addr) string {
	return "ok"
}

func (kinds) GetKwargs(ctx context.Context, kw map[string]any) map[string]any { return kw }

func (kinds) PostKwargs(ctx context.Context, kw map[string]string) map[string]string { return kw }

func (kinds) PostUpload(ctx context.Context, u Upload) string { return u.Title }

func (kinds) GetLogo(ctx context.Context) []byte { return []byte("\x89PNG") }

func (kinds) GetStream(ctx context.Context) io.Reader { return strings.NewReader("s") }

func (kinds) GetPage(ctx context.Context) string { return "<p>page</p>" }

func (kinds) GetRaw(ctx context.Context) json.RawMessage { return json.RawMessage(`[1]`) }

func (kinds) GetAny(ctx context.Context) any { return "text" }

func (kinds) GetMap(ctx context.Context) map[string][]int { return nil }

func (kinds) GetSecret(ctx context.Context) string { return "" }

// extras is a blueprint.
type extras struct{}

func (extras) GetHello(ctx context.Context) string { return "hello" }

func init() {
	cwsgen.Describe((*kinds)(nil), cwsgen.TypeInfo{Doc: "kinds has every kind of entry.", Methods: map[string]cwsgen.MethodInfo{
		"GetItems_":    {Doc: "GetItems_ returns the item id. A nil one is no content.", Params: []string{"id"}},
		"GetItems":     {Doc: "GetItems lists items.", Params: []string{"q"}},
		"PostItems":    {Doc: "PostItems creates an item.", Params: []string{"in"}},
		"PutItems_":    {Params: []string{"id", "in"}},
		"DeleteItems_": {Params: []string{"id", "q"}},
		"GetPath_":     {Params: []string{"s", "b", "f", "ids", "t", "a"}},
		"GetKwargs":    {Params: []string{"kw"}},
		"PostKwargs":   {Params: []string{"kw"}},
		"PostUpload":   {Params: []string{"u"}},
	}})
}

// newApp builds the App of kinds with the extras blueprint, in stage dev.
func newApp(t *testing.T) *runtime.App {
	t.Helper()
	t.Setenv("TOKEN", testutil.Token)
	app, err := runtime.New(&kinds{}, runtime.WithBlueprint("/extras", extras{}), runtime.WithStage("dev"),
		runtime.WithMaxBodyBytes(1<<20), runtime.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		t.Fatal(err)
	}
	return app
}

// document generates the document of app and encodes it.
func document(t *testing.T, app *runtime.App) (*openapi3.T, []byte) {
	t.Helper()
	doc, err := openapi.Document(context.Background(), app)
	if err != nil {
		t.Fatal(err)
	}
	b, err := openapi.JSON(doc)
	if err != nil {
		t.Fatal(err)
	}
	return doc, b
}

// at returns the value at a path of keys in a decoded JSON document.
func at(t *testing.T, v any, path ...string) any {
	t.Helper()
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("%s: not an object at %q", strings.Join(path, "/"), k)
		}
		v = m[k]
	}
	return v
}

// jsonOf encodes v compactly, for comparisons.
func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestDocumentIsValid: the document passes kin-openapi's validator and,
// independently, pb33f/libopenapi's validation against the OpenAPI 3.1
// JSON Schema; loaded again, it is the same.
func TestDocumentIsValid(t *testing.T) {
	_, b := document(t, newApp(t))
	loaded, err := openapi3.NewLoader().LoadFromData(b)
	if err != nil {
		t.Fatal(err)
	}
	if err := loaded.Validate(context.Background()); err != nil {
		t.Errorf("kin-openapi: %v", err)
	}
	validIndependently(t, b)

	y, err := openapi.JSONToYAML(b)
	if err != nil {
		t.Fatal(err)
	}
	fromYAML, err := openapi3.NewLoader().LoadFromData(y)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := jsonOf(fromYAML), jsonOf(loaded); a != b {
		t.Errorf("the YAML document differs from the JSON one")
	}
	validIndependently(t, y)
}

// validIndependently validates a document with pb33f/libopenapi against
// the OpenAPI JSON Schema it embeds.
func validIndependently(t *testing.T, b []byte) {
	t.Helper()
	doc, err := libopenapi.NewDocument(b)
	if err != nil {
		t.Fatal(err)
	}
	if ok, errs := schema_validation.ValidateOpenAPIDocument(doc); !ok {
		for _, e := range errs {
			t.Errorf("libopenapi: %v", e)
			for _, se := range e.SchemaValidationErrors {
				t.Errorf("  %s: %s", strings.Join(se.InstancePath, "/"), se.Reason)
			}
		}
	}
}

// TestIndependentValidatorRefuses: the independent validator is no rubber
// stamp.
func TestIndependentValidatorRefuses(t *testing.T) {
	doc, err := libopenapi.NewDocument([]byte(`{"openapi":"3.1.0","info":{"title":"x"},"paths":{"/a":{"get":{"responses":{"200":{"content":{}}}}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := schema_validation.ValidateOpenAPIDocument(doc); ok {
		t.Error("a document without info.version and a response without description passed")
	}
}

// TestDocumentSays checks what the document says of each kind of entry.
func TestDocumentSays(t *testing.T) {
	_, b := document(t, newApp(t))
	var d any
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	paths := at(t, d, "paths").(map[string]any)
	for _, c := range []struct {
		what string
		got  any
		want string
	}{
		{"version", at(t, d, "openapi"), `"3.1.0"`},
		{"title", at(t, d, "info", "title"), `"kinds"`},
		{"stage", at(t, d, "info", "version"), `"dev"`},
		{"security scheme", at(t, d, "components", "securitySchemes", "token"), `{"description":"The token, as the Authorization header's whole value (no scheme), checked by the service's authorizer. Without it a guarded entry answers 401; a refused token 403.","in":"header","name":"Authorization","type":"apiKey"}`},
		{"security", at(t, d, "security"), `[{"token":[]}]`},
		{"no auth", at(t, d, "paths", "/logo", "get", "security"), `[]`},
		{"summary", at(t, d, "paths", "/items/{id}", "get", "summary"), `"Returns the item id."`},
		{"description", at(t, d, "paths", "/items/{id}", "get", "description"), `"Returns the item id. A nil one is no content."`},
		{"tags", at(t, d, "tags"), `[{"description":"kinds has every kind of entry.","name":"kinds"},{"name":"extras"}]`},
		{"blueprint tag", at(t, d, "paths", "/extras/hello", "get", "tags"), `["extras"]`},
		{"operation id", at(t, d, "paths", "/extras/hello", "get", "operationId"), `"extras.GetHello"`},
		// Path parameters, as text.
		{"int path", at(t, d, "paths", "/items/{id}", "get", "parameters"), `[{"in":"path","name":"id","required":true,"schema":{"format":"int64","type":"integer"}}]`},
		{"path kinds", at(t, d, "paths", "/path/{s}/{b}/{f}/{ids}/{t}/{a}", "get", "parameters"), `[` +
			`{"in":"path","name":"s","required":true,"schema":{"minLength":1,"type":"string"}},` +
			`{"in":"path","name":"b","required":true,"schema":{"type":"boolean"}},` +
			`{"in":"path","name":"f","required":true,"schema":{"format":"double","type":"number"}},` +
			`{"explode":false,"in":"path","name":"ids","required":true,"schema":{"items":{"format":"int64","type":"integer"},"minItems":1,"type":"array"},"style":"simple"},` +
			`{"in":"path","name":"t","required":true,"schema":{"format":"date-time","minLength":1,"type":"string"}},` +
			`{"in":"path","name":"a","required":true,"schema":{"minLength":1,"type":"string"}}]`},
		// Query keywords: repeated keys for lists, JSON text for structs,
		// bounds, enums.
		{"query", at(t, d, "paths", "/items", "get", "parameters"), `[` +
			`{"in":"query","name":"flag","schema":{"type":"boolean"}},` +
			`{"in":"query","name":"n","schema":{"format":"int64","type":"integer"}},` +
			`{"explode":true,"in":"query","name":"ids","schema":{"items":{"format":"int64","type":"integer"},"type":"array"},"style":"form"},` +
			`{"in":"query","name":"since","schema":{"format":"date-time","type":"string"}},` +
			`{"content":{"application/json":{"schema":{"$ref":"#/components/schemas/Child"}}},"in":"query","name":"pos"},` +
			`{"in":"query","name":"addr","schema":{"type":"string"}},` +
			`{"in":"query","name":"tiny","schema":{"format":"int32","maximum":127,"minimum":-128,"type":"integer"}},` +
			`{"in":"query","name":"order","schema":{"enum":["asc","desc",""],"type":"string"}}]`},
		{"delete keywords in the query", at(t, d, "paths", "/items/{id}", "delete", "parameters"), `[{"in":"path","name":"id","required":true,"schema":{"format":"int64","type":"integer"}},{"in":"query","name":"force","schema":{"type":"boolean"}}]`},
		{"keyword map", at(t, d, "paths", "/kwargs", "get", "parameters"), `[{"description":"Any keywords, each a query parameter.","explode":true,"in":"query","name":"keywords","schema":{"type":"object"},"style":"form"}]`},
		// Bodies: decoded (nullable, unknown keys refused, tags).
		{"body", at(t, d, "paths", "/items", "post", "requestBody"), `{"content":{"application/json":{"schema":{"$ref":"#/components/schemas/Input"}}},"required":true}`},
		{"input", at(t, d, "components", "schemas", "Input"), `{"additionalProperties":false,"properties":{` +
			`"child":{"anyOf":[{"$ref":"#/components/schemas/Child"},{"type":"null"}]},` +
			`"level":{"enum":["low","high",null,""],"type":["string","null"]},` +
			`"name":{"maxLength":20,"minLength":1,"type":"string"},` +
			`"price":{"format":"double","minimum":0,"type":["number","null"]},` +
			`"tags":{"items":{"pattern":"^[a-z]+$","type":"string"},"maxItems":3,"type":["array","null"]}},` +
			`"required":["name"],"type":"object"}`},
		{"map body", at(t, d, "paths", "/kwargs", "post", "requestBody"), `{"content":{"application/json":{"schema":{"additionalProperties":{"type":["string","null"]},"type":"object"}}}}`},
		{"multipart", at(t, d, "paths", "/upload", "post", "requestBody", "content"), `{"multipart/form-data":{"schema":{"additionalProperties":false,"properties":{` +
			`"file":{"contentMediaType":"application/octet-stream","type":"string"},` +
			`"more":{"items":{"contentMediaType":"application/octet-stream","type":"string"},"type":"array"},` +
			`"title":{"type":"string"}},"type":"object"}}}`},
		// Results: encoded (required unless omitempty, null for nil).
		{"item", at(t, d, "components", "schemas", "Item"), `{"properties":{` +
			`"any":{},` +
			`"big":{"type":"string"},` +
			`"blob":{"contentEncoding":"base64","type":["string","null"]},` +
			`"counts":{"additionalProperties":{"format":"int64","type":"integer"},"type":["object","null"]},` +
			`"extra":{"additionalProperties":{"type":"string"},"type":["object","null"]},` +
			`"id":{"format":"int64","type":"integer"},` +
			`"name":{"type":"string"},` +
			`"note":{"type":"string"},` +
			`"origin":{"type":"string"},` +
			`"parent":{"anyOf":[{"$ref":"#/components/schemas/Item"},{"type":"null"}]},` +
			`"raw":{},` +
			`"small":{"format":"int32","maximum":255,"minimum":0,"type":"integer"},` +
			`"tags":{"items":{"type":"string"},"type":["array","null"]},` +
			`"when":{"format":"date-time","type":"string"}},` +
			`"required":["id","name","tags","parent","counts","when","blob","raw","any","big","small","origin"],"type":"object"}`},
		{"created", at(t, d, "paths", "/items", "post", "responses", "201", "content"), `{"application/json":{"schema":{"$ref":"#/components/schemas/Item"}}}`},
		{"declared problem", at(t, d, "paths", "/items", "post", "responses", "409"), `{"$ref":"#/components/responses/Conflict"}`},
		{"nil result", at(t, d, "paths", "/items/{id}", "get", "responses", "204"), `{"description":"No content: the entry answered nil."}`},
		{"no result", at(t, d, "paths", "/items/{id}", "put", "responses", "204"), `{"description":"No content."}`},
		{"list", at(t, d, "paths", "/items", "get", "responses", "200", "content"), `{"application/json":{"schema":{"items":{"$ref":"#/components/schemas/Item"},"type":"array"}}}`},
		{"map", at(t, d, "paths", "/map", "get", "responses", "200", "content"), `{"application/json":{"schema":{"additionalProperties":{"items":{"format":"int64","type":"integer"},"type":["array","null"]},"type":"object"}}}`},
		{"binary", at(t, d, "paths", "/logo", "get", "responses", "200", "content"), `{"image/png":{}}`},
		{"stream", at(t, d, "paths", "/stream", "get", "responses", "200", "content"), `{"application/octet-stream":{}}`},
		{"text types", at(t, d, "paths", "/page", "get", "responses", "200", "content"), `{"text/html; charset=utf-8":{"schema":{"type":"string"}},"text/plain; charset=utf-8":{"schema":{"type":"string"}}}`},
		{"raw", at(t, d, "paths", "/raw", "get", "responses", "200", "content"), `{"application/json":{"schema":{}}}`},
		{"dynamic", at(t, d, "paths", "/any", "get", "responses", "200", "content"), `{"application/json":{"schema":{}},"application/octet-stream":{},"text/plain; charset=utf-8":{"schema":{"type":"string"}}}`},
		// Problems.
		{"problem", at(t, d, "components", "schemas", "Problem", "required"), `["title","status"]`},
		{"413", at(t, d, "components", "responses", "RequestEntityTooLarge", "description"), `"The body exceeds the limit of 1048576 bytes."`},
		{"405", at(t, d, "components", "responses", "MethodNotAllowed", "headers", "Allow", "required"), `true`},
	} {
		if got := jsonOf(c.got); got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.what, got, c.want)
		}
	}
	// Every guarded operation answers 401 and 403; the open ones do not.
	for path, item := range paths {
		for method, op := range item.(map[string]any) {
			responses := op.(map[string]any)["responses"].(map[string]any)
			_, has401 := responses["401"]
			open := path == "/logo"
			if has401 == open {
				t.Errorf("%s %s: 401 %v", method, path, has401)
			}
			for _, code := range []string{"400", "404", "405", "413", "422", "500"} {
				if responses[code] == nil {
					t.Errorf("%s %s: no %s", method, path, code)
				}
			}
			if _, has415 := responses["415"]; has415 != (method != "get") {
				t.Errorf("%s %s: 415 %v", method, path, has415)
			}
		}
	}
	if paths["/secret"] != nil {
		t.Error("the entry of stage prod is in the document of stage dev")
	}
}

// TestStage: the document is of the App's stage.
func TestStage(t *testing.T) {
	t.Setenv("TOKEN", testutil.Token)
	app, err := runtime.New(&kinds{}, runtime.WithStage("prod"))
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := document(t, app)
	if doc.Paths.Find("/secret") == nil || doc.Info.Version != "prod" {
		t.Errorf("stage prod: /secret %v, version %s", doc.Paths.Find("/secret"), doc.Info.Version)
	}
}

// exchange is one request to the App.
type exchange struct {
	method, target, body, contentType string
	token                             string // "" sends testutil.Token; "-" none
	// valid says whether the request conforms to the document; an invalid
	// one must be answered 4xx.
	valid bool
	// status is the answer's status, when not 0.
	status int
	// gap says why a request the document finds valid is refused: what
	// OpenAPI cannot say.
	gap string
	// lenient says why a request the document finds invalid is accepted:
	// the runtime takes more than the document says.
	lenient string
}

// TestRuntimeKeepsTheDocument: the runtime answers what the document says
// — valid requests are not refused as bad (400, 422) and their answers
// conform (status, content type, body), invalid ones are refused with a
// problem that conforms. Requests and answers are checked with
// pb33f/libopenapi-validator, formats asserted.
func TestRuntimeKeepsTheDocument(t *testing.T) {
	app := newApp(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		resp := app.Serve(r.Context(), &runtime.Request{Method: r.Method, Path: r.URL.EscapedPath(), RawQuery: r.URL.RawQuery, Header: r.Header, Body: r.Body})
		for k, vs := range resp.Header {
			w.Header()[k] = vs
		}
		if resp.ContentType != "" {
			w.Header().Set("Content-Type", resp.ContentType)
		}
		body, _ := resp.ReadBody()
		w.WriteHeader(resp.Status)
		_, _ = w.Write(body)
	}))
	defer srv.Close()
	_, b := document(t, app)
	ldoc, err := libopenapi.NewDocument(b)
	if err != nil {
		t.Fatal(err)
	}
	v, errs := validator.NewValidator(ldoc, config.WithFormatAssertions(), config.WithContentParameterValidation())
	if len(errs) > 0 {
		t.Fatal(errs)
	}

	var multi bytes.Buffer
	mw := multipart.NewWriter(&multi)
	_ = mw.WriteField("title", "report")
	fw, _ := mw.CreateFormFile("file", "a.txt")
	_, _ = fw.Write([]byte("content"))
	_ = mw.Close()

	for _, x := range []exchange{
		{method: "GET", target: "/items/3", valid: true, status: 200},
		{method: "GET", target: "/items/0", valid: true, status: 204},
		{method: "GET", target: "/items/-1", valid: true, status: 404},
		{method: "GET", target: "/items/x", status: 422},
		{method: "GET", target: "/items/3", token: "-", valid: false, status: 401},
		{method: "GET", target: "/items/3", token: testutil.WrongToken, valid: true, status: 403},
		{method: "GET", target: "/items?flag=true&ids=1&ids=2&n=3&since=2024-01-01T00:00:00Z&order=asc&tiny=-5&addr=127.0.0.1&pos=%7B%22n%22%3A1%7D", valid: true, status: 200},
		{method: "GET", target: "/items?flag=maybe", status: 422},
		{method: "GET", target: "/items?tiny=300", status: 422},
		{method: "GET", target: "/items?unknown=1", valid: true, status: 422, gap: "OpenAPI cannot refuse other query parameters"},
		{method: "POST", target: "/items", body: `{"name":"a","level":"low","price":1,"tags":["x"],"child":{"n":1}}`, valid: true, status: 201},
		{method: "POST", target: "/items", body: `{"name":"a","level":null,"price":null,"tags":null,"child":null}`, valid: true, status: 201},
		{method: "POST", target: "/items", body: `{"name":"a","level":""}`, valid: true, status: 201},
		{method: "GET", target: "/items?order=", valid: true, status: 200},
		{method: "GET", target: "/items?order=up", status: 422},
		{method: "POST", target: "/items", body: `{"name":"abcdefghijklmnopqrstu"}`, status: 422},
		{method: "POST", target: "/items", body: `{"name":""}`, status: 422},
		{method: "POST", target: "/items", body: `{"name":null}`, status: 422},
		{method: "POST", target: "/items", body: `{"name":"a","level":"mid"}`, status: 422},
		{method: "POST", target: "/items", body: `{"name":"a","tags":["A"]}`, status: 422},
		{method: "POST", target: "/items", body: `{"name":"a","colour":"red"}`, status: 422},
		{method: "POST", target: "/items", body: `null`, status: 422},
		{method: "POST", target: "/items", body: `{"name":`, status: 400},
		{method: "POST", target: "/items", body: `<a/>`, contentType: "application/xml", status: 415},
		{method: "PUT", target: "/items/2", body: `{"name":"b"}`, valid: true, status: 204},
		{method: "DELETE", target: "/items/2?force=yes", valid: false, status: 204, lenient: "yes, no, on, off, 1, 0 are booleans to the runtime, not to OpenAPI"},
		{method: "DELETE", target: "/items/2?force=true", valid: true, status: 204},
		{method: "GET", target: "/path/a%20b/true/1.5/1,2/2024-01-01T00:00:00Z/::1", valid: true, status: 200},
		{method: "GET", target: "/kwargs?a=1&b=x&b=y", valid: true, status: 200},
		{method: "POST", target: "/kwargs", body: `{"a":"1"}`, valid: true, status: 200},
		{method: "POST", target: "/upload", body: multi.String(), contentType: mw.FormDataContentType(), valid: true, status: 200},
		{method: "GET", target: "/logo", token: "-", valid: true, status: 200},
		{method: "GET", target: "/stream", valid: true, status: 200},
		{method: "GET", target: "/page", valid: true, status: 200},
		{method: "GET", target: "/raw", valid: true, status: 200},
		{method: "GET", target: "/any", valid: true, status: 200},
		{method: "GET", target: "/map", valid: true, status: 200},
		{method: "GET", target: "/extras/hello", valid: true, status: 200},
	} {
		check(t, v, srv.URL, x)
	}
}

// check sends one exchange and checks the request and the answer against
// the document.
func check(t *testing.T, v validator.Validator, base string, x exchange) {
	t.Helper()
	name := x.method + " " + x.target
	newRequest := func() *http.Request {
		req, _ := http.NewRequest(x.method, base+x.target, strings.NewReader(x.body))
		if x.body != "" {
			ct := x.contentType
			if ct == "" {
				ct = "application/json"
			}
			req.Header.Set("Content-Type", ct)
		}
		switch x.token {
		case "":
			req.Header.Set("Authorization", testutil.Token)
		case "-":
		default:
			req.Header.Set("Authorization", x.token)
		}
		return req
	}
	ok, errs := v.ValidateHttpRequest(newRequest())
	if ok != x.valid {
		t.Errorf("%s: the document finds the request valid=%v, want %v: %v", name, ok, x.valid, errs)
	}
	req := newRequest()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if x.status != 0 && resp.StatusCode != x.status {
		t.Errorf("%s: %d %s, want %d", name, resp.StatusCode, body, x.status)
	}
	if !x.valid && resp.StatusCode < 400 && x.lenient == "" {
		t.Errorf("%s: an invalid request answered %d", name, resp.StatusCode)
	}
	if x.valid && (resp.StatusCode == 400 || resp.StatusCode == 422) && x.gap == "" {
		t.Errorf("%s: a valid request answered %d %s", name, resp.StatusCode, body)
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if ok, errs := v.ValidateHttpResponse(newRequest(), resp); !ok {
		for _, e := range errs {
			t.Errorf("%s: the answer %d %s %s does not conform: %v", name, resp.StatusCode, resp.Header.Get("Content-Type"), body, e)
		}
	}
}

// badTags has a malformed constraint tag in its query and one in its body.
type badTags struct{}

func (badTags) GetThings(ctx context.Context, q struct {
	Limit int `json:"limit" jsonschema:"minimum"`
}) string {
	return ""
}

type badBody struct {
	Code string `json:"code" jsonschema:"required,lengthy=3"`
}

type badBodyTags struct{}

func (badBodyTags) PostThings(ctx context.Context, in badBody) string { return in.Code }

// A malformed tag is an error naming the field, not a panic; a pattern
// keeps its commas.
func TestConstraintTags(t *testing.T) {
	for want, svc := range map[string]any{"Limit": badTags{}, "badBody.Code": badBodyTags{}} {
		app, err := runtime.New(svc, runtime.WithStage("dev"))
		if err != nil {
			t.Fatal(err)
		}
		_, err = openapi.Document(context.Background(), app)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "jsonschema") {
			t.Errorf("%T: %v, want an error naming %s", svc, err, want)
		}
	}
	app, err := runtime.New(patterned{}, runtime.WithStage("dev"))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := openapi.Document(context.Background(), app)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := openapi.JSON(doc)
	if !strings.Contains(string(b), `"pattern": "^[A-Z]{1,3}(,[A-Z]{1,3})*$"`) && !strings.Contains(string(b), `"pattern":"^[A-Z]{1,3}(,[A-Z]{1,3})*$"`) {
		t.Errorf("the pattern lost its commas:\n%s", b)
	}
}

type patterned struct{}

type patternInput struct {
	Code string `json:"code" jsonschema:"required,minLength=1,pattern=^[A-Z]{1,3}(,[A-Z]{1,3})*$"`
}

func (patterned) PostCodes(ctx context.Context, in patternInput) string { return in.Code }
