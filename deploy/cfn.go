package deploy

import "encoding/json"

// The typed model of the CloudFormation template: the template, and the
// properties of the resource types a cws stack uses. Fields follow the
// CloudFormation names; a nil or zero field is left out.

// Template is a CloudFormation template.
type Template struct {
	FormatVersion string               `json:"AWSTemplateFormatVersion"`
	Description   string               `json:"Description,omitempty"`
	Parameters    map[string]Parameter `json:"Parameters,omitempty"`
	Resources     map[string]Resource  `json:"Resources"`
	Outputs       map[string]Output    `json:"Outputs,omitempty"`
}

// JSON returns the template as indented JSON; the same template gives the
// same bytes (maps are written in key order).
func (t *Template) JSON() []byte {
	b, err := json.MarshalIndent(t, "", "  ")
	if err != nil {
		panic(err) // the model holds only marshalable values
	}
	return append(b, '\n')
}

// Parameter is a template parameter.
type Parameter struct {
	Type        string `json:"Type"`
	Description string `json:"Description,omitempty"`
}

// Resource is a resource of a template.
type Resource struct {
	Type       string   `json:"Type"`
	DependsOn  []string `json:"DependsOn,omitempty"`
	Properties any      `json:"Properties,omitempty"`
	// DeletionPolicy and UpdateReplacePolicy: Delete unless set.
	DeletionPolicy      string `json:"DeletionPolicy,omitempty"`
	UpdateReplacePolicy string `json:"UpdateReplacePolicy,omitempty"`
}

// Output is a template output.
type Output struct {
	Description string `json:"Description,omitempty"`
	Value       any    `json:"Value"`
}

// Ref is the intrinsic function Ref.
func Ref(name string) any { return map[string]any{"Ref": name} }

// GetAtt is the intrinsic function Fn::GetAtt.
func GetAtt(resource, attribute string) any {
	return map[string]any{"Fn::GetAtt": []string{resource, attribute}}
}

// Sub is the intrinsic function Fn::Sub.
func Sub(s string) any { return map[string]any{"Fn::Sub": s} }

// Tag is a resource tag.
type Tag struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

// PolicyDocument is an IAM policy document.
type PolicyDocument struct {
	Version   string      `json:"Version"`
	Statement []Statement `json:"Statement"`
}

// Statement is a statement of an IAM policy.
type Statement struct {
	Effect    string         `json:"Effect"`
	Principal map[string]any `json:"Principal,omitempty"`
	Action    []string       `json:"Action"`
	Resource  any            `json:"Resource,omitempty"`
	Condition map[string]any `json:"Condition,omitempty"`
}

// Role is AWS::IAM::Role.
type Role struct {
	AssumeRolePolicyDocument PolicyDocument `json:"AssumeRolePolicyDocument"`
	Policies                 []RolePolicy   `json:"Policies,omitempty"`
}

// RolePolicy is an inline policy of a role.
type RolePolicy struct {
	PolicyName     string         `json:"PolicyName"`
	PolicyDocument PolicyDocument `json:"PolicyDocument"`
}

// LogGroup is AWS::Logs::LogGroup.
type LogGroup struct {
	LogGroupName    string `json:"LogGroupName"`
	RetentionInDays int    `json:"RetentionInDays"`
}

// Function is AWS::Lambda::Function.
type Function struct {
	FunctionName                 string       `json:"FunctionName"`
	Description                  string       `json:"Description,omitempty"`
	Runtime                      string       `json:"Runtime"`
	Handler                      string       `json:"Handler"`
	Architectures                []string     `json:"Architectures"`
	MemorySize                   int          `json:"MemorySize"`
	Timeout                      int          `json:"Timeout"`
	Role                         any          `json:"Role"`
	Code                         FunctionCode `json:"Code"`
	Environment                  *Environment `json:"Environment,omitempty"`
	ReservedConcurrentExecutions *int         `json:"ReservedConcurrentExecutions,omitempty"`
}

// FunctionCode is where a function's code is.
type FunctionCode struct {
	S3Bucket any `json:"S3Bucket"`
	S3Key    any `json:"S3Key"`
}

// Environment is a function's environment.
type Environment struct {
	Variables map[string]any `json:"Variables"`
}

// Permission is AWS::Lambda::Permission.
type Permission struct {
	Action       string `json:"Action"`
	FunctionName any    `json:"FunctionName"`
	Principal    string `json:"Principal"`
	SourceArn    any    `json:"SourceArn,omitempty"`
}

// RestAPI is AWS::ApiGateway::RestApi.
type RestAPI struct {
	Name             string   `json:"Name"`
	Description      string   `json:"Description,omitempty"`
	BinaryMediaTypes []string `json:"BinaryMediaTypes,omitempty"`
}

// APIResource is AWS::ApiGateway::Resource.
type APIResource struct {
	RestAPIID any    `json:"RestApiId"`
	ParentID  any    `json:"ParentId"`
	PathPart  string `json:"PathPart"`
}

// Method is AWS::ApiGateway::Method.
type Method struct {
	RestAPIID         any          `json:"RestApiId"`
	ResourceID        any          `json:"ResourceId"`
	HTTPMethod        string       `json:"HttpMethod"`
	AuthorizationType string       `json:"AuthorizationType"`
	AuthorizerID      any          `json:"AuthorizerId,omitempty"`
	Integration       *Integration `json:"Integration"`
}

// Integration is a method's integration.
type Integration struct {
	Type                  string `json:"Type"`
	IntegrationHTTPMethod string `json:"IntegrationHttpMethod"`
	URI                   any    `json:"Uri"`
}

// Authorizer is AWS::ApiGateway::Authorizer.
type Authorizer struct {
	Name                         string `json:"Name"`
	RestAPIID                    any    `json:"RestApiId"`
	Type                         string `json:"Type"`
	AuthorizerURI                any    `json:"AuthorizerUri"`
	IdentitySource               string `json:"IdentitySource"`
	AuthorizerResultTTLInSeconds int    `json:"AuthorizerResultTtlInSeconds"`
}

// GatewayResponse is AWS::ApiGateway::GatewayResponse.
type GatewayResponse struct {
	RestAPIID          any               `json:"RestApiId"`
	ResponseType       string            `json:"ResponseType"`
	StatusCode         string            `json:"StatusCode"`
	ResponseParameters map[string]string `json:"ResponseParameters,omitempty"`
	ResponseTemplates  map[string]string `json:"ResponseTemplates,omitempty"`
}

// APIDeployment is AWS::ApiGateway::Deployment.
type APIDeployment struct {
	RestAPIID   any    `json:"RestApiId"`
	Description string `json:"Description,omitempty"`
}

// APIStage is AWS::ApiGateway::Stage.
type APIStage struct {
	RestAPIID    any    `json:"RestApiId"`
	DeploymentID any    `json:"DeploymentId"`
	StageName    string `json:"StageName"`
}

// Table is AWS::DynamoDB::Table.
type Table struct {
	TableName               string                `json:"TableName"`
	BillingMode             string                `json:"BillingMode"`
	AttributeDefinitions    []AttributeDefinition `json:"AttributeDefinitions"`
	KeySchema               []KeySchemaElement    `json:"KeySchema"`
	TimeToLiveSpecification *TimeToLive           `json:"TimeToLiveSpecification,omitempty"`
}

// AttributeDefinition is an attribute of a table's key.
type AttributeDefinition struct {
	AttributeName string `json:"AttributeName"`
	AttributeType string `json:"AttributeType"`
}

// KeySchemaElement is a part of a table's key (HASH or RANGE).
type KeySchemaElement struct {
	AttributeName string `json:"AttributeName"`
	KeyType       string `json:"KeyType"`
}

// TimeToLive names the attribute whose epoch seconds expire an item.
type TimeToLive struct {
	AttributeName string `json:"AttributeName"`
	Enabled       bool   `json:"Enabled"`
}

// Queue is AWS::SQS::Queue.
type Queue struct {
	QueueName              string          `json:"QueueName"`
	VisibilityTimeout      int             `json:"VisibilityTimeout,omitempty"`
	MessageRetentionPeriod int             `json:"MessageRetentionPeriod,omitempty"`
	RedrivePolicy          *RedrivePolicy  `json:"RedrivePolicy,omitempty"`
	RedriveAllowPolicy     *RedriveAllowed `json:"RedriveAllowPolicy,omitempty"`
}

// RedrivePolicy sends a queue's messages to a dead-letter queue after
// maxReceiveCount receives.
type RedrivePolicy struct {
	DeadLetterTargetArn any `json:"deadLetterTargetArn"`
	MaxReceiveCount     int `json:"maxReceiveCount"`
}

// RedriveAllowed says which queues may use a queue as dead-letter queue.
type RedriveAllowed struct {
	RedrivePermission string `json:"redrivePermission"`
	SourceQueueArns   []any  `json:"sourceQueueArns,omitempty"`
}

// QueuePolicy is AWS::SQS::QueuePolicy.
type QueuePolicy struct {
	Queues         []any          `json:"Queues"`
	PolicyDocument PolicyDocument `json:"PolicyDocument"`
}

// EventSourceMapping is AWS::Lambda::EventSourceMapping.
type EventSourceMapping struct {
	EventSourceArn                 any            `json:"EventSourceArn"`
	FunctionName                   any            `json:"FunctionName"`
	BatchSize                      int            `json:"BatchSize"`
	MaximumBatchingWindowInSeconds int            `json:"MaximumBatchingWindowInSeconds,omitempty"`
	FunctionResponseTypes          []string       `json:"FunctionResponseTypes"`
	ScalingConfig                  *ScalingConfig `json:"ScalingConfig,omitempty"`
}

// ScalingConfig bounds the concurrency of an SQS event source mapping.
type ScalingConfig struct {
	MaximumConcurrency int `json:"MaximumConcurrency"`
}

// EventBus is AWS::Events::EventBus.
type EventBus struct {
	Name string `json:"Name"`
}

// Rule is AWS::Events::Rule.
type Rule struct {
	Name               string          `json:"Name"`
	Description        string          `json:"Description,omitempty"`
	EventBusName       any             `json:"EventBusName,omitempty"`
	EventPattern       json.RawMessage `json:"EventPattern,omitempty"`
	ScheduleExpression string          `json:"ScheduleExpression,omitempty"`
	State              string          `json:"State"`
	Targets            []Target        `json:"Targets"`
}

// Target is a target of a rule.
type Target struct {
	ID  string `json:"Id"`
	Arn any    `json:"Arn"`
}
