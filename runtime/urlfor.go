package runtime

import (
	"context"
	"encoding"
	"fmt"
	"net/url"
	"reflect"
	"strconv"
	"strings"
)

// URLFor builds the path of an entry from its name and its path parameters,
// relative to the door the current request came through: an entry of a
// service that answers at /dev/items/7 behind an API Gateway stage links to
// /dev/..., the local server and a custom domain at its root to /....
//
// name is the entry's method name ("GetItems_") for the service's own
// entries, and blueprint.Method ("admin.GetRoutes") for a blueprint's.
// params fill the route's path parameters in order, each escaped (strings,
// numbers, booleans and encoding.TextMarshaler values); a url.Values after
// them is the query. Outside an entry's context there is no door: the path
// has no prefix (App.URLFor).
func URLFor(ctx context.Context, name string, params ...any) (string, error) {
	app, req := AppFrom(ctx), RequestFrom(ctx)
	if app == nil {
		return "", fmt.Errorf("URLFor %s: not in an entry's context", name)
	}
	u, err := app.URLFor(name, params...)
	if err != nil {
		return "", err
	}
	if req != nil && req.BasePath != "" {
		u = strings.TrimSuffix(req.BasePath, "/") + u
	}
	return u, nil
}

// URLFor builds the path of an entry from its name and its path parameters,
// without a door's prefix (see the function URLFor).
func (a *App) URLFor(name string, params ...any) (string, error) {
	var e *entry
	for _, c := range a.entries {
		if c.Active && c.urlName() == name {
			e = c
			break
		}
	}
	if e == nil {
		return "", fmt.Errorf("URLFor: no entry %q in stage %s (names are Method or blueprint.Method)", name, a.stage)
	}
	var query url.Values
	if n := len(params); n > 0 {
		if q, ok := params[n-1].(url.Values); ok {
			query, params = q, params[:n-1]
		}
	}
	if len(params) != len(e.Params) {
		return "", fmt.Errorf("URLFor %s: %s takes %d path parameters, got %d", name, e.Path, len(e.Params), len(params))
	}
	var b strings.Builder
	i := 0
	for _, seg := range strings.Split(strings.TrimPrefix(e.Path, "/"), "/") {
		b.WriteByte('/')
		if !strings.HasPrefix(seg, "{") {
			b.WriteString(seg)
			continue
		}
		s, err := pathValue(params[i])
		if err != nil {
			return "", fmt.Errorf("URLFor %s: parameter %s: %w", name, e.Params[i], err)
		}
		if s == "." || s == ".." {
			// Clients resolve dot segments away: escaped, they stay a value.
			s = strings.Repeat("%2E", len(s))
		} else {
			s = url.PathEscape(s)
		}
		b.WriteString(s)
		i++
	}
	if len(query) > 0 {
		b.WriteByte('?')
		b.WriteString(query.Encode())
	}
	return b.String(), nil
}

// urlName is the entry's name for URLFor.
func (e *entry) urlName() string {
	if e.Blueprint != "" {
		return e.Blueprint + "." + e.Entry
	}
	return e.Entry
}

// pathValue is the text of a path parameter.
func pathValue(v any) (string, error) {
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case encoding.TextMarshaler:
		b, err := x.MarshalText()
		if err != nil {
			return "", err
		}
		s = string(b)
	default:
		rv := reflect.ValueOf(v)
		switch rv.Kind() {
		case reflect.String:
			s = rv.String()
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			s = strconv.FormatInt(rv.Int(), 10)
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			s = strconv.FormatUint(rv.Uint(), 10)
		case reflect.Float32, reflect.Float64:
			s = strconv.FormatFloat(rv.Float(), 'g', -1, rv.Type().Bits())
		case reflect.Bool:
			s = strconv.FormatBool(rv.Bool())
		default:
			return "", fmt.Errorf("%T is not a path value (string, number, bool or encoding.TextMarshaler)", v)
		}
	}
	if s == "" {
		return "", fmt.Errorf("empty")
	}
	return s, nil
}
