package runtime

import (
	"fmt"
	"reflect"

	"github.com/coworks-go/cws/runtime/cwsgen"
)

// invokerReceiver returns what inv is to be called with for the service
// value v: v itself, or, for a service passed by value, a pointer to the
// App's copy of it (generated invokers take (*T).Method, which serves value
// receivers too).
func invokerReceiver(inv cwsgen.Invoker, v reflect.Value) (any, error) {
	switch t := v.Type(); {
	case inv.Receiver() == t:
		return v.Interface(), nil
	case t.Kind() != reflect.Pointer && inv.Receiver() == reflect.PointerTo(t):
		p := reflect.New(t)
		p.Elem().Set(v)
		return p.Interface(), nil
	default:
		return nil, fmt.Errorf("the invoker's receiver is %s, the service is %s", inv.Receiver(), t)
	}
}

// checkInvoker reports whether inv calls a method with the signature of e.
func checkInvoker(inv cwsgen.Invoker, e *entry) error {
	arena := inv.Arena()
	hasVal, hasErr := inv.Results()
	if arena.NumField() != e.arena.NumField() || hasVal != e.hasVal || hasErr != e.hasErr {
		return fmt.Errorf("the invoker does not fit the method's signature")
	}
	for i := range arena.NumField() {
		if arena.Field(i).Type != e.arena.Field(i).Type {
			return fmt.Errorf("the invoker's parameter %d is %s, the method's %s", i, arena.Field(i).Type, e.arena.Field(i).Type)
		}
	}
	return nil
}
