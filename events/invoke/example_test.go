package invoke_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/coworks-go/cws/events"
	"github.com/coworks-go/cws/events/invoke"
	"github.com/coworks-go/cws/runtime"
)

// Greeter is a service with one entry.
type Greeter struct{}

// GetHello_ answers GET /hello/{name}.
func (Greeter) GetHello_(ctx context.Context, name string) string { return "hello " + name }

// A cws.invoke event calls an entry through App.Serve, as an HTTP request
// would; its answer is the delivery's outcome (and, with cwsreplyto, a
// cws.result event).
func ExampleDoor() {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	app, _ := runtime.New(Greeter{}, runtime.WithLogger(quiet))
	door := invoke.NewDoor(app, invoke.WithLogger(quiet))

	e, _ := invoke.New("example", "GET", "/hello/ann", nil)
	m := &events.Message{Event: e, ReceiveCount: 1}
	if err := door.Handle(context.Background(), m); err != nil {
		fmt.Println(err)
	}
	fmt.Println(m.Outcome.Status, string(m.Outcome.Body))
	// Output: 200 hello ann
}
