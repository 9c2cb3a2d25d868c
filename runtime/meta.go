package runtime

import (
	"reflect"
	"sync"
)

// TypeInfo is what Go's reflection cannot tell about a service or blueprint
// type: its doc comment and, per method, the parameter names and doc comment.
// `cws gen` reads them from the source and writes a file that registers them
// with Describe; the runtime uses them for route templates, listings and
// the admin pages.
type TypeInfo struct {
	// Doc is the type's doc comment.
	Doc string
	// Methods maps method names to their descriptions.
	Methods map[string]MethodInfo
}

// MethodInfo describes one method.
type MethodInfo struct {
	// Doc is the method's doc comment.
	Doc string
	// Params names the method's parameters after the context, in order.
	Params []string
	// Invoke calls the method without reflection (optional).
	Invoke Invoker
}

var (
	metaMu sync.RWMutex
	metas  = map[reflect.Type]TypeInfo{}
)

// Describe registers the description of the type that ptr points to. ptr is
// a typed nil pointer, e.g. (*CRUD)(nil). Generated code calls it from init.
func Describe(ptr any, info TypeInfo) {
	t := reflect.TypeOf(ptr)
	if t == nil || t.Kind() != reflect.Pointer {
		panic("runtime.Describe: want a typed pointer such as (*T)(nil)")
	}
	metaMu.Lock()
	defer metaMu.Unlock()
	metas[t.Elem()] = info
}

// describedAs returns the registered description of t (a struct type, or a
// pointer to one).
func describedAs(t reflect.Type) (TypeInfo, bool) {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	metaMu.RLock()
	defer metaMu.RUnlock()
	info, ok := metas[t]
	return info, ok
}
