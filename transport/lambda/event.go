package lambda

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	awsevents "github.com/aws/aws-lambda-go/events"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// event is the union of the Lambda events the HTTP doors receive: API
// Gateway REST (payload 1.0), HTTP API and Function URL (payload 2.0), and
// the API Gateway authorizer events. One decoding fills it; the fields
// present tell the shapes apart. It holds only what the runtime uses.
type event struct {
	Version string `json:"version"`
	Type    string `json:"type"`

	// REST API (1.0)
	HTTPMethod                      string      `json:"httpMethod"`
	Path                            string      `json:"path"`
	MultiValueHeaders               listsHeader `json:"multiValueHeaders"`
	QueryStringParameters           lazyStrings `json:"queryStringParameters"`
	MultiValueQueryStringParameters listsQuery  `json:"multiValueQueryStringParameters"`

	// HTTP API and Function URL (2.0)
	RawPath        string   `json:"rawPath"`
	RawQueryString string   `json:"rawQueryString"`
	Cookies        []string `json:"cookies"`

	// Both
	Headers         lazyStrings    `json:"headers"`
	Body            string         `json:"body"`
	IsBase64Encoded bool           `json:"isBase64Encoded"`
	RequestContext  requestContext `json:"requestContext"`

	// Authorizers
	AuthorizationToken *string        `json:"authorizationToken"`
	MethodArn          string         `json:"methodArn"`
	RouteArn           string         `json:"routeArn"`
	IdentitySource     identitySource `json:"identitySource"`

	// SQS event source mapping
	Records []awsevents.SQSMessage `json:"Records"`

	// EventBridge target (decoded again by the EventHandler)
	DetailType *string `json:"detail-type"`
	Source     *string `json:"source"`

	// invalidUTF8 says the payload held invalid UTF-8, which the decoder
	// replaced with U+FFFD.
	invalidUTF8 bool
	// payload is the event's JSON, where the objects read when needed
	// (lazyStrings) are.
	payload []byte
}

// header returns the event's single-value headers (an HTTP API's; a REST
// event's without multi-value ones), never nil.
func (e *event) header() http.Header {
	if h := e.Headers.header(e.payload); h != nil {
		return h
	}
	return http.Header{}
}

// identitySource holds the values of an HTTP API authorizer's identity
// sources, in the order the authorizer lists them. Payload 2.0 sends a list;
// payload 1.0 joins the values with commas in one string (a value holding a
// comma is split there too: the event does not tell the joins apart). The
// REST API REQUEST authorizer sends none.
type identitySource []string

// UnmarshalJSONFrom decodes either form in the one decoding of the event.
func (s *identitySource) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	if dec.PeekKind() != '"' {
		return jsonv2.UnmarshalDecode(dec, (*[]string)(s))
	}
	tok, err := dec.ReadToken()
	if err != nil {
		return err
	}
	*s = nil
	if v := tok.String(); v != "" {
		*s = strings.Split(v, ",")
	}
	return nil
}

type requestContext struct {
	Stage string `json:"stage"`
	// Path is the path the client asked for, with the stage or the custom
	// domain's base path (REST API).
	Path       string `json:"path"`
	RequestID  string `json:"requestId"`
	DomainName string `json:"domainName"`
	HTTP       *struct {
		Method   string `json:"method"`
		SourceIP string `json:"sourceIp"`
	} `json:"http"`
	Identity struct {
		SourceIP string `json:"sourceIp"`
	} `json:"identity"`
}

// shape is the kind of a decoded event.
type shape uint8

const (
	shapeUnknown       shape = iota
	shapeREST                // API Gateway REST proxy (payload 1.0)
	shapeHTTP                // HTTP API (payload 2.0)
	shapeFunctionURL         // Lambda Function URL (payload 2.0)
	shapeTokenAuth           // REST API TOKEN authorizer
	shapeRequestAuth         // REST API REQUEST authorizer (IAM policy answer)
	shapeRequestAuthV1       // HTTP API REQUEST authorizer, payload 1.0 (IAM policy answer)
	shapeRequestAuthV2       // HTTP API REQUEST authorizer, payload 2.0 (simple answer)
	shapeSQS                 // SQS event source mapping
	shapeEventBridge         // EventBridge rule target
)

func (s shape) String() string {
	return [...]string{"unknown", "API Gateway REST", "API Gateway HTTP API", "Function URL",
		"TOKEN authorizer", "REQUEST authorizer", "HTTP API REQUEST authorizer (payload 1.0)",
		"HTTP API REQUEST authorizer", "SQS", "EventBridge"}[s]
}

// shapeOf tells what e is.
func shapeOf(e *event) shape {
	switch {
	case len(e.Records) > 0 && e.Records[0].EventSource == "aws:sqs":
		return shapeSQS
	case e.DetailType != nil && e.Source != nil:
		return shapeEventBridge
	case e.Type == "TOKEN" && e.AuthorizationToken != nil:
		return shapeTokenAuth
	case e.Type == "REQUEST" && e.RouteArn != "" && e.Version == "2.0":
		return shapeRequestAuthV2
	case e.Type == "REQUEST" && e.MethodArn != "" && e.Version == "1.0":
		return shapeRequestAuthV1
	case e.Type == "REQUEST" && (e.MethodArn != "" || e.RouteArn != ""):
		return shapeRequestAuth
	case e.HTTPMethod != "" && e.RequestContext.HTTP == nil:
		return shapeREST
	case e.RequestContext.HTTP != nil && e.RequestContext.HTTP.Method != "":
		if strings.Contains(e.RequestContext.DomainName, ".lambda-url.") {
			return shapeFunctionURL
		}
		return shapeHTTP
	}
	return shapeUnknown
}

// errUnsupported is the error of a JSON event of none of the door's shapes.
var errUnsupported = errors.New("cws: unsupported Lambda event: not an API Gateway, Function URL, authorizer, SQS or EventBridge event")

// decodeOptions are the options of decodeEvent, and of the check of the
// JSON of a payload it could not decode.
var decodeOptions = jsonv2.JoinOptions(jsontext.AllowInvalidUTF8(true), jsontext.AllowDuplicateNames(true))

// decodeEvent decodes a payload with the JSON v2 decoder (the upstream of
// encoding/json/v2): events are decoded on every invocation and it is about
// twice as fast as encoding/json. Like encoding/json it accepts invalid
// UTF-8 (replaced with U+FFFD; the event says it held some) and duplicate
// names; unlike it, names match case-sensitively, as the event formats
// spell them.
//
// A payload that is not JSON is an error saying so. A JSON payload the
// decoding refuses (a member the door reads, of another type: the numeric
// version of a Cognito event, an array) is an event of another source, an
// error wrapping errUnsupported; telling them apart reads the payload a
// second time, on that error only.
func decodeEvent(payload []byte) (*event, error) {
	var e event
	if err := jsonv2.Unmarshal(payload, &e, decodeOptions); err != nil {
		var semantic *jsonv2.SemanticError
		if errors.As(err, &semantic) && jsontext.Value(payload).IsValid(decodeOptions) {
			return nil, fmt.Errorf("%w: its JSON is of another shape (%w)", errUnsupported, err)
		}
		return nil, fmt.Errorf("cws: the event is not JSON of a Lambda event: %w", err)
	}
	e.invalidUTF8 = !utf8.Valid(payload)
	e.payload = payload
	return &e, nil
}
