package runtime

import (
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// decodeFunc sets the addressable dst from the text s.
type decodeFunc func(dst reflect.Value, s string) error

var (
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
	rawMessageType      = reflect.TypeFor[json.RawMessage]()
	timeType            = reflect.TypeFor[time.Time]()
)

// ParseBool is the boolean conversion of path and query values: true for
// "true", "1", "yes" and "on", false for "false", "0", "no" and "off", in
// any case; any other text is an error (a 422), not false.
func ParseBool(s string) (bool, error) {
	switch len(s) {
	case 1:
		switch s {
		case "1":
			return true, nil
		case "0":
			return false, nil
		}
	case 2:
		switch {
		case strings.EqualFold(s, "on"):
			return true, nil
		case strings.EqualFold(s, "no"):
			return false, nil
		}
	case 3:
		switch {
		case strings.EqualFold(s, "yes"):
			return true, nil
		case strings.EqualFold(s, "off"):
			return false, nil
		}
	case 4:
		if strings.EqualFold(s, "true") {
			return true, nil
		}
	case 5:
		if strings.EqualFold(s, "false") {
			return false, nil
		}
	}
	return false, fmt.Errorf("%q is not a boolean (true, false, 1, 0, yes, no, on, off)", s)
}

// textDecoder returns the conversion from text to t. Slices take a
// comma-separated list when listSep is set; otherwise a slice is rejected
// (callers that see repeated values convert each with the element decoder).
func textDecoder(t reflect.Type, listSep bool) (decodeFunc, error) {
	if t.Kind() != reflect.Pointer && reflect.PointerTo(t).Implements(textUnmarshalerType) {
		name := typeName(t)
		return func(dst reflect.Value, s string) error {
			if err := dst.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(s)); err != nil {
				if t == timeType {
					return fmt.Errorf("%q is not an RFC 3339 time", s)
				}
				return fmt.Errorf("%q is not a valid %s: %w", s, name, err)
			}
			return nil
		}, nil
	}
	switch t.Kind() {
	case reflect.String:
		return func(dst reflect.Value, s string) error { dst.SetString(s); return nil }, nil
	case reflect.Bool:
		return func(dst reflect.Value, s string) error {
			b, err := ParseBool(s)
			if err != nil {
				return err
			}
			dst.SetBool(b)
			return nil
		}, nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		bits := t.Bits()
		return func(dst reflect.Value, s string) error {
			n, err := strconv.ParseInt(s, 10, bits)
			if err != nil {
				return numError(s, "an integer", err)
			}
			dst.SetInt(n)
			return nil
		}, nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		bits := t.Bits()
		return func(dst reflect.Value, s string) error {
			n, err := strconv.ParseUint(s, 10, bits)
			if err != nil {
				return numError(s, "a non-negative integer", err)
			}
			dst.SetUint(n)
			return nil
		}, nil
	case reflect.Float32, reflect.Float64:
		bits := t.Bits()
		return func(dst reflect.Value, s string) error {
			f, err := strconv.ParseFloat(s, bits)
			if err != nil {
				return numError(s, "a number", err)
			}
			dst.SetFloat(f)
			return nil
		}, nil
	case reflect.Pointer:
		elem, err := textDecoder(t.Elem(), listSep)
		if err != nil {
			return nil, err
		}
		return func(dst reflect.Value, s string) error {
			p := reflect.New(t.Elem())
			if err := elem(p.Elem(), s); err != nil {
				return err
			}
			dst.Set(p)
			return nil
		}, nil
	case reflect.Slice:
		if t == rawMessageType {
			return func(dst reflect.Value, s string) error {
				if !json.Valid([]byte(s)) {
					return fmt.Errorf("%q is not valid JSON", s)
				}
				dst.SetBytes([]byte(s))
				return nil
			}, nil
		}
		if t.Elem().Kind() == reflect.Uint8 {
			return func(dst reflect.Value, s string) error { dst.SetBytes([]byte(s)); return nil }, nil
		}
		if !listSep {
			return nil, fmt.Errorf("unsupported type %s", t)
		}
		elem, err := textDecoder(t.Elem(), false)
		if err != nil {
			return nil, err
		}
		return func(dst reflect.Value, s string) error {
			parts := strings.Split(s, ",")
			out := reflect.MakeSlice(t, len(parts), len(parts))
			for i, p := range parts {
				if err := elem(out.Index(i), p); err != nil {
					return err
				}
			}
			dst.Set(out)
			return nil
		}, nil
	case reflect.Interface:
		if t.NumMethod() != 0 {
			return nil, fmt.Errorf("unsupported type %s", t)
		}
		return func(dst reflect.Value, s string) error { dst.Set(reflect.ValueOf(s)); return nil }, nil
	case reflect.Struct, reflect.Map, reflect.Array:
		// Nested values given as text are JSON.
		name := typeName(t)
		return func(dst reflect.Value, s string) error {
			if d := invalidJSONText([]byte(s)); d != "" {
				return fmt.Errorf("%q is not a JSON %s: %s", s, name, d)
			}
			if err := json.Unmarshal([]byte(s), dst.Addr().Interface()); err != nil {
				return fmt.Errorf("%q is not a JSON %s: %w", s, name, err)
			}
			return nil
		}, nil
	}
	return nil, fmt.Errorf("unsupported type %s", t)
}

func numError(s, what string, err error) error {
	if errors.Is(err, strconv.ErrRange) {
		return fmt.Errorf("%q is out of range", s)
	}
	return fmt.Errorf("%q is not %s", s, what)
}

// typeName names t for error messages: the Go name without package path.
func typeName(t reflect.Type) string {
	if t.Name() != "" {
		return t.Name()
	}
	return t.String()
}
