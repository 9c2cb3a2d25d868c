package runtime

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"sort"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	jsonv1 "github.com/go-json-experiment/json/v1"
)

// Where a keyword parameter was read.
const (
	inPath  = "path"
	inQuery = "query"
	inBody  = "body"
)

// kwBinder binds keyword parameters into a new value of the entry's final
// parameter type.
type kwBinder interface {
	// pairs binds text key/value pairs (query string, form fields).
	pairs(dst reflect.Value, src pairSource, in string, errs *[]ParamError) error
	// json binds a JSON object body.
	json(dst reflect.Value, body []byte, errs *[]ParamError) error
	// files binds the file parts of a multipart body.
	files(dst reflect.Value, files map[string][]*multipart.FileHeader, errs *[]ParamError)
}

// pairSource yields decoded key/value pairs: a raw query string or decoded
// values.
type pairSource struct {
	raw    string
	values url.Values
}

// count is at most how many pairs each gives, and at least one.
func (s pairSource) count() int {
	if s.values != nil {
		n := 0
		for _, vs := range s.values {
			n += len(vs)
		}
		return max(n, 1)
	}
	return strings.Count(s.raw, "&") + 1
}

// each calls fn for every pair, in order for a raw string and in key order
// for values. A malformed raw string is a *Problem (400).
func (s pairSource) each(fn func(k, v string)) error {
	if s.values != nil {
		keys := make([]string, 0, len(s.values))
		for k := range s.values {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			for _, v := range s.values[k] {
				fn(k, v)
			}
		}
		return nil
	}
	raw := s.raw
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if pair == "" {
			continue
		}
		if strings.Contains(pair, ";") {
			return BadRequest("malformed query: %q has a semicolon separator", pair)
		}
		k, v, _ := strings.Cut(pair, "=")
		key, err := url.QueryUnescape(k)
		if err != nil {
			return BadRequest("malformed query: bad escape in %q", k)
		}
		val, err := url.QueryUnescape(v)
		if err != nil {
			return BadRequest("malformed query: bad escape in the value of %q", key)
		}
		fn(key, val)
	}
	return nil
}

// fileKind says how a struct field takes multipart file parts.
type fileKind uint8

const (
	fileNone    fileKind = iota
	fileHeader           // *multipart.FileHeader
	fileHeaders          // []*multipart.FileHeader
	fileBytes            // []byte: the content of the part
)

var fileHeaderType = reflect.TypeFor[*multipart.FileHeader]()

// field is one keyword parameter of a struct.
type field struct {
	name  string
	index []int
	list  bool // a non-byte slice: repeated values append
	dec   decodeFunc
	typ   reflect.Type
	file  fileKind
	order int
}

// structBinder binds keywords into a struct's fields, named by their json
// tag or, without one, by the Go field name; a key that matches no name
// exactly matches case-insensitively, as encoding/json does.
type structBinder struct {
	typ    reflect.Type
	fields []*field
	byName map[string]*field
	byFold map[string]*field
	// jsonOptions decode a JSON body into typ.
	jsonOptions jsonv2.Options
	// quoted: typ reaches a field with the ",string" option, which
	// go-json-experiment's v1 semantics parse as a Go number ("+1", ".5",
	// "NaN" taken) where encoding/json takes only a JSON number: its body
	// is decoded by encoding/json.
	quoted bool
}

func newStructBinder(t reflect.Type) (*structBinder, error) {
	b := &structBinder{typ: t, byName: map[string]*field{}, byFold: map[string]*field{}, jsonOptions: bodyOptions}
	if reaches(t, func(t reflect.Type, _ *reflect.StructField) bool { return t == numberType }) {
		b.jsonOptions = bodyNumberOptions
	}
	b.quoted = reaches(t, func(_ reflect.Type, f *reflect.StructField) bool {
		if f == nil {
			return false
		}
		_, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		return slices.Contains(strings.Split(opts, ","), "string")
	})
	if err := b.addFields(t, nil); err != nil {
		return nil, err
	}
	for i, f := range b.fields {
		f.order = i
	}
	return b, nil
}

func (b *structBinder) addFields(t reflect.Type, index []int) error {
	for i := range t.NumField() {
		sf := t.Field(i)
		idx := append(append([]int(nil), index...), i)
		name, tagged := jsonName(sf)
		if name == "-" {
			continue
		}
		if sf.Anonymous && !tagged && sf.Type.Kind() == reflect.Struct {
			if err := b.addFields(sf.Type, idx); err != nil {
				return err
			}
			continue
		}
		if !sf.IsExported() {
			continue
		}
		f := &field{name: name, index: idx, typ: sf.Type}
		switch {
		case sf.Type == fileHeaderType:
			f.file = fileHeader
		case sf.Type.Kind() == reflect.Slice && sf.Type.Elem() == fileHeaderType:
			f.file = fileHeaders
		case sf.Type.Kind() == reflect.Slice && sf.Type.Elem().Kind() == reflect.Uint8 && sf.Type != rawMessageType:
			f.file = fileBytes
		}
		var err error
		switch {
		case f.file == fileHeader || f.file == fileHeaders:
		case sf.Type.Kind() == reflect.Slice && sf.Type.Elem().Kind() != reflect.Uint8:
			f.list = true
			f.dec, err = textDecoder(sf.Type.Elem(), false)
		default:
			f.dec, err = textDecoder(sf.Type, false)
		}
		if err != nil {
			return fmt.Errorf("field %s: %w", sf.Name, err)
		}
		if _, dup := b.byName[name]; dup {
			return fmt.Errorf("two fields are named %q", name)
		}
		b.fields = append(b.fields, f)
		b.byName[name] = f
		b.byFold[strings.ToLower(name)] = f
	}
	return nil
}

// jsonName returns the name encoding/json gives a field, and whether a tag
// named it.
func jsonName(sf reflect.StructField) (string, bool) {
	tag := sf.Tag.Get("json")
	if tag == "-" {
		return "-", true
	}
	name, _, _ := strings.Cut(tag, ",")
	if name != "" {
		return name, true
	}
	return sf.Name, false
}

func (b *structBinder) lookup(key string) *field {
	if f := b.byName[key]; f != nil {
		return f
	}
	return b.byFold[strings.ToLower(key)]
}

func (b *structBinder) pairs(dst reflect.Value, src pairSource, in string, errs *[]ParamError) error {
	var seen uint64
	var seenMore map[*field]bool
	return src.each(func(k, v string) {
		f := b.lookup(k)
		if f == nil {
			*errs = append(*errs, ParamError{Name: k, In: in, Detail: "unknown keyword"})
			return
		}
		if f.file == fileHeader || f.file == fileHeaders {
			*errs = append(*errs, ParamError{Name: k, In: in, Detail: "expects a file"})
			return
		}
		fv := fieldByIndex(dst, f.index)
		if f.list {
			// Grow the list in place and decode into its new element;
			// the first time, room for as many values as the source has
			// (a few: one allocation, not one per doubling).
			n := fv.Len()
			if n == fv.Cap() {
				grow := 1
				if n == 0 {
					grow = min(src.count(), 16)
				}
				fv.Grow(grow)
			}
			fv.SetLen(n + 1)
			if err := f.dec(fv.Index(n), v); err != nil {
				fv.SetLen(n)
				*errs = append(*errs, ParamError{Name: k, In: in, Detail: err.Error()})
			}
			return
		}
		repeated := false
		if f.order < 64 {
			repeated = seen&(1<<f.order) != 0
			seen |= 1 << f.order
		} else {
			if seenMore == nil {
				seenMore = map[*field]bool{}
			}
			repeated = seenMore[f]
			seenMore[f] = true
		}
		if repeated {
			*errs = append(*errs, ParamError{Name: k, In: in, Detail: "given more than once, but takes one value"})
			return
		}
		if err := f.dec(fv, v); err != nil {
			*errs = append(*errs, ParamError{Name: k, In: in, Detail: err.Error()})
		}
	})
}

func (b *structBinder) json(dst reflect.Value, body []byte, errs *[]ParamError) error {
	if isJSONNull(body) {
		*errs = append(*errs, nullBody)
		return nil
	}
	if b.quoted {
		return decodeWithEncodingJSON(dst, body, errs)
	}
	if err := jsonv2.Unmarshal(body, dst.Addr().Interface(), b.jsonOptions); err != nil {
		// The text is checked only when the decoder refused something:
		// what it refuses for invalid UTF-8 or a lone surrogate is said
		// the way the other decoders of bodies say it.
		if err := checkJSONText(body); err != nil {
			return err
		}
		return jsonBindError(err, errs)
	}
	return nil
}

// bodyOptions decode a JSON body into a struct of keyword parameters as
// encoding/json's Decoder with DisallowUnknownFields does (case-insensitive
// names, the last of duplicate names, its errors), in one pass: the
// decoder of go-json-experiment/json (the upstream of encoding/json/v2) with
// its v1 semantics, about twice as fast. Unlike encoding/json it refuses
// invalid UTF-8 and lone surrogates, as the runtime does for every body.
var bodyOptions = jsonv2.JoinOptions(jsonv1.DefaultOptionsV1(), jsonv2.RejectUnknownMembers(true), jsontext.AllowInvalidUTF8(false))

// bodyNumberOptions are bodyOptions for a struct that holds an
// encoding/json.Number, which only encoding/json knows: a number, or a
// string holding one, as it takes them.
var bodyNumberOptions = jsonv2.JoinOptions(bodyOptions, jsonv2.WithUnmarshalers(jsonv2.UnmarshalFromFunc(unmarshalNumber)))

var numberType = reflect.TypeFor[json.Number]()

// unmarshalNumber decodes an encoding/json.Number as encoding/json does:
// a JSON number, a string holding one, or null (left as it was).
func unmarshalNumber(dec *jsontext.Decoder, n *json.Number) error {
	v, err := dec.ReadValue()
	if err != nil {
		return err
	}
	switch v.Kind() {
	case 'n':
		return nil
	case '0':
		*n = json.Number(v)
		return nil
	case '"':
		var s string
		if err := jsonv2.Unmarshal(v, &s); err == nil && s != "" && json.Valid([]byte(s)) && (s[0] == '-' || s[0] >= '0' && s[0] <= '9') {
			*n = json.Number(s)
			return nil
		}
	}
	field := strings.ReplaceAll(strings.TrimPrefix(string(dec.StackPointer()), "/"), "/", ".")
	return &jsonv1.UnmarshalTypeError{Value: v.Kind().String(), Type: numberType, Field: field}
}

// reaches reports whether match holds for t or for a type a value of t
// can hold (with the struct field that holds it, or nil).
func reaches(t reflect.Type, match func(t reflect.Type, f *reflect.StructField) bool) bool {
	seen := map[reflect.Type]bool{}
	var walk func(t reflect.Type, f *reflect.StructField) bool
	walk = func(t reflect.Type, f *reflect.StructField) bool {
		if match(t, f) {
			return true
		}
		if seen[t] {
			return false
		}
		seen[t] = true
		switch t.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Array:
			return walk(t.Elem(), nil)
		case reflect.Map:
			return walk(t.Key(), nil) || walk(t.Elem(), nil)
		case reflect.Struct:
			for i := range t.NumField() {
				if f := t.Field(i); walk(f.Type, &f) {
					return true
				}
			}
		}
		return false
	}
	return walk(t, nil)
}

// decodeWithEncodingJSON binds a JSON body with encoding/json's Decoder,
// as the binder did before go-json-experiment: what a struct with a
// ",string" field takes, and the reference the tests hold the faster
// decoder to.
func decodeWithEncodingJSON(dst reflect.Value, body []byte, errs *[]ParamError) error {
	if err := checkJSONText(body); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst.Addr().Interface()); err != nil {
		return jsonBindError(err, errs)
	}
	return checkJSONEnd(dec)
}

func (b *structBinder) files(dst reflect.Value, files map[string][]*multipart.FileHeader, errs *[]ParamError) {
	names := make([]string, 0, len(files))
	for k := range files {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		parts := files[k]
		f := b.lookup(k)
		if f == nil {
			*errs = append(*errs, ParamError{Name: k, In: inBody, Detail: "unknown keyword"})
			continue
		}
		fv := fieldByIndex(dst, f.index)
		switch f.file {
		case fileHeaders:
			fv.Set(reflect.ValueOf(parts))
		case fileHeader, fileBytes:
			if len(parts) != 1 {
				*errs = append(*errs, ParamError{Name: k, In: inBody, Detail: "given more than once, but takes one file"})
				continue
			}
			if f.file == fileHeader {
				fv.Set(reflect.ValueOf(parts[0]))
				continue
			}
			data, err := readPart(parts[0])
			if err != nil {
				*errs = append(*errs, ParamError{Name: k, In: inBody, Detail: err.Error()})
				continue
			}
			fv.SetBytes(data)
		default:
			*errs = append(*errs, ParamError{Name: k, In: inBody, Detail: "does not take a file"})
		}
	}
}

func readPart(fh *multipart.FileHeader) ([]byte, error) {
	f, err := fh.Open()
	if err != nil {
		return nil, fmt.Errorf("reading file part: %w", err)
	}
	defer f.Close()
	return io.ReadAll(f)
}

// fieldByIndex is reflect.Value.FieldByIndex for structs embedded by value.
func fieldByIndex(v reflect.Value, index []int) reflect.Value {
	for _, i := range index {
		v = v.Field(i)
	}
	return v
}

// mapBinder binds keywords into a map, CoWorks' **kwargs: map[string]any
// takes a string, or a list of strings for a repeated key, and JSON values
// from a body; map[string]string takes one value per key and
// map[string][]string always takes lists.
type mapBinder struct {
	typ reflect.Type
}

var (
	mapAnyType     = reflect.TypeFor[map[string]any]()
	mapStringType  = reflect.TypeFor[map[string]string]()
	mapStringsType = reflect.TypeFor[map[string][]string]()
	urlValuesType  = reflect.TypeFor[url.Values]()
)

func (b mapBinder) pairs(dst reflect.Value, src pairSource, in string, errs *[]ParamError) error {
	lists := map[string][]string{}
	var order []string
	if err := src.each(func(k, v string) {
		if _, ok := lists[k]; !ok {
			order = append(order, k)
		}
		lists[k] = append(lists[k], v)
	}); err != nil {
		return err
	}
	if dst.IsNil() {
		dst.Set(reflect.MakeMapWithSize(b.typ, len(order)))
	}
	for _, k := range order {
		vs := lists[k]
		switch {
		case b.typ.Elem().Kind() == reflect.Slice:
			dst.SetMapIndex(reflect.ValueOf(k), reflect.ValueOf(vs).Convert(b.typ.Elem()))
		case b.typ.Elem().Kind() == reflect.String:
			if len(vs) > 1 {
				*errs = append(*errs, ParamError{Name: k, In: in, Detail: "given more than once, but takes one value"})
				continue
			}
			dst.SetMapIndex(reflect.ValueOf(k), reflect.ValueOf(vs[0]).Convert(b.typ.Elem()))
		default:
			var v any = vs[0]
			if len(vs) > 1 {
				v = vs
			}
			dst.SetMapIndex(reflect.ValueOf(k), reflect.ValueOf(&v).Elem())
		}
	}
	return nil
}

func (b mapBinder) json(dst reflect.Value, body []byte, errs *[]ParamError) error {
	if err := checkJSONText(body); err != nil {
		return err
	}
	if isJSONNull(body) {
		*errs = append(*errs, nullBody)
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(dst.Addr().Interface()); err != nil {
		return jsonBindError(err, errs)
	}
	return checkJSONEnd(dec)
}

func (b mapBinder) files(dst reflect.Value, files map[string][]*multipart.FileHeader, errs *[]ParamError) {
	for k := range files {
		*errs = append(*errs, ParamError{Name: k, In: inBody, Detail: "keyword maps do not take files"})
	}
}

// noKeywords is the binder of entries without a keyword parameter: any
// keyword is unknown.
type noKeywords struct{}

func (noKeywords) pairs(_ reflect.Value, src pairSource, in string, errs *[]ParamError) error {
	return src.each(func(k, _ string) {
		*errs = append(*errs, ParamError{Name: k, In: in, Detail: "unknown keyword: the entry takes no keyword parameters"})
	})
}

func (noKeywords) json(_ reflect.Value, body []byte, errs *[]ParamError) error {
	var m map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&m); err != nil {
		return jsonBindError(err, errs)
	}
	if err := checkJSONEnd(dec); err != nil {
		return err
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		*errs = append(*errs, ParamError{Name: k, In: inBody, Detail: "unknown keyword: the entry takes no keyword parameters"})
	}
	return nil
}

func (noKeywords) files(_ reflect.Value, files map[string][]*multipart.FileHeader, errs *[]ParamError) {
	for k := range files {
		*errs = append(*errs, ParamError{Name: k, In: inBody, Detail: "unknown keyword: the entry takes no keyword parameters"})
	}
}

// jsonBindError sorts a JSON decoding error into a 400 (the body is not
// JSON) or a parameter error (the JSON does not fit the parameters: 422).
func jsonBindError(err error, errs *[]ParamError) error {
	var typeErr *json.UnmarshalTypeError
	if v1TypeErr := (*jsonv1.UnmarshalTypeError)(nil); errors.As(err, &v1TypeErr) {
		typeErr = &json.UnmarshalTypeError{Value: v1TypeErr.Value, Type: v1TypeErr.Type, Field: v1TypeErr.Field}
	}
	switch {
	case typeErr != nil || errors.As(err, &typeErr):
		name := typeErr.Field
		if name == "" {
			*errs = append(*errs, ParamError{Name: "", In: inBody, Detail: fmt.Sprintf("the body is a JSON %s, not an object of keyword parameters", typeErr.Value)})
			return nil
		}
		*errs = append(*errs, ParamError{Name: name, In: inBody, Detail: fmt.Sprintf("a JSON %s cannot be a %s", typeErr.Value, typeErr.Type)})
		return nil
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		*errs = append(*errs, ParamError{Name: name, In: inBody, Detail: "unknown keyword"})
		return nil
	}
	var syntaxErr *json.SyntaxError
	var v1SyntaxErr *jsonv1.SyntaxError
	if errors.As(err, &v1SyntaxErr) && strings.Contains(err.Error(), "after top-level value") {
		return BadRequest("malformed JSON body: data after the JSON value")
	}
	if errors.As(err, &syntaxErr) || errors.As(err, &v1SyntaxErr) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return BadRequest("malformed JSON body: %v", err)
	}
	// Errors from UnmarshalJSON / UnmarshalText methods of field types.
	*errs = append(*errs, ParamError{Name: "", In: inBody, Detail: err.Error()})
	return nil
}

// nullBody is the error of a JSON body that is null: encoding/json would
// leave every keyword unset, as if they were all given.
var nullBody = ParamError{Name: "", In: inBody, Detail: "the body is JSON null, not an object of keyword parameters"}

// isJSONNull reports whether body is the JSON null.
func isJSONNull(body []byte) bool {
	return string(bytes.TrimSpace(body)) == "null"
}

// checkJSONText refuses a JSON body that encoding/json would change without
// a word: invalid UTF-8, and \u escapes of lone UTF-16 surrogates, both of
// which it replaces with U+FFFD. The body is a 400 that names the problem.
func checkJSONText(body []byte) error {
	if d := invalidJSONText(body); d != "" {
		return BadRequest("malformed JSON body: %s", d)
	}
	return nil
}

// invalidJSONText says what in a JSON text encoding/json would replace
// with U+FFFD, or "" when nothing.
func invalidJSONText(body []byte) string {
	if !utf8.Valid(body) {
		n := 0
		for n < len(body) {
			r, size := utf8.DecodeRune(body[n:])
			if r == utf8.RuneError && size <= 1 {
				break
			}
			n += size
		}
		return fmt.Sprintf("invalid UTF-8 at byte %d", n)
	}
	for i := 0; i < len(body); i++ {
		if body[i] != '\\' {
			continue
		}
		// A backslash only appears in a string; the decoder refuses it
		// anywhere else.
		if i+1 < len(body) && body[i+1] != 'u' {
			i++
			continue
		}
		r, ok := hexRune(body, i+2)
		if !ok {
			continue // a syntax error the decoder reports
		}
		switch {
		case utf16.IsSurrogate(r) && r < 0xdc00:
			if r2, ok := hexRune(body, i+8); ok && i+7 < len(body) && body[i+6] == '\\' && body[i+7] == 'u' && r2 >= 0xdc00 && r2 <= 0xdfff {
				i += 11
				continue
			}
			return fmt.Sprintf("\\u%04x at byte %d is a lone UTF-16 surrogate, not a character", r, i)
		case utf16.IsSurrogate(r):
			return fmt.Sprintf("\\u%04x at byte %d is a lone UTF-16 surrogate, not a character", r, i)
		}
		i += 5
	}
	return ""
}

// hexRune reads the four hex digits of a \u escape at body[at:].
func hexRune(body []byte, at int) (rune, bool) {
	if at+4 > len(body) {
		return 0, false
	}
	var r rune
	for _, c := range body[at : at+4] {
		switch {
		case '0' <= c && c <= '9':
			r = r<<4 | rune(c-'0')
		case 'a' <= c && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case 'A' <= c && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// checkJSONEnd rejects data after the JSON value.
func checkJSONEnd(dec *json.Decoder) error {
	if _, err := dec.Token(); err != io.EOF {
		return BadRequest("malformed JSON body: data after the JSON value")
	}
	return nil
}

// bodyKind is how a request body carries keyword parameters.
type bodyKind uint8

const (
	bodyJSON bodyKind = iota
	bodyForm
	bodyMultipart
)

// classifyBody returns how to read a body of the given Content-Type, or a
// 415 problem.
func classifyBody(contentType string) (bodyKind, map[string]string, error) {
	if contentType == "" || contentType == "application/json" {
		return bodyJSON, nil, nil // the common case, without parsing
	}
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return 0, nil, NewProblem(http.StatusUnsupportedMediaType, "malformed Content-Type %q", contentType)
	}
	switch {
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		return bodyJSON, params, nil
	case mt == "application/x-www-form-urlencoded":
		return bodyForm, params, nil
	case mt == "multipart/form-data":
		if params["boundary"] == "" {
			return 0, nil, BadRequest("multipart body without a boundary")
		}
		return bodyMultipart, params, nil
	}
	return 0, nil, NewProblem(http.StatusUnsupportedMediaType,
		"Content-Type %q is not supported: send application/json, application/x-www-form-urlencoded or multipart/form-data", mt)
}
