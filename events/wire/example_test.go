package wire_test

import (
	"fmt"

	"github.com/coworks-go/cws/events/wire"
)

// An SQS message carries a CloudEvent in structured mode (the event as its
// JSON body), in binary mode (ce-* message attributes), or as the
// EventBridge event a rule's target receives.
func ExampleDecodeSQS() {
	e, _ := wire.DecodeSQS(`{"data":{"n":1}}`, map[string]string{
		"ce-specversion": "1.0", "ce-id": "1", "ce-source": "shop", "ce-type": "order.completed", "content-type": "application/json"})
	fmt.Println(e.Type(), string(e.Data()))

	_, err := wire.DecodeSQS("not an event", nil)
	fmt.Println(err)
	// Output:
	// order.completed {"data":{"n":1}}
	// the message is not a CloudEvent: its body is not JSON and it has no ce-specversion attribute
}
