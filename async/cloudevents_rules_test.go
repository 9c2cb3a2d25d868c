package async_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/coworks-go/cws/async"
	"github.com/coworks-go/cws/events/wire/ruletest"
	"github.com/coworks-go/cws/internal/testutil"
	"github.com/coworks-go/cws/runtime"
	cwshttp "github.com/coworks-go/cws/transport/http"
	"github.com/coworks-go/cws/transport/memory"
)

// Every case of ruletest posted to the local POST /_cws/events, in
// structured mode and in binary mode: 202 and the event queued as decoded,
// or a 400 problem naming the rule.
func TestEventsEndpointCloudEventsRules(t *testing.T) {
	app := newApp(t, newShop())
	q := memory.NewQueue("events")
	srv := httptest.NewServer(cwshttp.NewHandler(app, cwshttp.WithEndpoint(async.EventsPath, async.Endpoint(app, q))))
	defer srv.Close()
	post := func(door string, c ruletest.Case, header http.Header, body string) {
		t.Helper()
		req, _ := http.NewRequest("POST", srv.URL+async.EventsPath, strings.NewReader(body))
		req.Header = header
		req.Header.Set("Authorization", testutil.Token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		switch {
		case resp.StatusCode == http.StatusAccepted:
			ds, err := q.Receive(context.Background(), 1, 0, time.Minute)
			if err != nil || len(ds) != 1 {
				t.Fatalf("%s: %s: 202 but %d events queued: %v", door, c.Name, len(ds), err)
			}
			_ = q.Delete(context.Background(), ds)
			e, err := memory.Decode(ds[0])
			if err != nil {
				t.Fatalf("%s: %s: the queued event: %v", door, c.Name, err)
			}
			c.Check(t, door, e, nil)
		case resp.StatusCode == http.StatusBadRequest && resp.Header.Get("Content-Type") == runtime.ProblemContentType:
			c.Check(t, door, event.Event{}, errString(b))
		default:
			t.Errorf("%s: %s: %d %s", door, c.Name, resp.StatusCode, b)
		}
	}
	for _, c := range ruletest.Cases() {
		if c.Structured != "" {
			post("POST /_cws/events structured", c, http.Header{"Content-Type": {"application/cloudevents+json"}}, c.Structured)
		}
		if b := c.Binary; b != nil {
			post("POST /_cws/events binary", c, b.HTTPHeader(), b.Data)
		}
		if b := c.HTTPOnly; b != nil {
			post("POST /_cws/events binary, header values as written", c, b.RawHTTPHeader(), b.Data)
		}
	}
}

// errString is a problem's body as an error.
type errString string

func (e errString) Error() string { return string(e) }
