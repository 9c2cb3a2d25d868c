package runtime

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
)

// methodIndex numbers the HTTP methods an entry can have.
func methodIndex(method string) int {
	switch method {
	case http.MethodGet:
		return 0
	case http.MethodPost:
		return 1
	case http.MethodPut:
		return 2
	case http.MethodPatch:
		return 3
	case http.MethodDelete:
		return 4
	case http.MethodOptions:
		return 5
	case http.MethodHead:
		return 6
	}
	return -1
}

var indexMethod = [...]string{
	http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch,
	http.MethodDelete, http.MethodOptions, http.MethodHead,
}

const numMethods = len(indexMethod)

// staticMapMin is the number of static children above which a node indexes
// them by map instead of scanning a slice.
const staticMapMin = 8

// node is one path segment of the route tree.
type node struct {
	seg      string
	static   []*node
	staticBy map[string]*node
	param    *node
	entries  [numMethods]*entry
}

// router maps (method, path) to entries. Static segments win over
// parameters; among routes matching a path, the first (most static) one
// having the request's method serves it.
type router struct {
	root node
}

// segments splits a route template into its segments, reporting which are
// parameters.
func templateSegments(template string) ([]string, []bool, error) {
	if !strings.HasPrefix(template, "/") {
		return nil, nil, fmt.Errorf("path %q does not start with /", template)
	}
	trimmed := strings.Trim(template, "/")
	if trimmed == "" {
		return nil, nil, nil
	}
	segs := strings.Split(trimmed, "/")
	params := make([]bool, len(segs))
	for i, s := range segs {
		switch {
		case s == "":
			return nil, nil, fmt.Errorf("path %q has an empty segment", template)
		case strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}"):
			name := s[1 : len(s)-1]
			if name == "" || strings.ContainsAny(name, "{}") {
				return nil, nil, fmt.Errorf("path %q: bad parameter segment %q", template, s)
			}
			segs[i] = name
			params[i] = true
		case strings.ContainsAny(s, "{}"):
			return nil, nil, fmt.Errorf("path %q: a parameter must be a whole segment, not %q", template, s)
		}
	}
	return segs, params, nil
}

// add registers e under its method and path template.
func (r *router) add(e *entry) error {
	segs, isParam, err := templateSegments(e.Path)
	if err != nil {
		return err
	}
	mi := methodIndex(e.Method)
	if mi < 0 {
		return fmt.Errorf("unsupported method %q", e.Method)
	}
	n := &r.root
	for i, s := range segs {
		if isParam[i] {
			if n.param == nil {
				n.param = &node{}
			}
			n = n.param
			continue
		}
		n = n.child(s, true)
	}
	if prev := n.entries[mi]; prev != nil {
		return fmt.Errorf("duplicate route %s %s: %s and %s", e.Method, e.Path, prev.qualifiedName(), e.qualifiedName())
	}
	n.entries[mi] = e
	return nil
}

// child returns the static child for seg, creating it when create is set.
func (n *node) child(seg string, create bool) *node {
	if n.staticBy != nil {
		if c := n.staticBy[seg]; c != nil || !create {
			return c
		}
	} else {
		for _, c := range n.static {
			if c.seg == seg {
				return c
			}
		}
		if !create {
			return nil
		}
	}
	c := &node{seg: seg}
	n.static = append(n.static, c)
	if len(n.static) > staticMapMin {
		if n.staticBy == nil {
			n.staticBy = make(map[string]*node, len(n.static))
			for _, s := range n.static {
				n.staticBy[s.seg] = s
			}
		}
		n.staticBy[seg] = c
	}
	return c
}

// trimPath turns a request path into the form the tree walks: no leading or
// trailing slashes.
func trimPath(path string) string {
	for len(path) > 0 && path[0] == '/' {
		path = path[1:]
	}
	for len(path) > 0 && path[len(path)-1] == '/' {
		path = path[:len(path)-1]
	}
	return path
}

// lookup finds the entry serving method on the escaped path, appending the
// escaped parameter values to params. A HEAD request falls back to the GET
// entry. When no entry serves the method, lookup returns nil.
func (r *router) lookup(method, path string, params []string) (*entry, []string) {
	path = trimPath(path)
	mi := methodIndex(method)
	if mi < 0 {
		return nil, params
	}
	if e, p := r.root.find(path, params, mi); e != nil {
		return e, p
	}
	if method == http.MethodHead {
		return r.root.find(path, params, 0)
	}
	return nil, params
}

func (n *node) find(path string, params []string, mi int) (*entry, []string) {
	if path == "" {
		return n.entries[mi], params
	}
	seg, rest := path, ""
	if i := strings.IndexByte(path, '/'); i >= 0 {
		seg, rest = path[:i], path[i+1:]
	}
	if c := n.child(seg, false); c != nil {
		if e, p := c.find(rest, params, mi); e != nil {
			return e, p
		}
	}
	if n.param != nil && seg != "" {
		if e, p := n.param.find(rest, append(params, seg), mi); e != nil {
			return e, p
		}
	}
	return nil, params
}

// allowed returns the sorted methods that some route matching path serves,
// with HEAD added where GET is served. It is empty when no route matches.
func (r *router) allowed(path string) []string {
	var set [numMethods]bool
	r.root.collect(trimPath(path), &set)
	if set[0] {
		set[methodIndex(http.MethodHead)] = true
	}
	var out []string
	for i, ok := range set {
		if ok {
			out = append(out, indexMethod[i])
		}
	}
	sort.Strings(out)
	return out
}

func (n *node) collect(path string, set *[numMethods]bool) {
	if path == "" {
		for i, e := range n.entries {
			if e != nil {
				set[i] = true
			}
		}
		return
	}
	seg, rest := path, ""
	if i := strings.IndexByte(path, '/'); i >= 0 {
		seg, rest = path[:i], path[i+1:]
	}
	if c := n.child(seg, false); c != nil {
		c.collect(rest, set)
	}
	if n.param != nil && seg != "" {
		n.param.collect(rest, set)
	}
}
