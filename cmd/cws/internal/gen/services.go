package gen

import (
	"fmt"
	"go/ast"
	"go/build"
	"go/parser"
	"go/token"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// TypeRef names a type: the import path of its package and its name.
type TypeRef struct {
	Path string
	Name string
}

func (r TypeRef) String() string { return r.Path + "." + r.Name }

// serviceArgs are the functions that take a service or a blueprint, and the
// position of that argument.
var serviceArgs = map[string]map[string]int{
	CwsPath:     {"Main": 0, "Run": 1},
	RuntimePath: {"New": 0, "WithBlueprint": 1},
}

// parsedPackage is a package parsed for Services.
type parsedPackage struct {
	path  string
	fset  *token.FileSet
	files []*ast.File
	funcs map[string]*ast.FuncDecl // package-level functions
	vars  map[string]varDecl       // package-level variables
	types map[string]bool          // declared type names
	file  map[ast.Node]*ast.File   // the file of each function and variable
}

type varDecl struct {
	typ   ast.Expr // the declared type, or nil
	value ast.Expr // the value, or nil
	file  *ast.File
}

// finder resolves the services of a main package.
type finder struct {
	dirOf    func(importPath string) (string, bool)
	pkgs     map[string]*parsedPackage
	warnings []string
}

// Services returns the types that the main package in dir (import path
// importPath) hands to cws.Main, cws.Run, runtime.New and
// runtime.WithBlueprint: its services and blueprints. It follows each
// argument to its type through composite literals, new, constructor calls
// (of this package or of another package that dirOf finds) and variables.
// dirOf returns the directory of a package of the main module; types of
// other modules are left out (their modules describe them). What it cannot
// follow is a warning naming the place: name the type on the command line.
func Services(dir, importPath string, dirOf func(importPath string) (string, bool)) ([]TypeRef, []string, error) {
	f := &finder{dirOf: dirOf, pkgs: map[string]*parsedPackage{}}
	main, err := f.parse(importPath, dir)
	if err != nil {
		return nil, nil, err
	}
	seen := map[TypeRef]bool{}
	var out []TypeRef
	for _, file := range main.files {
		imports := importNames(file)
		var enclosing *ast.FuncDecl
		ast.Inspect(file, func(n ast.Node) bool {
			if fd, ok := n.(*ast.FuncDecl); ok {
				enclosing = fd
			}
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			id, ok := sel.X.(*ast.Ident)
			if !ok {
				return true
			}
			pos, ok := serviceArgs[imports[id.Name]][sel.Sel.Name]
			if !ok || pos >= len(call.Args) {
				return true
			}
			ref, ok := f.typeOfValue(main, file, enclosing, call.Args[pos], 0)
			if !ok {
				f.warnings = append(f.warnings, fmt.Sprintf("%s: cannot tell the type passed to %s.%s: name it on the command line (cws gen PKG.Type)",
					main.fset.Position(call.Args[pos].Pos()), id.Name, sel.Sel.Name))
				return true
			}
			if _, local := f.dirOf(ref.Path); local && !seen[ref] {
				seen[ref] = true
				out = append(out, ref)
			}
			return true
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out, f.warnings, nil
}

// parse parses the package at dir once.
func (f *finder) parse(path, dir string) (*parsedPackage, error) {
	if p, ok := f.pkgs[path]; ok {
		return p, nil
	}
	bp, err := build.ImportDir(dir, 0)
	if err != nil {
		return nil, fmt.Errorf("reading package %s: %w", dir, err)
	}
	p := &parsedPackage{path: path, fset: token.NewFileSet(), funcs: map[string]*ast.FuncDecl{}, vars: map[string]varDecl{},
		types: map[string]bool{}, file: map[ast.Node]*ast.File{}}
	for _, name := range bp.GoFiles {
		if name == FileName {
			continue
		}
		file, err := parser.ParseFile(p.fset, filepath.Join(dir, name), nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		p.files = append(p.files, file)
		for _, decl := range file.Decls {
			switch d := decl.(type) {
			case *ast.FuncDecl:
				if d.Recv == nil {
					p.funcs[d.Name.Name] = d
					p.file[d] = file
				}
			case *ast.GenDecl:
				for _, spec := range d.Specs {
					switch s := spec.(type) {
					case *ast.TypeSpec:
						p.types[s.Name.Name] = true
					case *ast.ValueSpec:
						for i, n := range s.Names {
							v := varDecl{typ: s.Type, file: file}
							if i < len(s.Values) && len(s.Values) == len(s.Names) {
								v.value = s.Values[i]
							}
							p.vars[n.Name] = v
						}
					}
				}
			}
		}
	}
	f.pkgs[path] = p
	return p, nil
}

// importNames maps the names under which file imports packages to their
// paths.
func importNames(file *ast.File) map[string]string {
	m := map[string]string{}
	for _, imp := range file.Imports {
		path, _ := strconv.Unquote(imp.Path.Value)
		name := path[strings.LastIndexByte(path, '/')+1:]
		if imp.Name != nil {
			name = imp.Name.Name
		}
		m[name] = path
	}
	return m
}

// maxDepth bounds how far typeOfValue follows variables and calls.
const maxDepth = 8

// typeOfValue returns the named type of the value of expr, in file of p,
// inside fn (nil at package level).
func (f *finder) typeOfValue(p *parsedPackage, file *ast.File, fn *ast.FuncDecl, expr ast.Expr, depth int) (TypeRef, bool) {
	if depth > maxDepth {
		return TypeRef{}, false
	}
	switch e := expr.(type) {
	case *ast.ParenExpr:
		return f.typeOfValue(p, file, fn, e.X, depth+1)
	case *ast.UnaryExpr:
		if e.Op == token.AND {
			return f.typeOfValue(p, file, fn, e.X, depth+1)
		}
	case *ast.CompositeLit:
		return f.typeOfType(p, file, e.Type)
	case *ast.CallExpr:
		switch fun := e.Fun.(type) {
		case *ast.Ident:
			if fun.Name == "new" && len(e.Args) == 1 {
				return f.typeOfType(p, file, e.Args[0])
			}
			if fd, ok := p.funcs[fun.Name]; ok {
				return f.resultType(p, fd)
			}
		case *ast.SelectorExpr:
			if path, external := f.external(file, fun.X); external {
				// A constructor of another module makes a type of its own.
				return TypeRef{Path: path}, true
			}
			if other, ok := f.imported(file, fun.X); ok {
				if fd, ok := other.funcs[fun.Sel.Name]; ok {
					return f.resultType(other, fd)
				}
			}
		}
	case *ast.Ident:
		if fn != nil && fn.Body != nil {
			if v, ok := localValue(fn, e.Name, e.Pos()); ok {
				if v.typ != nil {
					return f.typeOfType(p, file, v.typ)
				}
				return f.typeOfValue(p, file, fn, v.value, depth+1)
			}
		}
		if v, ok := p.vars[e.Name]; ok {
			if v.typ != nil {
				return f.typeOfType(p, v.file, v.typ)
			}
			if v.value != nil {
				return f.typeOfValue(p, v.file, nil, v.value, depth+1)
			}
		}
	case *ast.SelectorExpr:
		if path, external := f.external(file, e.X); external {
			return TypeRef{Path: path}, true
		}
		if other, ok := f.imported(file, e.X); ok {
			if v, ok := other.vars[e.Sel.Name]; ok {
				if v.typ != nil {
					return f.typeOfType(other, v.file, v.typ)
				}
				if v.value != nil {
					return f.typeOfValue(other, v.file, nil, v.value, depth+1)
				}
			}
		}
	}
	return TypeRef{}, false
}

// external reports whether x names an import of file from outside the
// main module, and its path.
func (f *finder) external(file *ast.File, x ast.Expr) (string, bool) {
	id, ok := x.(*ast.Ident)
	if !ok {
		return "", false
	}
	path, ok := importNames(file)[id.Name]
	if !ok {
		return "", false
	}
	_, local := f.dirOf(path)
	return path, !local
}

// imported returns the parsed package that x (an identifier naming an
// import of file) names, when it is a package of the main module.
func (f *finder) imported(file *ast.File, x ast.Expr) (*parsedPackage, bool) {
	id, ok := x.(*ast.Ident)
	if !ok {
		return nil, false
	}
	path, ok := importNames(file)[id.Name]
	if !ok {
		return nil, false
	}
	dir, ok := f.dirOf(path)
	if !ok {
		return nil, false
	}
	p, err := f.parse(path, dir)
	if err != nil {
		f.warnings = append(f.warnings, err.Error())
		return nil, false
	}
	return p, true
}

// resultType is the type of the first result of a function of p.
func (f *finder) resultType(p *parsedPackage, fd *ast.FuncDecl) (TypeRef, bool) {
	if fd.Type.Results == nil || len(fd.Type.Results.List) == 0 {
		return TypeRef{}, false
	}
	return f.typeOfType(p, p.file[fd], fd.Type.Results.List[0].Type)
}

// typeOfType returns the named type a type expression of file (in p)
// denotes, through pointers.
func (f *finder) typeOfType(p *parsedPackage, file *ast.File, expr ast.Expr) (TypeRef, bool) {
	switch e := expr.(type) {
	case *ast.StarExpr:
		return f.typeOfType(p, file, e.X)
	case *ast.ParenExpr:
		return f.typeOfType(p, file, e.X)
	case *ast.Ident:
		if p.types[e.Name] {
			return TypeRef{Path: p.path, Name: e.Name}, true
		}
	case *ast.SelectorExpr:
		if id, ok := e.X.(*ast.Ident); ok {
			if path, ok := importNames(file)[id.Name]; ok {
				return TypeRef{Path: path, Name: e.Sel.Name}, true
			}
		}
	}
	return TypeRef{}, false
}

// localValue finds what name is given in fn before pos: the last
// assignment or declaration of it.
func localValue(fn *ast.FuncDecl, name string, pos token.Pos) (varDecl, bool) {
	var found varDecl
	ok := false
	ast.Inspect(fn.Body, func(n ast.Node) bool {
		if n == nil || n.Pos() >= pos {
			return n == nil || n.Pos() < pos
		}
		switch s := n.(type) {
		case *ast.AssignStmt:
			if len(s.Lhs) != len(s.Rhs) {
				return true
			}
			for i, l := range s.Lhs {
				if id, isID := l.(*ast.Ident); isID && id.Name == name {
					found, ok = varDecl{value: s.Rhs[i]}, true
				}
			}
		case *ast.ValueSpec:
			for i, id := range s.Names {
				if id.Name != name {
					continue
				}
				found, ok = varDecl{typ: s.Type}, true
				if i < len(s.Values) && len(s.Values) == len(s.Names) {
					found.value = s.Values[i]
				}
			}
		}
		return true
	})
	return found, ok && (found.typ != nil || found.value != nil)
}
