package gen

import (
	"fmt"
	"sort"
	"strings"
)

// Package is a package the go command listed, for Plan.
type Package struct {
	Dir        string
	ImportPath string
	Name       string
	// Local maps the import paths of the main module's packages that this
	// one depends on (itself included) to their directories: where the
	// services of a main package may be declared.
	Local map[string]string
}

// IsBlueprintPath reports whether a package's import path puts it under a
// blueprint/ directory, whose packages gen describes whole.
func IsBlueprintPath(importPath string) bool {
	elems := strings.Split(importPath, "/")
	for _, e := range elems[:len(elems)-1] {
		if e == "blueprint" || e == "blueprints" {
			return true
		}
	}
	return false
}

// Plan returns the types to describe, by package directory, for the
// packages named on the command line: for a main package, the services and
// blueprints it hands to cws.Main, cws.Run, runtime.New or
// runtime.WithBlueprint (in whichever package of the main module they are
// declared); for a package under a blueprint/ directory, every type with
// entries; and the types named (by import path). A package that is none of
// these contributes nothing. The warnings say what could not be followed.
func Plan(pkgs []Package, named map[string][]string) (map[string][]string, []string, error) {
	plan := map[string][]string{}
	add := func(dir, name string) {
		for _, n := range plan[dir] {
			if n == name {
				return
			}
		}
		plan[dir] = append(plan[dir], name)
	}
	var warnings []string
	for _, p := range pkgs {
		for _, n := range named[p.ImportPath] {
			add(p.Dir, n)
		}
		switch {
		case p.Name == "main":
			refs, w, err := Services(p.Dir, p.ImportPath, func(path string) (string, bool) {
				d, ok := p.Local[path]
				return d, ok
			})
			if err != nil {
				return nil, warnings, err
			}
			warnings = append(warnings, w...)
			for _, r := range refs {
				add(p.Local[r.Path], r.Name)
			}
		case IsBlueprintPath(p.ImportPath):
			_, types, err := Scan(p.Dir)
			if err != nil {
				return nil, warnings, err
			}
			for _, t := range types {
				add(p.Dir, t.Name)
			}
		}
	}
	for _, names := range plan {
		sort.Strings(names)
	}
	return plan, warnings, nil
}

// ParseTypeArg splits a command-line argument PKG.Type (as go doc takes it:
// the last path element holds a dot followed by an exported identifier)
// into the package and the type; ".Type" names a type of the current
// directory's package. Other arguments are packages: type is "".
func ParseTypeArg(arg string) (pkg, typ string) {
	slash := strings.LastIndexByte(arg, '/')
	last := arg[slash+1:]
	dot := strings.LastIndexByte(last, '.')
	if dot < 0 || dot == len(last)-1 {
		return arg, ""
	}
	name := last[dot+1:]
	if !isExportedIdent(name) {
		return arg, ""
	}
	pkg = arg[:slash+1+dot]
	switch {
	case pkg == "":
		pkg = "."
	case strings.HasSuffix(pkg, "/"):
		pkg += "."
	}
	return pkg, name
}

func isExportedIdent(s string) bool {
	for i, r := range s {
		switch {
		case i == 0 && !(r >= 'A' && r <= 'Z'):
			return false
		case r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9':
		default:
			return false
		}
	}
	return s != ""
}

// Generate writes the description files of a plan and returns the paths of
// those that changed.
func Generate(plan map[string][]string) ([]string, error) {
	dirs := make([]string, 0, len(plan))
	for d := range plan {
		dirs = append(dirs, d)
	}
	sort.Strings(dirs)
	var changed []string
	for _, d := range dirs {
		ch, err := Write(d, plan[d])
		if err != nil {
			return changed, fmt.Errorf("cws gen %s: %w", d, err)
		}
		if ch {
			changed = append(changed, d+"/"+FileName)
		}
	}
	return changed, nil
}
