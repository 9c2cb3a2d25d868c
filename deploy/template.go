package deploy

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/coworks-go/cws/async"
	"github.com/coworks-go/cws/runtime"
)

// Manifest is what a service says of itself for its deployment: the JSON
// the service prints under CWS_MODE=manifest (cws.Manifest).
type Manifest struct {
	runtime.Description
	// Events is the manifest of the CloudEvents doors, nil when the service
	// has none (it is then HTTP only: no queue, bus or rule).
	Events *async.Manifest
}

// ParseManifest reads the JSON of a service's manifest. Doors cws does not
// know are an error: their resources would be missing from the stack.
func ParseManifest(data []byte) (*Manifest, error) {
	var raw struct {
		runtime.Description
		Doors []json.RawMessage `json:"doors"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("reading the service's manifest: %w", err)
	}
	m := &Manifest{Description: raw.Description}
	for _, d := range raw.Doors {
		var head struct {
			Door string `json:"door"`
		}
		if err := json.Unmarshal(d, &head); err != nil {
			return nil, fmt.Errorf("reading the service's manifest: %w", err)
		}
		switch head.Door {
		case "cloudevents":
			var em async.Manifest
			if err := json.Unmarshal(d, &em); err != nil {
				return nil, fmt.Errorf("reading the service's manifest: %w", err)
			}
			m.Events = &em
		default:
			return nil, fmt.Errorf("the service has a door cws cannot deploy: %q", head.Door)
		}
	}
	return m, nil
}

// Input is what a stack is made of.
type Input struct {
	// Service and Stage name the stack (SERVICE-STAGE) and its resources.
	Service, Stage string
	// Settings are the stage's, defaults filled in (Project.Stage).
	Settings Stage
	// Manifest is the service's.
	Manifest *Manifest
	// Environment is the function's, from the dotenv files and the stage's
	// environment (Env); a value "ssm:/path" is read from SSM Parameter
	// Store by CloudFormation.
	Environment map[string]string
}

// Stack returns the name of the stack of a service and stage.
func Stack(service, stage string) string { return service + "-" + stage }

// Names of the template's parameters and outputs.
const (
	ParamArtifactBucket = "ArtifactBucket"
	ParamArtifactKey    = "ArtifactKey"

	OutputAPIID              = "ApiId"
	OutputAPIURL             = "ApiUrl"
	OutputQueueURL           = "QueueUrl"
	OutputDeadLetterQueueURL = "DeadLetterQueueUrl"
	OutputBusName            = "BusName"
	OutputFunctionName       = "FunctionName"
	OutputIdempotencyTable   = "IdempotencyTable"
)

// SSMPrefix marks an environment value read from SSM Parameter Store.
const SSMPrefix = "ssm:"

// reservedEnv are the variables a stack sets itself, or Lambda does.
var reservedEnv = map[string]bool{
	"CWS_STAGE": true, runtime.EnvDevEndpoints: true, async.EnvQueueURL: true, async.EnvDeadLetterQueueURL: true,
	async.EnvEventBus: true, async.EnvRulePrefix: true, async.EnvIdempotencyTable: true, "CWS_MODE": true, "CWS_ADDR": true,
}

var envName = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_]*$`)

// NewTemplate returns the template of the stack of a service and stage:
// the function with its role and log group, the REST API in front of it,
// and, when the service has CloudEvents doors, its queue with the
// dead-letter queue, the event source mapping, the service's bus and the
// rules that bring invocations and the reactors' events to the queue.
func NewTemplate(in Input) (*Template, error) {
	if !serviceName.MatchString(in.Service) || !serviceName.MatchString(in.Stage) {
		return nil, fmt.Errorf("service %q, stage %q: names are lower case letters, digits and hyphens", in.Service, in.Stage)
	}
	b := &builder{in: in, name: Stack(in.Service, in.Stage), t: &Template{
		FormatVersion: "2010-09-09",
		Description:   fmt.Sprintf("cws service %s, stage %s", in.Service, in.Stage),
		Parameters: map[string]Parameter{
			ParamArtifactBucket: {Type: "String", Description: "The S3 bucket of the function's code"},
			ParamArtifactKey:    {Type: "String", Description: "The S3 key of the function's zip (its content hash)"},
		},
		Resources: map[string]Resource{},
		Outputs:   map[string]Output{},
	}}
	if len(b.name) > 64-len("-dlq") {
		return nil, fmt.Errorf("%s: the stack's name is too long for its queue and function names (at most %d characters)", b.name, 64-len("-dlq"))
	}
	env, err := b.environment()
	if err != nil {
		return nil, err
	}
	if in.Manifest.Events != nil {
		if err := b.events(); err != nil {
			return nil, err
		}
	}
	if in.Settings.Idempotency == IdempotencyDynamoDB {
		b.idempotencyTable()
	}
	b.function(env)
	if err := b.api(); err != nil {
		return nil, err
	}
	b.role()
	return b.t, nil
}

type builder struct {
	in   Input
	name string // the stack's, prefix of every resource's
	t    *Template
	// rules are the logical ids of the rules that target the queue.
	rules []string
}

func (b *builder) add(id string, r Resource) { b.t.Resources[id] = r }

func (b *builder) output(id, doc string, v any) {
	b.t.Outputs[id] = Output{Description: doc, Value: v}
}

// environment returns the function's: the given variables, ssm: values as
// dynamic references, and what the stack sets.
func (b *builder) environment() (map[string]any, error) {
	env := map[string]any{}
	for k, v := range b.in.Environment {
		switch {
		case !envName.MatchString(k):
			return nil, fmt.Errorf("environment: %q is no variable name", k)
		case reservedEnv[k]:
			return nil, fmt.Errorf("environment: %s is set by cws deploy", k)
		case strings.HasPrefix(k, "AWS_") || strings.HasPrefix(k, "LAMBDA_") || k == "_HANDLER":
			return nil, fmt.Errorf("environment: %s is reserved by Lambda", k)
		}
		if path, ok := strings.CutPrefix(v, SSMPrefix); ok {
			if !strings.HasPrefix(path, "/") && !regexp.MustCompile(`^[a-zA-Z0-9_.-]+$`).MatchString(path) {
				return nil, fmt.Errorf("environment: %s: %q is no SSM parameter name", k, path)
			}
			v = "{{resolve:ssm:" + path + "}}"
		}
		env[k] = v
	}
	env["CWS_STAGE"] = b.in.Stage
	env[runtime.EnvDevEndpoints] = strings.Join(b.in.Settings.DevEndpoints, ",")
	if ev := b.in.Manifest.Events; ev != nil {
		env[async.EnvRulePrefix] = b.name + "-"
		if ev.Cloud == "aws" {
			env[async.EnvDeadLetterQueueURL] = Ref("DeadLetterQueue")
			env[async.EnvEventBus] = Ref("Bus")
		}
	}
	if b.in.Settings.Idempotency == IdempotencyDynamoDB {
		if ev := b.in.Manifest.Events; ev == nil || ev.Cloud != "aws" {
			return nil, errors.New("idempotency: dynamodb is the store of the AWS CloudEvents doors, and this service has none: give cws.Main awscloud.Doors()")
		} else if !slices.Contains(ev.Stores, "dynamo") {
			return nil, errors.New(`idempotency: dynamodb needs the store in the service's binary: import _ "github.com/coworks-go/cws/events/dynamostore" in its main package`)
		}
		env[async.EnvIdempotencyTable] = Ref("IdempotencyTable")
	}
	return env, nil
}

// idempotencyTable is the DynamoDB table of the idempotency store, as
// events/dynamostore (and Powertools for AWS Lambda) use it: partition key
// id, TTL on expiration.
func (b *builder) idempotencyTable() {
	b.add("IdempotencyTable", Resource{Type: "AWS::DynamoDB::Table", Properties: Table{
		TableName:               b.name + "-idempotency",
		BillingMode:             "PAY_PER_REQUEST",
		AttributeDefinitions:    []AttributeDefinition{{AttributeName: "id", AttributeType: "S"}},
		KeySchema:               []KeySchemaElement{{AttributeName: "id", KeyType: "HASH"}},
		TimeToLiveSpecification: &TimeToLive{AttributeName: "expiration", Enabled: true},
	}})
	b.output(OutputIdempotencyTable, "The idempotency store's table", Ref("IdempotencyTable"))
}

func (b *builder) function(env map[string]any) {
	s := b.in.Settings
	b.add("LogGroup", Resource{Type: "AWS::Logs::LogGroup", Properties: LogGroup{
		LogGroupName: "/aws/lambda/" + b.name, RetentionInDays: s.LogRetention}})
	fn := Function{
		FunctionName:  b.name,
		Description:   fmt.Sprintf("cws service %s (%s)", b.in.Service, b.in.Stage),
		Runtime:       "provided.al2023",
		Handler:       "bootstrap",
		Architectures: []string{s.Architecture},
		MemorySize:    s.Memory,
		Timeout:       s.Timeout,
		Role:          GetAtt("Role", "Arn"),
		Code:          FunctionCode{S3Bucket: Ref(ParamArtifactBucket), S3Key: Ref(ParamArtifactKey)},
		Environment:   &Environment{Variables: env},
	}
	if s.ReservedConcurrency > 0 {
		n := s.ReservedConcurrency
		fn.ReservedConcurrentExecutions = &n
	}
	b.add("Function", Resource{Type: "AWS::Lambda::Function", DependsOn: []string{"LogGroup"}, Properties: fn})
	b.output(OutputFunctionName, "The function", Ref("Function"))
}

// role is the function's role, with what it uses and nothing more.
func (b *builder) role() {
	statements := []Statement{{Effect: "Allow", Action: []string{"logs:CreateLogStream", "logs:PutLogEvents"},
		Resource: GetAtt("LogGroup", "Arn")}}
	if b.in.Manifest.Events != nil {
		statements = append(statements, Statement{Effect: "Allow",
			Action:   []string{"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility"},
			Resource: GetAtt("Queue", "Arn")})
		if b.in.Manifest.Events.Cloud == "aws" {
			statements = append(statements,
				Statement{Effect: "Allow", Action: []string{"sqs:SendMessage"}, Resource: GetAtt("DeadLetterQueue", "Arn")},
				Statement{Effect: "Allow", Action: []string{"events:PutEvents"}, Resource: GetAtt("Bus", "Arn")})
			if len(b.in.Manifest.Events.Workflows) > 0 {
				// Task tokens are no resources: IAM scopes these actions
				// to "*" only.
				statements = append(statements, Statement{Effect: "Allow",
					Action: []string{"states:SendTaskSuccess", "states:SendTaskFailure", "states:SendTaskHeartbeat"}, Resource: "*"})
			}
			if b.in.Settings.Idempotency == IdempotencyDynamoDB {
				statements = append(statements, Statement{Effect: "Allow",
					Action: []string{"dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:DeleteItem"}, Resource: GetAtt("IdempotencyTable", "Arn")})
			}
		}
	}
	var queues, buses []any
	replyTo := b.in.Settings.ReplyTo
	if b.in.Manifest.Events == nil || b.in.Manifest.Events.Cloud != "aws" {
		replyTo = nil // only the CloudEvents doors on AWS send results
	}
	for _, arn := range replyTo {
		switch {
		case strings.HasPrefix(arn, "arn:aws:sqs:") || strings.Contains(arn, ":sqs:"):
			queues = append(queues, arn)
		default:
			buses = append(buses, arn)
		}
	}
	if len(queues) > 0 {
		statements = append(statements, Statement{Effect: "Allow", Action: []string{"sqs:SendMessage"}, Resource: queues})
	}
	if len(buses) > 0 {
		statements = append(statements, Statement{Effect: "Allow", Action: []string{"events:PutEvents"}, Resource: buses})
	}
	b.add("Role", Resource{Type: "AWS::IAM::Role", Properties: Role{
		AssumeRolePolicyDocument: PolicyDocument{Version: "2012-10-17", Statement: []Statement{{Effect: "Allow",
			Principal: map[string]any{"Service": "lambda.amazonaws.com"}, Action: []string{"sts:AssumeRole"}}}},
		Policies: []RolePolicy{{PolicyName: "cws-service", PolicyDocument: PolicyDocument{Version: "2012-10-17", Statement: statements}}},
	}})
}

// api is the REST API: ANY on the root and on {proxy+}, through the token
// authorizer when an entry needs it; the paths of NoAuth entries are
// resources of their own whose NoAuth methods are open.
func (b *builder) api() error {
	routes := b.in.Manifest.Routes
	auth, cors := false, false
	for _, r := range routes {
		auth = auth || (r.Active && r.Auth && b.in.Settings.APIAuthorizer)
		cors = cors || (r.Active && r.CORS)
	}
	b.add("Api", Resource{Type: "AWS::ApiGateway::RestApi", Properties: RestAPI{
		Name: b.name, Description: fmt.Sprintf("cws service %s (%s)", b.in.Service, b.in.Stage), BinaryMediaTypes: binaryMediaTypes(routes)}})
	uri := Sub("arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${Function.Arn}/invocations")
	integration := &Integration{Type: "AWS_PROXY", IntegrationHTTPMethod: "POST", URI: uri}
	guarded := func(resource any, method string) Method {
		m := Method{RestAPIID: Ref("Api"), ResourceID: resource, HTTPMethod: method, AuthorizationType: "NONE", Integration: integration}
		if auth {
			m.AuthorizationType, m.AuthorizerID = "CUSTOM", Ref("Authorizer")
		}
		return m
	}
	var methods []string // logical ids: the deployment depends on them
	method := func(id string, m Method) {
		b.add(id, Resource{Type: "AWS::ApiGateway::Method", Properties: m})
		methods = append(methods, id)
	}
	open := map[string][]string{} // the paths of NoAuth entries → their methods
	for _, r := range routes {
		if r.Active && !r.Auth && auth {
			open[r.Path] = append(open[r.Path], r.Method)
		}
	}
	// A browser's CORS preflight carries no credentials: where the
	// authorizer guards ANY, OPTIONS is open, and the service answers it
	// (the policy is the service's, runtime.CORS).
	preflight := func(id string, resource any) {
		if auth && cors {
			method(b.uniqueID(id), Method{RestAPIID: Ref("Api"), ResourceID: resource, HTTPMethod: "OPTIONS", AuthorizationType: "NONE", Integration: integration})
		}
	}
	method("ApiRootMethod", guarded(GetAtt("Api", "RootResourceId"), "ANY"))
	if !slices.Contains(open["/"], "OPTIONS") {
		preflight("ApiRootPreflight", GetAtt("Api", "RootResourceId"))
	}
	b.add("ApiProxy", Resource{Type: "AWS::ApiGateway::Resource", Properties: APIResource{
		RestAPIID: Ref("Api"), ParentID: GetAtt("Api", "RootResourceId"), PathPart: "{proxy+}"}})
	method("ApiProxyMethod", guarded(Ref("ApiProxy"), "ANY"))
	preflight("ApiProxyPreflight", Ref("ApiProxy"))

	// The open paths: each segment a resource (ANY guarded, a {proxy+}
	// below it for longer paths), each NoAuth method open.
	resources := map[string]string{"/": ""} // path → logical id ("" is the root)
	resourceOf := func(path string) any {
		if path == "/" {
			return GetAtt("Api", "RootResourceId")
		}
		return Ref(resources[path])
	}
	paths := make([]string, 0, len(open))
	for p := range open {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		parent := "/"
		for _, seg := range strings.Split(strings.Trim(p, "/"), "/") {
			if seg == "" {
				continue
			}
			path := strings.TrimSuffix(parent, "/") + "/" + seg
			if _, ok := resources[path]; !ok {
				id := b.uniqueID("ApiPath" + camel(path))
				b.add(id, Resource{Type: "AWS::ApiGateway::Resource", Properties: APIResource{
					RestAPIID: Ref("Api"), ParentID: resourceOf(parent), PathPart: seg}})
				resources[path] = id
				method(b.uniqueID(id+"Any"), guarded(Ref(id), "ANY"))
				if !slices.Contains(open[path], "OPTIONS") {
					preflight(id+"Preflight", Ref(id))
				}
				proxy := b.uniqueID(id + "Proxy")
				b.add(proxy, Resource{Type: "AWS::ApiGateway::Resource", Properties: APIResource{
					RestAPIID: Ref("Api"), ParentID: Ref(id), PathPart: "{proxy+}"}})
				method(b.uniqueID(proxy+"Any"), guarded(Ref(proxy), "ANY"))
				preflight(proxy+"Preflight", Ref(proxy))
			}
			parent = path
		}
		ms := open[p]
		sort.Strings(ms)
		for _, m := range ms {
			id := b.uniqueID("ApiOpen" + camel(strings.ToLower(m)+p))
			if p == "/" {
				id = b.uniqueID("ApiOpen" + camel(strings.ToLower(m)) + "Root")
			}
			method(id, Method{RestAPIID: Ref("Api"), ResourceID: resourceOf(p), HTTPMethod: m, AuthorizationType: "NONE", Integration: integration})
		}
	}
	if auth {
		b.add("Authorizer", Resource{Type: "AWS::ApiGateway::Authorizer", Properties: Authorizer{
			Name: b.name + "-token", RestAPIID: Ref("Api"), Type: "TOKEN", AuthorizerURI: uri,
			IdentitySource: "method.request.header.Authorization", AuthorizerResultTTLInSeconds: b.in.Settings.AuthorizerTTL}})
		// API Gateway's own refusals say what the local server says, as
		// problem+json.
		for _, g := range []struct {
			id, typ, status, title string
		}{{"ApiUnauthorized", "UNAUTHORIZED", "401", "Unauthorized"}, {"ApiAccessDenied", "ACCESS_DENIED", "403", "Forbidden"}} {
			b.add(g.id, Resource{Type: "AWS::ApiGateway::GatewayResponse", Properties: GatewayResponse{
				RestAPIID: Ref("Api"), ResponseType: g.typ, StatusCode: g.status,
				ResponseParameters: map[string]string{"gatewayresponse.header.Content-Type": "'application/problem+json'"},
				ResponseTemplates: map[string]string{"application/json": fmt.Sprintf(
					`{"type":"about:blank","title":%q,"status":%s,"detail":$context.error.messageString}`, g.title, g.status)}}})
		}
	}
	b.add("ApiPermission", Resource{Type: "AWS::Lambda::Permission", Properties: Permission{
		Action: "lambda:InvokeFunction", FunctionName: GetAtt("Function", "Arn"), Principal: "apigateway.amazonaws.com",
		SourceArn: Sub("arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${Api}/*")}})

	// A new deployment whenever the API's resources change: its logical id
	// holds their hash.
	sort.Strings(methods)
	shape := map[string]any{}
	for id, r := range b.t.Resources {
		if strings.HasPrefix(id, "Api") || id == "Authorizer" {
			shape[id] = r
		}
	}
	data, _ := json.Marshal(shape)
	deployment := "ApiDeployment" + hash(string(data))
	b.add(deployment, Resource{Type: "AWS::ApiGateway::Deployment", DependsOn: methods, Properties: APIDeployment{
		RestAPIID: Ref("Api"), Description: "cws deploy"}})
	b.add("ApiStage", Resource{Type: "AWS::ApiGateway::Stage", Properties: APIStage{
		RestAPIID: Ref("Api"), DeploymentID: Ref(deployment), StageName: b.in.Stage}})
	b.output(OutputAPIID, "The REST API", Ref("Api"))
	b.output(OutputAPIURL, "The REST API's stage URL",
		Sub("https://${Api}.execute-api.${AWS::Region}.${AWS::URLSuffix}/${ApiStage}"))
	return nil
}

// binaryMediaTypes are the types API Gateway passes as bytes: all (*/*),
// and, for the implementations that ignore wildcards (LocalStack), the
// binary types the entries declare, bytes and multipart uploads. A binary
// response reaches a client whose Accept header names such a type.
func binaryMediaTypes(routes []runtime.Route) []string {
	types := []string{"*/*", "application/octet-stream", "multipart/form-data"}
	for _, r := range routes {
		ct, _, _ := strings.Cut(r.ContentType, ";")
		ct = strings.TrimSpace(strings.ToLower(ct))
		if ct != "" && !slices.Contains(types, ct) && !textual(ct) {
			types = append(types, ct)
		}
	}
	return types
}

// textual reports whether a media type is text.
func textual(ct string) bool {
	return strings.HasPrefix(ct, "text/") || strings.Contains(ct, "json") || strings.Contains(ct, "xml") ||
		strings.Contains(ct, "javascript") || ct == "application/x-www-form-urlencoded"
}

// events is what the CloudEvents doors need: the queue and its dead-letter
// queue, the event source mapping, the service's bus, the invocation rule
// and the reactors' rules, all to the queue.
func (b *builder) events() error {
	s := b.in.Settings
	b.add("DeadLetterQueue", Resource{Type: "AWS::SQS::Queue", Properties: Queue{
		QueueName: b.name + "-dlq", MessageRetentionPeriod: 14 * 24 * 3600}})
	b.add("Queue", Resource{Type: "AWS::SQS::Queue", Properties: Queue{
		QueueName: b.name, VisibilityTimeout: s.Queue.VisibilityTimeout,
		RedrivePolicy: &RedrivePolicy{DeadLetterTargetArn: GetAtt("DeadLetterQueue", "Arn"), MaxReceiveCount: s.Queue.MaxReceives}}})
	esm := EventSourceMapping{EventSourceArn: GetAtt("Queue", "Arn"), FunctionName: Ref("Function"), BatchSize: s.Queue.BatchSize,
		MaximumBatchingWindowInSeconds: s.Queue.BatchWindow, FunctionResponseTypes: []string{"ReportBatchItemFailures"}}
	if s.Queue.MaximumConcurrency > 0 {
		esm.ScalingConfig = &ScalingConfig{MaximumConcurrency: s.Queue.MaximumConcurrency}
	}
	if s.Queue.BatchSize > 10 && s.Queue.BatchWindow == 0 {
		return fmt.Errorf("queue.batch_size %d: a batch of more than 10 messages needs a batch_window", s.Queue.BatchSize)
	}
	// The mapping polls with the role: it waits for the role's policy.
	b.add("EventSourceMapping", Resource{Type: "AWS::Lambda::EventSourceMapping", DependsOn: []string{"Role"}, Properties: esm})
	b.add("Bus", Resource{Type: "AWS::Events::EventBus", Properties: EventBus{Name: b.name}})

	prefix := b.name + "-"
	rule := func(id string, r Rule) error {
		if len(r.Name) > 64 {
			return fmt.Errorf("rule %s: longer than EventBridge's 64 characters (shorten the service, stage, reactor or subscription name)", r.Name)
		}
		r.State, r.Targets = "ENABLED", []Target{{ID: "queue", Arn: GetAtt("Queue", "Arn")}}
		b.add(id, Resource{Type: "AWS::Events::Rule", Properties: r})
		b.rules = append(b.rules, id)
		return nil
	}
	if err := rule("InvokeRule", Rule{Name: prefix + "cws-invoke", Description: "cws.invoke events for the service, to its queue",
		EventBusName: Ref("Bus"), EventPattern: json.RawMessage(`{"detail-type":["cws.invoke"]}`)}); err != nil {
		return err
	}
	for _, r := range b.in.Manifest.Events.Rules {
		cr := Rule{Name: prefix + r.Name, Description: fmt.Sprintf("reactor %s, subscription %s", r.Reactor, r.Subscription)}
		switch {
		case r.Schedule != "":
			cr.ScheduleExpression = r.Schedule
		case r.Pattern != "":
			if !json.Valid([]byte(r.Pattern)) {
				return fmt.Errorf("rule %s: the pattern is not JSON", r.Name)
			}
			cr.EventBusName, cr.EventPattern = Ref("Bus"), json.RawMessage(r.Pattern)
		default:
			return fmt.Errorf("rule %s: neither a schedule nor a pattern", r.Name)
		}
		if err := rule(b.uniqueID("Rule"+camel(r.Name)), cr); err != nil {
			return err
		}
	}
	arns := make([]any, len(b.rules))
	for i, id := range b.rules {
		arns[i] = GetAtt(id, "Arn")
	}
	b.add("QueuePolicy", Resource{Type: "AWS::SQS::QueuePolicy", Properties: QueuePolicy{
		Queues: []any{Ref("Queue")},
		PolicyDocument: PolicyDocument{Version: "2012-10-17", Statement: []Statement{{Effect: "Allow",
			Principal: map[string]any{"Service": "events.amazonaws.com"}, Action: []string{"sqs:SendMessage"},
			Resource: GetAtt("Queue", "Arn"), Condition: map[string]any{"ArnEquals": map[string]any{"aws:SourceArn": arns}}}}},
	}})
	b.output(OutputQueueURL, "The service's queue", Ref("Queue"))
	b.output(OutputDeadLetterQueueURL, "Its dead-letter queue", Ref("DeadLetterQueue"))
	b.output(OutputBusName, "The service's event bus", Ref("Bus"))
	return nil
}

// camel turns a path or a name into the CamelCase of a logical id: its
// letters and digits, each run capitalized ("/items/{id}" → "ItemsId").
func camel(s string) string {
	var sb strings.Builder
	up := true
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z':
			if up {
				r -= 'a' - 'A'
			}
			sb.WriteRune(r)
			up = false
		case r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			sb.WriteRune(r)
			up = false
		default:
			up = true
		}
	}
	return sb.String()
}

// uniqueID returns id, or id with a hash of it when a resource has it
// already (two paths that differ only by their punctuation).
func (b *builder) uniqueID(id string) string {
	for n := 0; ; n++ {
		cand := id
		if n > 0 {
			cand = id + hash(fmt.Sprint(id, n))[:6]
		}
		if _, taken := b.t.Resources[cand]; !taken && len(cand) <= 255 {
			return cand
		}
	}
}

// hash is a short stable hash for logical ids.
func hash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])[:10]
}
