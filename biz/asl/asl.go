// Package asl runs workflows written in the Amazon States Language, the
// language of AWS Step Functions, with JSONPath: the same definition runs
// here, in process, with no AWS, and deployed as a Step Functions state
// machine.
//
// Parse reads a definition (JSON or YAML) and validates it as Step
// Functions does when a state machine is created (an *InvalidDefinition
// names each mistake and where it is). Run executes it: Pass, Task,
// Choice, Wait, Succeed, Fail, Parallel and Map (inline) states, the input
// and output processing (InputPath, Parameters, ResultSelector,
// ResultPath, OutputPath), Retry and Catch, the context object ($$), the
// intrinsic functions (States.Format …) and the predefined errors
// (States.ALL, States.Runtime, States.TaskFailed …). Each execution keeps a
// history of events shaped as Step Functions' GetExecutionHistory.
//
// Task states call a TaskRunner with their resource and effective input;
// package biz gives one that calls a service's tech entries (cws:invoke)
// and publishes events (cws:publish). Time (Wait, Retry intervals) comes
// from a Clock, so that tests never sleep.
package asl

import (
	"fmt"
	"strings"
)

// Error is a failure with a Step Functions error name (States.Runtime, a
// Fail state's Error, a task's) and its cause.
type Error struct {
	Name  string `json:"Error"`
	Cause string `json:"Cause"`
}

func (e *Error) Error() string {
	if e.Cause == "" {
		return e.Name
	}
	return e.Name + ": " + e.Cause
}

// Errorf returns an *Error named name with a formatted cause.
func Errorf(name, format string, args ...any) *Error {
	return &Error{Name: name, Cause: fmt.Sprintf(format, args...)}
}

// The predefined error names.
const (
	ErrAll                   = "States.ALL"
	ErrRuntime               = "States.Runtime"
	ErrTaskFailed            = "States.TaskFailed"
	ErrTimeout               = "States.Timeout"
	ErrHeartbeatTimeout      = "States.HeartbeatTimeout"
	ErrNoChoiceMatched       = "States.NoChoiceMatched"
	ErrBranchFailed          = "States.BranchFailed"
	ErrPermissions           = "States.Permissions"
	ErrResultPathMatch       = "States.ResultPathMatchFailure"
	ErrParameterPathFailure  = "States.ParameterPathFailure"
	ErrIntrinsicFailure      = "States.IntrinsicFailure"
	ErrQueryEvaluationError  = "States.QueryEvaluationError"
	ErrExceedToleratedFailed = "States.ExceedToleratedFailureThreshold"
)

// InvalidDefinition is a definition Step Functions would refuse at
// CreateStateMachine (its error code), with every problem found, each as
// "CODE: message at /path".
type InvalidDefinition struct {
	Problems []string
}

func (e *InvalidDefinition) Error() string {
	return "InvalidDefinition: Invalid State Machine Definition: '" + strings.Join(e.Problems, ", ") + "'"
}

// Code is the AWS error code: InvalidDefinition.
func (e *InvalidDefinition) Code() string { return "InvalidDefinition" }

// The state types.
const (
	TypePass     = "Pass"
	TypeTask     = "Task"
	TypeChoice   = "Choice"
	TypeWait     = "Wait"
	TypeSucceed  = "Succeed"
	TypeFail     = "Fail"
	TypeParallel = "Parallel"
	TypeMap      = "Map"
)

// Machine is a validated state machine, or one branch or item processor of
// one.
type Machine struct {
	Comment        string
	StartAt        string
	States         map[string]*State
	TimeoutSeconds int
	// Order is the states' names in the definition's order.
	Order []string
	// Definition is the definition as parsed (JSON values), for compiling
	// and drawing.
	Definition map[string]any
}

// State is one state of a machine.
type State struct {
	Name    string
	Type    string
	Comment string
	Next    string
	End     bool

	InputPath, OutputPath, ResultPath optPath
	Parameters                        any // a payload template, nil if none
	ResultSelector                    any
	Result                            any
	HasResult                         bool

	// Task
	Resource         string
	TimeoutSeconds   int
	HeartbeatSeconds int
	Retry            []Retrier
	Catch            []Catcher

	// Choice
	Choices []*ChoiceRule
	Default string

	// Wait
	Seconds       *float64
	Timestamp     string
	SecondsPath   string
	TimestampPath string

	// Fail
	Error, Cause, ErrorPath, CausePath string

	// Parallel
	Branches []*Machine

	// Map
	ItemsPath      optPath
	ItemSelector   any
	Processor      *Machine
	MaxConcurrency int
}

// optPath is a path field: absent (the default, "$"), null (discard), or a
// path.
type optPath struct {
	Set  bool   // present in the definition
	Null bool   // present and null
	Path string // when present and not null
}

// or returns the path, or def when absent.
func (p optPath) or(def string) (string, bool) {
	switch {
	case !p.Set:
		return def, true
	case p.Null:
		return "", false
	}
	return p.Path, true
}

// Retrier is a Retry field's element.
type Retrier struct {
	ErrorEquals     []string
	IntervalSeconds float64
	MaxAttempts     int
	BackoffRate     float64
	MaxDelaySeconds float64
	JitterStrategy  string
}

// Catcher is a Catch field's element.
type Catcher struct {
	ErrorEquals []string
	Next        string
	ResultPath  optPath
}

// ChoiceRule is a rule of a Choice state: a comparison of Variable, or a
// combination (And, Or, Not) of rules; Next at the top level.
type ChoiceRule struct {
	Variable string
	// Op is the comparison operator (StringEquals, NumericLessThanPath,
	// IsPresent …), Value its operand (a path for …Path operators).
	Op    string
	Value any
	And   []*ChoiceRule
	Or    []*ChoiceRule
	Not   *ChoiceRule
	Next  string
}
