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
	// routed says some method has an entry here: the node is a route.
	routed bool
}

// router maps (method, path) to entries. The path picks the route: static
// segments win over parameters, the most static route matching the path is
// the one (as OpenAPI matches paths), and a static segment that leads to no
// route falls back to a parameter. Then the method picks the entry of that
// route; no entry for the method is a 405, whatever other routes match.
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
	n.routed = true
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
// escaped parameter values to params: the entry of the route the path
// matches. A HEAD request falls back to the GET entry. When the route has
// no entry for the method, or no route matches, lookup returns nil.
func (r *router) lookup(method, path string, params []string) (*entry, []string) {
	mi := methodIndex(method)
	if mi < 0 {
		return nil, params
	}
	n, p := r.root.find(trimPath(path), params)
	if n == nil {
		return nil, params
	}
	if e := n.entries[mi]; e != nil {
		return e, p
	}
	if method == http.MethodHead && n.entries[0] != nil {
		return n.entries[0], p
	}
	return nil, params
}

// find returns the route the path matches: the most static one.
func (n *node) find(path string, params []string) (*node, []string) {
	if path == "" {
		if n.routed {
			return n, params
		}
		return nil, params
	}
	seg, rest := path, ""
	if i := strings.IndexByte(path, '/'); i >= 0 {
		seg, rest = path[:i], path[i+1:]
	}
	if c := n.child(seg, false); c != nil {
		if r, p := c.find(rest, params); r != nil {
			return r, p
		}
	}
	if n.param != nil && seg != "" {
		if r, p := n.param.find(rest, append(params, seg)); r != nil {
			return r, p
		}
	}
	return nil, params
}

// allowed returns the sorted methods the route matching path serves, with
// HEAD added where GET is served. It is empty when no route matches.
func (r *router) allowed(path string) []string {
	n, _ := r.root.find(trimPath(path), nil)
	if n == nil {
		return nil
	}
	var out []string
	for i, e := range n.entries {
		if e != nil {
			out = append(out, indexMethod[i])
		}
	}
	if n.entries[0] != nil && n.entries[methodIndex(http.MethodHead)] == nil {
		out = append(out, http.MethodHead)
	}
	sort.Strings(out)
	return out
}
