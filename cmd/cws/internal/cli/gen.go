package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/coworks-go/cws/cmd/cws/internal/gen"
)

func newGenCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "gen [PKG | PKG.Type ...]",
		Short: "Write the description files (cws_gen.go) of services and blueprints",
		Long: `gen writes cws_gen.go beside the services and blueprints it is pointed at: the
parameter names and doc comments that Go's reflection cannot see (the runtime
uses them for route templates, listings and admin pages) and the typed
invokers that call their entries without reflection.

It describes, for the arguments (default: the package in the current
directory):
  - a main package: the services and blueprints it hands to cws.Main, cws.Run,
    runtime.New and runtime.WithBlueprint, in whichever package of the module
    they are declared;
  - a package under a blueprint/ directory: every type with entries;
  - PKG.Type (as go doc takes it; .Type for the current directory): that type.
Other packages are left alone, whatever methods they have. run, routes and
invoke run it on the service they build; run it before building otherwise
(go generate works too: //go:generate cws gen).`,
		Example: `  cws gen                      # the main package here: its services and blueprints
  cws gen ./...                # every main package and blueprint of the module
  cws gen ./internal/shop.Shop # one type`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				args = []string{"."}
			}
			wd, err := os.Getwd()
			if err != nil {
				return err
			}
			plan, warnings, err := planGen(cmd.Context(), wd, args)
			for _, w := range warnings {
				fmt.Fprintln(cmd.ErrOrStderr(), "cws gen:", w)
			}
			if err != nil {
				return err
			}
			changed, err := gen.Generate(plan)
			for _, c := range changed {
				fmt.Fprintln(cmd.OutOrStdout(), "wrote", c)
			}
			return err
		},
	}
}

// listedPackage is what `go list -json` says of a package.
type listedPackage struct {
	Dir, ImportPath, Name string
	Module                *struct{ Main bool }
	Error                 *struct{ Err string }
}

// planGen resolves the command-line arguments of gen (packages, patterns
// and PKG.Type) into what to describe, by directory.
func planGen(ctx context.Context, wd string, args []string) (map[string][]string, []string, error) {
	var patterns []string
	named := map[string][]string{}
	var warnings []string
	for _, arg := range args {
		pkg, typ := gen.ParseTypeArg(arg)
		if typ == "" {
			patterns = append(patterns, arg)
			continue
		}
		listed, err := goList(ctx, wd, pkg)
		if err != nil {
			return nil, nil, err
		}
		if len(listed) != 1 {
			return nil, nil, fmt.Errorf("%s: %s names %d packages; name one", arg, pkg, len(listed))
		}
		p := listed[0]
		if p.Module == nil || !p.Module.Main {
			return nil, nil, fmt.Errorf("%s: package %s is not in this module", arg, p.ImportPath)
		}
		named[p.ImportPath] = append(named[p.ImportPath], typ)
		patterns = append(patterns, pkg)
	}
	listed, err := goList(ctx, wd, patterns...)
	if err != nil {
		return nil, nil, err
	}
	var pkgs []gen.Package
	seen := map[string]bool{}
	for _, p := range listed {
		if seen[p.ImportPath] || p.Module == nil || !p.Module.Main {
			continue
		}
		seen[p.ImportPath] = true
		gp := gen.Package{Dir: p.Dir, ImportPath: p.ImportPath, Name: p.Name}
		switch {
		case p.Name == "main":
			if gp.Local, err = localDeps(ctx, wd, p.ImportPath); err != nil {
				return nil, warnings, err
			}
		case named[p.ImportPath] == nil && !gen.IsBlueprintPath(p.ImportPath) && !strings.Contains(strings.Join(args, " "), "..."):
			warnings = append(warnings, fmt.Sprintf("%s is neither a main package nor a blueprint: name its services (cws gen %s.Type)", p.ImportPath, p.ImportPath))
		}
		pkgs = append(pkgs, gp)
	}
	plan, w, err := gen.Plan(pkgs, named)
	return plan, append(warnings, w...), err
}

// goList lists packages as `go list -e -json` does; a package that cannot
// be loaded is an error.
func goList(ctx context.Context, wd string, patterns ...string) ([]listedPackage, error) {
	out, err := goCmd(ctx, wd, append([]string{"list", "-e", "-json=Dir,ImportPath,Name,Module,Error"}, patterns...)...)
	if err != nil {
		return nil, err
	}
	var pkgs []listedPackage
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p listedPackage
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			return nil, fmt.Errorf("go list: %w", err)
		}
		if p.Error != nil {
			return nil, fmt.Errorf("package %s: %s", p.ImportPath, p.Error.Err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs, nil
}
