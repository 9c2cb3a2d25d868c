package lambda

import (
	"errors"
	"net/http"
	"net/url"
	"sync"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// The headers and query parameters of a proxy event are most of its JSON
// and were most of the door's time: decoded into maps by reflection, then
// copied into an http.Header with canonical names. Here they are read
// straight into the header and the query the runtime takes, the names
// interned, the values unquoted into one buffer; and an object the door
// does not use is only checked, not read: a REST event carries its
// headers twice (headers and multiValueHeaders) and its query twice, an
// HTTP API event its query twice (queryStringParameters and
// rawQueryString).

// errNotStrings is the error of a member of an object of strings that is
// not a string.
var errNotStrings = errors.New("a value is not a string or null")

// errNotLists is the error of a member of an object of lists of strings
// that is not one.
var errNotLists = errors.New("a value is not a list of strings or null")

// errNotObject is the error of an object member that is not an object.
var errNotObject = errors.New("not an object or null")

// lazyStrings is a JSON object of strings (or null values) of the payload:
// decoding checks its shape and notes where it is, header and query read
// it when the door needs it.
type lazyStrings struct {
	start, end int64 // where it is in the payload; end is 0 when absent or null
}

// UnmarshalJSONFrom checks that the value is an object of strings or null,
// and notes where it is.
func (l *lazyStrings) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	*l = lazyStrings{}
	start := dec.InputOffset()
	tok, err := dec.ReadToken()
	switch {
	case err != nil:
		return err
	case tok.Kind() == 'n':
		return nil
	case tok.Kind() != '{':
		return errNotObject
	}
	for dec.PeekKind() != '}' {
		if _, err := dec.ReadToken(); err != nil { // the name
			return err
		}
		if k := dec.PeekKind(); k != '"' && k != 'n' {
			return errNotStrings
		}
		if err := dec.SkipValue(); err != nil {
			return err
		}
	}
	if _, err := dec.ReadToken(); err != nil { // '}'
		return err
	}
	l.start, l.end = start, dec.InputOffset()
	return nil
}

// present reports whether the object was in the event, not null.
func (l lazyStrings) present() bool { return l.end > 0 }

// json is the object's JSON in payload: the bytes from the end of the
// member's name, without the colon and the spaces before it.
func (l lazyStrings) json(payload []byte) []byte {
	b := payload[l.start:l.end]
	for len(b) > 0 && (b[0] == ':' || b[0] == ' ' || b[0] == '\t' || b[0] == '\n' || b[0] == '\r') {
		b = b[1:]
	}
	return b
}

// header reads the object, checked when decoded, as a header.
func (l lazyStrings) header(payload []byte) http.Header {
	if !l.present() {
		return nil
	}
	var h stringsHeader
	if err := jsonv2.Unmarshal(l.json(payload), &h, decodeOptions); err != nil {
		// Checked when the event was decoded: it cannot happen.
		panic("lambda: a checked header object does not decode: " + err.Error())
	}
	return http.Header(h)
}

// query reads the object, checked when decoded, as a query.
func (l lazyStrings) query(payload []byte) url.Values {
	if !l.present() {
		return nil
	}
	var q stringsQuery
	if err := jsonv2.Unmarshal(l.json(payload), &q, decodeOptions); err != nil {
		panic("lambda: a checked query object does not decode: " + err.Error())
	}
	return url.Values(q)
}

// stringsHeader is an http.Header decoded from an object of strings.
type stringsHeader http.Header

// UnmarshalJSONFrom reads the object, its names made canonical.
func (h *stringsHeader) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	m, err := readMembers(dec, false, headerNames)
	*h = stringsHeader(m)
	return err
}

// stringsQuery is a url.Values decoded from an object of strings.
type stringsQuery url.Values

// UnmarshalJSONFrom reads the object.
func (q *stringsQuery) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	m, err := readMembers(dec, false, queryNames)
	*q = stringsQuery(m)
	return err
}

// listsHeader is an http.Header decoded from an object of lists of
// strings (multiValueHeaders).
type listsHeader http.Header

// UnmarshalJSONFrom reads the object, its names made canonical.
func (h *listsHeader) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	m, err := readMembers(dec, true, headerNames)
	*h = listsHeader(m)
	return err
}

// listsQuery is a url.Values decoded from an object of lists of strings
// (multiValueQueryStringParameters).
type listsQuery url.Values

// UnmarshalJSONFrom reads the object.
func (q *listsQuery) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	m, err := readMembers(dec, true, queryNames)
	*q = listsQuery(m)
	return err
}

// readMembers reads an object of strings (lists of strings when lists) or
// null into a map, names interned by names. A null string is "" (as
// decoding into map[string]string made it); a null list is a name without
// values (nil), null in a list "". The last of duplicate names wins.
// The values are unquoted into one buffer made one string: a few
// allocations for the whole object.
func readMembers(dec *jsontext.Decoder, lists bool, names *interner) (map[string][]string, error) {
	if dec.PeekKind() == 'n' {
		_, err := dec.ReadToken()
		return nil, err
	}
	if tok, err := dec.ReadToken(); err != nil {
		return nil, err
	} else if tok.Kind() != '{' {
		return nil, errNotObject
	}
	type member struct {
		name  string
		first int // index of its first value in ends
		count int // its values; -1 for null
	}
	members := make([]member, 0, 32)
	ends := make([]int, 0, 32) // where each value ends in buf
	buf := make([]byte, 0, 1024)
	var nameBuf [128]byte
	for dec.PeekKind() != '}' {
		raw, err := dec.ReadValue()
		if err != nil {
			return nil, err
		}
		// Invalid UTF-8 is replaced; the event says it held some.
		name, _ := jsontext.AppendUnquote(nameBuf[:0], raw)
		m := member{name: names.intern(name), first: len(ends)}
		value := func() error {
			raw, err := dec.ReadValue()
			if err != nil {
				return err
			}
			if raw.Kind() == '"' {
				buf, _ = jsontext.AppendUnquote(buf, raw)
			} else if raw.Kind() != 'n' {
				if lists {
					return errNotLists
				}
				return errNotStrings
			}
			ends = append(ends, len(buf))
			return nil
		}
		switch k := dec.PeekKind(); {
		case !lists:
			// null is "", as decoding into map[string]string made it.
			if err := value(); err != nil {
				return nil, err
			}
			m.count = 1
		case k == 'n':
			if _, err := dec.ReadToken(); err != nil {
				return nil, err
			}
			m.count = -1
		case k != '[':
			return nil, errNotLists
		default:
			if _, err := dec.ReadToken(); err != nil {
				return nil, err
			}
			for dec.PeekKind() != ']' {
				if err := value(); err != nil {
					return nil, err
				}
				m.count++
			}
			if _, err := dec.ReadToken(); err != nil {
				return nil, err
			}
		}
		members = append(members, m)
	}
	if _, err := dec.ReadToken(); err != nil { // '}'
		return nil, err
	}
	text := string(buf)
	values := make([]string, len(ends))
	start := 0
	for i, end := range ends {
		values[i] = text[start:end]
		start = end
	}
	out := make(map[string][]string, len(members))
	for _, m := range members {
		if m.count < 0 {
			out[m.name] = nil
			continue
		}
		out[m.name] = values[m.first : m.first+m.count : m.first+m.count]
	}
	return out, nil
}

// interner hands out one string for each name it has seen, made canonical:
// the names of an API's headers and parameters repeat from one invocation
// to the next, and a name is then found without allocating.
type interner struct {
	canonical func(string) string
	mu        sync.RWMutex
	names     map[string]string
}

// maxInterned bounds what an interner remembers: names past it are made
// each time.
const maxInterned = 1024

var (
	headerNames = &interner{canonical: http.CanonicalHeaderKey, names: map[string]string{}}
	queryNames  = &interner{canonical: func(s string) string { return s }, names: map[string]string{}}
)

// intern returns the canonical string of name.
func (in *interner) intern(name []byte) string {
	in.mu.RLock()
	s, ok := in.names[string(name)]
	in.mu.RUnlock()
	if ok {
		return s
	}
	s = in.canonical(string(name))
	in.mu.Lock()
	if len(in.names) < maxInterned {
		in.names[string(name)] = s
	}
	in.mu.Unlock()
	return s
}
