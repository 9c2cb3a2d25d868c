package async_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coworks-go/cws/async"
	"github.com/coworks-go/cws/internal/testutil"
	"github.com/coworks-go/cws/runtime"
	cwshttp "github.com/coworks-go/cws/transport/http"
	"github.com/coworks-go/cws/transport/memory"
)

func TestEventsEndpoint(t *testing.T) {
	app := newApp(t, newShop())
	q := memory.NewQueue("events", memory.WithMaxMessageSize(4096))
	srv := httptest.NewServer(cwshttp.NewHandler(app, cwshttp.WithEndpoint(async.EventsPath, async.Endpoint(app, q))))
	defer srv.Close()

	post := func(method, token string, header map[string]string, body string) (int, string, http.Header) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+async.EventsPath, strings.NewReader(body))
		if token != "" {
			req.Header.Set("Authorization", token)
		}
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), resp.Header
	}
	structured := `{"specversion":"1.0","id":"s1","source":"test","type":"cws.invoke","subject":"POST /echo","datacontenttype":"application/json","data":{"a":1}}`

	status, body, _ := post("POST", testutil.Token, map[string]string{"Content-Type": "application/cloudevents+json"}, structured)
	var ack struct {
		Accepted int
		IDs      []string
	}
	if err := json.Unmarshal([]byte(body), &ack); status != 202 || err != nil || ack.Accepted != 1 || ack.IDs[0] != "s1" {
		t.Errorf("structured: %d %s", status, body)
	}
	status, body, _ = post("POST", testutil.Token, map[string]string{"Content-Type": "application/json", "Ce-Specversion": "1.0", "Ce-Id": "b1",
		"Ce-Source": "test", "Ce-Type": "cws.invoke", "Ce-Subject": "POST /echo"}, `{"b":2}`)
	if status != 202 {
		t.Errorf("binary: %d %s", status, body)
	}
	status, body, _ = post("POST", testutil.Token, map[string]string{"Content-Type": "application/cloudevents-batch+json"},
		`[{"specversion":"1.0","id":"x1","source":"t","type":"order.completed"},{"specversion":"1.0","id":"x2","source":"t","type":"order.completed"}]`)
	if status != 202 || !strings.Contains(body, `"accepted":2`) {
		t.Errorf("batch: %d %s", status, body)
	}
	ds, _ := q.Receive(context.Background(), 10, 0, time.Minute)
	if len(ds) != 4 {
		t.Fatalf("%d events queued, want 4", len(ds))
	}
	e, err := memory.Decode(ds[1])
	if err != nil || e.ID() != "b1" || string(e.Data()) != `{"b":2}` || e.Subject() != "POST /echo" {
		t.Errorf("binary event queued as %s %v", e, err)
	}

	for _, tc := range []struct {
		name, method, token string
		header              map[string]string
		body                string
		status              int
		detail              string
	}{
		{"wrong method", "GET", testutil.Token, nil, "", 405, "takes POST"},
		{"no token", "POST", "", map[string]string{"Content-Type": "application/cloudevents+json"}, structured, 401, "missing Authorization"},
		{"wrong token", "POST", testutil.WrongToken, map[string]string{"Content-Type": "application/cloudevents+json"}, structured, 403, "refused"},
		{"not an event", "POST", testutil.Token, map[string]string{"Content-Type": "application/json"}, `{"a":1}`, 400, "not a CloudEvent"},
		{"invalid event", "POST", testutil.Token, map[string]string{"Content-Type": "application/cloudevents+json"}, `{"specversion":"1.0","id":"x","source":"t"}`, 400, "type"},
		{"invalid invocation", "POST", testutil.Token, map[string]string{"Content-Type": "application/cloudevents+json"},
			`{"specversion":"1.0","id":"x","source":"t","type":"cws.invoke","subject":"brew /"}`, 400, "unknown method"},
		{"too large for the queue", "POST", testutil.Token, map[string]string{"Content-Type": "application/cloudevents+json"},
			`{"specversion":"1.0","id":"x","source":"t","type":"big","data":"` + strings.Repeat("x", 5000) + `"}`, 413, "over queue events's limit"},
	} {
		status, body, h := post(tc.method, tc.token, tc.header, tc.body)
		if status != tc.status || !strings.Contains(body, tc.detail) || h.Get("Content-Type") != runtime.ProblemContentType {
			t.Errorf("%s: %d %s", tc.name, status, body)
		}
	}
	// The entries themselves are still served.
	req, _ := http.NewRequest("GET", srv.URL+"/text", nil)
	req.Header.Set("Authorization", testutil.Token)
	resp, err := http.DefaultClient.Do(req)
	if err == nil {
		resp.Body.Close()
	}
	if err != nil || resp.StatusCode != 200 {
		t.Errorf("entries next to the events endpoint: %v %v", resp, err)
	}
}

// A local queue at its capacity: the endpoint answers 503 with
// Retry-After, and the events it refused are not queued.
func TestEventsEndpointFullQueue(t *testing.T) {
	app := newApp(t, newShop())
	q := memory.NewQueue("events", memory.WithCapacity(1))
	srv := httptest.NewServer(cwshttp.NewHandler(app, cwshttp.WithEndpoint(async.EventsPath, async.Endpoint(app, q))))
	defer srv.Close()
	post := func(id string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest("POST", srv.URL+async.EventsPath, strings.NewReader(
			`{"specversion":"1.0","id":"`+id+`","source":"test","type":"cws.invoke","subject":"GET /items/7"}`))
		req.Header.Set("Authorization", testutil.Token)
		req.Header.Set("Content-Type", "application/cloudevents+json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	if resp := post("e1"); resp.StatusCode != 202 {
		t.Fatalf("the first event: %d", resp.StatusCode)
	}
	resp := post("e2")
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "1" || resp.Header.Get("Content-Type") != runtime.ProblemContentType {
		t.Errorf("an event to a full queue: %d %v", resp.StatusCode, resp.Header)
	}
	if ws := q.Waiting(); len(ws) != 1 {
		t.Errorf("the queue holds %d messages, want 1", len(ws))
	}
}
