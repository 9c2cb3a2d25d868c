// Package bench compares the doors of cws with the tools Go teams use
// today, in one `go test -bench` run read with benchstat (make bench):
//
//   - the HTTP door, for a typed entry with path and query parameters,
//     against the same work hand-written on net/http (the floor), on chi and
//     on huma;
//   - the Lambda door, from event payload to response payload, against
//     aws-lambda-go-api-proxy with chi.
//
// It is a module of its own so that chi, huma and api-proxy stay out of the
// runtime's dependencies.
package bench
