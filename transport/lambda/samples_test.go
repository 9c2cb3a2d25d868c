package lambda_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	cwslambda "github.com/coworks-go/cws/transport/lambda"
)

// awsSamplesDir is the events/testdata directory of the aws-lambda-go
// module: the sample events AWS ships with its Go SDK for Lambda, read from
// the module cache (building this test put the module there).
var awsSamplesDir = sync.OnceValues(func() (string, error) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/aws/aws-lambda-go").Output()
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			err = errors.New(strings.TrimSpace(string(exit.Stderr)))
		}
		return "", err
	}
	dir := filepath.Join(strings.TrimSpace(string(out)), "events", "testdata")
	if _, err := os.Stat(dir); err != nil {
		return "", err
	}
	return dir, nil
})

// awsSample reads a sample event of the aws-lambda-go module.
func awsSample(t testing.TB, name string) []byte {
	t.Helper()
	dir, err := awsSamplesDir()
	if err != nil {
		t.Fatalf("the aws-lambda-go module's sample events (go list -m github.com/aws/aws-lambda-go; run go mod download github.com/aws/aws-lambda-go): %v", err)
	}
	payload, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return payload
}

// rewrite decodes a sample, lets edit change it and encodes it again: the
// event keeps its shape, with the path or the token a test needs.
func rewrite(t testing.TB, payload []byte, edit func(e map[string]any)) []byte {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	var e map[string]any
	if err := dec.Decode(&e); err != nil {
		t.Fatal(err)
	}
	edit(e)
	out, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// object is the JSON object at path in e (made if missing).
func object(e map[string]any, path ...string) map[string]any {
	for _, name := range path {
		next, ok := e[name].(map[string]any)
		if !ok {
			next = map[string]any{}
			e[name] = next
		}
		e = next
	}
	return e
}

// sampleAnswer is what the tests read of the Lambda door's answers.
type sampleAnswer struct {
	StatusCode   int               `json:"statusCode"`
	Body         string            `json:"body"`
	Headers      map[string]string `json:"headers"`
	IsAuthorized *bool             `json:"isAuthorized"`
	PrincipalID  string            `json:"principalId"`
	Policy       *struct {
		Statement []struct {
			Action   []string
			Effect   string
			Resource []string
		}
	} `json:"policyDocument"`
}

// answerCheck checks the answer (or the error) of the Lambda door.
type answerCheck func(t *testing.T, a sampleAnswer, err error)

// status wants an HTTP answer with this status whose body says has.
func status(want int, has string) answerCheck {
	return func(t *testing.T, a sampleAnswer, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("error %v, want a %d answer", err, want)
		}
		if a.StatusCode != want || !strings.Contains(a.Body, has) {
			t.Fatalf("answer %d %q, want %d saying %q", a.StatusCode, a.Body, want, has)
		}
	}
}

// policy wants an IAM policy answer: effect on every route of the stage
// (resource).
func policy(effect, resource string) answerCheck {
	return func(t *testing.T, a sampleAnswer, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("error %v, want a policy", err)
		}
		if a.Policy == nil || len(a.Policy.Statement) != 1 || a.PrincipalID == "" || a.IsAuthorized != nil {
			t.Fatalf("answer %+v, want one policy statement", a)
		}
		st := a.Policy.Statement[0]
		if st.Effect != effect || len(st.Resource) != 1 || st.Resource[0] != resource ||
			len(st.Action) != 1 || st.Action[0] != "execute-api:Invoke" {
			t.Fatalf("statement %+v, want %s execute-api:Invoke on %s", st, effect, resource)
		}
	}
}

// simple wants a simple authorizer answer.
func simple(authorized bool) answerCheck {
	return func(t *testing.T, a sampleAnswer, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("error %v, want a simple answer", err)
		}
		if a.IsAuthorized == nil || *a.IsAuthorized != authorized || a.Policy != nil {
			t.Fatalf("answer %+v, want isAuthorized %v", a, authorized)
		}
	}
}

// failsWith wants the invocation to fail with target.
func failsWith(target error) answerCheck {
	return func(t *testing.T, a sampleAnswer, err error) {
		t.Helper()
		if !errors.Is(err, target) {
			t.Fatalf("error %v (answer %+v), want %v", err, a, target)
		}
	}
}

// authorize gives a REST event (1.0) the Authorization header, in both
// header maps.
func authorize(e map[string]any) {
	object(e, "headers")["Authorization"] = token
	if _, ok := e["multiValueHeaders"]; ok {
		object(e, "multiValueHeaders")["Authorization"] = []string{token}
	}
}

// TestAWSSamples hands the API Gateway and Function URL samples of the
// aws-lambda-go module to the Lambda door of the shop: as AWS ships them
// (their paths are no route of the shop, their tokens not its token), and
// rewritten to a route of the shop or with its token. Each is the shape it
// is, and gets the answer its source expects.
func TestAWSSamples(t *testing.T) {
	h := newHandler(t)
	for _, tc := range []struct {
		sample string
		shape  string
		edit   func(e map[string]any) // nil: the sample as shipped
		check  answerCheck
	}{
		// API Gateway REST proxy integration (payload 1.0).
		{"apigw-request.json", "API Gateway REST", nil, status(404, "/hello/world")},
		{"apigw-request.json", "API Gateway REST", func(e map[string]any) {
			e["path"], e["body"] = "/items", `{"name":"desk","tags":["oak"]}`
			object(e, "requestContext")["path"] = "/testStage/items"
			authorize(e)
		}, status(201, `"name":"desk"`)},
		{"apigw-restapi-openapi-request.json", "API Gateway REST", nil, status(404, "/hello/world")},
		{"apigw-restapi-openapi-request.json", "API Gateway REST", func(e map[string]any) {
			// The sample's query (name=me) is no parameter of GET /items.
			e["path"], e["httpMethod"], e["body"] = "/items", "GET", nil
			e["queryStringParameters"], e["multiValueQueryStringParameters"] = nil, nil
			object(e, "requestContext")["path"] = "/testStage/items"
			authorize(e)
		}, status(200, `"name":"lamp"`)},

		// REST API TOKEN authorizer.
		{"apigw-custom-auth-request.json", "TOKEN authorizer", nil,
			policy("Deny", "arn:aws:execute-api:us-west-2:123456789012:ymy8tbxw7b/*/*")},
		{"apigw-custom-auth-request.json", "TOKEN authorizer", func(e map[string]any) { e["authorizationToken"] = token },
			policy("Allow", "arn:aws:execute-api:us-west-2:123456789012:ymy8tbxw7b/*/*")},

		// REST API REQUEST authorizer: the token is the Authorization
		// header (there is no identitySource).
		{"apigw-custom-auth-request-type-request.json", "REQUEST authorizer", nil, failsWith(cwslambda.ErrUnauthorized)},
		{"apigw-custom-auth-request-type-request.json", "REQUEST authorizer", authorize,
			policy("Allow", "arn:aws:execute-api:us-east-1:123456789012:s4x3opwd6i/test/*")},
		{"apigw-custom-auth-request-type-request.json", "REQUEST authorizer", func(e map[string]any) {
			object(e, "headers")["Authorization"] = "not-" + token
			object(e, "multiValueHeaders")["Authorization"] = []string{"not-" + token}
		}, policy("Deny", "arn:aws:execute-api:us-east-1:123456789012:s4x3opwd6i/test/*")},

		// HTTP API REQUEST authorizer, payload 1.0: identitySource is
		// one string, the values joined with commas; the answer is a
		// policy.
		{"apigw-v2-custom-authorizer-v1-request.json", "HTTP API REQUEST authorizer (payload 1.0)", nil,
			policy("Deny", "arn:aws:execute-api:us-east-1:123456789012:abcdef123/test/*")},
		{"apigw-v2-custom-authorizer-v1-request.json", "HTTP API REQUEST authorizer (payload 1.0)", func(e map[string]any) {
			e["identitySource"] = token + ",123"
		}, policy("Allow", "arn:aws:execute-api:us-east-1:123456789012:abcdef123/test/*")},
		{"apigw-v2-custom-authorizer-v1-request.json", "HTTP API REQUEST authorizer (payload 1.0)", func(e map[string]any) {
			object(e, "headers")["Authorization"] = token
		}, policy("Allow", "arn:aws:execute-api:us-east-1:123456789012:abcdef123/test/*")},
		{"apigw-v2-custom-authorizer-v1-request.json", "HTTP API REQUEST authorizer (payload 1.0)", func(e map[string]any) {
			delete(e, "identitySource")
		}, policy("Deny", "arn:aws:execute-api:us-east-1:123456789012:abcdef123/test/*")},

		// HTTP API REQUEST authorizer, payload 2.0: identitySource is a
		// list; the answer is a simple one.
		{"apigw-v2-custom-authorizer-v2-request.json", "HTTP API REQUEST authorizer", nil, simple(false)},
		{"apigw-v2-custom-authorizer-v2-request.json", "HTTP API REQUEST authorizer", func(e map[string]any) {
			e["identitySource"] = []string{token, "123"}
		}, simple(true)},
		{"apigw-v2-custom-authorizer-v2-request.json", "HTTP API REQUEST authorizer", func(e map[string]any) {
			object(e, "headers")["authorization"] = token
		}, simple(true)},

		// HTTP API proxy integration (payload 2.0), behind each kind of
		// route authorization.
		{"apigw-v2-request-no-authorizer.json", "API Gateway HTTP API", nil, status(404, `"instance":"/"`)},
		{"apigw-v2-request-iam.json", "API Gateway HTTP API", nil, status(404, "/my/path")},
		{"apigw-v2-request-jwt-authorizer.json", "API Gateway HTTP API", nil, status(404, "/my/path")},
		{"apigw-v2-request-lambda-authorizer.json", "API Gateway HTTP API", nil, status(404, "/my/path")},
		{"apigw-v2-request-no-authorizer.json", "API Gateway HTTP API", func(e map[string]any) {
			e["rawPath"], e["rawQueryString"] = "/items", "limit=1&tag=red"
			object(e, "headers")["authorization"] = token
		}, status(200, `"tags":["red"]`)},
		{"apigw-v2-request-iam.json", "API Gateway HTTP API", func(e map[string]any) {
			e["rawPath"], e["rawQueryString"], e["body"] = "/items", "", `{"name":"desk"}`
			object(e, "requestContext", "http")["method"] = "POST"
			object(e, "headers")["authorization"] = token
		}, status(201, `"name":"desk"`)},
		{"apigw-v2-request-jwt-authorizer.json", "API Gateway HTTP API", func(e map[string]any) {
			e["rawPath"], e["rawQueryString"], e["body"] = "/items", "", `{"name":"desk"}`
			object(e, "requestContext", "http")["method"] = "POST"
			object(e, "headers")["authorization"] = token
		}, status(201, `"name":"desk"`)},
		{"apigw-v2-request-lambda-authorizer.json", "API Gateway HTTP API", func(e map[string]any) {
			e["rawPath"] = "/items/7"
		}, status(401, "")},

		// Lambda Function URL (payload 2.0).
		{"lambda-urls-request.json", "Function URL", nil, status(404, "/my/path")},
		{"lambda-urls-request.json", "Function URL", func(e map[string]any) {
			e["rawPath"], e["body"] = "/items", `{"name":"desk"}`
			object(e, "headers")["authorization"] = token
		}, status(201, `"name":"desk"`)},
	} {
		name := strings.TrimSuffix(tc.sample, ".json") + "/as-shipped"
		payload := awsSample(t, tc.sample)
		if tc.edit != nil {
			name = strings.TrimSuffix(name, "/as-shipped") + "/rewritten"
			payload = rewrite(t, payload, tc.edit)
		}
		t.Run(name, func(t *testing.T) {
			shape, err := cwslambda.ShapeOf(payload)
			if err != nil || shape != tc.shape {
				t.Fatalf("shape %q (%v), want %q", shape, err, tc.shape)
			}
			out, err := h.Invoke(context.Background(), payload)
			var a sampleAnswer
			if err == nil {
				if jerr := json.Unmarshal(out, &a); jerr != nil {
					t.Fatalf("answer %s: %v", out, jerr)
				}
			}
			tc.check(t, a, err)
		})
	}
}

// The SQS and EventBridge samples are told apart; with no CloudEvents door
// the function refuses them (TestAWSEventSamples hands them to the doors).
func TestAWSEventSampleShapes(t *testing.T) {
	for sample, shape := range map[string]string{
		"sqs-event.json":                                        "SQS",
		"ecr-image-push-event.json":                             "EventBridge",
		"codepipeline-execution-state-change-event.json":        "EventBridge",
		"testdata/aws/eventbridge-scheduled.json":               "EventBridge",
		"testdata/aws/eventbridge-custom.json":                  "EventBridge",
		"autoscaling-event-launch-successful.json":              "EventBridge",
		"codedeploy-deployment-event.json":                      "EventBridge",
		"ecs-container-instance-state-change.json":              "EventBridge",
		"codebuild-state-change.json":                           "EventBridge",
		"codepipeline-action-execution-stage-change-event.json": "EventBridge",
	} {
		t.Run(sample, func(t *testing.T) {
			var payload []byte
			if strings.HasPrefix(sample, "testdata/") {
				var err error
				if payload, err = os.ReadFile(sample); err != nil {
					t.Fatal(err)
				}
			} else {
				payload = awsSample(t, sample)
			}
			if got, err := cwslambda.ShapeOf(payload); err != nil || got != shape {
				t.Fatalf("shape %q (%v), want %q", got, err, shape)
			}
			if _, err := newHandler(t).Invoke(context.Background(), payload); !errors.Is(err, cwslambda.ErrNoEventHandler) {
				t.Fatalf("without CloudEvents doors: %v, want ErrNoEventHandler", err)
			}
		})
	}
}

// awsDoorSamples are the aws-lambda-go module's samples of the events the
// HTTP side of the Lambda door answers.
var awsDoorSamples = []string{
	"apigw-request.json", "apigw-restapi-openapi-request.json",
	"apigw-custom-auth-request.json", "apigw-custom-auth-request-type-request.json",
	"apigw-v2-custom-authorizer-v1-request.json", "apigw-v2-custom-authorizer-v2-request.json",
	"apigw-v2-request-iam.json", "apigw-v2-request-jwt-authorizer.json",
	"apigw-v2-request-lambda-authorizer.json", "apigw-v2-request-no-authorizer.json",
	"lambda-urls-request.json",
}

// authorizerSamples are the authorizer events the fuzz targets start from:
// the aws-lambda-go module's and the golden ones.
func authorizerSamples(f *testing.F) [][]byte {
	f.Helper()
	var seeds [][]byte
	for _, name := range []string{"apigw-custom-auth-request.json", "apigw-custom-auth-request-type-request.json",
		"apigw-v2-custom-authorizer-v1-request.json", "apigw-v2-custom-authorizer-v2-request.json"} {
		seeds = append(seeds, awsSample(f, name))
	}
	golden, _ := filepath.Glob("testdata/auth-*.json")
	if len(golden) == 0 {
		f.Fatal("no testdata/auth-*.json")
	}
	for _, name := range golden {
		payload, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, payload)
	}
	return seeds
}

// FuzzAuthorizer hands authorizer events, mutated from the samples, to the
// Lambda door: nothing panics; an authorizer event is answered with a policy
// (TOKEN and REQUEST authorizers, HTTP API payload 1.0) or a simple answer
// (HTTP API payload 2.0), or ErrUnauthorized for a REST API event without a
// token; and access is allowed only to an event that carries the token.
func FuzzAuthorizer(f *testing.F) {
	for _, seed := range authorizerSamples(f) {
		f.Add(seed)
	}
	h := newHandler(f)
	f.Fuzz(func(t *testing.T, payload []byte) {
		shape, derr := cwslambda.ShapeOf(payload)
		out, err := h.Invoke(context.Background(), payload)
		if derr != nil || !strings.Contains(shape, "authorizer") {
			return
		}
		if err != nil {
			if !errors.Is(err, cwslambda.ErrUnauthorized) || shape == "HTTP API REQUEST authorizer" || shape == "HTTP API REQUEST authorizer (payload 1.0)" {
				t.Fatalf("%s %q: %v", shape, payload, err)
			}
			return
		}
		var a sampleAnswer
		if err := json.Unmarshal(out, &a); err != nil {
			t.Fatalf("answer %q: %v", out, err)
		}
		var allowed bool
		switch shape {
		case "HTTP API REQUEST authorizer":
			if a.IsAuthorized == nil || a.Policy != nil {
				t.Fatalf("%s %q: answer %s, want a simple answer", shape, payload, out)
			}
			allowed = *a.IsAuthorized
		default:
			if a.Policy == nil || len(a.Policy.Statement) != 1 || a.IsAuthorized != nil {
				t.Fatalf("%s %q: answer %s, want a policy", shape, payload, out)
			}
			allowed = a.Policy.Statement[0].Effect == "Allow"
		}
		if allowed && !carries(payload, token) {
			t.Fatalf("%s %q without the token: allowed (%s)", shape, payload, out)
		}
	})
}

// carries says whether a JSON payload holds the string s, escapes decoded.
func carries(payload []byte, s string) bool {
	var v any
	if json.Unmarshal(payload, &v) != nil {
		return bytes.Contains(payload, []byte(s))
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	return strings.Contains(buf.String(), s)
}

// The aws-lambda-go module's samples of the sources cws does not take are
// none of the door's shapes, but for the ALB and WebSocket events, which
// have the REST proxy's fields, and the AWS services' events delivered by
// EventBridge: the door refuses them with an error saying so, never takes
// them for a request.
func TestAWSForeignSamples(t *testing.T) {
	dir, err := awsSamplesDir()
	if err != nil {
		t.Fatalf("the aws-lambda-go module's sample events: %v", err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	known := map[string]bool{"sqs-event.json": true}
	for _, name := range awsDoorSamples {
		known[name] = true
	}
	h := newHandler(t)
	foreign := 0
	for _, path := range files {
		name := filepath.Base(path)
		if known[name] {
			continue
		}
		foreign++
		t.Run(strings.TrimSuffix(name, ".json"), func(t *testing.T) {
			payload := awsSample(t, name)
			shape, _ := cwslambda.ShapeOf(payload)
			out, err := h.Invoke(context.Background(), payload)
			switch {
			case strings.HasPrefix(name, "alb-lambda-target-request") || name == "apigw-websocket-request.json":
				var a sampleAnswer
				if shape != "API Gateway REST" || err != nil || json.Unmarshal(out, &a) != nil || a.StatusCode < 400 || a.StatusCode >= 500 {
					t.Fatalf("%s: %s %v, want a 4xx answer", shape, out, err)
				}
			case shape == "EventBridge":
				if !errors.Is(err, cwslambda.ErrNoEventHandler) {
					t.Fatalf("%v, want ErrNoEventHandler", err)
				}
			case name == "dynamodb-event-malformed.2.json":
				// A truncated document.
				if err == nil || !strings.Contains(err.Error(), "not JSON of a Lambda event") {
					t.Fatalf("%v, want a decoding error", err)
				}
			case name == "cognito-event.json":
				// Its version is a number: JSON of another shape.
				if err == nil || !strings.Contains(err.Error(), "unsupported Lambda event") || !strings.Contains(err.Error(), `another shape`) ||
					!strings.Contains(err.Error(), `"/version"`) {
					t.Fatalf("%v, want unsupported Lambda event naming /version", err)
				}
			default:
				if err == nil || !strings.Contains(err.Error(), "unsupported Lambda event") {
					t.Fatalf("%s: %s %v, want unsupported Lambda event", shape, out, err)
				}
			}
		})
	}
	if foreign < 50 {
		t.Errorf("%d foreign samples in %s", foreign, dir)
	}
}
