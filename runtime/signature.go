package runtime

import "reflect"

// Signature is what an entry takes and answers, as Go types: what a
// description of the service (the openapi package) needs beyond its Route.
type Signature struct {
	// Params are the types of the path parameters, in order (Route.Params
	// names them).
	Params []reflect.Type
	// Keywords is the keyword parameter's type, a struct or a map (a pointer
	// to a struct is given as the struct); nil for an entry without one.
	Keywords reflect.Type
	// Fields are the keyword struct's fields as the runtime binds them, in
	// order; nil for a keyword map.
	Fields []KeywordField
	// Result is the type of the entry's value; nil when it answers none.
	Result reflect.Type
	// Render says how the value becomes a response body.
	Render Render
	// Status is the status of a value answered without SetStatus.
	Status int
}

// KeywordField is one keyword of a keyword struct.
type KeywordField struct {
	// Name is the keyword, as callers give it.
	Name string
	// Type is the field's Go type.
	Type reflect.Type
	// Index is the field's index sequence in the struct (embedded structs
	// included), as reflect.Type.FieldByIndex takes it.
	Index []int
	// List reports that a repeated keyword adds an element (a slice that is
	// not bytes).
	List bool
	// File reports that the field takes the file parts of a multipart body
	// (*multipart.FileHeader or []*multipart.FileHeader) and no text.
	File bool
}

// Render is how an entry's value becomes a response body.
type Render string

// How values are rendered (see design.md, "Responses").
const (
	// RenderNone: the entry answers no value (204).
	RenderNone Render = "none"
	// RenderJSON: the value as JSON, application/json.
	RenderJSON Render = "json"
	// RenderText: a string kind, text/plain; charset=utf-8.
	RenderText Render = "text"
	// RenderBinary: []byte or an io.Reader, the declared ContentType
	// (default application/octet-stream).
	RenderBinary Render = "binary"
	// RenderRawJSON: a json.RawMessage, as is, application/json.
	RenderRawJSON Render = "raw-json"
	// RenderDynamic: an interface type, rendered by the rules of the value's
	// own type.
	RenderDynamic Render = "dynamic"
)

// signature describes the entry's Go types.
func (e *entry) signature() *Signature {
	s := &Signature{Params: e.posT, Keywords: e.kwT, Result: e.outT, Render: RenderNone, Status: e.status}
	if b, ok := e.kw.(*structBinder); ok {
		for _, f := range b.fields {
			s.Fields = append(s.Fields, KeywordField{Name: f.name, Type: f.typ, Index: f.index, List: f.list, File: f.file == fileHeader || f.file == fileHeaders})
		}
	}
	if e.hasVal {
		switch e.out {
		case outJSON:
			s.Render = RenderJSON
		case outText:
			s.Render = RenderText
		case outBytes, outReader:
			s.Render = RenderBinary
		case outRaw:
			s.Render = RenderRawJSON
		case outDynamic:
			s.Render = RenderDynamic
		}
	}
	if s.Status == 0 {
		s.Status = 200
	}
	return s
}

// MaxBodyBytes returns the limit on request bodies (WithMaxBodyBytes):
// a larger body is a 413.
func (a *App) MaxBodyBytes() int64 { return a.maxBody }
