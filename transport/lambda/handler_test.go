package lambda_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coworks-go/cws/internal/testutil"
	"github.com/coworks-go/cws/runtime"
	"github.com/coworks-go/cws/runtime/cwsgen"
	cwslambda "github.com/coworks-go/cws/transport/lambda"
)

const token = "golden-token"

// shop is the service behind the golden events.
type shop struct{}

type item struct {
	ID   int      `json:"id"`
	Name string   `json:"name"`
	Tags []string `json:"tags"`
}

type listQuery struct {
	Tag   []string `json:"tag"`
	Limit int      `json:"limit"`
}

type itemInput struct {
	Name string   `json:"name"`
	Tags []string `json:"tags"`
}

func init() {
	cwsgen.Describe((*shop)(nil), cwsgen.TypeInfo{Methods: map[string]cwsgen.MethodInfo{
		"GetItems":   {Params: []string{"q"}},
		"GetItems_":  {Params: []string{"id"}},
		"PostItems":  {Params: []string{"in"}},
		"GetEcho_":   {Params: []string{"s"}},
		"GetCookies": {},
	}})
}

func (shop) ConfigureEntries(c *runtime.EntryConfig) {
	c.Entry(shop.GetHealth, runtime.NoAuth())
	c.Entry(shop.GetLogo, runtime.ContentType("image/png"))
}

func (shop) GetHealth(ctx context.Context) string { return "ok" }

func (shop) GetItems(ctx context.Context, q listQuery) []item {
	return []item{{ID: 7, Name: "lamp", Tags: q.Tag}}[:min(1, max(q.Limit, 1))]
}

func (shop) GetItems_(ctx context.Context, id int) (item, error) {
	if id != 7 {
		return item{}, runtime.NotFound("no item %d", id)
	}
	return item{ID: 7, Name: "lamp", Tags: []string{"red"}}, nil
}

func (shop) PostItems(ctx context.Context, in itemInput) item {
	runtime.SetStatus(ctx, 201)
	runtime.ResponseHeader(ctx).Set("Location", "/items/8")
	return item{ID: 8, Name: in.Name, Tags: in.Tags}
}

func (shop) GetLogo(ctx context.Context) []byte { return []byte("\x89PNG\r\n\x1a\n") }

func (shop) GetEcho_(ctx context.Context, s string) string { return s }

// boomCalls counts the calls of GetBoom: FuzzInvoke tells its deliberate
// failure from any other 5xx by it.
var boomCalls atomic.Int64

// GetBoom fails: its answer (*-server-error) names the request by API
// Gateway's id, and tells nothing of the error.
func (shop) GetBoom(ctx context.Context) (string, error) {
	boomCalls.Add(1)
	return "", errors.New("db password is hunter2")
}

// GetLink links to an echo, through the door it was called by (the
// *-link-* events).
func (shop) GetLink(ctx context.Context) (string, error) {
	return runtime.URLFor(ctx, "GetEcho_", "a b/c?", url.Values{"x": {"1 2"}})
}

func (shop) GetCookies(ctx context.Context) string {
	h := runtime.ResponseHeader(ctx)
	h.Add("Set-Cookie", "a=1; Path=/")
	h.Add("Set-Cookie", "b=2; Path=/")
	return "cookies"
}

func newApp(t testing.TB) *runtime.App {
	t.Helper()
	app, err := runtime.New(shop{}, runtime.WithAuthorizer(runtime.TokenAuthorizer(token)),
		// The CORS events (*-cors-*) come from https://app.example.com;
		// the others carry no Origin, and get no CORS header.
		runtime.WithCORS(runtime.CORS{AllowOrigins: []string{"https://app.example.com"}, ExposeHeaders: []string{"Location"}, MaxAge: time.Hour}),
		runtime.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		t.Fatal(err)
	}
	return app
}

func newHandler(t testing.TB) *cwslambda.Handler {
	t.Helper()
	return cwslambda.NewHandler(newApp(t), cwslambda.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
}

// TestGolden hands every event of testdata to the handler and compares the
// response with its golden file (go test -update rewrites them).
func TestGolden(t *testing.T) {
	testutil.GoldenEvents(t, "testdata", newHandler(t).Invoke)
}

func TestInvalidPayload(t *testing.T) {
	h := newHandler(t)
	for _, payload := range []string{`not json`} {
		if _, err := h.Invoke(context.Background(), []byte(payload)); err == nil {
			t.Errorf("%s: no error", payload)
		}
	}
}

// An SQS or EventBridge event reaches a function without CloudEvents doors:
// a clear error, not a silent drop.
func TestEventsWithoutEventHandler(t *testing.T) {
	h := newHandler(t)
	for _, payload := range []string{
		`{"Records":[{"messageId":"m1","body":"{}","eventSource":"aws:sqs","eventSourceARN":"arn:aws:sqs:eu-west-1:1:q"}]}`,
		`{"version":"0","id":"1","detail-type":"Scheduled Event","source":"aws.events","detail":{}}`,
	} {
		if _, err := h.Invoke(context.Background(), []byte(payload)); !errors.Is(err, cwslambda.ErrNoEventHandler) {
			t.Errorf("%.40s: %v, want ErrNoEventHandler", payload, err)
		}
	}
}
