package openapi

import (
	"encoding"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
)

// direction says which side of the wire a JSON schema describes: what the
// runtime decodes (encoding/json with unknown fields refused) or what it
// encodes (encoding/json). They differ: a decoded field is never required
// unless its tag says so, and takes null (which leaves it unchanged); an
// encoded field is always there unless omitempty, and is null only when it
// is a nil pointer, slice, map or interface.
type direction uint8

const (
	encoded direction = iota // a response body
	decoded                  // a request body
)

var (
	timeType            = reflect.TypeFor[time.Time]()
	rawMessageType      = reflect.TypeFor[json.RawMessage]()
	jsonMarshalerType   = reflect.TypeFor[json.Marshaler]()
	jsonUnmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	textMarshalerType   = reflect.TypeFor[encoding.TextMarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// component is a named struct type's schema in one direction.
type component struct {
	key    componentKey
	schema *openapi3.Schema
	// refs are the references made to it, named once every component is
	// known.
	refs []*openapi3.SchemaRef
}

type componentKey struct {
	t   reflect.Type
	dir direction
}

// schemas writes the JSON Schemas of Go types, named struct types as
// components.
type schemas struct {
	byKey map[componentKey]*component
	order []*component
	// extenders are the components whose types extend their schemas, by
	// name, once named.
	extenders map[string]SchemaExtender
	// err is the first bad constraint tag met: Document answers it.
	err error
}

// fail records the first error met while writing schemas.
func (g *schemas) fail(err error) {
	if g.err == nil {
		g.err = err
	}
}

func newSchemas() *schemas {
	return &schemas{byKey: map[componentKey]*component{}}
}

// components names the components and returns them: a struct type's name,
// qualified by its package when two types share it, and suffixed "Input"
// for the decoded side of a type also encoded.
func (g *schemas) components() openapi3.Schemas {
	byName := map[string][]reflect.Type{}
	seen := map[reflect.Type]bool{}
	for _, c := range g.order {
		if !seen[c.key.t] {
			seen[c.key.t] = true
			n := sanitize(c.key.t.Name())
			byName[n] = append(byName[n], c.key.t)
		}
	}
	out := openapi3.Schemas{}
	for _, c := range g.order {
		name := sanitize(c.key.t.Name())
		if len(byName[name]) > 1 {
			name = sanitize(c.key.t.PkgPath() + "." + c.key.t.Name()) // two types of one name
		}
		if c.key.dir == decoded && g.byKey[componentKey{c.key.t, encoded}] != nil {
			name += "Input"
		}
		for _, r := range c.refs {
			r.Ref = "#/components/schemas/" + name
		}
		if ext := extenderOf(c.key.t); ext != nil {
			if g.extenders == nil {
				g.extenders = map[string]SchemaExtender{}
			}
			g.extenders[name] = ext
		}
		out[name] = openapi3.NewSchemaRef("", c.schema)
	}
	return out
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

func sanitize(name string) string { return strings.Trim(unsafeName.ReplaceAllString(name, "_"), "_") }

// json returns the schema of the JSON of t in the direction dir. top says t
// is a whole body: the runtime answers a nil slice as [] and a nil map as
// {}, never null.
func (g *schemas) json(t reflect.Type, dir direction, top bool) *openapi3.SchemaRef {
	nullable := false
	if dir == decoded && !top {
		nullable = true // null leaves any field unchanged
	}
	for t.Kind() == reflect.Pointer {
		if _, ok := special(t, dir); ok {
			break
		}
		t = t.Elem()
		nullable = true
	}
	s := g.value(t, dir)
	if !top {
		switch t.Kind() {
		case reflect.Slice, reflect.Map:
			if dir == encoded && !isTextType(t, dir) {
				nullable = true // a nil slice or map is null
			}
		case reflect.Interface:
			nullable = false // any value already includes null
		}
	}
	if nullable && dir == decoded && t.Kind() == reflect.Struct && hasRequired(t) {
		// null decodes to the zero struct, which lacks what it requires.
		nullable = false
	}
	if nullable {
		return orNull(s)
	}
	return s
}

// hasRequired reports whether a struct declares a required field.
func hasRequired(t reflect.Type) bool {
	for _, f := range jsonFields(t) {
		if c, err := parseConstraints(f.sf); err == nil && c.required {
			return true
		}
	}
	return false
}

// orNull lets s be null too.
func orNull(s *openapi3.SchemaRef) *openapi3.SchemaRef {
	if s.Value != nil && s.Ref == "" {
		v := s.Value
		switch {
		case v.Type != nil && len(*v.Type) > 0:
			if !v.Type.Includes(openapi3.TypeNull) {
				types := append(openapi3.Types{}, *v.Type...)
				types = append(types, openapi3.TypeNull)
				v.Type = &types
				if len(v.Enum) > 0 {
					v.Enum = append(v.Enum, nil)
				}
			}
			return s
		case isEmpty(v):
			return s // anything, null included
		}
	}
	return openapi3.NewSchemaRef("", &openapi3.Schema{AnyOf: openapi3.SchemaRefs{s, openapi3.NewSchemaRef("", &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeNull}})}})
}

func isEmpty(s *openapi3.Schema) bool {
	b, _ := json.Marshal(s)
	return string(b) == "{}"
}

// special returns the schema of the types encoding/json treats by their
// methods.
func special(t reflect.Type, dir direction) (*openapi3.Schema, bool) {
	switch {
	case t == timeType:
		return &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeString}, Format: "date-time"}, true
	case t == rawMessageType:
		return &openapi3.Schema{}, true // any JSON
	}
	if dir == encoded {
		if t.Implements(jsonMarshalerType) {
			return &openapi3.Schema{Description: "Encoded by its own MarshalJSON."}, true
		}
		if t.Implements(textMarshalerType) {
			return &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeString}}, true
		}
		return nil, false
	}
	pt := reflect.PointerTo(t)
	if t.Kind() == reflect.Pointer {
		pt = t
	}
	if pt.Implements(jsonUnmarshalerType) {
		return &openapi3.Schema{Description: "Decoded by its own UnmarshalJSON."}, true
	}
	if pt.Implements(textUnmarshalerType) {
		return &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeString}}, true
	}
	return nil, false
}

// isTextType reports whether t is encoded as a string by its methods.
func isTextType(t reflect.Type, dir direction) bool {
	s, ok := special(t, dir)
	return ok && s.Type != nil && s.Type.Is(openapi3.TypeString)
}

// value returns the schema of a non-pointer type's JSON.
func (g *schemas) value(t reflect.Type, dir direction) *openapi3.SchemaRef {
	if s, ok := special(t, dir); ok {
		return openapi3.NewSchemaRef("", s)
	}
	if s := scalar(t); s != nil {
		return openapi3.NewSchemaRef("", s)
	}
	switch t.Kind() {
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 && !reflect.PointerTo(t.Elem()).Implements(textUnmarshalerType) {
			return openapi3.NewSchemaRef("", &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeString}, ContentEncoding: "base64"})
		}
		return openapi3.NewSchemaRef("", &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeArray}, Items: g.json(t.Elem(), dir, false)})
	case reflect.Array:
		n := uint64(t.Len())
		return openapi3.NewSchemaRef("", &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeArray}, Items: g.json(t.Elem(), dir, false), MinItems: n, MaxItems: &n})
	case reflect.Map:
		s := &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeObject}}
		s.AdditionalProperties = openapi3.AdditionalProperties{Schema: g.json(t.Elem(), dir, false)}
		return openapi3.NewSchemaRef("", s)
	case reflect.Struct:
		if t.Name() == "" {
			return openapi3.NewSchemaRef("", g.object(t, dir))
		}
		return g.ref(t, dir)
	}
	// Interfaces (any value), and what encoding/json cannot encode.
	return openapi3.NewSchemaRef("", &openapi3.Schema{})
}

// ref returns a reference to the component of a named struct type, making
// it the first time.
func (g *schemas) ref(t reflect.Type, dir direction) *openapi3.SchemaRef {
	key := componentKey{t, dir}
	c := g.byKey[key]
	if c == nil {
		c = &component{key: key, schema: &openapi3.Schema{}}
		g.byKey[key] = c
		g.order = append(g.order, c)
		*c.schema = *g.object(t, dir) // after registering: a type may refer to itself
	}
	r := openapi3.NewSchemaRef("#/components/schemas/?", c.schema)
	c.refs = append(c.refs, r)
	return r
}

// scalar returns the schema of a boolean, number or string kind; nil for
// other kinds.
func scalar(t reflect.Type) *openapi3.Schema {
	switch t.Kind() {
	case reflect.Bool:
		return &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeBoolean}}
	case reflect.String:
		return &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeString}}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		// int32 and int64 bound themselves (their formats say so exactly,
		// which a float64 bound cannot for int64).
		bits := t.Bits()
		s := &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeInteger}, Format: "int" + strconv.Itoa(max(bits, 32))}
		if bits < 32 {
			lo, hi := -math.Ldexp(1, bits-1), math.Ldexp(1, bits-1)-1
			s.Min, s.Max = &lo, &hi
		}
		return s
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		bits := t.Bits()
		lo, hi := 0.0, math.Ldexp(1, bits)-1
		s := &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeInteger}, Min: &lo, Max: &hi}
		switch {
		case bits < 32:
			s.Format = "int32"
		case bits == 32:
			s.Format = "int64"
		default:
			// The largest float64 below 2^64: a JSON number cannot say
			// 2^64-1 through kin-openapi's float64 bounds.
			hi = math.Nextafter(math.Ldexp(1, 64), 0)
		}
		return s
	case reflect.Float32:
		return &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeNumber}, Format: "float"}
	case reflect.Float64:
		return &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeNumber}, Format: "double"}
	}
	return nil
}

// jsonField is a struct field as encoding/json sees it.
type jsonField struct {
	name      string
	sf        reflect.StructField
	depth     int
	tagged    bool
	omitEmpty bool // omitempty or omitzero
	asString  bool // the ",string" option
	// viaPointer: promoted through an embedded pointer, absent when it is
	// nil.
	viaPointer bool
}

// jsonFields lists the fields encoding/json encodes and decodes, by its
// rules: embedded structs promote their fields; of fields of the same
// name, the shallowest wins, then a tagged one; otherwise none.
func jsonFields(t reflect.Type) []jsonField {
	var all []jsonField
	var walk func(t reflect.Type, depth int, viaPointer bool, visited map[reflect.Type]bool)
	walk = func(t reflect.Type, depth int, viaPointer bool, visited map[reflect.Type]bool) {
		if visited[t] {
			return
		}
		visited[t] = true
		defer delete(visited, t)
		for i := range t.NumField() {
			sf := t.Field(i)
			tag := sf.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			if sf.Anonymous {
				ft := sf.Type
				ptr := ft.Kind() == reflect.Pointer
				if ptr {
					ft = ft.Elem()
				}
				if !sf.IsExported() && ft.Kind() != reflect.Struct {
					continue
				}
				if name == "" && ft.Kind() == reflect.Struct {
					walk(ft, depth+1, viaPointer || ptr, visited)
					continue
				}
			} else if !sf.IsExported() {
				continue
			}
			f := jsonField{name: name, sf: sf, depth: depth, tagged: name != "", viaPointer: viaPointer}
			if name == "" {
				f.name = sf.Name
			}
			for _, o := range strings.Split(opts, ",") {
				switch o {
				case "omitempty", "omitzero":
					f.omitEmpty = true
				case "string":
					f.asString = true
				}
			}
			all = append(all, f)
		}
	}
	walk(t, 0, false, map[reflect.Type]bool{})
	byName := map[string][]jsonField{}
	var names []string
	for _, f := range all {
		if _, ok := byName[f.name]; !ok {
			names = append(names, f.name)
		}
		byName[f.name] = append(byName[f.name], f)
	}
	var out []jsonField
	for _, n := range names {
		fs := byName[n]
		sort.SliceStable(fs, func(i, j int) bool { return fs[i].depth < fs[j].depth })
		var top []jsonField
		for _, f := range fs {
			if f.depth == fs[0].depth {
				top = append(top, f)
			}
		}
		if len(top) > 1 {
			var tagged []jsonField
			for _, f := range top {
				if f.tagged {
					tagged = append(tagged, f)
				}
			}
			top = tagged
		}
		if len(top) == 1 {
			out = append(out, top[0])
		}
	}
	return out
}

// object returns the schema of a struct's JSON object.
func (g *schemas) object(t reflect.Type, dir direction) *openapi3.Schema {
	s := &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeObject}, Properties: openapi3.Schemas{}}
	if dir == decoded {
		// The runtime decodes with unknown fields refused.
		no := false
		s.AdditionalProperties = openapi3.AdditionalProperties{Has: &no}
	}
	for _, f := range jsonFields(t) {
		var p *openapi3.SchemaRef
		ft := f.sf.Type
		if f.asString && stringable(ft) {
			p = openapi3.NewSchemaRef("", &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeString}})
			if dir == decoded || ft.Kind() == reflect.Pointer {
				p = orNull(p)
			}
		} else {
			p = g.json(ft, dir, false)
		}
		c, err := parseConstraints(f.sf)
		if err != nil {
			g.fail(fmt.Errorf("%s.%s: %w", t, f.sf.Name, err))
		}
		if dir == decoded && c.required {
			// A required field's null would leave it zero, which its
			// Validate refuses: not nullable.
			p = g.json(deref(ft), dir, true)
		}
		p = c.apply(p, ft)
		s.Properties[f.name] = p
		switch {
		case dir == encoded && !f.omitEmpty && !f.viaPointer:
			s.Required = append(s.Required, f.name)
		case dir == decoded && c.required:
			s.Required = append(s.Required, f.name)
		}
	}
	return s
}

func deref(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

// stringable reports whether the ",string" option applies to t.
func stringable(t reflect.Type) bool {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Bool, reflect.String, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr, reflect.Float32, reflect.Float64:
		return true
	}
	return false
}

// SchemaExtender is implemented by struct types whose constraints span
// fields, or go beyond the jsonschema tag: ExtendJSONSchema gets the type's
// JSON Schema (a component of the document) as JSON's Go values
// (map[string]any, []any, string, float64, bool) and changes it in place,
// e.g. adds an anyOf for "one of these fields". Like the tag, it declares
// what the type's Validate enforces. It needs no import: the method is all.
type SchemaExtender interface {
	ExtendJSONSchema(schema map[string]any)
}

var extenderType = reflect.TypeFor[SchemaExtender]()

// extenderOf returns t's SchemaExtender, or nil.
func extenderOf(t reflect.Type) SchemaExtender {
	switch {
	case t.Implements(extenderType):
		return reflect.Zero(t).Interface().(SchemaExtender)
	case reflect.PointerTo(t).Implements(extenderType):
		return reflect.New(t).Interface().(SchemaExtender)
	}
	return nil
}
