package gen_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/coworks-go/cws/cmd/cws/internal/gen"
)

// writePkg writes files into dir/rel.
func writePkg(t *testing.T, dir, rel string, files map[string]string) string {
	t.Helper()
	d := filepath.Join(dir, rel)
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(d, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return d
}

func TestServicesFollowsArguments(t *testing.T) {
	dir := t.TempDir()
	shop := writePkg(t, dir, "shop", map[string]string{"shop.go": `package shop

import "context"

// Shop sells.
type Shop struct{}

func New() *Shop { return &Shop{} }

func (s *Shop) Get(ctx context.Context) string { return "" }

type Stock struct{}

func (s *Stock) Get(ctx context.Context) string { return "" }

var Default = &Stock{}

// Engine has a verb-named method but is nobody's service.
type Engine struct{}

func (e *Engine) PutRules(ctx context.Context) error { return nil }
`})
	main := writePkg(t, dir, "cmd/app", map[string]string{"main.go": `package main

import (
	"context"

	"github.com/coworks-go/cws"
	rt "github.com/coworks-go/cws/runtime"
	"github.com/coworks-go/cws/blueprint/admin"

	"example.com/app/shop"
)

type Local struct{}

func (l Local) Get(ctx context.Context) {}

type Bp struct{}

func (b *Bp) Get(ctx context.Context) {}

func newBp() *Bp { return new(Bp) }

func main() {
	svc := shop.New()
	cws.Main(svc, rt.WithBlueprint("/admin", admin.New()), rt.WithBlueprint("/bp", newBp()), rt.WithBlueprint("/stock", shop.Default))
	var l Local
	_, _ = rt.New(l)
	_ = cws.Run(context.Background(), &Local{})
	var x any = 1
	cws.Main(x)
}
`})
	local := map[string]string{"example.com/app/shop": shop, "example.com/app/cmd/app": main}
	refs, warnings, err := gen.Services(main, "example.com/app/cmd/app", func(p string) (string, bool) {
		d, ok := local[p]
		return d, ok
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []gen.TypeRef{{Path: "example.com/app/cmd/app", Name: "Bp"}, {Path: "example.com/app/cmd/app", Name: "Local"},
		{Path: "example.com/app/shop", Name: "Shop"}, {Path: "example.com/app/shop", Name: "Stock"}}
	if !reflect.DeepEqual(refs, want) {
		t.Errorf("Services = %v, want %v (admin is of another module and left out)", refs, want)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "main.go:") || !strings.Contains(warnings[0], "cws.Main") {
		t.Errorf("warnings = %q, want one naming the untyped cws.Main argument", warnings)
	}

	plan, _, err := gen.Plan([]gen.Package{
		{Dir: main, ImportPath: "example.com/app/cmd/app", Name: "main", Local: local},
		{Dir: shop, ImportPath: "example.com/app/shop", Name: "shop"},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := plan[shop]; !reflect.DeepEqual(got, []string{"Shop", "Stock"}) {
		t.Errorf("plan for shop = %v: Engine must not be described", got)
	}
	if got := plan[main]; !reflect.DeepEqual(got, []string{"Bp", "Local"}) {
		t.Errorf("plan for main = %v", got)
	}
	if _, err := gen.Generate(plan); err != nil {
		t.Fatal(err)
	}
	if got := gen.Described(shop); !reflect.DeepEqual(got, []string{"Shop", "Stock"}) {
		t.Errorf("shop describes %v", got)
	}
}

func TestPlanBlueprintsAndNamedTypes(t *testing.T) {
	dir := t.TempDir()
	src := "package p\n\nimport \"context\"\n\ntype A struct{}\n\nfunc (a *A) Get(ctx context.Context) {}\n\ntype B struct{}\n\nfunc (b *B) Delete(ctx context.Context) {}\n"
	bp := writePkg(t, dir, "blueprint/p", map[string]string{"p.go": src})
	lib := writePkg(t, dir, "lib", map[string]string{"p.go": src})
	plan, _, err := gen.Plan([]gen.Package{
		{Dir: bp, ImportPath: "example.com/m/blueprint/p", Name: "p"},
		{Dir: lib, ImportPath: "example.com/m/lib", Name: "p"},
	}, map[string][]string{"example.com/m/lib": {"B"}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{bp: {"A", "B"}, lib: {"B"}}
	if !reflect.DeepEqual(plan, want) {
		t.Errorf("Plan = %v, want %v", plan, want)
	}
}

func TestParseTypeArg(t *testing.T) {
	for arg, want := range map[string][2]string{
		".":                      {".", ""},
		"./...":                  {"./...", ""},
		".Shop":                  {".", "Shop"},
		"./shop.Shop":            {"./shop", "Shop"},
		"example.com/m/shop.S_1": {"example.com/m/shop", "S_1"},
		"gopkg.in/yaml.v3":       {"gopkg.in/yaml.v3", ""},
		"example.com/m":          {"example.com/m", ""},
		"../x":                   {"../x", ""},
	} {
		pkg, typ := gen.ParseTypeArg(arg)
		if pkg != want[0] || typ != want[1] {
			t.Errorf("ParseTypeArg(%q) = %q, %q; want %q, %q", arg, pkg, typ, want[0], want[1])
		}
	}
}
