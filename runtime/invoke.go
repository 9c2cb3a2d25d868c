package runtime

import (
	"fmt"
	"reflect"
	"unsafe"
)

//go:generate go run ./internal/invokegen

// Invoker calls one entry method without reflection. The description file
// `cws gen` writes makes one per entry with the InvokeN helpers (from a
// method expression, so the compiler checks it against the method); entries
// without one are called through reflection.
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

// receiver returns what inv is to be called with for the service value v:
// v itself, or, for a service passed by value, a pointer to the App's copy
// of it (generated invokers take (*T).Method, which serves value receivers
// too).
func (inv *Invoker) receiver(v reflect.Value) (any, error) {
	switch t := v.Type(); {
	case inv.recv == t:
		return v.Interface(), nil
	case t.Kind() != reflect.Pointer && inv.recv == reflect.PointerTo(t):
		p := reflect.New(t)
		p.Elem().Set(v)
		return p.Interface(), nil
	default:
		return nil, fmt.Errorf("the invoker's receiver is %s, the service is %s", inv.recv, t)
	}
}

// check reports whether inv calls a method with the signature of e.
func (inv *Invoker) check(e *entry) error {
	if inv.arena.NumField() != e.arena.NumField() || inv.hasVal != e.hasVal || inv.hasErr != e.hasErr {
		return fmt.Errorf("the invoker does not fit the method's signature")
	}
	for i := range inv.arena.NumField() {
		if inv.arena.Field(i).Type != e.arena.Field(i).Type {
			return fmt.Errorf("the invoker's parameter %d is %s, the method's %s", i, inv.arena.Field(i).Type, e.arena.Field(i).Type)
		}
	}
	return nil
}
