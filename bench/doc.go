// Package bench compares the doors of cws with the tools Go teams use
// today, in one `go test -bench` run read with benchstat (make bench):
//
//   - the HTTP door, for a typed entry with path and query parameters,
//     against the same work hand-written on net/http (the floor), on chi and
//     on huma;
//   - the Lambda door, from event payload to response payload, against
//     aws-lambda-go-api-proxy with chi;
//   - the in-memory queue and bus against Watermill's GoChannel, the SQS
//     worker against a plain aws-sdk-go-v2 loop (on LocalStack);
//   - the cold start: examples/crud's binary against a bare aws-lambda-go
//     handler (size, package init, exec to the Runtime API's first /next)
//     and the local server against a hand-written net/http one;
//   - under load (TestLoad, run by make unit): wrk against cws's local
//     server and a hand-written net/http one, and against the async door
//     (POST /_cws/events to the entry); TestSoak (make soak) keeps the load
//     on for minutes and samples memory and goroutines.
//
// It is a module of its own so that chi, huma and api-proxy stay out of the
// runtime's dependencies.
package bench
