// Command bare is the baseline of the cold-start benchmark: a bare
// aws-lambda-go API Gateway handler answering GET /service/test as
// examples/crud does, built the way cws builds a Lambda binary.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

func handle(_ context.Context, e events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	if e.RequestContext.HTTP.Method != "GET" || e.RawPath != "/service/test" {
		return events.APIGatewayV2HTTPResponse{StatusCode: 404, Body: "not found"}, nil
	}
	return events.APIGatewayV2HTTPResponse{StatusCode: 200, Headers: map[string]string{"Content-Type": "text/plain; charset=utf-8"},
		Body: "service test"}, nil
}

func main() { lambda.Start(handle) }
