package runtime

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
)

// outKind is how an entry's result becomes a response body.
type outKind uint8

const (
	outJSON    outKind = iota // struct, map, slice, number, bool: JSON
	outText                   // string kinds: text/plain
	outBytes                  // []byte: the declared content type
	outRaw                    // json.RawMessage: as is, application/json
	outReader                 // io.Reader: streamed, the declared content type
	outDynamic                // an interface type: decided per value
)

// Content types of results.
const (
	jsonContentType   = "application/json"
	textContentType   = "text/plain; charset=utf-8"
	binaryContentType = "application/octet-stream"
)

func outKindOf(t reflect.Type) outKind {
	switch {
	case t == rawMessageType:
		return outRaw
	case t.Kind() == reflect.Interface && !t.Implements(readerType):
		return outDynamic
	case t.Implements(readerType):
		return outReader
	case t.Kind() == reflect.String:
		return outText
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8:
		return outBytes
	}
	return outJSON
}

// render turns an entry's result, a concrete value (invalid for none or a
// nil interface), into st.resp.
func (e *entry) render(st *callState, v reflect.Value, head bool) error {
	kind := e.out
	if kind == outDynamic && v.IsValid() {
		kind = outKindOf(v.Type())
	}
	resp := &st.resp
	resp.Status, resp.Header = http.StatusOK, st.header
	if e.status != 0 {
		resp.Status = e.status
	}
	if resp.Header == nil {
		resp.Header = http.Header{}
	}
	ct := ""
	switch {
	case !v.IsValid() || (v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface) && v.IsNil():
		resp.Status = http.StatusNoContent
	default:
		switch kind {
		case outText:
			resp.Body = []byte(v.String())
			ct = textContentType
		case outBytes:
			resp.Body = v.Bytes()
			resp.Binary = true
			ct = binaryContentType
		case outRaw:
			resp.Body = v.Bytes()
			ct = jsonContentType
		case outReader:
			resp.Stream = v.Interface().(io.Reader)
			resp.Binary = true
			ct = binaryContentType
		default:
			body, err := marshalJSON(v)
			if err != nil {
				return fmt.Errorf("encoding the result of %s: %w", e.qualifiedName(), err)
			}
			resp.Body = body
			ct = jsonContentType
		}
	}
	if set, ok := resp.Header["Content-Type"]; ok {
		// The entry set it.
		if len(set) > 0 {
			ct = set[0]
		}
		delete(resp.Header, "Content-Type")
	} else if ct != "" && e.ContentType != "" {
		ct = e.ContentType
	}
	resp.ContentType = ct
	if st.status != 0 {
		resp.Status = st.status
	}
	if head {
		if c, ok := resp.Stream.(io.Closer); ok {
			c.Close()
		} else if resp.Stream == nil && resp.Status != http.StatusNoContent {
			resp.Header.Set("Content-Length", strconv.Itoa(len(resp.Body)))
		}
		resp.Body, resp.Stream = nil, nil
	}
	return nil
}

// marshalJSON encodes a result; a nil slice is [] and a nil map {}.
func marshalJSON(v reflect.Value) ([]byte, error) {
	switch {
	case v.Kind() == reflect.Slice && v.IsNil():
		return []byte("[]"), nil
	case v.Kind() == reflect.Map && v.IsNil():
		return []byte("{}"), nil
	}
	return json.Marshal(v.Interface())
}

// bindMultipart binds the fields and files of a multipart/form-data body,
// already read in full (so no part spills to disk).
func (e *entry) bindMultipart(kw reflect.Value, body []byte, boundary string, errs *[]ParamError, cleanup *func()) error {
	form, err := multipart.NewReader(bytes.NewReader(body), boundary).ReadForm(int64(len(body)) + 1)
	if err != nil {
		return BadRequest("malformed multipart body: %v", err)
	}
	*cleanup = func() { _ = form.RemoveAll() }
	if err := e.kw.pairs(kw, pairSource{values: url.Values(form.Value)}, inBody, errs); err != nil {
		return err
	}
	e.kw.files(kw, form.File, errs)
	return nil
}
