// Package lambda is the Lambda door of a cws App. One handler answers API
// Gateway REST (v1 proxy, multi-value query and headers included), HTTP API
// (payload 2.0), Lambda Function URL and the API Gateway authorizer events,
// telling them apart by their shape; every request goes through App.Serve,
// the dispatch path of the local server. SQS event source mappings and
// EventBridge rule targets go to an EventHandler when the function has one
// (the CloudEvents doors of package async): an HTTP-only function links no
// event machinery.
//
// cws.Main runs it on Lambda; a program does not start it itself.
package lambda

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	awsevents "github.com/aws/aws-lambda-go/events"

	"github.com/coworks-go/cws/runtime"
)

// ErrUnauthorized is what a REST API authorizer returns for a missing token;
// API Gateway answers it with 401.
var ErrUnauthorized = errors.New("Unauthorized")

// EventHandler answers the Lambda events that are not HTTP requests.
type EventHandler interface {
	// HandleSQS handles the messages of an SQS event and returns the
	// partial batch response that names the failed ones (the event source
	// mapping needs ReportBatchItemFailures).
	HandleSQS(ctx context.Context, msgs []awsevents.SQSMessage) *awsevents.SQSEventResponse
	// HandleEventBridge handles an EventBridge event delivered to a rule's
	// Lambda target (payload is its JSON); an error fails the invocation,
	// for EventBridge to retry it.
	HandleEventBridge(ctx context.Context, payload []byte) error
}

// ErrNoEventHandler is the error of an SQS or EventBridge event delivered to
// a function without an EventHandler.
var ErrNoEventHandler = errors.New("cws: this function has no CloudEvents door: give cws.Main async.Doors() (or awscloud.Doors()) to take SQS and EventBridge events")

// Option configures a Handler.
type Option func(*Handler)

// WithEvents sets the handler of the SQS and EventBridge events (default:
// none; they are refused with ErrNoEventHandler).
func WithEvents(h EventHandler) Option { return func(l *Handler) { l.events = h } }

// WithLogger sets the logger (default slog.Default()).
func WithLogger(log *slog.Logger) Option { return func(l *Handler) { l.log = log } }

// Handler answers Lambda events for an App. It implements the aws-lambda-go
// lambda.Handler interface.
type Handler struct {
	app    *runtime.App
	events EventHandler
	log    *slog.Logger
}

// NewHandler returns the Lambda door of app.
func NewHandler(app *runtime.App, opts ...Option) *Handler {
	h := &Handler{app: app, log: slog.Default()}
	for _, opt := range opts {
		opt(h)
	}
	return h
}

// Invoke handles one event payload and returns the response payload.
func (h *Handler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	e, err := decodeEvent(payload)
	if err != nil {
		return nil, err
	}
	var out any
	switch sh := shapeOf(e); sh {
	case shapeREST:
		out, err = h.rest(ctx, e)
	case shapeHTTP, shapeFunctionURL:
		out, err = h.http(ctx, e, sh == shapeHTTP)
	case shapeTokenAuth:
		out, err = h.policy(ctx, e.MethodArn, *e.AuthorizationToken, ErrUnauthorized)
	case shapeRequestAuth:
		arn := e.MethodArn
		if arn == "" {
			arn = e.RouteArn
		}
		out, err = h.policy(ctx, arn, headerValue(e, "Authorization"), ErrUnauthorized)
	case shapeRequestAuthV1:
		// "Unauthorized" is the REST API's 401: an HTTP API answers a
		// missing identity source with 401 itself, without calling the
		// authorizer, so the one without a token here is denied.
		out, err = h.policy(ctx, e.MethodArn, identityToken(e), nil)
	case shapeRequestAuthV2:
		out, err = h.simple(ctx, e)
	case shapeSQS:
		if h.events == nil {
			return nil, ErrNoEventHandler
		}
		out = h.events.HandleSQS(ctx, e.Records)
	case shapeEventBridge:
		if h.events == nil {
			return nil, ErrNoEventHandler
		}
		err = h.events.HandleEventBridge(ctx, payload)
	default:
		return nil, errUnsupported
	}
	if err != nil {
		return nil, err
	}
	return json.Marshal(out)
}

// request builds the runtime request common to both payload versions. A
// body marked base64 that is not, and an event with invalid UTF-8 (the
// decoder replaced it: API Gateway base64-encodes a body that is not text)
// are a 400 problem: an error would reach the client as API Gateway's 502.
func request(e *event, method, path string) (*runtime.Request, *runtime.Problem) {
	req := &runtime.Request{Method: method, Path: path}
	if e.invalidUTF8 {
		return req, runtime.BadRequest("the request holds invalid UTF-8 in a text field: send a body that is not UTF-8 text as binary")
	}
	if e.Body != "" {
		if e.IsBase64Encoded {
			data, err := base64.StdEncoding.DecodeString(e.Body)
			if err != nil {
				return req, runtime.BadRequest("the body is marked base64 but is not: %v", err)
			}
			req.Body = bytes.NewReader(data)
		} else {
			req.Body = strings.NewReader(e.Body)
		}
	}
	return req, nil
}

func (h *Handler) rest(ctx context.Context, e *event) (*awsevents.APIGatewayProxyResponse, error) {
	path := e.Path
	if e.Version == "1.0" {
		// HTTP API payload 1.0 delivers the path decoded.
		path = escapePath(path)
	}
	req, bad := request(e, e.HTTPMethod, path)
	// The multi-value forms hold all the values; the single-value ones,
	// the last of each name, are read only without them.
	if len(e.MultiValueHeaders) > 0 {
		req.Header = http.Header(e.MultiValueHeaders)
	} else {
		req.Header = e.header()
	}
	if len(e.MultiValueQueryStringParameters) > 0 {
		req.Query = url.Values(e.MultiValueQueryStringParameters)
	} else if q := e.QueryStringParameters.query(e.payload); len(q) > 0 {
		req.Query = q
	}
	req.RemoteAddr = e.RequestContext.Identity.SourceIP
	req.ID = e.RequestContext.RequestID
	// The client asked for /dev/items/7 (the stage on the API's domain, a
	// base path mapping on a custom domain); the service sees /items/7.
	if base, ok := strings.CutSuffix(e.RequestContext.Path, e.Path); ok && base != "" && e.Path != "" {
		req.BasePath = base
	}
	resp := h.serve(ctx, req, bad)
	body, b64, err := responseBody(resp)
	if err != nil {
		return nil, err
	}
	out := &awsevents.APIGatewayProxyResponse{StatusCode: resp.Status, Body: body, IsBase64Encoded: b64}
	multi := false
	for _, vs := range resp.Header {
		multi = multi || len(vs) > 1
	}
	if multi {
		out.MultiValueHeaders = resp.Header
		if resp.ContentType != "" {
			out.MultiValueHeaders["Content-Type"] = []string{resp.ContentType}
		}
	} else if len(resp.Header) > 0 || resp.ContentType != "" {
		out.Headers = make(map[string]string, len(resp.Header)+1)
		for k, vs := range resp.Header {
			out.Headers[k] = vs[0]
		}
		if resp.ContentType != "" {
			out.Headers["Content-Type"] = resp.ContentType
		}
	}
	return out, nil
}

func (h *Handler) http(ctx context.Context, e *event, decodedPath bool) (*awsevents.APIGatewayV2HTTPResponse, error) {
	path, base := e.RawPath, ""
	if st := e.RequestContext.Stage; st != "" && st != "$default" {
		// A named stage of an HTTP API prefixes the path.
		if rest, ok := strings.CutPrefix(path, "/"+st); ok && (rest == "" || rest[0] == '/') {
			path, base = rest, "/"+st
			if path == "" {
				path = "/"
			}
		}
	}
	if decodedPath {
		path = escapePath(path)
	}
	req, bad := request(e, e.RequestContext.HTTP.Method, path)
	req.RawQuery = e.RawQueryString
	req.BasePath = base
	req.Header = e.header()
	if len(e.Cookies) > 0 {
		req.Header["Cookie"] = []string{strings.Join(e.Cookies, "; ")}
	}
	req.RemoteAddr = e.RequestContext.HTTP.SourceIP
	req.ID = e.RequestContext.RequestID
	resp := h.serve(ctx, req, bad)
	body, b64, err := responseBody(resp)
	if err != nil {
		return nil, err
	}
	out := &awsevents.APIGatewayV2HTTPResponse{StatusCode: resp.Status, Body: body, IsBase64Encoded: b64}
	if len(resp.Header) > 0 || resp.ContentType != "" {
		out.Headers = make(map[string]string, len(resp.Header)+1)
		if resp.ContentType != "" {
			out.Headers["Content-Type"] = resp.ContentType
		}
		for k, vs := range resp.Header {
			if k == "Set-Cookie" {
				out.Cookies = vs
				continue
			}
			out.Headers[k] = strings.Join(vs, ", ")
		}
	}
	return out, nil
}

// serve answers req, or bad when the event could not make a request.
func (h *Handler) serve(ctx context.Context, req *runtime.Request, bad *runtime.Problem) *runtime.Response {
	if bad != nil {
		return runtime.ProblemResponse(bad, req.Path)
	}
	return h.app.Serve(ctx, req)
}

// escapePath percent-encodes a decoded path so that the router can split it.
func escapePath(p string) string {
	return (&url.URL{Path: p}).EscapedPath()
}

// responseBody returns the body as Lambda carries it: text, or base64 for
// binary results.
func responseBody(resp *runtime.Response) (string, bool, error) {
	data, err := resp.ReadBody()
	if err != nil {
		return "", false, fmt.Errorf("cws: reading the response stream: %w", err)
	}
	if resp.Binary {
		return base64.StdEncoding.EncodeToString(data), true, nil
	}
	return string(data), false, nil
}

// headerValue finds a header of an authorizer event, case-insensitively.
func headerValue(e *event, name string) string {
	if v := e.header().Get(name); v != "" {
		return v
	}
	return http.Header(e.MultiValueHeaders).Get(name)
}

// identityToken is the token of an HTTP API authorizer event: the
// Authorization header, or else the value of its first identity source.
func identityToken(e *event) string {
	if token := headerValue(e, "Authorization"); token != "" {
		return token
	}
	if len(e.IdentitySource) > 0 {
		return e.IdentitySource[0]
	}
	return ""
}

// policy answers an authorizer with an IAM policy (the REST API's, the HTTP
// API's with payload 1.0): a missing token is the error missing when there is
// one (ErrUnauthorized: a REST API's 401) and a Deny policy otherwise, a
// refused one a Deny policy (403), an accepted one an Allow policy for every
// route of the stage, so that a cached answer serves them all.
func (h *Handler) policy(ctx context.Context, arn, token string, missing error) (*awsevents.APIGatewayCustomAuthorizerResponse, error) {
	if token == "" && missing != nil {
		return nil, missing
	}
	ok, err := h.app.Authorize(ctx, token)
	if err != nil {
		return nil, fmt.Errorf("cws: authorizer: %w", err)
	}
	effect := "Deny"
	if ok {
		effect = "Allow"
	}
	return &awsevents.APIGatewayCustomAuthorizerResponse{
		PrincipalID: "cws",
		PolicyDocument: awsevents.APIGatewayCustomAuthorizerPolicy{
			Version: "2012-10-17",
			Statement: []awsevents.IAMPolicyStatement{{
				Action:   []string{"execute-api:Invoke"},
				Effect:   effect,
				Resource: []string{stageWildcard(arn)},
			}},
		},
	}, nil
}

// stageWildcard turns a method or route ARN
// (arn:aws:execute-api:region:account:api/stage/VERB/path) into the ARN of
// every route of its stage.
func stageWildcard(arn string) string {
	parts := strings.SplitN(arn, "/", 3)
	if len(parts) < 2 {
		return arn
	}
	return parts[0] + "/" + parts[1] + "/*"
}

// simple answers an HTTP API REQUEST authorizer with a simple response. API
// Gateway itself answers 401 when the identity source is missing; a refused
// token is isAuthorized false (403).
func (h *Handler) simple(ctx context.Context, e *event) (*awsevents.APIGatewayV2CustomAuthorizerSimpleResponse, error) {
	ok, err := h.app.Authorize(ctx, identityToken(e))
	if err != nil {
		return nil, fmt.Errorf("cws: authorizer: %w", err)
	}
	return &awsevents.APIGatewayV2CustomAuthorizerSimpleResponse{IsAuthorized: ok}, nil
}
