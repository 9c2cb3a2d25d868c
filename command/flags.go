package command

import (
	"encoding"
	"errors"
	"flag"
	"fmt"
	"io"
	"reflect"
	"strings"
	"time"

	"github.com/coworks-go/cws/runtime"
)

// newSpec checks cmd and registers its flags.
func newSpec(name string, cmd runtime.Command) (*spec, error) {
	if !validCommandName(name) {
		return nil, errors.New("a command's name is lower-case letters, digits, '-', '_', ':' and '.', starting with a letter")
	}
	if cmd.Run == nil {
		return nil, errors.New("no Run function")
	}
	s := &spec{name: name, cmd: cmd, set: flag.NewFlagSet(name, flag.ContinueOnError), flags: []Flag{}}
	s.set.SetOutput(io.Discard)
	s.set.Usage = func() {}
	if cmd.Flags == nil {
		return s, nil
	}
	pv := reflect.ValueOf(cmd.Flags)
	if pv.Kind() != reflect.Pointer || pv.IsNil() || pv.Elem().Kind() != reflect.Struct {
		return nil, fmt.Errorf("its Flags are a %T, not a pointer to a struct", cmd.Flags)
	}
	sv := pv.Elem()
	for i := range sv.NumField() {
		sf := sv.Type().Field(i)
		if !sf.IsExported() {
			continue
		}
		tag, tagged := sf.Tag.Lookup("flag")
		switch {
		case !tagged:
			return nil, fmt.Errorf("field %s has no flag tag: name its flag (`flag:\"name\"`) or skip it (`flag:\"-\"`)", sf.Name)
		case tag == "-":
			continue
		case !validFlagName(tag):
			return nil, fmt.Errorf("field %s: flag name %q: use letters, digits, '-' and '_', starting with a letter", sf.Name, tag)
		case tag == "h" || tag == "help":
			return nil, fmt.Errorf("field %s: the flag %s is -h/--help, which shows the command's usage", sf.Name, tag)
		case s.set.Lookup(tag) != nil:
			return nil, fmt.Errorf("field %s: flag %q is defined twice", sf.Name, tag)
		}
		usage := sf.Tag.Get("usage")
		typ, err := defineFlag(s.set, sv.Field(i), tag, usage)
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", sf.Name, err)
		}
		def := ""
		if !sv.Field(i).IsZero() {
			def = s.set.Lookup(tag).DefValue
		}
		s.flags = append(s.flags, Flag{Name: tag, Type: typ, Default: def, Usage: usage})
	}
	return s, nil
}

func validCommandName(name string) bool {
	if name == "" || name[0] < 'a' || name[0] > 'z' {
		return false
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || strings.ContainsRune("-_:.", r)) {
			return false
		}
	}
	return true
}

func validFlagName(name string) bool {
	if name == "" || !(name[0] >= 'a' && name[0] <= 'z' || name[0] >= 'A' && name[0] <= 'Z') {
		return false
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

var (
	durationType        = reflect.TypeFor[time.Duration]()
	flagValueType       = reflect.TypeFor[flag.Value]()
	textMarshalerType   = reflect.TypeFor[encoding.TextMarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// defineFlag registers the field fv as the flag name of set, its current
// value the default, and returns the flag's type name.
func defineFlag(set *flag.FlagSet, fv reflect.Value, name, usage string) (string, error) {
	p := fv.Addr()
	t := fv.Type()
	switch {
	case p.Type().Implements(flagValueType):
		set.Var(p.Interface().(flag.Value), name, usage)
		return flagTypeName(t), nil
	case p.Type().Implements(textUnmarshalerType) && p.Type().Implements(textMarshalerType):
		def := reflect.New(t)
		def.Elem().Set(fv)
		set.TextVar(p.Interface().(encoding.TextUnmarshaler), name, def.Interface().(encoding.TextMarshaler), usage)
		return flagTypeName(t), nil
	case t == durationType:
		set.DurationVar(p.Interface().(*time.Duration), name, fv.Interface().(time.Duration), usage)
		return "duration", nil
	case t.Kind() == reflect.Slice && t.Elem() == reflect.TypeFor[string]():
		set.Var(&stringsFlag{p: p.Convert(reflect.TypeFor[*[]string]()).Interface().(*[]string)}, name, usage)
		return "strings", nil
	}
	// A type defined on a basic kind is set through a pointer to that kind.
	switch t.Kind() {
	case reflect.Bool:
		set.BoolVar(convert[bool](p), name, fv.Bool(), usage)
		return "bool", nil
	case reflect.String:
		set.StringVar(convert[string](p), name, fv.String(), usage)
		return "string", nil
	case reflect.Int:
		set.IntVar(convert[int](p), name, int(fv.Int()), usage)
		return "int", nil
	case reflect.Int64:
		set.Int64Var(convert[int64](p), name, fv.Int(), usage)
		return "int", nil
	case reflect.Uint:
		set.UintVar(convert[uint](p), name, uint(fv.Uint()), usage)
		return "uint", nil
	case reflect.Uint64:
		set.Uint64Var(convert[uint64](p), name, fv.Uint(), usage)
		return "uint", nil
	case reflect.Float64:
		set.Float64Var(convert[float64](p), name, fv.Float(), usage)
		return "float", nil
	}
	return "", fmt.Errorf("a flag cannot be a %s: use bool, string, int, int64, uint, uint64, float64, time.Duration, []string, a flag.Value or an encoding.TextUnmarshaler", t)
}

// convert returns p, a pointer to a type whose underlying type is T, as a *T.
func convert[T any](p reflect.Value) *T {
	return p.Convert(reflect.TypeFor[*T]()).Interface().(*T)
}

// flagTypeName names a flag's type after the field's type.
func flagTypeName(t reflect.Type) string {
	if t.Name() == "" {
		return "value"
	}
	return strings.ToLower(t.Name())
}

// stringsFlag is a []string flag: each use of the flag adds a value; the
// first replaces the default.
type stringsFlag struct {
	p   *[]string
	set bool
}

func (f *stringsFlag) String() string {
	if f == nil || f.p == nil {
		return ""
	}
	return strings.Join(*f.p, ",")
}

func (f *stringsFlag) Set(v string) error {
	if !f.set {
		*f.p, f.set = nil, true
	}
	*f.p = append(*f.p, v)
	return nil
}
