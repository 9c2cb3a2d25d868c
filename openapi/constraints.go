package openapi

import (
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// TagName is the struct tag that declares a field's constraints for the
// document, in the words of JSON Schema:
//
//	Name  string   `json:"name" jsonschema:"required,minLength=1"`
//	Level string   `json:"level" jsonschema:"enum=info,enum=warning"`
//	Price float64  `json:"price" jsonschema:"minimum=0"`
//	Tags  []string `json:"tags" jsonschema:"maxItems=10,maxLength=20"`
//
// required, minLength, maxLength, pattern, format, enum (repeated),
// minimum, maximum, exclusiveMinimum, exclusiveMaximum, minItems and
// maxItems; on a list, those of values apply to its elements. The tag
// declares, it does not check: the keyword type's Validate method enforces
// the constraints (a test such as schemathesis's finds where they differ).
const TagName = "jsonschema"

// constraints are a field's declared constraints.
type constraints struct {
	required                   bool
	minLength, maxLength       *uint64
	pattern, format            string
	enum                       []string
	minimum, maximum           *float64
	exclusiveMin, exclusiveMax *float64
	minItems, maxItems         *uint64
}

func parseConstraints(sf reflect.StructField) (constraints, error) {
	var c constraints
	tag, ok := sf.Tag.Lookup(TagName)
	if !ok || tag == "" {
		return c, nil
	}
	for rest := tag; rest != ""; {
		// A pattern takes the rest of the tag: a regular expression has
		// commas of its own ({1,3}). Write it last.
		var item string
		if strings.HasPrefix(rest, "pattern=") {
			item, rest = rest, ""
		} else {
			item, rest, _ = strings.Cut(rest, ",")
		}
		k, v, hasValue := strings.Cut(item, "=")
		if k == "required" && !hasValue {
			c.required = true
			continue
		}
		if !hasValue {
			return c, fmt.Errorf("tag %s: %q has no value", TagName, item)
		}
		var err error
		switch k {
		case "minLength":
			c.minLength, err = parseCount(v)
		case "maxLength":
			c.maxLength, err = parseCount(v)
		case "minItems":
			c.minItems, err = parseCount(v)
		case "maxItems":
			c.maxItems, err = parseCount(v)
		case "minimum":
			c.minimum, err = parseNumber(v)
		case "maximum":
			c.maximum, err = parseNumber(v)
		case "exclusiveMinimum":
			c.exclusiveMin, err = parseNumber(v)
		case "exclusiveMaximum":
			c.exclusiveMax, err = parseNumber(v)
		case "pattern":
			c.pattern = v
		case "format":
			c.format = v
		case "enum":
			c.enum = append(c.enum, v)
		default:
			return c, fmt.Errorf("tag %s: unknown keyword %q", TagName, k)
		}
		if err != nil {
			return c, fmt.Errorf("tag %s: %s: %w", TagName, k, err)
		}
	}
	return c, nil
}

func parseCount(v string) (*uint64, error) {
	n, err := strconv.ParseUint(v, 10, 64)
	return &n, err
}

func parseNumber(v string) (*float64, error) {
	f, err := strconv.ParseFloat(v, 64)
	return &f, err
}

// apply sets the constraints on the schema of a field of Go type t and
// returns it. The constraints are those of a value given: a field that is
// not required may be left out, which Go cannot tell from its zero value,
// so the zero value stays valid (and null, which decodes to it); where the
// constraints refuse it (Validate does), a list's elements cannot be null.
func (c constraints) apply(s *openapi3.SchemaRef, t reflect.Type) *openapi3.SchemaRef {
	target := concrete(s)
	if target == nil {
		return s
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	value := target
	list := false
	if target.Type != nil && target.Type.Includes(openapi3.TypeArray) && target.Items != nil {
		list = true
		if c.minItems != nil {
			target.MinItems = *c.minItems
		}
		target.MaxItems = c.maxItems
		value = concrete(target.Items)
		if t.Kind() == reflect.Slice || t.Kind() == reflect.Array {
			t = t.Elem()
		}
		if value == nil {
			return s
		}
	}
	if c.minLength != nil {
		value.MinLength = *c.minLength
	}
	if c.maxLength != nil {
		value.MaxLength = c.maxLength
	}
	if c.pattern != "" {
		value.Pattern = c.pattern
	}
	if c.format != "" {
		value.Format = c.format
	}
	if c.minimum != nil {
		value.Min = c.minimum
	}
	if c.maximum != nil {
		value.Max = c.maximum
	}
	if c.exclusiveMin != nil {
		value.ExclusiveMin = openapi3.ExclusiveBound{Value: c.exclusiveMin}
	}
	if c.exclusiveMax != nil {
		value.ExclusiveMax = openapi3.ExclusiveBound{Value: c.exclusiveMax}
	}
	for _, e := range c.enum {
		value.Enum = append(value.Enum, enumValue(e, t))
	}
	nullable := value.Type != nil && value.Type.Includes(openapi3.TypeNull)
	if nullable && len(value.Enum) > 0 {
		value.Enum = append(value.Enum, nil)
	}
	switch {
	case !c.zeroFails(t):
	case list:
		// An element is given: null would be its zero value.
		dropNull(value)
		if i := slices.Index(value.Enum, any(nil)); i >= 0 {
			value.Enum = slices.Delete(value.Enum, i, i+1)
		}
	case c.required:
		dropNull(value)
	default:
		// Left out, the field is its zero value.
		var zero any = ""
		if t.Kind() != reflect.String {
			zero = enumValue("0", t)
		}
		if len(value.Enum) > 0 {
			value.Enum = append(value.Enum, zero)
			return s
		}
		dropNull(value)
		alternatives := openapi3.SchemaRefs{openapi3.NewSchemaRef("", value), openapi3.NewSchemaRef("", &openapi3.Schema{Enum: []any{zero}})}
		if nullable {
			alternatives = append(alternatives, openapi3.NewSchemaRef("", &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeNull}}))
		}
		return openapi3.NewSchemaRef("", &openapi3.Schema{AnyOf: alternatives})
	}
	return s
}

// zeroFails reports whether the zero value of t (of a list's elements)
// fails the constraints of a value.
func (c constraints) zeroFails(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.String:
		if c.minLength != nil && *c.minLength > 0 || c.format == "email" || c.format == "uri" || c.format == "date-time" {
			return true
		}
		if c.pattern != "" {
			if re, err := regexp.Compile(c.pattern); err == nil && !re.MatchString("") {
				return true
			}
		}
		return len(c.enum) > 0 && !slices.Contains(c.enum, "")
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8,
		reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		switch {
		case c.minimum != nil && *c.minimum > 0, c.maximum != nil && *c.maximum < 0,
			c.exclusiveMin != nil && *c.exclusiveMin >= 0, c.exclusiveMax != nil && *c.exclusiveMax <= 0:
			return true
		}
		return len(c.enum) > 0 && !slices.Contains(c.enum, "0")
	}
	return c.required
}

// dropNull takes null out of a schema's types.
func dropNull(s *openapi3.Schema) {
	if s.Type == nil || !s.Type.Includes(openapi3.TypeNull) {
		return
	}
	var types openapi3.Types
	for _, t := range *s.Type {
		if t != openapi3.TypeNull {
			types = append(types, t)
		}
	}
	s.Type = &types
}

// concrete returns the schema a field's constraints go on: the schema
// itself, or the first branch of a nullable anyOf; nil for a reference.
func concrete(s *openapi3.SchemaRef) *openapi3.Schema {
	if s == nil || s.Ref != "" || s.Value == nil {
		return nil
	}
	if len(s.Value.AnyOf) == 2 && s.Value.Type == nil {
		return concrete(s.Value.AnyOf[0])
	}
	return s.Value
}

// enumValue converts an enum value of the tag to the JSON value of t.
func enumValue(v string, t reflect.Type) any {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			return n
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if n, err := strconv.ParseUint(v, 10, 64); err == nil {
			return n
		}
	case reflect.Float32, reflect.Float64:
		if f, err := strconv.ParseFloat(v, 64); err == nil {
			return f
		}
	case reflect.Bool:
		if b, err := strconv.ParseBool(v); err == nil {
			return b
		}
	}
	return v
}
