// Package templates is cws's Templates service: Jinja templates (Jinja2's
// language, rendered by gonja v2 with cws's Jinja-compatible filters) read
// from a directory or an S3 prefix, with extends, include and import across
// files, autoescaping for .html and .xml names, and the compiled templates
// cached and compiled again when a file they read changes.
//
// Its entries:
//
//	POST /render/{name}   the body is the context (a JSON object); the
//	                      answer is the rendered text, with the content type
//	                      of the template's extension
//	POST /render          {"template": SOURCE, "context": {…}, "name": "x.html"}:
//	                      an inline template (name, optional, for autoescaping
//	                      and the content type)
//
// A syntax error answers 422 naming the template, the line and the message;
// a template that does not exist, 404.
//
// Use it as a blueprint of a service (runtime.WithBlueprint("/templates", svc))
// or standalone (services/templates/cmd). Configuration (FromEnv):
//
//	TEMPLATES_DIR      a directory of templates
//	TEMPLATES_S3_URI   s3://bucket/prefix: templates in S3 (checked for
//	                   changes at most every TEMPLATES_CHECK, default 5s)
package templates

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/nikolalohinski/gonja/v2"
	"github.com/nikolalohinski/gonja/v2/builtins"
	"github.com/nikolalohinski/gonja/v2/config"
	"github.com/nikolalohinski/gonja/v2/exec"
	"github.com/nikolalohinski/gonja/v2/loaders"
	"github.com/nikolalohinski/gonja/v2/parser"

	"github.com/coworks-go/cws/runtime"
)

// Environment variables of FromEnv.
const (
	EnvDir   = "TEMPLATES_DIR"
	EnvS3URI = "TEMPLATES_S3_URI"
	EnvCheck = "TEMPLATES_CHECK"
)

// Source is where templates are read from.
type Source interface {
	// Read returns a template's source and its version, which changes when
	// the source does; a template that does not exist is fs.ErrNotExist.
	Read(ctx context.Context, name string) (src []byte, version string, err error)
	// Version returns a template's version.
	Version(ctx context.Context, name string) (string, error)
}

// Dir is the Source of the templates of a directory: a template's version is
// its modification time and size.
func Dir(dir string) Source { return dirSource(dir) }

type dirSource string

func (d dirSource) path(name string) (string, error) {
	clean := path.Clean("/" + name)[1:]
	if clean == "" || clean != strings.TrimPrefix(name, "/") {
		return "", fmt.Errorf("template name %q: %w", name, fs.ErrNotExist)
	}
	return filepath.Join(string(d), filepath.FromSlash(clean)), nil
}

func (d dirSource) Read(_ context.Context, name string) ([]byte, string, error) {
	p, err := d.path(name)
	if err != nil {
		return nil, "", err
	}
	st, err := os.Stat(p)
	if err != nil {
		return nil, "", err
	}
	b, err := os.ReadFile(p)
	return b, versionOf(st), err
}

func (d dirSource) Version(_ context.Context, name string) (string, error) {
	p, err := d.path(name)
	if err != nil {
		return "", err
	}
	st, err := os.Stat(p)
	if err != nil {
		return "", err
	}
	return versionOf(st), nil
}

func versionOf(st fs.FileInfo) string {
	return fmt.Sprintf("%d/%d", st.ModTime().UnixNano(), st.Size())
}

// FS is the Source of the templates of a file system: an embed.FS
// compiled into the binary (its templates never change: each is read once),
// or any other fs.FS.
func FS(fsys fs.FS) Source { return fsSource{fsys} }

type fsSource struct{ fsys fs.FS }

func (f fsSource) Read(_ context.Context, name string) ([]byte, string, error) {
	name = strings.TrimPrefix(path.Clean("/"+name), "/")
	b, err := fs.ReadFile(f.fsys, name)
	if err != nil {
		return nil, "", err
	}
	return b, fsVersion(f.fsys, name), nil
}

func (f fsSource) Version(_ context.Context, name string) (string, error) {
	name = strings.TrimPrefix(path.Clean("/"+name), "/")
	if _, err := fs.Stat(f.fsys, name); err != nil {
		return "", err
	}
	return fsVersion(f.fsys, name), nil
}

func fsVersion(fsys fs.FS, name string) string {
	st, err := fs.Stat(fsys, name)
	if err != nil {
		return ""
	}
	return versionOf(st)
}

// Service renders templates.
type Service struct {
	source     Source
	check      time.Duration
	env        *exec.Environment
	autoescape func(name string) bool

	mu    sync.Mutex
	cache map[string]*compiled
}

// compiled is a compiled template and the versions of what it read.
type compiled struct {
	tpl     *exec.Template
	deps    map[string]string
	checked time.Time
}

// Option configures a Service.
type Option func(*Service)

// WithCheckEvery sets how often the templates' versions are checked for
// changes (default: at every render for a directory, 5 s for S3).
func WithCheckEvery(d time.Duration) Option { return func(s *Service) { s.check = d } }

// WithAutoescape sets what decides a template's HTML escaping (default:
// Autoescaped, by its name's extension).
func WithAutoescape(f func(name string) bool) Option { return func(s *Service) { s.autoescape = f } }

// New returns the service of the templates of source.
func New(source Source, opts ...Option) *Service {
	s := &Service{source: source, env: Environment(), cache: map[string]*compiled{}, autoescape: Autoescaped}
	switch source.(type) {
	case *s3Source:
		s.check = 5 * time.Second
	case fsSource:
		s.check = never // a file system given, an embed.FS: its files do not change
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// FromEnv returns the service configured by the environment:
// TEMPLATES_S3_URI, else TEMPLATES_DIR (else the directory "templates").
func FromEnv(ctx context.Context) (*Service, error) {
	var opts []Option
	if v := os.Getenv(EnvCheck); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return nil, fmt.Errorf("%s=%q: %w", EnvCheck, v, err)
		}
		opts = append(opts, WithCheckEvery(d))
	}
	if uri := os.Getenv(EnvS3URI); uri != "" {
		src, err := S3FromEnv(ctx, uri)
		if err != nil {
			return nil, err
		}
		return New(src, opts...), nil
	}
	dir := os.Getenv(EnvDir)
	if dir == "" {
		dir = "templates"
	}
	return New(Dir(dir), opts...), nil
}

// Environment is the Jinja environment of cws: gonja's, with the filters
// that departed from Jinja2 made Jinja2's (see jinja.go).
func Environment() *exec.Environment {
	filters := exec.NewFilterSet(map[string]exec.FilterFunction{}).Update(builtins.Filters)
	for name, f := range jinjaFilters {
		_ = filters.Replace(name, f)
	}
	return &exec.Environment{
		Context:           gonja.DefaultContext,
		Filters:           filters,
		Tests:             builtins.Tests,
		ControlStructures: builtins.ControlStructures,
		Methods:           builtins.Methods,
	}
}

// Autoescaped reports whether a template's name asks for HTML escaping:
// .html, .htm, .xml (and the same with .j2 or .jinja after).
func Autoescaped(name string) bool {
	name = strings.TrimSuffix(strings.TrimSuffix(name, ".j2"), ".jinja")
	switch strings.ToLower(path.Ext(name)) {
	case ".html", ".htm", ".xml", ".xhtml":
		return true
	}
	return false
}

// ContentType is the content type of a template's output, by its name's
// extension (text/plain when it says nothing).
func ContentType(name string) string {
	name = strings.TrimSuffix(strings.TrimSuffix(name, ".j2"), ".jinja")
	if ct := mime.TypeByExtension(path.Ext(name)); ct != "" {
		if strings.HasPrefix(ct, "text/") && !strings.Contains(ct, "charset") {
			ct += "; charset=utf-8"
		}
		return ct
	}
	return "text/plain; charset=utf-8"
}

// SyntaxError is a template that cannot be compiled: its name, line and
// message.
type SyntaxError struct {
	Template string
	Line     int
	Message  string
}

func (e *SyntaxError) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("template %s: %s", e.Template, e.Message) // gonja did not say where
	}
	return fmt.Sprintf("template %s, line %d: %s", e.Template, e.Line, e.Message)
}

// NotFoundError is a template that does not exist.
type NotFoundError struct{ Template string }

func (e *NotFoundError) Error() string { return fmt.Sprintf("no template %s", e.Template) }

// StatusCode makes a missing template a 404 wherever it is answered.
func (e *NotFoundError) StatusCode() int { return http.StatusNotFound }

// Render renders the template name with the context data.
func (s *Service) Render(ctx context.Context, name string, data map[string]any) (string, error) {
	c, err := s.compiled(ctx, name)
	if err != nil {
		return "", err
	}
	return execute(c.tpl, data)
}

// RenderString renders an inline template; name (it may be "") decides
// its autoescaping, and the templates it extends, includes or imports come
// from the service's source.
func (s *Service) RenderString(ctx context.Context, source, name string, data map[string]any) (string, error) {
	if name == "" {
		name = "inline"
	}
	l := &loader{ctx: ctx, s: s, inline: map[string][]byte{"/" + name: []byte(source)}, deps: map[string]string{}}
	tpl, err := compile(name, l, s.env, s.autoescape(name))
	if err != nil {
		return "", err
	}
	return execute(tpl, data)
}

func execute(tpl *exec.Template, data map[string]any) (out string, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = "", fmt.Errorf("rendering: %v", r)
		}
	}()
	if data == nil {
		data = map[string]any{}
	}
	return tpl.ExecuteToString(exec.NewContext(normalize(data).(map[string]any)))
}

// compiled returns the compiled template name, compiling it again when a
// file it read changed.
func (s *Service) compiled(ctx context.Context, name string) (*compiled, error) {
	name = strings.TrimPrefix(name, "/")
	s.mu.Lock()
	c, ok := s.cache[name]
	s.mu.Unlock()
	if ok && s.fresh(ctx, c) {
		return c, nil
	}
	l := &loader{ctx: ctx, s: s, deps: map[string]string{}}
	tpl, err := compile(name, l, s.env, s.autoescape(name))
	if err != nil {
		return nil, err
	}
	c = &compiled{tpl: tpl, deps: l.deps, checked: time.Now()}
	s.mu.Lock()
	s.cache[name] = c
	s.mu.Unlock()
	return c, nil
}

// never is a check period that means no check.
const never = -1

// fresh reports whether none of what a compiled template read changed
// (checked at most every s.check).
func (s *Service) fresh(ctx context.Context, c *compiled) bool {
	if s.check == never || s.check > 0 && time.Since(c.checked) < s.check {
		return true
	}
	for dep, version := range c.deps {
		if v, err := s.source.Version(ctx, dep); err != nil || v != version {
			return false
		}
	}
	s.mu.Lock()
	c.checked = time.Now()
	s.mu.Unlock()
	return true
}

// compile compiles a template through the loader, its errors made
// *SyntaxError and *NotFoundError.
func compile(name string, l *loader, env *exec.Environment, autoescape bool) (tpl *exec.Template, err error) {
	defer func() {
		if r := recover(); r != nil {
			tpl, err = nil, &SyntaxError{Template: name, Message: fmt.Sprint(r)}
		}
	}()
	cfg := config.New()
	cfg.AutoEscape = autoescape
	cfg.KeepTrailingNewline = false
	tpl, err = exec.NewTemplate("/"+name, cfg, l, env)
	if err == nil {
		return tpl, nil
	}
	if l.missing != "" {
		return nil, &NotFoundError{Template: l.missing}
	}
	var se *parser.SyntaxError
	if errors.As(err, &se) {
		return nil, &SyntaxError{Template: l.current(name), Line: se.Line, Message: se.Message}
	}
	return nil, &SyntaxError{Template: name, Message: err.Error()}
}

// loader is a gonja loader over the service's source; it records what it
// reads (and their versions), and the template that was missing.
type loader struct {
	ctx     context.Context
	s       *Service
	inline  map[string][]byte
	deps    map[string]string
	missing string
	last    string
}

func (l *loader) current(def string) string {
	if l.last != "" {
		return l.last
	}
	return def
}

func (l *loader) Read(p string) (io.Reader, error) {
	p, _ = l.Resolve(p)
	if src, ok := l.inline[p]; ok {
		return bytes.NewReader(src), nil
	}
	name := strings.TrimPrefix(p, "/")
	src, version, err := l.s.source.Read(l.ctx, name)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) && l.missing == "" {
			l.missing = name
		}
		return nil, err
	}
	l.deps[name], l.last = version, name
	return bytes.NewReader(src), nil
}

// Resolve makes every name absolute from the source's root: Jinja names
// templates from the loader's root, not from the including template.
func (l *loader) Resolve(p string) (string, error) {
	return "/" + strings.TrimPrefix(path.Clean("/"+p), "/"), nil
}

func (l *loader) Inherit(string) (loaders.Loader, error) { return l, nil }

// normalize makes JSON numbers what Jinja users expect: whole numbers ints.
func normalize(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return int(i)
		}
		f, _ := x.Float64()
		return f
	case float64:
		if x == float64(int64(x)) && x > -1e15 && x < 1e15 {
			return int(x)
		}
		return x
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = normalize(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalize(e)
		}
		return out
	}
	return v
}

// ConfigureEntries declares the content types of the rendered text: its
// name's (ContentType), text/plain by default, text/html for a page, any
// other the name's extension says.
func (s *Service) ConfigureEntries(c *runtime.EntryConfig) {
	types := runtime.ContentType("text/plain; charset=utf-8", "text/html; charset=utf-8", "*/*")
	c.Entry((*Service).PostRender_, types)
	c.Entry((*Service).PostRender, types)
}

// PostRender_ is the entry POST /render/{name}: the body is the context
// (a JSON object), the answer the rendered text.
func (s *Service) PostRender_(ctx context.Context, name string, data map[string]any) (string, error) {
	out, err := s.Render(ctx, name, data)
	if err != nil {
		return "", problem(err)
	}
	runtime.ResponseHeader(ctx).Set("Content-Type", ContentType(name))
	return out, nil
}

// Inline is the body of POST /render.
type Inline struct {
	// Template is the template's source.
	Template string `json:"template" jsonschema:"required,minLength=1"`
	// Context holds its variables.
	Context map[string]any `json:"context"`
	// Name names it, for its autoescaping and content type (optional).
	Name string `json:"name"`
}

// Validate implements runtime's validation: a template is required.
func (in *Inline) Validate() error {
	if in.Template == "" {
		return errors.New("template is required")
	}
	return nil
}

// PostRender is the entry POST /render: an inline template.
func (s *Service) PostRender(ctx context.Context, in Inline) (string, error) {
	out, err := s.RenderString(ctx, in.Template, in.Name, in.Context)
	if err != nil {
		return "", problem(err)
	}
	runtime.ResponseHeader(ctx).Set("Content-Type", ContentType(in.Name))
	return out, nil
}

// problem makes a service error a problem+json answer.
func problem(err error) error {
	var se *SyntaxError
	var nf *NotFoundError
	switch {
	case errors.As(err, &se):
		return runtime.Unprocessable("%v", se)
	case errors.As(err, &nf):
		return runtime.NotFound("%v", nf)
	}
	return runtime.Unprocessable("%v", err)
}
