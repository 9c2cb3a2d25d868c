package pattern

import (
	"slices"
	"sort"
	"strconv"
	"sync"
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
	byValue  map[string]map[string][]*entry // path → value key → alternatives
	byPrefix map[string]*prefixIndex        // path → prefixes → alternatives
	scan     []*entry                       // alternatives with no field to index
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
	return &Matcher{patterns: map[string]*Pattern{}, byValue: map[string]map[string][]*entry{}, byPrefix: map[string]*prefixIndex{}}
}

// Add adds (or replaces) the pattern named name.
func (m *Matcher) Add(name string, p *Pattern) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.remove(name)
	m.patterns[name] = p
	for _, alt := range p.alts {
		e := &entry{name: name, fields: alt}
		anchor := m.pickAnchor(alt)
		if anchor == nil {
			m.scan = append(m.scan, e)
			continue
		}
		for _, c := range anchor.conds {
			if k := condKey(c); k != "" {
				idx := m.byValue[anchor.path]
				if idx == nil {
					idx = map[string][]*entry{}
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
	if _, ok := m.patterns[name]; !ok {
		return
	}
	delete(m.patterns, name)
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
			if k := condKey(c); k != "" {
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

// condKey is the index key of an exact condition, "" for others.
func condKey(c cond) string {
	switch c := c.(type) {
	case equalString:
		return "s" + string(c)
	case equalNumber:
		return "n" + strconv.FormatFloat(float64(c), 'g', -1, 64)
	case equalBool:
		return "b" + strconv.FormatBool(bool(c))
	case equalNull:
		return "z"
	}
	return ""
}

// valueKey is the index key of an event value.
func valueKey(v *value) string {
	switch v.kind {
	case kindString:
		return "s" + v.s
	case kindNumber:
		return "n" + strconv.FormatFloat(v.f, 'g', -1, 64)
	case kindBool:
		return "b" + strconv.FormatBool(v.b)
	}
	return "z"
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
func (m *Matcher) MatchEvent(e *Event) []string {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var names []string
	try := func(en *entry) {
		if !slices.Contains(names, en.name) && matchAll(en.fields, e) {
			names = append(names, en.name)
		}
	}
	for path, vals := range e.values {
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
	sort.Strings(names)
	return names
}
