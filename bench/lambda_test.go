package bench

import (
	"context"
	"encoding/json"
	"os"
	"testing"

	"github.com/aws/aws-lambda-go/lambda"
	chiadapter "github.com/awslabs/aws-lambda-go-api-proxy/chi"
	"github.com/go-chi/chi/v5"

	cwslambda "github.com/coworks-go/cws/transport/lambda"
)

// The events are real-shaped API Gateway payloads for the benchmarked
// request: REST (payload 1.0) and HTTP API (payload 2.0).
func loadEvent(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// lambdaImpls are the Lambda implementations: each is the lambda.Handler
// the Lambda runtime would call with the raw payload.
func lambdaImpls(tb testing.TB, v2 bool) []struct {
	name string
	h    lambda.Handler
} {
	r := chi.NewRouter()
	r.Get("/items/{id}", handWritten(chi.URLParam))
	var proxy lambda.Handler
	if v2 {
		proxy = lambda.NewHandler(chiadapter.NewV2(r).ProxyWithContextV2)
	} else {
		proxy = lambda.NewHandler(chiadapter.New(r).ProxyWithContext)
	}
	return []struct {
		name string
		h    lambda.Handler
	}{
		{"cws", cwslambda.NewHandler(cwsApp(tb))},
		{"apiproxy-chi", proxy},
	}
}

var lambdaEvents = []struct {
	name, file string
	v2         bool
}{
	{"REST", "apigw-rest.json", false},
	{"HTTPAPI", "apigw-http.json", true},
}

// TestSameLambdaAnswers shows that both implementations answer the events
// alike.
func TestSameLambdaAnswers(t *testing.T) {
	for _, ev := range lambdaEvents {
		payload := loadEvent(t, ev.file)
		for _, impl := range lambdaImpls(t, ev.v2) {
			out, err := impl.h.Invoke(context.Background(), payload)
			if err != nil {
				t.Fatalf("%s %s: %v", ev.name, impl.name, err)
			}
			var resp struct {
				StatusCode        int                 `json:"statusCode"`
				Body              string              `json:"body"`
				Headers           map[string]string   `json:"headers"`
				MultiValueHeaders map[string][]string `json:"multiValueHeaders"`
			}
			if err := json.Unmarshal(out, &resp); err != nil {
				t.Fatal(err)
			}
			ct := resp.Headers["Content-Type"]
			if vs := resp.MultiValueHeaders["Content-Type"]; ct == "" && len(vs) == 1 {
				ct = vs[0]
			}
			if resp.StatusCode != 200 || resp.Body != wantBody || ct != "application/json" {
				t.Errorf("%s %s: %s", ev.name, impl.name, out)
			}
		}
	}
}

// BenchmarkLambda hands the event payload to each implementation and gets
// the response payload, as the Lambda runtime does.
func BenchmarkLambda(b *testing.B) {
	ctx := context.Background()
	for _, ev := range lambdaEvents {
		payload := loadEvent(b, ev.file)
		for _, impl := range lambdaImpls(b, ev.v2) {
			b.Run("event="+ev.name+"/impl="+impl.name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := impl.h.Invoke(ctx, payload); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
