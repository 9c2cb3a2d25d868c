package async_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/coworks-go/cws/async"
	"github.com/coworks-go/cws/biz"
)

// workshop is a shop with a workflow that creates an item.
type workshop struct{ *shop }

func (w workshop) Workflows() ([]*biz.Workflow, error) {
	fsys := fstest.MapFS{"wf/restock.asl.json": {Data: []byte(`{"StartAt":"Create","States":{"Create":{"Type":"Task",
		"Resource":"cws:invoke","Parameters":{"method":"POST","path":"/items","body":{"name.$":"$.name"}},"End":true}}}`)}}
	wf, err := biz.LoadWorkflow(fsys, "wf/restock.asl.json")
	if err != nil {
		return nil, err
	}
	return []*biz.Workflow{wf}, nil
}

// TestWorkflowEndpoints: the local server lists the workflows, draws one,
// starts an execution (waiting for it or not), shows the executions and one with its
// history; what is unknown is 404, a name taken with another input 409, an
// input that is not JSON 400, a request without the token 401.
func TestWorkflowEndpoints(t *testing.T) {
	do := serveLocal(t, newApp(t, workshop{newShop()}))
	if status, body := do("GET", "/_cws/workflows", "", ""); status != 200 || !strings.Contains(body, `"name": "restock"`) ||
		!strings.Contains(body, `"states": 1`) {
		t.Errorf("GET workflows: %d %s", status, body)
	}
	status, body := do("POST", "/_cws/workflows/restock?wait=true&name=first", "application/json", `{"name":"saw"}`)
	if status != 200 || !strings.Contains(body, `"status": "SUCCEEDED"`) || !strings.Contains(body, `"name": "saw"`) {
		t.Errorf("POST ?wait=true: %d %s", status, body)
	}
	if status, body := do("POST", "/_cws/workflows/restock?wait=true&name=first", "application/json", `{"name":"saw"}`); status != 200 ||
		!strings.Contains(body, `"id": 8`) {
		t.Errorf("the same name and input: the same execution, not another item: %d %s", status, body)
	}
	if status, _ := do("POST", "/_cws/workflows/restock?name=first", "application/json", `{"name":"axe"}`); status != http.StatusConflict {
		t.Errorf("a name taken with another input: %d", status)
	}
	if status, body := do("POST", "/_cws/workflows/restock", "application/json", `{"name":"axe"}`); status != 202 ||
		!strings.Contains(body, `"executionArn": "arn:aws:states:local:000000000000:execution:restock:`) {
		t.Errorf("POST: %d %s", status, body)
	}
	if status, body := do("GET", "/_cws/executions/first", "", ""); status != 200 || !strings.Contains(body, `"type": "TaskSucceeded"`) {
		t.Errorf("GET an execution: %d %s", status, body)
	}
	if status, body := do("GET", "/_cws/executions", "", ""); status != 200 || strings.Count(body, `"executionArn"`) != 2 || strings.Contains(body, "history") {
		t.Errorf("GET executions: %d %s", status, body)
	}
	if status, body := do("GET", "/_cws/workflows/restock/diagram.svg", "", ""); status != 200 || !strings.HasPrefix(body, "<svg") ||
		!strings.Contains(body, ">Create<") || !strings.Contains(body, "POST /items") {
		t.Errorf("GET the diagram: %d %s", status, body)
	}
	for _, c := range []struct {
		method, path, body string
		want               int
	}{
		{"GET", "/_cws/workflows/nope/diagram.svg", "", 404},
		{"GET", "/_cws/workflows/nope", "", 404},
		{"POST", "/_cws/workflows/nope", "{}", 404},
		{"GET", "/_cws/executions/nope", "", 404},
		{"POST", "/_cws/workflows/restock", "{not json", 400},
		{"DELETE", "/_cws/executions", "", 404},
	} {
		if status, body := do(c.method, c.path, "application/json", c.body); status != c.want || !strings.Contains(body, `"status":`) {
			t.Errorf("%s %s: %d %s, want %d problem+json", c.method, c.path, status, body, c.want)
		}
	}
	// Without the token.
	app := newApp(t, workshop{newShop()})
	wfs, _ := workshop{}.Workflows()
	runner, err := biz.NewRunner(context.Background(), wfs)
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	async.WorkflowEndpoints(app, runner).ServeHTTP(rec, httptest.NewRequest("GET", "/_cws/executions", nil))
	if rec.Code != 401 || rec.Header().Get("Content-Type") != "application/problem+json" {
		t.Errorf("without the token: %d %s", rec.Code, rec.Body)
	}
}
