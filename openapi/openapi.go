// Package openapi writes the OpenAPI 3.1 document of a cws service from its
// entries: their paths and methods, their path, query and body parameters
// and results with JSON Schemas from their Go types, the problems
// (RFC 9457) the runtime answers, the token authorizer as a security
// scheme, doc comments as summaries and descriptions, blueprints as tags.
// Entries not in the App's stage are left out.
//
// The document says what the runtime does: the schemas follow how it binds
// text and JSON (package runtime, design.md) and how encoding/json encodes
// results. The admin blueprint serves it (GET /admin/openapi.json and
// .yaml); `cws openapi` writes it, from the service's binary built with the
// build tag cwsopenapi (so that no service links this package otherwise).
package openapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/getkin/kin-openapi/openapi3"
	"go.yaml.in/yaml/v3"

	"github.com/coworks-go/cws/runtime"
)

// Version is the OpenAPI version of the documents.
const Version = "3.1.0"

// SecurityScheme names the token authorizer's security scheme.
const SecurityScheme = "token"

// Document returns the OpenAPI document of the App's entries in its stage,
// checked by kin-openapi's validator.
func Document(ctx context.Context, app *runtime.App) (*openapi3.T, error) {
	desc := app.Description()
	g := &generator{schemas: newSchemas(), app: app, ids: map[string]int{}}
	doc := &openapi3.T{
		OpenAPI: Version,
		Info: &openapi3.Info{
			Title:       desc.Service,
			Version:     desc.Stage,
			Description: desc.Doc,
			Extensions:  map[string]any{"x-cws-stage": desc.Stage},
		},
		Paths:    openapi3.NewPaths(),
		Security: openapi3.SecurityRequirements{{SecurityScheme: []string{}}},
	}
	tags := map[string]bool{}
	for _, r := range desc.Routes {
		if !r.Active || r.Signature == nil {
			continue
		}
		op, err := g.operation(r)
		if err == nil {
			err = g.schemas.err
		}
		if err != nil {
			return nil, fmt.Errorf("%s %s (%s): %w", r.Method, r.Path, r.Entry, err)
		}
		item := doc.Paths.Value(r.Path)
		if item == nil {
			item = &openapi3.PathItem{}
			doc.Paths.Set(r.Path, item)
		}
		item.SetOperation(r.Method, op)
		for _, t := range op.Tags {
			if !tags[t] {
				tags[t] = true
				tag := &openapi3.Tag{Name: t}
				if t == desc.Service && r.Blueprint == "" {
					tag.Description = desc.Doc
				}
				doc.Tags = append(doc.Tags, tag)
			}
		}
	}
	responses := g.responses()
	doc.Components = &openapi3.Components{
		Schemas:   g.schemas.components(),
		Responses: responses,
		SecuritySchemes: openapi3.SecuritySchemes{SecurityScheme: &openapi3.SecuritySchemeRef{Value: &openapi3.SecurityScheme{
			Type: "apiKey", In: "header", Name: "Authorization",
			Description: "The token, as the Authorization header's whole value (no scheme), checked by the service's authorizer. " +
				"Without it a guarded entry answers 401; a refused token 403.",
		}}},
	}
	if len(g.schemas.extenders) > 0 {
		var err error
		if doc, err = extendSchemas(doc, g.schemas.extenders); err != nil {
			return nil, fmt.Errorf("the OpenAPI document of %s: %w", desc.Service, err)
		}
	}
	requireBodies(doc)
	if err := doc.Validate(ctx); err != nil {
		return nil, fmt.Errorf("the OpenAPI document of %s is not valid: %w", desc.Service, err)
	}
	return doc, nil
}

// requireBodies marks a JSON body required when its absence is refused: an
// entry without a body gets its keywords unset, as from {}, so the body is
// required when {} fails its schema.
func requireBodies(doc *openapi3.T) {
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			if op.RequestBody == nil || op.RequestBody.Value == nil {
				continue
			}
			mt := op.RequestBody.Value.Content.Get("application/json")
			if mt == nil || mt.Schema == nil || mt.Schema.Value == nil {
				continue
			}
			if err := mt.Schema.Value.VisitJSON(map[string]any{}, openapi3.EnableJSONSchema2020()); err != nil {
				op.RequestBody.Value.Required = true
			}
		}
	}
}

// extendSchemas lets the types that extend their schemas change their
// components, then loads the document again (which resolves the
// references they wrote).
func extendSchemas(doc *openapi3.T, extenders map[string]SchemaExtender) (*openapi3.T, error) {
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	components, _ := m["components"].(map[string]any)
	schemas, _ := components["schemas"].(map[string]any)
	for name, ext := range extenders {
		if s, ok := schemas[name].(map[string]any); ok {
			ext.ExtendJSONSchema(s)
		}
	}
	if b, err = json.Marshal(m); err != nil {
		return nil, err
	}
	out, err := openapi3.NewLoader().LoadFromData(b)
	if err != nil {
		return nil, fmt.Errorf("after the types' ExtendJSONSchema: %w", err)
	}
	return out, nil
}

// JSON encodes the document, indented.
func JSON(doc *openapi3.T) ([]byte, error) {
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("encoding the OpenAPI document: %w", err)
	}
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		return nil, err
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

// YAML encodes the document as YAML, its keys in the order of JSON.
func YAML(doc *openapi3.T) ([]byte, error) {
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("encoding the OpenAPI document: %w", err)
	}
	return JSONToYAML(b)
}

// JSONToYAML converts a JSON document to YAML, keeping its keys' order.
func JSONToYAML(b []byte) ([]byte, error) {
	var node yaml.Node
	if err := yaml.Unmarshal(b, &node); err != nil {
		return nil, fmt.Errorf("reading the document: %w", err)
	}
	block(&node)
	var out bytes.Buffer
	enc := yaml.NewEncoder(&out)
	enc.SetIndent(2)
	if err := enc.Encode(&node); err != nil {
		return nil, fmt.Errorf("encoding the document as YAML: %w", err)
	}
	return out.Bytes(), nil
}

// block writes a node read from JSON in YAML's block style.
func block(n *yaml.Node) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!str" {
		n.Style = 0
	}
	for _, c := range n.Content {
		block(c)
	}
}

// generator builds one document.
type generator struct {
	app     *runtime.App
	schemas *schemas
	ids     map[string]int
	// problems are the responses of the problem statuses some operation
	// answers.
	problems map[int]*openapi3.Response
}

// operation describes one entry.
func (g *generator) operation(r runtime.Route) (*openapi3.Operation, error) {
	sig := r.Signature
	op := &openapi3.Operation{Responses: openapi3.NewResponses()}
	op.Responses.Delete("default")
	tag := r.Blueprint
	if tag == "" {
		tag = g.app.Name()
	}
	op.Tags = []string{tag}
	op.OperationID = g.operationID(r)
	op.Summary, op.Description = summarize(r.Entry, r.Doc)
	if !r.Auth {
		op.Security = &openapi3.SecurityRequirements{}
	}

	for i, t := range sig.Params {
		p := &openapi3.Parameter{In: openapi3.ParameterInPath, Name: r.Params[i], Required: true}
		setText(p, t, g.schemas, true)
		op.Parameters = append(op.Parameters, &openapi3.ParameterRef{Value: p})
	}
	bodyless := r.Method == http.MethodGet || r.Method == http.MethodHead || r.Method == http.MethodDelete || r.Method == http.MethodOptions
	if sig.Keywords != nil {
		if bodyless {
			op.Parameters = append(op.Parameters, g.queryParams(r)...)
		} else {
			body, err := g.requestBody(sig)
			if err != nil {
				return nil, err
			}
			op.RequestBody = &openapi3.RequestBodyRef{Value: body}
		}
	}

	g.successes(op, r)
	problems := []int{400, 404, 405, 413, 422, 500}
	if r.Auth {
		problems = append(problems, 401, 403)
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		problems = append(problems, 415)
	}
	for _, code := range r.Statuses {
		if code >= 400 {
			problems = append(problems, code)
		}
	}
	for _, code := range problems {
		op.Responses.Set(strconv.Itoa(code), &openapi3.ResponseRef{Ref: "#/components/responses/" + problemName(code), Value: g.problemResponse(code)})
	}
	return op, nil
}

// operationID is the entry's name, its blueprint's before it, made unique.
func (g *generator) operationID(r runtime.Route) string {
	id := r.Entry
	if r.Blueprint != "" {
		id = r.Blueprint + "." + id
	}
	g.ids[id]++
	if n := g.ids[id]; n > 1 {
		id += "_" + strconv.Itoa(n)
	}
	return id
}

// summarize returns a doc comment's first sentence, and the whole comment
// when it says more; the Go name it starts with is left out.
func summarize(entry, doc string) (summary, description string) {
	doc = strings.TrimSpace(doc)
	if doc == "" {
		return "", ""
	}
	text := doc
	if rest, ok := strings.CutPrefix(text, entry+" "); ok && rest != "" {
		r, n := utf8.DecodeRuneInString(rest)
		text = string(unicode.ToUpper(r)) + rest[n:]
	}
	flat := strings.Join(strings.Fields(text), " ")
	summary = flat
	for i := 0; i < len(flat); i++ {
		if (flat[i] == '.' || flat[i] == ':' || flat[i] == ';') && (i+1 == len(flat) || flat[i+1] == ' ') {
			summary = strings.TrimSuffix(strings.TrimSuffix(flat[:i+1], ":"), ";")
			break
		}
	}
	if summary != flat {
		description = text
	}
	return summary, description
}

// setText gives a parameter read from text (a path segment, a query value)
// the schema of the text the runtime converts to t.
func setText(p *openapi3.Parameter, t reflect.Type, g *schemas, inPath bool) {
	for t.Kind() == reflect.Pointer && !isTextType(t, decoded) {
		t = t.Elem()
	}
	if s, ok := textSchema(t, inPath); ok {
		p.Schema = openapi3.NewSchemaRef("", s)
		if s.Type != nil && s.Type.Is(openapi3.TypeArray) {
			explode := !inPath
			p.Explode = &explode
			if inPath {
				p.Style = openapi3.SerializationSimple
			} else {
				p.Style = openapi3.SerializationForm
			}
		}
		return
	}
	// JSON text: structs, maps, arrays, json.RawMessage.
	p.Content = openapi3.Content{"application/json": &openapi3.MediaType{Schema: g.json(t, decoded, true)}}
}

// textSchema returns the schema of a text value the runtime converts to t
// (runtime/convert.go); false for values given as JSON.
func textSchema(t reflect.Type, inPath bool) (*openapi3.Schema, bool) {
	str := func() *openapi3.Schema {
		s := &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeString}}
		if inPath {
			s.MinLength = 1 // an empty segment matches no route
		}
		return s
	}
	if t == rawMessageType {
		return nil, false
	}
	if t != timeType && reflect.PointerTo(t).Implements(textUnmarshalerType) {
		return str(), true
	}
	if t == timeType {
		s := str()
		s.Format = "date-time"
		return s, true
	}
	switch t.Kind() {
	case reflect.String, reflect.Interface:
		return str(), true
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return str(), true
		}
		items, ok := textSchema(t.Elem(), false)
		if !ok {
			return nil, false
		}
		s := &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeArray}, Items: openapi3.NewSchemaRef("", items)}
		if inPath {
			s.MinItems = 1
		}
		return s, true
	case reflect.Struct, reflect.Map, reflect.Array:
		return nil, false
	}
	if s := scalar(t); s != nil {
		return s, true
	}
	return str(), true
}

// queryParams are the keyword parameters of an entry that reads them from
// the query string.
func (g *generator) queryParams(r runtime.Route) openapi3.Parameters {
	sig := r.Signature
	var out openapi3.Parameters
	if sig.Fields == nil {
		// A keyword map: any keyword.
		explode := true
		p := &openapi3.Parameter{In: openapi3.ParameterInQuery, Name: "keywords", Style: openapi3.SerializationForm, Explode: &explode,
			Description: "Any keywords, each a query parameter.",
			// Any text: a query string has no other values.
			Schema: openapi3.NewSchemaRef("", &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeObject}}),
		}
		return append(out, &openapi3.ParameterRef{Value: p})
	}
	for _, f := range sig.Fields {
		if f.File {
			continue
		}
		sf := sig.Keywords.FieldByIndex(f.Index)
		c, err := parseConstraints(sf)
		if err != nil {
			g.schemas.fail(fmt.Errorf("%s.%s: %w", sig.Keywords, sf.Name, err))
		}
		p := &openapi3.Parameter{In: openapi3.ParameterInQuery, Name: f.Name, Required: c.required}
		setText(p, f.Type, g.schemas, false)
		if p.Schema != nil {
			p.Schema = c.apply(p.Schema, f.Type)
		}
		out = append(out, &openapi3.ParameterRef{Value: p})
	}
	return out
}

// requestBody is the body of an entry that reads its keywords from it: JSON,
// or a multipart form when some keyword takes a file.
func (g *generator) requestBody(sig *runtime.Signature) (*openapi3.RequestBody, error) {
	body := &openapi3.RequestBody{Content: openapi3.Content{}}
	hasFile := false
	for _, f := range sig.Fields {
		hasFile = hasFile || f.File
	}
	if hasFile {
		form := &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeObject}, Properties: openapi3.Schemas{}}
		no := false
		form.AdditionalProperties = openapi3.AdditionalProperties{Has: &no}
		enc := map[string]*openapi3.Encoding{}
		for _, f := range sig.Fields {
			sf := sig.Keywords.FieldByIndex(f.Index)
			c, err := parseConstraints(sf)
			if err != nil {
				return nil, fmt.Errorf("%s.%s: %w", sig.Keywords, sf.Name, err)
			}
			var s *openapi3.SchemaRef
			file := &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeString}, ContentMediaType: "application/octet-stream"}
			switch {
			case f.File && f.Type.Kind() == reflect.Slice:
				s = openapi3.NewSchemaRef("", &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeArray}, Items: openapi3.NewSchemaRef("", file)})
			case f.File:
				s = openapi3.NewSchemaRef("", file)
			default:
				p := &openapi3.Parameter{}
				setText(p, f.Type, g.schemas, false)
				if p.Schema != nil {
					s = p.Schema
				} else {
					s = openapi3.NewSchemaRef("", &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeString}, ContentMediaType: "application/json"})
					enc[f.Name] = &openapi3.Encoding{ContentType: "application/json"}
				}
			}
			form.Properties[f.Name] = c.apply(s, f.Type)
			if c.required {
				form.Required = append(form.Required, f.Name)
				body.Required = true
			}
		}
		body.Content["multipart/form-data"] = &openapi3.MediaType{Schema: openapi3.NewSchemaRef("", form), Encoding: enc}
		return body, nil
	}
	var s *openapi3.SchemaRef
	if sig.Fields == nil {
		// A keyword map: any JSON object (strings for map[string]string,
		// lists of strings for map[string][]string).
		s = g.schemas.json(sig.Keywords, decoded, true)
	} else {
		s = g.schemas.json(sig.Keywords, decoded, true)
		for _, f := range sig.Fields {
			sf := sig.Keywords.FieldByIndex(f.Index)
			c, err := parseConstraints(sf)
			if err != nil {
				return nil, fmt.Errorf("%s.%s: %w", sig.Keywords, sf.Name, err)
			}
			body.Required = body.Required || c.required
		}
	}
	body.Content["application/json"] = &openapi3.MediaType{Schema: s}
	return body, nil
}

// successes sets the entry's success responses: its status with its
// result, 204 when it answers none (or nil), the other 2xx it declares.
func (g *generator) successes(op *openapi3.Operation, r runtime.Route) {
	sig := r.Signature
	if sig.Render == runtime.RenderNone {
		desc := "No content."
		op.Responses.Set("204", &openapi3.ResponseRef{Value: &openapi3.Response{Description: &desc}})
	} else {
		content := g.resultContent(r)
		codes := []int{sig.Status}
		for _, c := range r.Statuses {
			if c < 300 && !slices.Contains(codes, c) {
				codes = append(codes, c)
			}
		}
		for _, c := range codes {
			desc := http.StatusText(c) + "."
			if c == 204 {
				op.Responses.Set("204", &openapi3.ResponseRef{Value: &openapi3.Response{Description: &desc}})
				continue
			}
			op.Responses.Set(strconv.Itoa(c), &openapi3.ResponseRef{Value: &openapi3.Response{Description: &desc, Content: content}})
		}
		if k := sig.Result.Kind(); k == reflect.Pointer || k == reflect.Interface {
			desc := "No content: the entry answered nil."
			op.Responses.Set("204", &openapi3.ResponseRef{Value: &openapi3.Response{Description: &desc}})
		}
	}
	for _, c := range r.Statuses {
		if c < 300 && op.Responses.Value(strconv.Itoa(c)) == nil {
			desc := http.StatusText(c) + "."
			op.Responses.Set(strconv.Itoa(c), &openapi3.ResponseRef{Value: &openapi3.Response{Description: &desc}})
		}
	}
}

// resultContent is the content of the entry's successful answers, as the
// runtime renders its result (runtime/render.go).
func (g *generator) resultContent(r runtime.Route) openapi3.Content {
	str := openapi3.NewSchemaRef("", &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeString}})
	content := g.declaredContent(r, str)
	// The content types the entry may set itself, beside: the same
	// schema (a string for text; none for bytes).
	var same *openapi3.MediaType
	for _, mt := range content {
		same = mt
	}
	text := r.Signature.Render == runtime.RenderText || r.Signature.Render == runtime.RenderDynamic
	for _, other := range r.ContentTypes {
		if _, ok := content[other]; !ok {
			content[other] = same
			if text {
				content[other] = textMedia(other)
			}
		}
	}
	return content
}

// textMedia is the media type of a string answered as ct: a string for
// text/*; any for others (a YAML or JSON text is a document, not a JSON
// string).
func textMedia(ct string) *openapi3.MediaType {
	if strings.HasPrefix(ct, "text/") {
		return &openapi3.MediaType{Schema: openapi3.NewSchemaRef("", &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeString}})}
	}
	return &openapi3.MediaType{}
}

// declaredContent is the content of the entry's result as the runtime
// renders it, in its declared (or default) content type.
func (g *generator) declaredContent(r runtime.Route, str *openapi3.SchemaRef) openapi3.Content {
	sig := r.Signature
	ct := func(def string) string {
		if r.ContentType != "" {
			return r.ContentType
		}
		return def
	}
	switch sig.Render {
	case runtime.RenderText:
		t := ct("text/plain; charset=utf-8")
		return openapi3.Content{t: textMedia(t)}
	case runtime.RenderBinary:
		return openapi3.Content{ct("application/octet-stream"): &openapi3.MediaType{}}
	case runtime.RenderRawJSON:
		return openapi3.Content{ct("application/json"): &openapi3.MediaType{Schema: openapi3.NewSchemaRef("", &openapi3.Schema{})}}
	case runtime.RenderDynamic:
		if r.ContentType != "" {
			return openapi3.Content{r.ContentType: &openapi3.MediaType{}}
		}
		return openapi3.Content{
			"application/json":          &openapi3.MediaType{Schema: openapi3.NewSchemaRef("", &openapi3.Schema{})},
			"text/plain; charset=utf-8": &openapi3.MediaType{Schema: str},
			"application/octet-stream":  &openapi3.MediaType{},
		}
	}
	return openapi3.Content{ct("application/json"): &openapi3.MediaType{Schema: g.schemas.json(sig.Result, encoded, true)}}
}

// problemName names the component of the problem response of a status.
func problemName(code int) string {
	name := strings.ReplaceAll(http.StatusText(code), " ", "")
	name = strings.ReplaceAll(name, "-", "")
	if name == "" {
		name = "Status" + strconv.Itoa(code)
	}
	return name
}

// problemResponse returns the response of a problem status, made once.
func (g *generator) problemResponse(code int) *openapi3.Response {
	if g.problems == nil {
		g.problems = map[int]*openapi3.Response{}
	}
	if r := g.problems[code]; r != nil {
		return r
	}
	desc, ok := problemWhen[code]
	if !ok {
		desc = http.StatusText(code) + ": a problem the entry returns."
	}
	if code == 413 {
		desc = fmt.Sprintf(desc, g.app.MaxBodyBytes())
	}
	problem := g.schemas.ref(reflect.TypeFor[runtime.Problem](), encoded)
	problem.Value.Description = "An RFC 9457 problem: what went wrong."
	resp := &openapi3.Response{Description: &desc, Content: openapi3.Content{
		runtime.ProblemContentType: &openapi3.MediaType{Schema: problem},
	}}
	if code == 405 {
		resp.Headers = openapi3.Headers{"Allow": &openapi3.HeaderRef{Value: &openapi3.Header{Parameter: openapi3.Parameter{
			Description: "The methods the path serves.", Required: true,
			Schema: openapi3.NewSchemaRef("", &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeString}}),
		}}}}
	}
	g.problems[code] = resp
	return resp
}

// problemWhen says when the runtime answers a status.
var problemWhen = map[int]string{
	400: "Bad request: a malformed JSON body, query string or path escape, a body sent with GET or HEAD, or a multipart body without a boundary.",
	401: "No token: the Authorization header is missing.",
	403: "The token is refused.",
	404: "No such route, or the entry found nothing.",
	405: "The path does not serve this method; Allow lists those it serves.",
	413: "The body exceeds the limit of %d bytes.",
	415: "The body's Content-Type is not JSON, a form or multipart (or a JSON body was sent as a form).",
	422: "A parameter does not convert to its type, an unknown keyword, or a keyword that fails its validation; errors lists each.",
	500: "The entry failed (or its authorizer did); the error is in the service's log, not here.",
}

// responses are the problem responses the operations refer to.
func (g *generator) responses() openapi3.ResponseBodies {
	out := openapi3.ResponseBodies{}
	for code, resp := range g.problems {
		out[problemName(code)] = &openapi3.ResponseRef{Value: resp}
	}
	return out
}
