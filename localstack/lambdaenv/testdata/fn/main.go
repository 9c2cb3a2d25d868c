// Command fn is the function of lambdaenv's tests: it does what its event
// says.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

type event struct {
	Do    string `json:"do"`
	Value string `json:"value"`
}

// version tells builds apart (-ldflags -X main.version=2).
var version = "1"

func handle(ctx context.Context, e event) (map[string]any, error) {
	lc, _ := lambdacontext.FromContext(ctx)
	deadline, _ := ctx.Deadline()
	fmt.Println("handling", e.Do)
	switch e.Do {
	case "fail":
		return nil, errors.New("it failed: " + e.Value)
	case "panic":
		panic("boom")
	case "exit":
		os.Exit(3)
	case "sleep":
		time.Sleep(time.Minute)
	case "wait": // a second, then who answered: environments in parallel
		time.Sleep(time.Second)
		return map[string]any{"pid": os.Getpid()}, nil
	}
	return map[string]any{"echo": e.Value, "request": lc.AwsRequestID, "arn": lc.InvokedFunctionArn,
		"deadline_in_ms": time.Until(deadline).Milliseconds(), "env": os.Getenv("FN_SETTING"), "version": version}, nil
}

func main() {
	if os.Getenv("FN_FAIL_INIT") != "" {
		fmt.Println("cannot start")
		os.Exit(7)
	}
	lambda.Start(handle)
}
