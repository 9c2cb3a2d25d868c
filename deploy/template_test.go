package deploy

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coworks-go/cws/async"
	"github.com/coworks-go/cws/biz"
	"github.com/coworks-go/cws/runtime"
)

// httpManifest is a service like examples/crud: guarded entries, an open
// health check and an open binary entry.
func httpManifest() *Manifest {
	return &Manifest{Description: runtime.Description{Service: "shop", Stage: "prod", Routes: []runtime.Route{
		{Method: "GET", Path: "/", Auth: true, Active: true},
		{Method: "POST", Path: "/items/{id}", Auth: true, Active: true},
		{Method: "GET", Path: "/service/test", Auth: false, Active: true},
		{Method: "GET", Path: "/logo", Auth: false, Active: true, ContentType: "image/png"},
		{Method: "GET", Path: "/debug", Auth: false, Active: false},
	}}}
}

// eventsManifest is a service like examples/biz: CloudEvents doors on AWS,
// a schedule and two patterns.
func eventsManifest() *Manifest {
	m := httpManifest()
	m.Events = &async.Manifest{Door: "cloudevents", Cloud: "aws", Rules: []biz.Rule{
		{Name: "reminder-standup", Reactor: "reminder", Subscription: "standup", Schedule: "cron(0 9 ? * MON-FRI *)"},
		{Name: "alert-large-orders", Reactor: "alert", Subscription: "large-orders", Pattern: `{"detail-type":["order.completed"]}`},
		{Name: "invoicing-completed-orders", Reactor: "invoicing", Subscription: "completed-orders", Pattern: `{"source":["shop"]}`},
	}}
	return m
}

// durableManifest is eventsManifest's service linking events/dynamostore.
func durableManifest() *Manifest {
	m := eventsManifest()
	m.Events.Stores = []string{"dynamo"}
	return m
}

func input(m *Manifest) Input {
	p := &Project{}
	s := p.Stage("prod")
	s.ReplyTo = []string{"arn:aws:sqs:eu-west-3:123456789012:results", "arn:aws:events:eu-west-3:123456789012:event-bus/replies"}
	return Input{Service: "shop", Stage: "prod", Settings: s, Manifest: m,
		Environment: map[string]string{"TOKEN": "ssm:/shop/prod/token", "LEVEL": "warn"}}
}

// tree is a template as generic JSON, to look into.
func tree(t *testing.T, tpl *Template) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(tpl.JSON(), &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func props(t *testing.T, tpl *Template, id string) map[string]any {
	t.Helper()
	r, ok := tree(t, tpl)["Resources"].(map[string]any)[id].(map[string]any)
	if !ok {
		t.Fatalf("no resource %s", id)
	}
	return r["Properties"].(map[string]any)
}

func ofType(tpl *Template, typ string) []string {
	var ids []string
	for id, r := range tpl.Resources {
		if r.Type == typ {
			ids = append(ids, id)
		}
	}
	return ids
}

func TestTemplateOfAnHTTPService(t *testing.T) {
	tpl, err := NewTemplate(input(httpManifest()))
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"Role", "LogGroup", "Function", "Api", "ApiProxy", "ApiRootMethod", "ApiProxyMethod", "Authorizer", "ApiPermission", "ApiStage"} {
		if _, ok := tpl.Resources[id]; !ok {
			t.Errorf("no %s", id)
		}
	}
	for _, id := range []string{"Queue", "DeadLetterQueue", "EventSourceMapping", "Bus", "QueuePolicy", "InvokeRule"} {
		if _, ok := tpl.Resources[id]; ok {
			t.Errorf("an HTTP-only service got %s", id)
		}
	}
	fn := props(t, tpl, "Function")
	env := fn["Environment"].(map[string]any)["Variables"].(map[string]any)
	if env["TOKEN"] != "{{resolve:ssm:/shop/prod/token}}" || env["LEVEL"] != "warn" || env["CWS_STAGE"] != "prod" || env["CWS_DEV_ENDPOINTS"] != "" {
		t.Errorf("the environment: %v", env)
	}
	if fn["FunctionName"] != "shop-prod" || fn["Runtime"] != "provided.al2023" || fn["Architectures"].([]any)[0] != "arm64" {
		t.Errorf("the function: %v", fn)
	}

	// The guarded methods go through the authorizer; the open entries'
	// methods do not, on resources of their own; the inactive one is not
	// open.
	open := map[string]bool{}
	for _, id := range ofType(tpl, "AWS::ApiGateway::Method") {
		m := props(t, tpl, id)
		switch m["AuthorizationType"] {
		case "NONE":
			open[m["HttpMethod"].(string)+" "+id] = true
		case "CUSTOM":
			if m["HttpMethod"] != "ANY" || m["AuthorizerId"] == nil {
				t.Errorf("%s: %v", id, m)
			}
		}
	}
	if len(open) != 2 || !open["GET ApiOpenGetServiceTest"] || !open["GET ApiOpenGetLogo"] {
		t.Errorf("the open methods: %v", open)
	}
	if p := props(t, tpl, "ApiPathServiceTest"); p["PathPart"] != "test" {
		t.Errorf("the open path's resource: %v", p)
	}
	if _, ok := tpl.Resources["ApiPathDebug"]; ok {
		t.Error("an entry of another stage is open")
	}
	if ttl := props(t, tpl, "Authorizer")["AuthorizerResultTtlInSeconds"]; ttl != float64(DefaultAuthorizerTTL) {
		t.Errorf("the authorizer's TTL: %v", ttl)
	}
	types := props(t, tpl, "Api")["BinaryMediaTypes"].([]any)
	if len(types) != 4 || types[0] != "*/*" || types[3] != "image/png" {
		t.Errorf("binary media types: %v", types)
	}
	// The role may write its logs, and nothing else: without CloudEvents
	// doors, it sends no results.
	role := props(t, tpl, "Role")
	stmts := role["Policies"].([]any)[0].(map[string]any)["PolicyDocument"].(map[string]any)["Statement"].([]any)
	if len(stmts) != 1 || !strings.Contains(mustJSON(stmts[0]), "logs:PutLogEvents") {
		t.Errorf("the role's statements: %s", mustJSON(stmts))
	}
	for _, id := range []string{OutputAPIID, OutputAPIURL, OutputFunctionName} {
		if _, ok := tpl.Outputs[id]; !ok {
			t.Errorf("no output %s", id)
		}
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// A browser's preflight carries no token: with a CORS policy, every
// resource the authorizer guards has an open OPTIONS method the service
// answers.
func TestTemplateOfACORSService(t *testing.T) {
	m := httpManifest()
	for i := range m.Routes {
		m.Routes[i].CORS = true
	}
	tpl, err := NewTemplate(input(m))
	if err != nil {
		t.Fatal(err)
	}
	guarded, preflights := map[string]bool{}, map[string]bool{}
	for _, id := range ofType(tpl, "AWS::ApiGateway::Method") {
		p := props(t, tpl, id)
		resource := mustJSON(p["ResourceId"])
		switch {
		case p["AuthorizationType"] == "CUSTOM":
			guarded[resource] = true
		case p["HttpMethod"] == "OPTIONS":
			if p["Integration"].(map[string]any)["Type"] != "AWS_PROXY" {
				t.Errorf("%s: the preflight does not reach the service: %v", id, p)
			}
			preflights[resource] = true
		}
	}
	if len(guarded) != 8 || len(preflights) != len(guarded) {
		t.Errorf("%d guarded resources, %d with an open OPTIONS: %v %v", len(guarded), len(preflights), guarded, preflights)
	}
	for r := range guarded {
		if !preflights[r] {
			t.Errorf("resource %s: no open OPTIONS", r)
		}
	}

	// Without the authorizer, ANY is open already: nothing to add.
	in := input(m)
	in.Settings.APIAuthorizer = false
	if tpl, err = NewTemplate(in); err != nil {
		t.Fatal(err)
	}
	if n := len(ofType(tpl, "AWS::ApiGateway::Method")); n != 2 {
		t.Errorf("without the authorizer: %d methods", n)
	}
}

func TestTemplateWithoutAPIAuthorizer(t *testing.T) {
	in := input(httpManifest())
	in.Settings.APIAuthorizer = false
	tpl, err := NewTemplate(in)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ofType(tpl, "AWS::ApiGateway::Method") {
		if props(t, tpl, id)["AuthorizationType"] != "NONE" {
			t.Errorf("%s goes through an authorizer", id)
		}
	}
	if len(ofType(tpl, "AWS::ApiGateway::Authorizer"))+len(ofType(tpl, "AWS::ApiGateway::GatewayResponse")) != 0 ||
		len(ofType(tpl, "AWS::ApiGateway::Method")) != 2 {
		t.Errorf("without the authorizer: %v", tpl.Resources)
	}
}

func TestTemplateOfAnEventsService(t *testing.T) {
	tpl, err := NewTemplate(input(eventsManifest()))
	if err != nil {
		t.Fatal(err)
	}
	q := props(t, tpl, "Queue")
	if q["QueueName"] != "shop-prod" || q["VisibilityTimeout"] != float64(90) ||
		q["RedrivePolicy"].(map[string]any)["maxReceiveCount"] != float64(DefaultMaxReceives) {
		t.Errorf("the queue: %v", q)
	}
	esm := props(t, tpl, "EventSourceMapping")
	if mustJSON(esm["FunctionResponseTypes"]) != `["ReportBatchItemFailures"]` || esm["BatchSize"] != float64(10) {
		t.Errorf("the mapping: %v", esm)
	}
	rules := map[string]map[string]any{}
	for _, id := range ofType(tpl, "AWS::Events::Rule") {
		rules[id] = props(t, tpl, id)
	}
	if len(rules) != 4 {
		t.Fatalf("rules: %v", rules)
	}
	if r := rules["InvokeRule"]; r["Name"] != "shop-prod-cws-invoke" || mustJSON(r["EventBusName"]) != `{"Ref":"Bus"}` ||
		mustJSON(r["EventPattern"]) != `{"detail-type":["cws.invoke"]}` {
		t.Errorf("the invocation rule: %v", r)
	}
	// Schedules on the default bus, patterns on the service's.
	if r := rules["RuleReminderStandup"]; r["ScheduleExpression"] != "cron(0 9 ? * MON-FRI *)" || r["EventBusName"] != nil || r["Name"] != "shop-prod-reminder-standup" {
		t.Errorf("the schedule's rule: %v", r)
	}
	if r := rules["RuleAlertLargeOrders"]; mustJSON(r["EventBusName"]) != `{"Ref":"Bus"}` || mustJSON(r["EventPattern"]) != `{"detail-type":["order.completed"]}` {
		t.Errorf("a pattern's rule: %v", r)
	}
	for id, r := range rules {
		if mustJSON(r["Targets"]) != `[{"Arn":{"Fn::GetAtt":["Queue","Arn"]},"Id":"queue"}]` || r["State"] != "ENABLED" {
			t.Errorf("%s's targets: %v", id, r["Targets"])
		}
	}
	// The queue takes events from these rules only.
	policy := mustJSON(props(t, tpl, "QueuePolicy"))
	for id := range rules {
		if !strings.Contains(policy, `{"Fn::GetAtt":["`+id+`","Arn"]}`) {
			t.Errorf("the queue policy lacks %s: %s", id, policy)
		}
	}
	env := props(t, tpl, "Function")["Environment"].(map[string]any)["Variables"].(map[string]any)
	if mustJSON(env[async.EnvDeadLetterQueueURL]) != `{"Ref":"DeadLetterQueue"}` || mustJSON(env[async.EnvEventBus]) != `{"Ref":"Bus"}` ||
		env[async.EnvRulePrefix] != "shop-prod-" {
		t.Errorf("the doors' environment: %v", env)
	}
	// Least privilege: its queue, its dead-letter queue, its bus, the
	// reply addresses; no wildcard.
	role := mustJSON(props(t, tpl, "Role"))
	for _, want := range []string{
		`"Action":["sqs:ReceiveMessage","sqs:DeleteMessage","sqs:GetQueueAttributes","sqs:ChangeMessageVisibility"],"Effect":"Allow","Resource":{"Fn::GetAtt":["Queue","Arn"]}`,
		`"Action":["sqs:SendMessage"],"Effect":"Allow","Resource":{"Fn::GetAtt":["DeadLetterQueue","Arn"]}`,
		`"Action":["events:PutEvents"],"Effect":"Allow","Resource":{"Fn::GetAtt":["Bus","Arn"]}`,
		`"Action":["sqs:SendMessage"],"Effect":"Allow","Resource":["arn:aws:sqs:eu-west-3:123456789012:results"]`,
		`"Action":["events:PutEvents"],"Effect":"Allow","Resource":["arn:aws:events:eu-west-3:123456789012:event-bus/replies"]`,
	} {
		if !strings.Contains(role, want) {
			t.Errorf("the role lacks %s:\n%s", want, role)
		}
	}
	if strings.Contains(role, `"*"`) || strings.Contains(role, "states:") {
		t.Errorf("a wildcard in the role, or Step Functions for a service without workflows: %s", role)
	}
	// A service with workflows answers their tasks.
	withWorkflows := input(eventsManifest())
	withWorkflows.Manifest.Events.Workflows = []string{"invoicing"}
	wt, err := NewTemplate(withWorkflows)
	if err != nil {
		t.Fatal(err)
	}
	if role := mustJSON(props(t, wt, "Role")); !strings.Contains(role, `"Action":["states:SendTaskSuccess","states:SendTaskFailure","states:SendTaskHeartbeat"],"Effect":"Allow","Resource":"*"`) {
		t.Errorf("the role of a service with workflows: %s", role)
	}
	for _, id := range []string{OutputQueueURL, OutputDeadLetterQueueURL, OutputBusName} {
		if _, ok := tpl.Outputs[id]; !ok {
			t.Errorf("no output %s", id)
		}
	}

	// In memory only (no Cloud): no dead letters sent, nothing published.
	in := input(eventsManifest())
	in.Manifest.Events.Cloud = ""
	in.Settings.ReplyTo = nil
	tpl, err = NewTemplate(in)
	if err != nil {
		t.Fatal(err)
	}
	if role := mustJSON(props(t, tpl, "Role")); strings.Contains(role, "PutEvents") || strings.Contains(role, "SendMessage") {
		t.Errorf("a service that sends nothing may send: %s", role)
	}
}

func TestTemplateIsStable(t *testing.T) {
	a, _ := NewTemplate(input(eventsManifest()))
	b, _ := NewTemplate(input(eventsManifest()))
	if string(a.JSON()) != string(b.JSON()) {
		t.Error("the same input gave two templates")
	}
	deployment := func(tpl *Template) string { return ofType(tpl, "AWS::ApiGateway::Deployment")[0] }
	// A changed environment changes the function only: the API keeps its
	// deployment.
	in := input(eventsManifest())
	in.Environment["LEVEL"] = "debug"
	c, _ := NewTemplate(in)
	if deployment(c) != deployment(a) {
		t.Error("a changed environment made a new API deployment")
	}
	// A new open entry changes the API: a new deployment.
	in = input(eventsManifest())
	in.Manifest.Routes = append(in.Manifest.Routes, runtime.Route{Method: "GET", Path: "/health", Active: true})
	d, _ := NewTemplate(in)
	if deployment(d) == deployment(a) {
		t.Error("a changed API kept its deployment")
	}
}

func TestTemplateRefuses(t *testing.T) {
	for name, change := range map[string]func(*Input){
		"a reserved variable":        func(in *Input) { in.Environment["CWS_STAGE"] = "x" },
		"a variable of Lambda's":     func(in *Input) { in.Environment["AWS_REGION"] = "x" },
		"no variable name":           func(in *Input) { in.Environment["A-B"] = "x" },
		"no parameter name":          func(in *Input) { in.Environment["S"] = "ssm:no spaces" },
		"a bad service name":         func(in *Input) { in.Service = "Shop" },
		"a too long stack name":      func(in *Input) { in.Service = strings.Repeat("s", 60) },
		"a too long rule name":       func(in *Input) { in.Manifest.Events.Rules[0].Name = strings.Repeat("r", 60) },
		"a pattern that is not JSON": func(in *Input) { in.Manifest.Events.Rules[1].Pattern = "{" },
		"a batch without a window":   func(in *Input) { in.Settings.Queue.BatchSize = 100 },
	} {
		in := input(eventsManifest())
		change(&in)
		if _, err := NewTemplate(in); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestParseManifest(t *testing.T) {
	m, err := ParseManifest([]byte(`{"service":"office","stage":"dev","routes":[{"method":"GET","path":"/a","auth":true,"active":true}],
		"doors":[{"door":"cloudevents","cloud":"aws","rules":[{"name":"r-s","reactor":"r","subscription":"s","schedule":"rate(1 minute)"}]}]}`))
	if err != nil || m.Service != "office" || len(m.Routes) != 1 || m.Events == nil || m.Events.Rules[0].Schedule != "rate(1 minute)" {
		t.Errorf("%+v %v", m, err)
	}
	if m, err := ParseManifest([]byte(`{"service":"crud","routes":[],"doors":[]}`)); err != nil || m.Events != nil {
		t.Errorf("an HTTP-only service: %+v %v", m, err)
	}
	if _, err := ParseManifest([]byte(`{"service":"x","doors":[{"door":"carrier-pigeon"}]}`)); err == nil || !strings.Contains(err.Error(), "carrier-pigeon") {
		t.Errorf("an unknown door: %v", err)
	}
	if _, err := ParseManifest([]byte(`not json`)); err == nil {
		t.Error("not JSON: no error")
	}
}

// cfnLint returns the cfn-lint command: $CFN_LINT, else cfn-lint on the
// PATH. CI installs it (make tools); a run without it elsewhere skips.
func cfnLint(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CFN_LINT"); p != "" {
		return p
	}
	if p, err := exec.LookPath("cfn-lint"); err == nil {
		return p
	}
	if v := strings.ToLower(os.Getenv("CI")); v != "" && v != "false" && v != "0" {
		t.Fatal("cfn-lint is missing in CI: make installs it (CFN_LINT)")
	}
	t.Skip("cfn-lint is not installed: make test installs it")
	return ""
}

// TestTemplateWithIdempotencyTable: a stage that chooses the DynamoDB
// idempotency store gets its table (partition key id, TTL on expiration),
// the function its name in CWS_IDEMPOTENCY_TABLE and the right to read,
// write and delete its items; a stage that does not gets none of it, and a
// service without the AWS CloudEvents doors cannot choose it.
func TestTemplateWithIdempotencyTable(t *testing.T) {
	// A service that does not link the store cannot choose it.
	in := input(eventsManifest())
	in.Settings.Idempotency = IdempotencyDynamoDB
	if _, err := NewTemplate(in); err == nil || !strings.Contains(err.Error(), `import _ "github.com/coworks-go/cws/events/dynamostore"`) {
		t.Errorf("a service without the store choosing it: %v", err)
	}
	in = input(durableManifest())
	in.Settings.Idempotency = IdempotencyDynamoDB
	tpl, err := NewTemplate(in)
	if err != nil {
		t.Fatal(err)
	}
	table := props(t, tpl, "IdempotencyTable")
	if table["TableName"] != "shop-prod-idempotency" || table["BillingMode"] != "PAY_PER_REQUEST" ||
		mustJSON(table["KeySchema"]) != `[{"AttributeName":"id","KeyType":"HASH"}]` ||
		mustJSON(table["AttributeDefinitions"]) != `[{"AttributeName":"id","AttributeType":"S"}]` ||
		mustJSON(table["TimeToLiveSpecification"]) != `{"AttributeName":"expiration","Enabled":true}` {
		t.Errorf("the table: %v", table)
	}
	env := props(t, tpl, "Function")["Environment"].(map[string]any)["Variables"].(map[string]any)
	if mustJSON(env[async.EnvIdempotencyTable]) != `{"Ref":"IdempotencyTable"}` {
		t.Errorf("the function's %s: %v", async.EnvIdempotencyTable, env[async.EnvIdempotencyTable])
	}
	policy := mustJSON(props(t, tpl, "Role")["Policies"])
	if !strings.Contains(policy, `{"Action":["dynamodb:PutItem","dynamodb:GetItem","dynamodb:DeleteItem"],"Effect":"Allow","Resource":{"Fn::GetAtt":["IdempotencyTable","Arn"]}}`) {
		t.Errorf("the role cannot use the table: %s", policy)
	}

	plain, err := NewTemplate(input(eventsManifest()))
	if err != nil {
		t.Fatal(err)
	}
	if ids := ofType(plain, "AWS::DynamoDB::Table"); len(ids) != 0 || strings.Contains(mustJSON(plain), "dynamodb") {
		t.Errorf("a stage with the in-memory store has a table: %v", ids)
	}

	httpOnly := input(httpManifest())
	httpOnly.Settings.Idempotency = IdempotencyDynamoDB
	if _, err := NewTemplate(httpOnly); err == nil || !strings.Contains(err.Error(), "awscloud.Doors()") {
		t.Errorf("an HTTP service choosing the DynamoDB store: %v", err)
	}
	set := input(eventsManifest())
	set.Environment[async.EnvIdempotencyTable] = "mine"
	if _, err := NewTemplate(set); err == nil || !strings.Contains(err.Error(), "set by cws deploy") {
		t.Errorf("%s in the environment: %v", async.EnvIdempotencyTable, err)
	}
}

// TestTemplatesPassCfnLint: every kind of generated template passes
// cfn-lint, AWS's own template linter.
func TestTemplatesPassCfnLint(t *testing.T) {
	lint := cfnLint(t)
	dir := t.TempDir()
	noAuth := input(eventsManifest())
	noAuth.Settings.APIAuthorizer = false
	big := input(eventsManifest())
	big.Settings.ReservedConcurrency, big.Settings.Queue = 5, QueueSettings{VisibilityTimeout: 60, MaxReceives: 2, BatchSize: 100, BatchWindow: 5, MaximumConcurrency: 10}
	cors := httpManifest()
	for i := range cors.Routes {
		cors.Routes[i].CORS = true
	}
	var files []string
	durable := input(durableManifest())
	durable.Settings.Idempotency = IdempotencyDynamoDB
	for name, in := range map[string]Input{"http": input(httpManifest()), "events": input(eventsManifest()), "noauth": noAuth, "settings": big, "cors": input(cors),
		"idempotency": durable} {
		tpl, err := NewTemplate(in)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, name+".json")
		if err := os.WriteFile(path, tpl.JSON(), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, path)
	}
	out, err := exec.Command(lint, files...).CombinedOutput()
	if err != nil {
		t.Errorf("cfn-lint: %v\n%s", err, out)
	}
}
