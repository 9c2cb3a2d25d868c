// Package cwsgen is what the files `cws gen` writes (cws_gen.go) call: the
// registry of what Go's reflection cannot tell about a service or blueprint
// type — its doc comments and parameter names — and the typed invokers that
// call entries without reflection. Services do not use it directly; the
// runtime reads it when it builds an App.
//
// A generated file looks like this:
//
//	func init() {
//		cwsgen.Describe((*CRUD)(nil), cwsgen.TypeInfo{
//			Doc: "CRUD is an in-memory store of items.",
//			Methods: map[string]cwsgen.MethodInfo{
//				"Get_": {Doc: "Get_ returns the item id.", Params: []string{"id"}, Invoke: cwsgen.Invoke1VE((*CRUD).Get_)},
//			},
//		})
//	}
package cwsgen

import (
	"reflect"
	"sync"
	"unsafe"
)

//go:generate go run ./internal/invokegen

// TypeInfo is what Go's reflection cannot tell about a service or blueprint
// type: its doc comment and, per method, the parameter names and doc comment.
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
	// Invoke calls the method without reflection (optional: the zero
	// Invoker has the runtime call it through reflection).
	Invoke Invoker
}

var (
	mu    sync.RWMutex
	types = map[reflect.Type]TypeInfo{}
)

// Describe registers the description of the type that ptr points to. ptr is
// a typed nil pointer, e.g. (*CRUD)(nil). Generated code calls it from init.
func Describe(ptr any, info TypeInfo) {
	t := reflect.TypeOf(ptr)
	if t == nil || t.Kind() != reflect.Pointer {
		panic("cwsgen.Describe: want a typed pointer such as (*T)(nil)")
	}
	mu.Lock()
	defer mu.Unlock()
	types[t.Elem()] = info
}

// Lookup returns the registered description of t (a type, or a pointer to
// one).
func Lookup(t reflect.Type) (TypeInfo, bool) {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	mu.RLock()
	defer mu.RUnlock()
	info, ok := types[t]
	return info, ok
}

// Invoker calls one entry method without reflection. The InvokeN helpers
// make one from a method expression, so that the compiler checks it against
// the method; the runtime checks it against the method's signature when it
// builds the App.
type Invoker struct {
	arena  reflect.Type // arenaN[...]: the context, then one field per parameter
	recv   reflect.Type
	hasVal bool
	hasErr bool
	call   func(recv any, args unsafe.Pointer) (any, error)
}

func newInvoker[A, R any](hasVal, hasErr bool, call func(any, unsafe.Pointer) (any, error)) Invoker {
	return Invoker{arena: reflect.TypeFor[A](), recv: reflect.TypeFor[R](), hasVal: hasVal, hasErr: hasErr, call: call}
}

// Valid reports whether inv was made by an InvokeN helper (the zero
// Invoker is not).
func (inv Invoker) Valid() bool { return inv.call != nil }

// Arena is the struct type of one call's arguments: the context, then one
// field per parameter. The runtime fills a value of a struct type with the
// same fields and hands its address to Call.
func (inv Invoker) Arena() reflect.Type { return inv.arena }

// Receiver is the method's receiver type.
func (inv Invoker) Receiver() reflect.Type { return inv.recv }

// Results reports whether the method returns a value and an error.
func (inv Invoker) Results() (value, err bool) { return inv.hasVal, inv.hasErr }

// Call calls the method on recv (a value of the Receiver type) with the
// arguments at args, which points to a struct laid out as Arena.
func (inv Invoker) Call(recv any, args unsafe.Pointer) (any, error) { return inv.call(recv, args) }
