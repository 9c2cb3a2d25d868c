package pattern

import (
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
)

// Matcher holds named patterns and finds those an event matches without
// trying them all: each alternative of a pattern is indexed under one of
// its fields (its anchor), a field whose conditions are exact values or
// string prefixes, so that an event only tries the alternatives its own
// values point to, plus the few with no such field. Of the fields that can
// anchor an alternative, Add takes the one whose index entries are the
// fewest at the time, so that rules sharing a value (all on one
// detail-type) spread over their other fields (their sources). It is safe
// for concurrent use.
type Matcher struct {
	mu       sync.RWMutex
	patterns map[string]*Pattern
	byValue  map[string]map[vkey][]*entry    // path → value → alternatives
	byPrefix map[string]*prefixIndex         // path → prefixes → alternatives
	scan     []*entry                        // alternatives with no field to index
	paths    map[string]int                  // field paths and their ancestors → how many fields lie there
	used     atomic.Pointer[map[string]bool] // a snapshot of paths for Uses, nil after a change
}

// prefixIndex holds the alternatives anchored by string prefixes of a path.
type prefixIndex struct {
	byPrefix map[string][]*entry
	lengths  []int // the distinct prefix lengths, sorted
}

// entry is one alternative of a named pattern.
type entry struct {
	name   string
	fields []*field
}

// NewMatcher returns an empty matcher.
func NewMatcher() *Matcher {
	return &Matcher{patterns: map[string]*Pattern{}, byValue: map[string]map[vkey][]*entry{}, byPrefix: map[string]*prefixIndex{},
		paths: map[string]int{}}
}

// Add adds (or replaces) the pattern named name.
func (m *Matcher) Add(name string, p *Pattern) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.remove(name)
	m.patterns[name] = p
	m.count(p, 1)
	for _, alt := range p.alts {
		e := &entry{name: name, fields: alt}
		anchor := m.pickAnchor(alt)
		if anchor == nil {
			m.scan = append(m.scan, e)
			continue
		}
		for _, c := range anchor.conds {
			if k, ok := condKey(c); ok {
				idx := m.byValue[anchor.path]
				if idx == nil {
					idx = map[vkey][]*entry{}
					m.byValue[anchor.path] = idx
				}
				idx[k] = append(idx[k], e)
				continue
			}
			px := m.byPrefix[anchor.path]
			if px == nil {
				px = &prefixIndex{byPrefix: map[string][]*entry{}}
				m.byPrefix[anchor.path] = px
			}
			ps := c.(prefix).s
			if _, ok := px.byPrefix[ps]; !ok && !slices.Contains(px.lengths, len(ps)) {
				px.lengths = append(px.lengths, len(ps))
				slices.Sort(px.lengths)
			}
			px.byPrefix[ps] = append(px.byPrefix[ps], e)
		}
	}
}

// Remove removes the pattern named name.
func (m *Matcher) Remove(name string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.remove(name)
}

func (m *Matcher) remove(name string) {
	p, ok := m.patterns[name]
	if !ok {
		return
	}
	delete(m.patterns, name)
	m.count(p, -1)
	keep := func(list []*entry) []*entry {
		out := list[:0]
		for _, e := range list {
			if e.name != name {
				out = append(out, e)
			}
		}
		return out
	}
	m.scan = keep(m.scan)
	for path, px := range m.byPrefix {
		for ps, list := range px.byPrefix {
			if list = keep(list); len(list) == 0 {
				delete(px.byPrefix, ps)
			} else {
				px.byPrefix[ps] = list
			}
		}
		px.lengths = px.lengths[:0]
		for ps := range px.byPrefix {
			if !slices.Contains(px.lengths, len(ps)) {
				px.lengths = append(px.lengths, len(ps))
			}
		}
		slices.Sort(px.lengths)
		if len(px.byPrefix) == 0 {
			delete(m.byPrefix, path)
		}
	}
	for path, idx := range m.byValue {
		for k, list := range idx {
			if list = keep(list); len(list) == 0 {
				delete(idx, k)
			} else {
				idx[k] = list
			}
		}
		if len(idx) == 0 {
			delete(m.byValue, path)
		}
	}
}

// count adds delta to the counts of p's field paths and their ancestors.
func (m *Matcher) count(p *Pattern, delta int) {
	for _, alt := range p.alts {
		for _, f := range alt {
			for path := f.path; ; {
				if m.paths[path] += delta; m.paths[path] <= 0 {
					delete(m.paths, path)
				}
				i := strings.LastIndexByte(path, '.')
				if i < 0 {
					break
				}
				path = path[:i]
			}
		}
	}
	m.used.Store(nil)
}

// Uses reports whether a pattern of the matcher has a field at path or
// below it: an event's values elsewhere cannot change what it matches, so
// that a builder of flattened events may leave them out.
func (m *Matcher) Uses(path string) bool {
	used := m.used.Load()
	if used == nil {
		// Stored under the lock, so that a change (which clears it under
		// the write lock) cannot be overwritten by an older snapshot.
		m.mu.RLock()
		snap := make(map[string]bool, len(m.paths))
		for p := range m.paths {
			snap[p] = true
		}
		used = &snap
		m.used.Store(used)
		m.mu.RUnlock()
	}
	return (*used)[path]
}

// Len returns how many patterns the matcher holds.
func (m *Matcher) Len() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.patterns)
}

// pickAnchor chooses the field of an alternative to index it by: one that
// needs a value whose conditions are all exact values or case-sensitive
// prefixes, the one under which the index holds the fewest alternatives.
func (m *Matcher) pickAnchor(fields []*field) *field {
	var best *field
	bestLoad := 0
	for _, f := range fields {
		if f.existsFalse || len(f.conds) == 0 {
			continue
		}
		load, ok := 0, true
		for _, c := range f.conds {
			if k, ok := condKey(c); ok {
				load += len(m.byValue[f.path][k])
				continue
			}
			p, isPrefix := c.(prefix)
			if !isPrefix || p.fold {
				ok = false
				break
			}
			if px := m.byPrefix[f.path]; px != nil {
				load += len(px.byPrefix[p.s])
			}
		}
		if !ok {
			continue
		}
		if best == nil || load < bestLoad || (load == bestLoad && len(f.conds) < len(best.conds)) {
			best, bestLoad = f, load
		}
	}
	return best
}

// vkey is an exact value as the index holds it: numbers by their float64
// value (so that 0 and -0 meet, as they match), strings as they are.
type vkey struct {
	k kind
	s string
	f float64
}

// condKey is the index key of an exact condition; ok is false for others.
func condKey(c cond) (k vkey, ok bool) {
	switch c := c.(type) {
	case equalString:
		return vkey{k: kindString, s: string(c)}, true
	case equalNumber:
		return vkey{k: kindNumber, f: float64(c)}, true
	case equalBool:
		if c {
			return vkey{k: kindBool, f: 1}, true
		}
		return vkey{k: kindBool}, true
	case equalNull:
		return vkey{k: kindNull}, true
	}
	return vkey{}, false
}

// valueKey is the index key of an event value.
func valueKey(v *value) vkey {
	switch v.kind {
	case kindString:
		return vkey{k: kindString, s: v.s}
	case kindNumber:
		return vkey{k: kindNumber, f: v.f}
	case kindBool:
		if v.b {
			return vkey{k: kindBool, f: 1}
		}
		return vkey{k: kindBool}
	}
	return vkey{k: kindNull}
}

// Match returns the names of the patterns the event (a JSON object)
// matches, sorted.
func (m *Matcher) Match(event []byte) ([]string, error) {
	e, err := Flatten(event)
	if err != nil {
		return nil, err
	}
	return m.MatchEvent(e), nil
}

// MatchEvent returns the names of the patterns a flattened event matches,
// sorted.
func (m *Matcher) MatchEvent(e *Event) []string { return m.AppendMatches(nil, e) }

// AppendMatches appends the names of the patterns a flattened event matches
// to dst, sorted, and returns the extended slice: a caller with a buffer
// matches without allocating.
func (m *Matcher) AppendMatches(dst []string, e *Event) []string {
	m.mu.RLock()
	defer m.mu.RUnlock()
	base := len(dst)
	names := dst
	try := func(en *entry) {
		if !slices.Contains(names[base:], en.name) && matchAll(en.fields, e) {
			names = append(names, en.name)
		}
	}
	for fi := range e.fields {
		path, vals := e.fields[fi].path, e.fields[fi].vals
		if idx := m.byValue[path]; idx != nil {
			for i := range vals {
				for _, en := range idx[valueKey(&vals[i])] {
					try(en)
				}
			}
		}
		if px := m.byPrefix[path]; px != nil {
			for i := range vals {
				if vals[i].kind != kindString {
					continue
				}
				s := vals[i].s
				for _, n := range px.lengths {
					if n > len(s) {
						break
					}
					for _, en := range px.byPrefix[s[:n]] {
						try(en)
					}
				}
			}
		}
	}
	for _, en := range m.scan {
		try(en)
	}
	sort.Strings(names[base:])
	return names
}
