package runtime

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	goruntime "runtime"
	"slices"
	"strings"

	"github.com/coworks-go/cws/runtime/cwsgen"
)

// Route describes one entry as the router serves it.
type Route struct {
	// Method is the HTTP method.
	Method string `json:"method"`
	// Path is the route template, e.g. "/content/{value}/{other}".
	Path string `json:"path"`
	// Entry is the Go method name, e.g. "GetContent__".
	Entry string `json:"entry"`
	// Blueprint names the blueprint the entry belongs to; empty for the
	// service's own entries.
	Blueprint string `json:"blueprint,omitempty"`
	// Params names the path parameters, in order.
	Params []string `json:"params,omitempty"`
	// Keywords names the keyword parameters the entry takes: struct field
	// names, or "**" for a keyword map.
	Keywords []string `json:"keywords,omitempty"`
	// Doc is the method's doc comment.
	Doc string `json:"doc,omitempty"`
	// Auth reports whether the authorizer guards the entry.
	Auth bool `json:"auth"`
	// Stages lists the stages the entry exists in; empty means all.
	Stages []string `json:"stages,omitempty"`
	// Active reports whether the entry exists in the App's stage.
	Active bool `json:"active"`
	// ContentType is the declared response content type, if any.
	ContentType string `json:"content_type,omitempty"`
	// ContentTypes are the other content types the entry declares it may
	// answer with, setting them itself (option ContentType).
	ContentTypes []string `json:"content_types,omitempty"`
	// CORS reports whether the entry answers cross-origin requests.
	CORS bool `json:"cors,omitempty"`
	// Statuses are the statuses the entry declares (option Status).
	Statuses []int `json:"statuses,omitempty"`
	// Signature holds the Go types of the entry's parameters and result,
	// for what describes it (the openapi package); it is not JSON.
	Signature *Signature `json:"-"`
}

// EntryOption sets an option of one entry.
type EntryOption func(*entryOptions)

type entryOptions struct {
	noAuth      bool
	cors        *CORS
	noCORS      bool
	stages      []string
	contentType string
	others      []string
	path        string
	statuses    []int
}

// NoAuth exempts the entry from the authorizer.
func NoAuth() EntryOption { return func(o *entryOptions) { o.noAuth = true } }

// Stages limits the entry to the given stages (CWS_STAGE); in any other
// stage the route does not exist.
func Stages(stages ...string) EntryOption {
	return func(o *entryOptions) { o.stages = append(o.stages, stages...) }
}

// ContentType declares the content type of the entry's responses, e.g.
// "image/png" for an entry returning []byte or an io.Reader, or
// "text/html; charset=utf-8" for one returning a string. others are the
// content types the entry may set itself instead (with ResponseHeader),
// declared so that its description (cws openapi) lists them.
func ContentType(ct string, others ...string) EntryOption {
	return func(o *entryOptions) { o.contentType, o.others = ct, others }
}

// Path gives the entry an explicit route template (relative to its
// blueprint's prefix) for paths a method name cannot express, e.g.
// "/order-lines/{id}". It must have one {param} segment per positional
// parameter; their names are taken from the template.
func Path(template string) EntryOption {
	return func(o *entryOptions) { o.path = template }
}

// Status declares the statuses the entry answers with besides those the
// runtime gives every entry (its problems: 400, 401, 403, 404, 405, 413,
// 415, 422, 500), so that its description (cws openapi) lists them: a 2xx
// status is a success answered with the entry's result, a 4xx or 5xx one a
// problem the entry returns. The first 2xx status is the entry's status
// when it answers a value and does not call SetStatus (default 200), e.g.
// Status(201) for an entry that creates.
func Status(codes ...int) EntryOption {
	return func(o *entryOptions) { o.statuses = append(o.statuses, codes...) }
}

// EntryConfigurer is implemented by services and blueprints that set options
// on their entries. The runtime calls ConfigureEntries once, when the App is
// built; options naming a method that is not an entry are a startup error.
type EntryConfigurer interface {
	ConfigureEntries(c *EntryConfig)
}

// EntryConfig collects entry options; see EntryConfigurer.
type EntryConfig struct {
	opts map[string][]EntryOption
	errs []error
}

// Entry sets options on one entry, named by a method expression such as
// (*CRUD).GetServiceTest (checked by the compiler), a method value such as
// s.GetServiceTest, or its name as a string.
func (c *EntryConfig) Entry(method any, opts ...EntryOption) {
	name, err := methodName(method)
	if err != nil {
		c.errs = append(c.errs, err)
		return
	}
	c.opts[name] = append(c.opts[name], opts...)
}

// methodName resolves the name of the method designated by m; whether it is
// an entry of the receiver is checked once every entry is known.
func methodName(m any) (string, error) {
	switch m := m.(type) {
	case string:
		return m, nil
	case nil:
		return "", fmt.Errorf("EntryConfig.Entry: nil method")
	}
	v := reflect.ValueOf(m)
	if v.Kind() != reflect.Func {
		return "", fmt.Errorf("EntryConfig.Entry: want a method expression, method value or name, not %T", m)
	}
	f := goruntime.FuncForPC(v.Pointer())
	if f == nil {
		return "", fmt.Errorf("EntryConfig.Entry: cannot name %T", m)
	}
	full := strings.TrimSuffix(f.Name(), "-fm")
	return full[strings.LastIndexByte(full, '.')+1:], nil
}

// entry is a Route with what it takes to invoke it.
type entry struct {
	Route
	owner string // type name for messages, e.g. "(*CRUD)"

	fn      reflect.Value // the method's func, receiver first
	recv    reflect.Value
	recvAny any             // recv as an interface, for the invoker
	inv     *cwsgen.Invoker // nil: call through reflection
	arena   reflect.Type    // a struct holding one call's arguments
	numIn   int             // parameters, the context included
	pos     []decodeFunc
	posT    []reflect.Type
	kw      kwBinder
	kwT     reflect.Type // the keyword struct or map; nil without keywords
	kwPtr   bool         // the parameter is a pointer to kwT
	out     outKind
	outT    reflect.Type
	hasErr  bool
	hasVal  bool
	validat bool
	// status is the first declared 2xx status: the status of a value
	// answered without SetStatus (0: 200).
	status int
	// ownCORS and noCORS are the entry's CORS options; cors is its policy
	// (nil: none).
	ownCORS *CORS
	noCORS  bool
	cors    *CORS
}

func (e *entry) qualifiedName() string { return e.owner + "." + e.Entry }

var (
	contextType = reflect.TypeFor[context.Context]()
	errorType   = reflect.TypeFor[error]()
	readerType  = reflect.TypeFor[io.Reader]()
	validatorT  = reflect.TypeFor[Validator]()
)

// Validator is implemented by keyword parameter types that check themselves
// once bound; an error is a 422 (or the error's own status).
type Validator interface {
	Validate() error
}

// buildEntries discovers the entries of recv, mounted under prefix.
func buildEntries(recv any, prefix, blueprint, stage string) ([]*entry, []string, error) {
	v := reflect.ValueOf(recv)
	t := v.Type()
	owner := "(" + t.String() + ")"
	if t.Kind() != reflect.Pointer {
		owner = t.String()
		pt := reflect.PointerTo(t)
		for i := range pt.NumMethod() {
			name := pt.Method(i).Name
			if _, _, ok := ParseEntryName(name); ok {
				if _, has := t.MethodByName(name); !has {
					return nil, nil, fmt.Errorf("%s has entry %s on its pointer: pass a pointer to the %s", t, name, t)
				}
			}
		}
	}

	cfg := &EntryConfig{opts: map[string][]EntryOption{}}
	if c, ok := recv.(EntryConfigurer); ok {
		c.ConfigureEntries(cfg)
	}
	if len(cfg.errs) > 0 {
		return nil, nil, fmt.Errorf("%s.ConfigureEntries: %w", owner, cfg.errs[0])
	}
	meta, _ := cwsgen.Lookup(t)
	var warnings []string

	var entries []*entry
	seen := map[string]bool{}
	for i := range t.NumMethod() {
		m := t.Method(i)
		method, words, ok := ParseEntryName(m.Name)
		if !ok {
			continue
		}
		seen[m.Name] = true
		e, err := newEntry(owner, m.Name, method, v, m.Func, v.Method(i).Type())
		if err != nil {
			return nil, nil, err
		}
		e.Blueprint = blueprint
		mi, hasMeta := meta.Methods[m.Name]
		names := mi.Params
		if !hasMeta {
			if e.numIn > 1 && len(e.pos) > 0 {
				warnings = append(warnings, fmt.Sprintf("%s: parameter names unknown (run `cws gen`); using arg1, arg2, ...", e.qualifiedName()))
			}
			names = nil
			for j := 1; j < e.numIn; j++ {
				names = append(names, fmt.Sprintf("arg%d", j))
			}
		} else if len(names) != e.numIn-1 {
			return nil, nil, fmt.Errorf("%s: the generated description names %d parameters but the method has %d: rerun `cws gen`", e.qualifiedName(), len(names), e.numIn-1)
		}
		e.Doc = mi.Doc
		e.Params = names[:len(e.pos)]
		if inv := mi.Invoke; inv.Valid() {
			r, err := invokerReceiver(inv, v)
			if err == nil {
				err = checkInvoker(inv, e)
			}
			if err != nil {
				return nil, nil, fmt.Errorf("%s: %v: rerun `cws gen`", e.qualifiedName(), err)
			}
			e.inv, e.recvAny = &inv, r
		}

		var o entryOptions
		for _, opt := range cfg.opts[m.Name] {
			opt(&o)
		}
		e.Auth = !o.noAuth
		e.ownCORS, e.noCORS = o.cors, o.noCORS
		e.Stages = o.stages
		e.Active = len(o.stages) == 0 || slices.Contains(o.stages, stage)
		e.ContentType, e.ContentTypes = o.contentType, o.others
		for _, code := range o.statuses {
			if code < 200 || code > 599 || (code >= 300 && code < 400) {
				return nil, nil, fmt.Errorf("%s: option Status: %d is not a success (2xx) or problem (4xx, 5xx) status", e.qualifiedName(), code)
			}
			if e.status == 0 && code < 300 {
				e.status = code
			}
		}
		if e.status == http.StatusNoContent && e.hasVal {
			// A 204 has no body: the value would be dropped by net/http and
			// sent by the Lambda doors.
			return nil, nil, fmt.Errorf("%s: option Status: 204 answers no body, and the entry returns a value (return nothing or only an error, or declare another 2xx first)", e.qualifiedName())
		}
		e.Statuses = o.statuses
		path := entryPath(words, e.Params)
		if o.path != "" {
			segs, isParam, err := templateSegments(o.path)
			if err != nil {
				return nil, nil, fmt.Errorf("%s: option Path: %w", e.qualifiedName(), err)
			}
			var params []string
			for j, s := range segs {
				if isParam[j] {
					params = append(params, s)
				}
			}
			if len(params) != len(e.pos) {
				return nil, nil, fmt.Errorf("%s: option Path %q has %d parameters but the method takes %d positional parameters", e.qualifiedName(), o.path, len(params), len(e.pos))
			}
			e.Params = params
			path = o.path
		}
		e.Path = joinPath(prefix, path)
		e.Signature = e.signature()
		entries = append(entries, e)
	}
	for name := range cfg.opts {
		if !seen[name] {
			return nil, nil, fmt.Errorf("%s.ConfigureEntries: %s is not an entry of %s", owner, name, owner)
		}
	}
	return entries, warnings, nil
}

// joinPath mounts path under prefix.
func joinPath(prefix, path string) string {
	prefix = strings.TrimRight(prefix, "/")
	if prefix == "" {
		return path
	}
	if path == "/" {
		return prefix
	}
	return prefix + path
}

// newEntry checks the signature of one verb-named method: ft is its type
// without the receiver.
func newEntry(owner, name, method string, recv, fn reflect.Value, ft reflect.Type) (*entry, error) {
	e := &entry{owner: owner, fn: fn, recv: recv, numIn: ft.NumIn()}
	e.Method = method
	e.Entry = name
	fail := func(format string, args ...any) (*entry, error) {
		return nil, fmt.Errorf("%s: "+format, append([]any{e.qualifiedName()}, args...)...)
	}
	if ft.NumIn() == 0 || ft.In(0) != contextType {
		return fail("an entry takes context.Context as its first parameter (a method named like an entry must be one)")
	}
	if ft.IsVariadic() {
		return fail("variadic parameters are not supported")
	}
	for i := 1; i < ft.NumIn(); i++ {
		pt := ft.In(i)
		if isKeywordType(pt) {
			if i != ft.NumIn()-1 {
				return fail("parameter %d (%s) is a keyword parameter and must come last", i, pt)
			}
			if err := e.setKeywords(pt); err != nil {
				return fail("parameter %d (%s): %v", i, pt, err)
			}
			continue
		}
		dec, err := textDecoder(pt, true)
		if err != nil {
			return fail("parameter %d: %v", i, err)
		}
		e.pos = append(e.pos, dec)
		e.posT = append(e.posT, pt)
	}
	if e.kw == nil {
		e.kw = noKeywords{}
	}
	switch ft.NumOut() {
	case 0:
	case 1:
		if ft.Out(0) == errorType {
			e.hasErr = true
		} else {
			e.hasVal = true
			e.outT = ft.Out(0)
		}
	case 2:
		if ft.Out(1) != errorType {
			return fail("the second result must be error, not %s", ft.Out(1))
		}
		e.hasVal, e.hasErr = true, true
		e.outT = ft.Out(0)
	default:
		return fail("an entry returns at most (value, error), not %d results", ft.NumOut())
	}
	if e.hasVal {
		e.out = outKindOf(e.outT)
	}
	e.arena = arenaType(ft)
	return e, nil
}

// arenaType is a struct with a field for each parameter of a method: Ctx,
// then P0, P1... One value of it holds a call's arguments in a single
// allocation. It has the layout of the arenaN types of the invokers.
func arenaType(ft reflect.Type) reflect.Type {
	fields := []reflect.StructField{{Name: "Ctx", Type: contextType}}
	for i := 1; i < ft.NumIn(); i++ {
		fields = append(fields, reflect.StructField{Name: fmt.Sprintf("P%d", i-1), Type: ft.In(i)})
	}
	return reflect.StructOf(fields)
}

// isKeywordType reports whether t carries keyword parameters: a struct (or
// pointer to one) that is not a text value such as time.Time, or a map with
// string keys.
func isKeywordType(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Map:
		return t.Key().Kind() == reflect.String
	case reflect.Pointer:
		return t.Elem().Kind() == reflect.Struct && !reflect.PointerTo(t.Elem()).Implements(textUnmarshalerType)
	case reflect.Struct:
		return !reflect.PointerTo(t).Implements(textUnmarshalerType)
	}
	return false
}

func (e *entry) setKeywords(pt reflect.Type) error {
	switch pt.Kind() {
	case reflect.Map:
		switch {
		case pt == mapAnyType || pt == mapStringType || pt == mapStringsType || pt == urlValuesType:
		case pt.Elem().Kind() == reflect.Interface && pt.Elem().NumMethod() == 0:
		default:
			return fmt.Errorf("a keyword map is map[string]any, map[string]string or map[string][]string")
		}
		e.kw = mapBinder{typ: pt}
		e.kwT = pt
		e.Keywords = []string{"**"}
		return nil
	case reflect.Pointer:
		e.kwPtr = true
		pt = pt.Elem()
	}
	b, err := newStructBinder(pt)
	if err != nil {
		return err
	}
	e.kw = b
	e.kwT = pt
	e.validat = reflect.PointerTo(pt).Implements(validatorT)
	for _, f := range b.fields {
		e.Keywords = append(e.Keywords, f.name)
	}
	return nil
}

// bind converts the request into the entry's arguments: an addressable
// arena value. Parameter errors collect in st.errs.
func (e *entry) bind(st *callState, body []byte, kind bodyKind, boundary string, cleanup *func()) (reflect.Value, error) {
	req := st.req
	arena := reflect.New(e.arena).Elem()
	// Store the context without reflect's interface check on every call.
	*(*context.Context)(arena.Field(0).Addr().UnsafePointer()) = st
	errs := &st.errs
	for i, dec := range e.pos {
		s := req.params[i]
		if strings.IndexByte(s, '%') >= 0 {
			u, err := url.PathUnescape(s)
			if err != nil {
				return reflect.Value{}, BadRequest("malformed path: bad escape in %q", s)
			}
			s = u
		}
		if err := dec(arena.Field(1+i), s); err != nil {
			*errs = append(*errs, ParamError{Name: e.Params[i], In: inPath, Detail: err.Error()})
		}
	}

	var kw reflect.Value
	if e.kwT != nil {
		kw = arena.Field(1 + len(e.pos))
		if e.kwPtr {
			p := reflect.New(e.kwT)
			kw.Set(p)
			kw = p.Elem()
		}
	}
	var err error
	switch {
	case body == nil:
		src := pairSource{raw: req.RawQuery, values: req.Query}
		err = e.kw.pairs(kw, src, inQuery, errs)
	case kind == bodyJSON:
		// Each binder refuses invalid UTF-8 and lone surrogates.
		err = e.kw.json(kw, body, errs)
	case kind == bodyForm:
		if looksLikeJSON(body) {
			return reflect.Value{}, NewProblem(415, "the body looks like JSON but its Content-Type is application/x-www-form-urlencoded: send Content-Type: application/json")
		}
		err = e.kw.pairs(kw, pairSource{raw: string(body)}, inBody, errs)
	case kind == bodyMultipart:
		err = e.bindMultipart(kw, body, boundary, errs, cleanup)
	}
	if err != nil {
		return reflect.Value{}, err
	}
	if len(*errs) > 0 {
		return reflect.Value{}, paramProblem(*errs)
	}
	if e.validat {
		if err := kw.Addr().Interface().(Validator).Validate(); err != nil {
			if _, ok := err.(statusCoder); ok {
				return reflect.Value{}, err
			}
			return reflect.Value{}, Unprocessable("%s", err.Error())
		}
	}
	return arena, nil
}

// call invokes the entry with the bound arguments and returns its result,
// as a concrete value (invalid for a nil interface), and its error.
func (e *entry) call(arena reflect.Value) (reflect.Value, error) {
	if e.inv != nil {
		res, err := e.inv.Call(e.recvAny, arena.Addr().UnsafePointer())
		return reflect.ValueOf(res), err
	}
	var buf [cwsgen.MaxParams + 2]reflect.Value
	args := append(buf[:0], e.recv)
	for i := range e.numIn {
		args = append(args, arena.Field(i))
	}
	out := e.fn.Call(args)
	var err error
	if e.hasErr {
		if ev := out[len(out)-1]; !ev.IsNil() {
			err = ev.Interface().(error)
		}
	}
	var v reflect.Value
	if e.hasVal {
		v = out[0]
		if v.Kind() == reflect.Interface {
			v = v.Elem()
		}
	}
	return v, err
}

func looksLikeJSON(body []byte) bool {
	s := strings.TrimSpace(string(body))
	return strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}")
}

// paramProblem is the 422 answer for parameters that could not be bound.
func paramProblem(errs []ParamError) *Problem {
	detail := "parameter " + quoteName(errs[0].Name) + ": " + errs[0].Detail
	if len(errs) > 1 {
		detail = fmt.Sprintf("%d parameters are invalid; first %s", len(errs), detail)
	}
	p := Unprocessable("%s", detail)
	p.Errors = errs
	return p
}

func quoteName(n string) string {
	if n == "" {
		return "(body)"
	}
	return fmt.Sprintf("%q", n)
}
