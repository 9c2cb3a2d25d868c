package pattern

import (
	"bytes"
	"fmt"
	"io"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/coworks-go/cws/internal/jsonpool"
)

// kind is the JSON type of an event value.
type kind uint8

const (
	kindString kind = iota
	kindNumber
	kindBool
	kindNull
)

// value is one leaf value of an event, with the array elements it lies in.
type value struct {
	kind kind
	s    string  // a string
	f    float64 // a number
	b    bool
	arr  []elem // the (array, element) pairs enclosing it, outermost first
}

// elem is an element of an array of the event.
type elem struct{ array, index int }

// Event is an event flattened into the leaf values at each dotted path.
type Event struct {
	// fields hold the values of each path, in the order the paths came.
	fields []eventField
	// index finds a path's field once there are more than linearFields
	// (a flattened JSON event); below, a look along fields is quicker
	// than hashing (the paths a bus's rules use).
	index map[string]int
}

// eventField is a path of an event and its leaf values.
type eventField struct {
	path string
	vals []value
}

// linearFields is how many paths an event holds before it indexes them.
const linearFields = 8

// get returns the values at path.
func (e *Event) get(path string) []value {
	if e.index != nil {
		if i, ok := e.index[path]; ok {
			return e.fields[i].vals
		}
		return nil
	}
	for i := range e.fields {
		if e.fields[i].path == path {
			return e.fields[i].vals
		}
	}
	return nil
}

// values returns where the values at path are kept, adding the path.
func (e *Event) values(path string) *[]value {
	if e.index != nil {
		if i, ok := e.index[path]; ok {
			return &e.fields[i].vals
		}
	} else {
		for i := range e.fields {
			if e.fields[i].path == path {
				return &e.fields[i].vals
			}
		}
	}
	e.fields = append(e.fields, eventField{path: path})
	switch n := len(e.fields); {
	case e.index != nil:
		e.index[path] = n - 1
	case n > linearFields:
		e.index = make(map[string]int, 2*n)
		for i := range e.fields {
			e.index[e.fields[i].path] = i
		}
	}
	return &e.fields[len(e.fields)-1].vals
}

// add appends v at path.
func (e *Event) add(path string, v value) {
	vs := e.values(path)
	*vs = append(*vs, v)
}

// String lists the event's leaf values, one path per line in path order,
// each value with its JSON type and its array indexes (for tests and
// debugging).
func (e *Event) String() string {
	paths := make([]string, 0, len(e.fields))
	for i := range e.fields {
		paths = append(paths, e.fields[i].path)
	}
	sort.Strings(paths)
	var b strings.Builder
	for _, p := range paths {
		b.WriteString(p)
		b.WriteString(":")
		for _, v := range e.get(p) {
			switch v.kind {
			case kindString:
				fmt.Fprintf(&b, " %q", v.s)
			case kindNumber:
				fmt.Fprintf(&b, " %v", v.f)
			case kindBool:
				fmt.Fprintf(&b, " %v", v.b)
			case kindNull:
				b.WriteString(" null")
			}
			for _, a := range v.arr {
				fmt.Fprintf(&b, "[%d]", a.index)
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}

// Values returns how many leaf values the event has at path.
func (e *Event) Values(path string) int { return len(e.get(path)) }

// Flatten parses an event (a JSON object) for matching. It walks the JSON
// tokens once, keeping only the leaf values.
func Flatten(data []byte) (*Event, error) {
	dec := jsontext.NewDecoder(bytes.NewReader(data), jsontext.AllowInvalidUTF8(true), jsontext.AllowDuplicateNames(true))
	tok, err := dec.ReadToken()
	if err != nil {
		return nil, fmt.Errorf("the event is not JSON: %w", err)
	}
	if tok.Kind() != '{' {
		return nil, fmt.Errorf("the event is not a JSON object")
	}
	f := flattener{dec: dec, e: &Event{fields: make([]eventField, 0, 16)}}
	if err := f.object("", nil); err != nil {
		return nil, fmt.Errorf("the event is not JSON: %w", err)
	}
	if _, err := dec.ReadToken(); err != io.EOF {
		return nil, fmt.Errorf("the event is not JSON: data after the object")
	}
	return f.e, nil
}

// flattener turns the tokens of an event into its leaf values.
type flattener struct {
	dec    *jsontext.Decoder
	e      *Event
	arrays int
	keep   func(path string) bool // nil keeps everything
}

// object reads the members of an object whose '{' was read.
func (f *flattener) object(path string, arr []elem) error {
	for {
		tok, err := f.dec.ReadToken()
		if err != nil {
			return err
		}
		if tok.Kind() == '}' {
			return nil
		}
		key := tok.String()
		if path != "" {
			key = path + "." + key
		}
		if f.keep != nil && !f.keep(key) {
			if err := f.dec.SkipValue(); err != nil {
				return err
			}
			continue
		}
		if err := f.value(key, arr); err != nil {
			return err
		}
	}
}

// value reads one value at path.
func (f *flattener) value(path string, arr []elem) error {
	tok, err := f.dec.ReadToken()
	if err != nil {
		return err
	}
	switch tok.Kind() {
	case '{':
		return f.object(path, arr)
	case '[':
		f.arrays++
		id := f.arrays
		for i := 0; ; i++ {
			if f.dec.PeekKind() == ']' {
				_, err := f.dec.ReadToken()
				return err
			}
			if err := f.value(path, append(arr[:len(arr):len(arr)], elem{id, i})); err != nil {
				return err
			}
		}
	case '"':
		f.e.add(path, value{kind: kindString, s: tok.String(), arr: arr})
	case '0':
		x, err := strconv.ParseFloat(tok.String(), 64)
		if err != nil {
			// A number too large for a float64 matches no number.
			x = nanNumber
		}
		f.e.add(path, value{kind: kindNumber, f: x, arr: arr})
	case 't', 'f':
		f.e.add(path, value{kind: kindBool, b: tok.Bool(), arr: arr})
	case 'n':
		f.e.add(path, value{kind: kindNull, arr: arr})
	}
	return nil
}

// Match reports whether the pattern matches the event (a JSON object).
func (p *Pattern) Match(event []byte) (bool, error) {
	e, err := Flatten(event)
	if err != nil {
		return false, err
	}
	return p.MatchEvent(e), nil
}

// MatchEvent reports whether the pattern matches a flattened event.
func (p *Pattern) MatchEvent(e *Event) bool {
	for _, alt := range p.alts {
		if matchAll(alt, e) {
			return true
		}
	}
	return false
}

// matchAll reports whether every field of a conjunction matches, with the
// values of fields inside the same event array taken from the same element.
func matchAll(fields []*field, e *Event) bool {
	var chosen []elem
	var try func(i int) bool
	try = func(i int) bool {
		if i == len(fields) {
			return true
		}
		f := fields[i]
		vals := e.get(f.path)
		if len(vals) == 0 {
			return f.existsFalse && try(i+1)
		}
		for vi := range vals {
			v := &vals[vi]
			if !consistent(chosen, v.arr) || !f.matches(v) {
				continue
			}
			n := len(chosen)
			chosen = append(chosen, v.arr...)
			if try(i + 1) {
				return true
			}
			chosen = chosen[:n]
		}
		return false
	}
	return try(0)
}

// consistent reports whether a value's array elements agree with those
// chosen so far: the same array, the same element.
func consistent(chosen, arr []elem) bool {
	for _, a := range arr {
		for _, c := range chosen {
			if a.array == c.array && a.index != c.index {
				return false
			}
		}
	}
	return true
}

func (f *field) matches(v *value) bool {
	for _, c := range f.conds {
		if c.match(v) {
			return true
		}
	}
	return false
}

// cond is a condition on one value.
type cond interface {
	match(v *value) bool
}

type equalString string

func (c equalString) match(v *value) bool { return v.kind == kindString && v.s == string(c) }

type equalNumber float64

func (c equalNumber) match(v *value) bool { return v.kind == kindNumber && v.f == float64(c) }

type equalBool bool

func (c equalBool) match(v *value) bool { return v.kind == kindBool && v.b == bool(c) }

type equalNull struct{}

func (equalNull) match(v *value) bool { return v.kind == kindNull }

type equalFold string

func (c equalFold) match(v *value) bool {
	return v.kind == kindString && strings.EqualFold(v.s, string(c))
}

type prefix struct {
	s    string
	fold bool
}

func (c prefix) match(v *value) bool {
	if v.kind != kindString || len(v.s) < len(c.s) {
		return false
	}
	if c.fold {
		return strings.EqualFold(v.s[:len(c.s)], c.s)
	}
	return strings.HasPrefix(v.s, c.s)
}

type suffix struct {
	s    string
	fold bool
}

func (c suffix) match(v *value) bool {
	if v.kind != kindString || len(v.s) < len(c.s) {
		return false
	}
	if c.fold {
		return strings.EqualFold(v.s[len(v.s)-len(c.s):], c.s)
	}
	return strings.HasSuffix(v.s, c.s)
}

// exists matches any value: {"exists": true}.
type exists struct{}

func (exists) match(*value) bool { return true }

// anythingBut matches any value the inner condition does not match, null
// included.
type anythingBut struct{ inner cond }

func (c anythingBut) match(v *value) bool { return !c.inner.match(v) }

// anyOf matches what one of its conditions matches.
type anyOf []cond

func (c anyOf) match(v *value) bool {
	for _, x := range c {
		if x.match(v) {
			return true
		}
	}
	return false
}

// nanNumber marks an event number that cannot be compared.
var nanNumber = func() float64 { var z float64; return z / z }()

type numeric struct {
	lo, hi         float64
	loOpen, hiOpen bool
}

func (c numeric) match(v *value) bool {
	if v.kind != kindNumber || v.f != v.f {
		return false
	}
	if v.f < c.lo || (c.loOpen && v.f == c.lo) {
		return false
	}
	return v.f < c.hi || (!c.hiOpen && v.f == c.hi)
}

// wildcard matches strings made of its segments, in order, with anything
// between them.
type wildcard struct{ segs []string }

func (c wildcard) match(v *value) bool {
	if v.kind != kindString {
		return false
	}
	s := v.s
	first, last := c.segs[0], c.segs[len(c.segs)-1]
	if len(c.segs) == 1 {
		return s == first
	}
	if !strings.HasPrefix(s, first) {
		return false
	}
	s = s[len(first):]
	for _, seg := range c.segs[1 : len(c.segs)-1] {
		i := strings.Index(s, seg)
		if i < 0 {
			return false
		}
		s = s[i+len(seg):]
	}
	return strings.HasSuffix(s, last)
}

type cidr struct{ prefix netip.Prefix }

func (c cidr) match(v *value) bool {
	if v.kind != kindString {
		return false
	}
	addr, err := netip.ParseAddr(v.s)
	return err == nil && c.prefix.Contains(addr)
}

// Builder assembles a flattened event field by field, without writing and
// parsing its JSON: what Flatten would make of the object whose fields are
// added, less the values a filter leaves out.
type Builder struct {
	e      *Event
	keep   func(path string) bool
	arrays int
	chunk  []value // where single values are taken from, to allocate once
	// event and fields are where e and its first fields are kept: the
	// builder, its event and the paths a bus's rules use are one
	// allocation.
	event  Event
	fields [4]eventField
	values [4]value
	// mask is Mask's answer for the paths at maskFor.
	maskFor *string
	maskLen int
	mask    uint64
}

// add appends v at path; a path's first value comes from the chunk.
func (b *Builder) add(path string, v value) {
	vs := b.e.values(path)
	if len(*vs) > 0 {
		*vs = append(*vs, v)
		return
	}
	if len(b.chunk) == cap(b.chunk) {
		b.chunk = make([]value, 0, 4)
	}
	b.chunk = append(b.chunk, v)
	n := len(b.chunk)
	*vs = b.chunk[n-1 : n : n]
}

// NewBuilder returns an empty builder. keep, when not nil, says which paths
// (and, for JSON values, which objects) to keep: the others are left out, as
// Matcher.Uses allows for the events it matches.
func NewBuilder(keep func(path string) bool) *Builder {
	b := &Builder{keep: keep}
	if keep == nil {
		b.keep = func(string) bool { return true }
	}
	b.event.fields = b.fields[:0]
	b.chunk = b.values[:0]
	b.e = &b.event
	return b
}

// Reset empties the builder for another event, keeping what it allocated:
// the Event it returned before is this one, emptied.
func (b *Builder) Reset() {
	clear(b.event.fields)
	b.event.fields = b.event.fields[:0]
	b.event.index = nil
	b.arrays = 0
	clear(b.chunk)
	b.chunk = b.chunk[:0]
}

// Keeps reports whether the builder keeps path: a caller may skip working
// out a value it would leave out.
func (b *Builder) Keeps(path string) bool { return b.keep(path) }

// Mask asks the filter about each of paths (at most 64) and returns the
// answers as bits, bit i for paths[i]: a caller that adds the same fields
// to every event of a batch (an envelope's) asks once, then adds what is
// kept with the Put methods. The answer for the last paths asked about is
// remembered: paths should be a caller's fixed list.
func (b *Builder) Mask(paths []string) uint64 {
	if len(paths) > 0 && b.maskFor == &paths[0] && b.maskLen == len(paths) {
		return b.mask
	}
	var m uint64
	for i, p := range paths[:min(len(paths), 64)] {
		if b.keep(p) {
			m |= 1 << i
		}
	}
	if len(paths) > 0 {
		b.maskFor, b.maskLen, b.mask = &paths[0], len(paths), m
	}
	return m
}

// PutString adds a string field the caller knows the filter keeps (Mask).
func (b *Builder) PutString(path, s string) { b.add(path, value{kind: kindString, s: s}) }

// String adds a string field.
func (b *Builder) String(path, s string) {
	if b.keep(path) {
		b.add(path, value{kind: kindString, s: s})
	}
}

// Number adds a number field.
func (b *Builder) Number(path string, f float64) {
	if b.keep(path) {
		b.add(path, value{kind: kindNumber, f: f})
	}
}

// Bool adds a boolean field.
func (b *Builder) Bool(path string, v bool) {
	if b.keep(path) {
		b.add(path, value{kind: kindBool, b: v})
	}
}

// Strings adds an array of strings.
func (b *Builder) Strings(path string, ss []string) {
	if !b.keep(path) {
		return
	}
	b.arrays++
	for i, s := range ss {
		b.e.add(path, value{kind: kindString, s: s, arr: []elem{{b.arrays, i}}})
	}
}

// JSON adds the JSON value raw at path; an invalid value is an error, but
// one the filter leaves out entirely is not read.
func (b *Builder) JSON(path string, raw []byte) error {
	if !b.keep(path) {
		return nil
	}
	l := jsonpool.Get(raw, jsontext.AllowInvalidUTF8(true), jsontext.AllowDuplicateNames(true))
	defer l.Release()
	dec := l.Decoder
	f := flattener{dec: dec, e: b.e, arrays: b.arrays, keep: b.keep}
	if err := f.value(path, nil); err != nil {
		return err
	}
	if _, err := dec.ReadToken(); err != io.EOF {
		return fmt.Errorf("data after the JSON value at %s", path)
	}
	b.arrays = f.arrays
	return nil
}

// Event returns the flattened event.
func (b *Builder) Event() *Event { return b.e }
