// Package gen writes the description files (cws_gen.go) of services and
// blueprints: for each described type, the parameter names and doc comments
// that reflection cannot see and the typed invokers of its entries,
// registered with cwsgen.Describe.
//
// Generation is opt-in: gen describes the services and blueprints a main
// package hands to cws.Main, cws.Run, runtime.New or runtime.WithBlueprint
// (wherever in the main module they are declared), the packages under a
// blueprint/ directory, and the types named on its command line — never any
// other type that merely has a verb-named method.
package gen

import (
	"bytes"
	"errors"
	"fmt"
	"go/ast"
	"go/build"
	"go/format"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/coworks-go/cws/runtime"
)

// FileName is the name of the generated file.
const FileName = "cws_gen.go"

// Import paths gen knows.
const (
	// CwsgenPath is the package generated files call.
	CwsgenPath = "github.com/coworks-go/cws/runtime/cwsgen"
	// RuntimePath is the runtime, whose New and WithBlueprint take services.
	RuntimePath = "github.com/coworks-go/cws/runtime"
	// CwsPath is the front door, whose Main and Run take a service.
	CwsPath = "github.com/coworks-go/cws"
)

// Type is what gen learned of one type with entries.
type Type struct {
	Name    string
	Doc     string
	Methods []Method
}

// Method is one entry method.
type Method struct {
	Name   string
	Doc    string
	Params []string
	// Invoker names the runtime helper that calls the method without
	// reflection (e.g. "Invoke2VE"); empty when none fits.
	Invoker string
}

// maxInvokerParams mirrors cwsgen.MaxParams.
const maxInvokerParams = 6

// invokerFor names the runtime helper for a method type, or "".
func invokerFor(ft *ast.FuncType, nparams int) string {
	if nparams > maxInvokerParams {
		return ""
	}
	for _, f := range ft.Params.List {
		if _, ok := f.Type.(*ast.Ellipsis); ok {
			return ""
		}
	}
	var results []ast.Expr
	if ft.Results != nil {
		for _, f := range ft.Results.List {
			n := max(len(f.Names), 1)
			for range n {
				results = append(results, f.Type)
			}
		}
	}
	isError := func(e ast.Expr) bool {
		id, ok := e.(*ast.Ident)
		return ok && id.Name == "error"
	}
	shape := ""
	switch {
	case len(results) == 0:
	case len(results) == 1 && isError(results[0]):
		shape = "E"
	case len(results) == 1:
		shape = "V"
	case len(results) == 2 && isError(results[1]):
		shape = "VE"
	default:
		return ""
	}
	return "Invoke" + strconv.Itoa(nparams) + shape
}

// Scan parses the Go files of the package in dir (as the current build
// context selects them, tests and the generated file excluded) and returns
// its package name and every type that has entry methods, sorted by name.
func Scan(dir string) (string, []Type, error) {
	bp, err := build.ImportDir(dir, 0)
	if err != nil {
		var noGo *build.NoGoError
		if errors.As(err, &noGo) {
			return "", nil, nil
		}
		return "", nil, fmt.Errorf("reading package %s: %w", dir, err)
	}
	fset := token.NewFileSet()
	types := map[string]*Type{}
	typeDocs := map[string]string{}
	generic := map[string]bool{}
	for _, name := range bp.GoFiles {
		if name == FileName {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.ParseComments)
		if err != nil {
			return "", nil, err
		}
		ctxNames := contextImportNames(f)
		for _, decl := range f.Decls {
			switch d := decl.(type) {
			case *ast.GenDecl:
				for _, spec := range d.Specs {
					ts, ok := spec.(*ast.TypeSpec)
					if !ok {
						continue
					}
					doc := ts.Doc
					if doc == nil && len(d.Specs) == 1 {
						doc = d.Doc
					}
					typeDocs[ts.Name.Name] = strings.TrimSpace(doc.Text())
					if ts.TypeParams != nil {
						generic[ts.Name.Name] = true
					}
				}
			case *ast.FuncDecl:
				if d.Recv == nil || len(d.Recv.List) != 1 || !d.Name.IsExported() {
					continue
				}
				if _, _, ok := runtime.ParseEntryName(d.Name.Name); !ok {
					continue
				}
				params := d.Type.Params.List
				if len(params) == 0 || !isContext(params[0].Type, ctxNames) {
					continue
				}
				recv := receiverName(d.Recv.List[0].Type)
				if recv == "" {
					continue
				}
				m := Method{Name: d.Name.Name, Doc: strings.TrimSpace(d.Doc.Text())}
				n := 0
				for i, field := range params {
					names := field.Names
					if len(names) == 0 {
						names = []*ast.Ident{{Name: "_"}}
					}
					for j, id := range names {
						if i == 0 && j == 0 {
							continue // the context
						}
						n++
						name := id.Name
						if name == "_" {
							name = "arg" + strconv.Itoa(n)
						}
						m.Params = append(m.Params, name)
					}
				}
				m.Invoker = invokerFor(d.Type, n)
				t := types[recv]
				if t == nil {
					t = &Type{Name: recv}
					types[recv] = t
				}
				t.Methods = append(t.Methods, m)
			}
		}
	}
	var out []Type
	for name, t := range types {
		if generic[name] {
			continue
		}
		t.Doc = typeDocs[name]
		sort.Slice(t.Methods, func(i, j int) bool { return t.Methods[i].Name < t.Methods[j].Name })
		out = append(out, *t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return bp.Name, out, nil
}

// contextImportNames returns the names under which f imports "context".
func contextImportNames(f *ast.File) map[string]bool {
	names := map[string]bool{}
	for _, imp := range f.Imports {
		if p, _ := strconv.Unquote(imp.Path.Value); p == "context" {
			name := "context"
			if imp.Name != nil {
				name = imp.Name.Name
			}
			names[name] = true
		}
	}
	return names
}

func isContext(expr ast.Expr, ctxNames map[string]bool) bool {
	sel, ok := expr.(*ast.SelectorExpr)
	if !ok || sel.Sel.Name != "Context" {
		return false
	}
	id, ok := sel.X.(*ast.Ident)
	return ok && ctxNames[id.Name]
}

// receiverName returns the base type name of a receiver, or "" for a
// generic receiver.
func receiverName(expr ast.Expr) string {
	if star, ok := expr.(*ast.StarExpr); ok {
		expr = star.X
	}
	if id, ok := expr.(*ast.Ident); ok {
		return id.Name
	}
	return ""
}

// Render returns the source of the description file.
func Render(pkg string, types []Type) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("// Code generated by cws gen; DO NOT EDIT.\n")
	b.WriteString("// It describes the services and blueprints of this package and calls\n")
	b.WriteString("// their entries without reflection. If it no longer compiles, an entry\n")
	b.WriteString("// changed: run cws gen.\n\n")
	fmt.Fprintf(&b, "package %s\n\n", pkg)
	fmt.Fprintf(&b, "import %q\n\n", CwsgenPath)
	b.WriteString("func init() {\n")
	for _, t := range types {
		fmt.Fprintf(&b, "\tcwsgen.Describe((*%s)(nil), cwsgen.TypeInfo{\n", t.Name)
		if t.Doc != "" {
			fmt.Fprintf(&b, "\t\tDoc: %s,\n", strconv.Quote(t.Doc))
		}
		b.WriteString("\t\tMethods: map[string]cwsgen.MethodInfo{\n")
		for _, m := range t.Methods {
			fmt.Fprintf(&b, "\t\t\t%q: {", m.Name)
			var parts []string
			if m.Doc != "" {
				parts = append(parts, "Doc: "+strconv.Quote(m.Doc))
			}
			if len(m.Params) > 0 {
				q := make([]string, len(m.Params))
				for i, p := range m.Params {
					q[i] = strconv.Quote(p)
				}
				parts = append(parts, "Params: []string{"+strings.Join(q, ", ")+"}")
			}
			if m.Invoker != "" {
				parts = append(parts, fmt.Sprintf("Invoke: cwsgen.%s((*%s).%s)", m.Invoker, t.Name, m.Name))
			}
			b.WriteString(strings.Join(parts, ", "))
			b.WriteString("},\n")
		}
		b.WriteString("\t\t},\n\t})\n")
	}
	b.WriteString("}\n")
	return format.Source(b.Bytes())
}

// describedRE finds the types a description file registers.
var describedRE = regexp.MustCompile(`\.Describe\(\(\*([A-Za-z_][A-Za-z0-9_]*)\)\(nil\)`)

// Described returns the names of the types the description file of the
// package in dir describes, or nil without one.
func Described(dir string) []string {
	src, err := os.ReadFile(filepath.Join(dir, FileName))
	if err != nil {
		return nil
	}
	var names []string
	for _, m := range describedRE.FindAllSubmatch(src, -1) {
		names = append(names, string(m[1]))
	}
	return names
}

// Write writes the description file of the package in dir for the types
// named (and those its file already describes, so that the services of
// several main packages can share a package), keeping those that still have
// entries. It removes the file when none is left, writes only when the
// content changes (file watchers see no change for an up-to-date package),
// and reports whether it changed. A named type without entries is an
// error.
func Write(dir string, names []string) (bool, error) {
	pkg, all, err := Scan(dir)
	if err != nil {
		return false, err
	}
	byName := map[string]Type{}
	for _, t := range all {
		byName[t.Name] = t
	}
	want := map[string]bool{}
	for _, n := range names {
		if _, ok := byName[n]; !ok {
			return false, fmt.Errorf("%s: type %s has no entry methods (methods named like GetX(ctx context.Context, ...))", dir, n)
		}
		want[n] = true
	}
	for _, n := range Described(dir) {
		if _, ok := byName[n]; ok {
			want[n] = true
		}
	}
	var types []Type
	for _, t := range all {
		if want[t.Name] {
			types = append(types, t)
		}
	}
	path := filepath.Join(dir, FileName)
	old, readErr := os.ReadFile(path)
	if readErr != nil && !errors.Is(readErr, fs.ErrNotExist) {
		return false, readErr
	}
	if len(types) == 0 {
		if readErr == nil {
			return true, os.Remove(path)
		}
		return false, nil
	}
	src, err := Render(pkg, types)
	if err != nil {
		return false, fmt.Errorf("formatting %s: %w", path, err)
	}
	if readErr == nil && bytes.Equal(old, src) {
		return false, nil
	}
	return true, os.WriteFile(path, src, 0o644)
}
