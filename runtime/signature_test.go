package runtime_test

import (
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"reflect"
	"strings"
	"testing"

	"github.com/coworks-go/cws/runtime"
)

// statuses declares its statuses.
type statuses struct{}

func (statuses) ConfigureEntries(c *runtime.EntryConfig) {
	c.Entry(statuses.PostThing, runtime.Status(201, 200, 409))
	c.Entry(statuses.PutThing, runtime.Status(202))
	c.Entry(statuses.DeleteThing, runtime.Status(409), runtime.ContentType("text/plain", "text/html", "text/csv"))
}

func (statuses) PostThing(ctx context.Context, q struct{ Again bool }) (string, error) {
	if q.Again {
		runtime.SetStatus(ctx, 200)
	}
	return "made", nil
}

func (statuses) PutThing(ctx context.Context) *string { return nil }

func (statuses) DeleteThing(ctx context.Context) string { return "gone" }

func TestStatusOption(t *testing.T) {
	app, _ := newApp(t, statuses{})
	expect(t, app, call{method: "POST", target: "/thing"}, 201, "made")
	expect(t, app, call{method: "POST", target: "/thing", body: `{"Again":true}`}, 200, "made")
	// A nil result is still no content; a problem status is no default.
	expect(t, app, call{method: "PUT", target: "/thing"}, 204, "")
	expect(t, app, call{method: "DELETE", target: "/thing"}, 200, "gone")
	for _, r := range app.Routes() {
		want := map[string][]int{"POST": {201, 200, 409}, "PUT": {202}, "DELETE": {409}}[r.Method]
		if !reflect.DeepEqual(r.Statuses, want) {
			t.Errorf("%s: Statuses %v, want %v", r.Method, r.Statuses, want)
		}
		if r.Method == "DELETE" && (r.ContentType != "text/plain" || !reflect.DeepEqual(r.ContentTypes, []string{"text/html", "text/csv"})) {
			t.Errorf("DELETE: ContentType %q, others %q", r.ContentType, r.ContentTypes)
		}
	}
	for _, bad := range []int{302, 100, 600} {
		_, err := runtime.New(&badStatus{bad})
		if err == nil || !strings.Contains(err.Error(), "option Status") {
			t.Errorf("Status(%d): %v", bad, err)
		}
	}
	// A 204 has no body: fine for an entry without a value, refused for one
	// with.
	if _, err := runtime.New(&badStatus{204}); err != nil {
		t.Errorf("Status(204) of an entry without a value: %v", err)
	}
	if _, err := runtime.New(&valued204{}); err == nil || !strings.Contains(err.Error(), "204 answers no body") {
		t.Errorf("Status(204) of an entry with a value: %v", err)
	}
}

type valued204 struct{}

func (*valued204) ConfigureEntries(c *runtime.EntryConfig) {
	c.Entry((*valued204).GetThing, runtime.Status(204))
}

func (*valued204) GetThing(ctx context.Context) string { return "body" }

type badStatus struct{ code int }

func (b *badStatus) ConfigureEntries(c *runtime.EntryConfig) {
	c.Entry((*badStatus).GetThing, runtime.Status(b.code))
}

func (*badStatus) GetThing(ctx context.Context) {}

// signatures has one entry per kind of parameter and result.
type signatures struct{}

type sigEmbedded struct {
	Inner string `json:"inner"`
}

type sigKeywords struct {
	sigEmbedded
	Name  string                  `json:"name"`
	IDs   []int                   `json:"ids"`
	Skip  string                  `json:"-"`
	Data  []byte                  `json:"data"`
	File  *multipart.FileHeader   `json:"file"`
	Files []*multipart.FileHeader `json:"files"`
}

func (signatures) GetText_(ctx context.Context, id int, tags []string) string { return "" }
func (signatures) PostThing(ctx context.Context, in *sigKeywords) (map[string]int, error) {
	return nil, nil
}
func (signatures) GetKwargs(ctx context.Context, kw map[string]any) json.RawMessage { return nil }
func (signatures) GetBytes(ctx context.Context) []byte                              { return nil }
func (signatures) GetStream(ctx context.Context) (io.Reader, error)                 { return nil, nil }
func (signatures) GetAny(ctx context.Context) any                                   { return nil }
func (signatures) DeleteThing(ctx context.Context) error                            { return nil }

func TestSignatures(t *testing.T) {
	app, _ := newApp(t, signatures{}, runtime.WithMaxBodyBytes(1234))
	if app.MaxBodyBytes() != 1234 {
		t.Errorf("MaxBodyBytes %d", app.MaxBodyBytes())
	}
	got := map[string]*runtime.Signature{}
	for _, r := range app.Routes() {
		if r.Signature == nil {
			t.Fatalf("%s: no signature", r.Entry)
		}
		got[r.Entry] = r.Signature
	}
	text := got["GetText_"]
	if !reflect.DeepEqual(text.Params, []reflect.Type{reflect.TypeFor[int](), reflect.TypeFor[[]string]()}) ||
		text.Keywords != nil || text.Result != reflect.TypeFor[string]() || text.Render != runtime.RenderText || text.Status != 200 {
		t.Errorf("GetText_: %+v", text)
	}
	post := got["PostThing"]
	var fields []string
	for _, f := range post.Fields {
		fields = append(fields, f.Name)
		if (f.Name == "ids") != f.List || (f.Name == "file" || f.Name == "files") != f.File {
			t.Errorf("field %s: List %v File %v", f.Name, f.List, f.File)
		}
	}
	if post.Keywords != reflect.TypeFor[sigKeywords]() || strings.Join(fields, ",") != "inner,name,ids,data,file,files" ||
		post.Render != runtime.RenderJSON || post.Fields[0].Index[0] != 0 || len(post.Fields[0].Index) != 2 {
		t.Errorf("PostThing: %+v fields %v", post, fields)
	}
	kw := got["GetKwargs"]
	if kw.Keywords != reflect.TypeFor[map[string]any]() || kw.Fields != nil || kw.Render != runtime.RenderRawJSON {
		t.Errorf("GetKwargs: %+v", kw)
	}
	for entry, want := range map[string]runtime.Render{"GetBytes": runtime.RenderBinary, "GetStream": runtime.RenderBinary, "GetAny": runtime.RenderDynamic, "DeleteThing": runtime.RenderNone} {
		if got[entry].Render != want {
			t.Errorf("%s: Render %s, want %s", entry, got[entry].Render, want)
		}
	}
	if got["DeleteThing"].Result != nil {
		t.Errorf("DeleteThing: Result %v", got["DeleteThing"].Result)
	}
	// The signature is not in the routes' JSON.
	b, _ := json.Marshal(app.Description())
	if strings.Contains(string(b), "Render") || strings.Contains(string(b), "render") {
		t.Errorf("JSON: %s", b)
	}
}
