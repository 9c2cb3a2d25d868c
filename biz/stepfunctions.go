package biz

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/coworks-go/cws/biz/asl"
	"github.com/coworks-go/cws/events/invoke"
)

// StepFunctionsTargets says where a deployed workflow's cws tasks go.
type StepFunctionsTargets struct {
	// QueueURL returns the SQS queue of a service's cws.invoke events ("":
	// the workflow's own service).
	QueueURL func(service string) (string, error)
	// EventBus is the EventBridge bus of cws:publish (name or ARN).
	EventBus string
	// Source is the source of the events the workflow sends (default
	// cws/workflow/NAME).
	Source string
}

// The Step Functions resources the cws tasks become.
const (
	ResourceSQSWaitForTaskToken = "arn:aws:states:::sqs:sendMessage.waitForTaskToken"
	ResourcePutEvents           = "arn:aws:states:::events:putEvents"
)

// CompileStepFunctions returns the definition of a workflow that Step
// Functions runs, the same machine with its cws tasks made AWS service
// integrations:
//
//   - a cws:invoke task sends the cws.invoke CloudEvent of its call to the
//     target service's queue with its task token
//     (sqs:sendMessage.waitForTaskToken); the service's CloudEvents door
//     answers with SendTaskSuccess (the entry's answer) or SendTaskFailure
//     (cws.Status.NNN and the problem), so the task ends as it does on the
//     embedded engine;
//   - a cws:publish task puts its event on the bus (events:putEvents), the
//     CloudEvent as the detail, and its result is {"id": the EventBridge
//     event's id};
//   - cws.Status.4xx and cws.Status.5xx in ErrorEquals become the list of
//     the statuses of their class.
func CompileStepFunctions(wf *Workflow, t StepFunctionsTargets) ([]byte, error) {
	def, ok := deepCopyJSON(wf.Machine.Definition).(map[string]any)
	if !ok {
		return nil, fmt.Errorf("workflow %s: no definition", wf.Name)
	}
	if t.Source == "" {
		t.Source = "cws/workflow/" + wf.Name
	}
	if err := compileMachine(def, t, "/"); err != nil {
		return nil, fmt.Errorf("workflow %s: %w", wf.Name, err)
	}
	return json.MarshalIndent(def, "", "  ")
}

func compileMachine(m map[string]any, t StepFunctionsTargets, at string) error {
	states, _ := m["States"].(map[string]any)
	for name, v := range states {
		s, _ := v.(map[string]any)
		if s == nil {
			continue
		}
		sat := at + "States/" + name
		for _, key := range []string{"Retry", "Catch"} {
			list, _ := s[key].([]any)
			for _, e := range list {
				if em, ok := e.(map[string]any); ok {
					em["ErrorEquals"] = expandStatusClasses(em["ErrorEquals"])
				}
			}
		}
		switch s["Type"] {
		case asl.TypeTask:
			var err error
			switch s["Resource"] {
			case ResourceInvoke:
				err = compileInvoke(s, t)
			case ResourcePublish:
				err = compilePublish(s, t)
			}
			if err != nil {
				return fmt.Errorf("%s: %w", sat, err)
			}
		case asl.TypeParallel:
			branches, _ := s["Branches"].([]any)
			for i, b := range branches {
				if bm, ok := b.(map[string]any); ok {
					if err := compileMachine(bm, t, fmt.Sprintf("%s/Branches[%d]/", sat, i)); err != nil {
						return err
					}
				}
			}
		case asl.TypeMap:
			for _, key := range []string{"ItemProcessor", "Iterator"} {
				if pm, ok := s[key].(map[string]any); ok {
					if err := compileMachine(pm, t, sat+"/"+key+"/"); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}

// param reads a cws task's parameter: its literal value, or its .$
// expression.
func param(p map[string]any, key string) (literal any, expr string, ok bool) {
	if v, found := p[key]; found {
		return v, "", true
	}
	if v, found := p[key+".$"].(string); found {
		return nil, v, true
	}
	return nil, "", false
}

// formatArg is a value as an argument of States.Format: a quoted literal,
// or its path or intrinsic function.
func formatArg(literal any, expr string) string {
	if expr != "" {
		return expr
	}
	s := fmt.Sprint(literal)
	r := strings.NewReplacer(`\`, `\\`, `'`, `\'`, `{`, `\{`, `}`, `\}`)
	return "'" + r.Replace(s) + "'"
}

func compileInvoke(s map[string]any, t StepFunctionsTargets) error {
	p, _ := s["Parameters"].(map[string]any)
	if p == nil {
		return fmt.Errorf("%s takes Parameters method, path and body", ResourceInvoke)
	}
	service, _ := p["service"].(string)
	if t.QueueURL == nil {
		return fmt.Errorf("no queue for the cws:invoke tasks")
	}
	url, err := t.QueueURL(service)
	if err != nil {
		return err
	}
	mLit, mExpr, ok1 := param(p, "method")
	pLit, pExpr, ok2 := param(p, "path")
	if !ok1 || !ok2 {
		return fmt.Errorf("%s takes Parameters method and path", ResourceInvoke)
	}
	if mExpr == "" {
		mLit = strings.ToUpper(fmt.Sprint(mLit))
	}
	event := map[string]any{
		"specversion": "1.0", "id.$": "States.UUID()", "source": t.Source, "type": invoke.Type,
		"time.$": "$$.State.EnteredTime", invoke.ExtTaskToken + ".$": "$$.Task.Token",
	}
	if mExpr == "" && pExpr == "" {
		event["subject"] = fmt.Sprintf("%s %s", mLit, pLit)
	} else {
		event["subject.$"] = fmt.Sprintf("States.Format('{} {}', %s, %s)", formatArg(mLit, mExpr), formatArg(pLit, pExpr))
	}
	if lit, expr, ok := param(p, "body"); ok {
		event["datacontenttype"] = "application/json"
		if expr != "" {
			event["data.$"] = expr
		} else {
			event["data"] = lit
		}
	}
	s["Resource"] = ResourceSQSWaitForTaskToken
	s["Parameters"] = map[string]any{"QueueUrl": url, "MessageBody": event}
	return nil
}

func compilePublish(s map[string]any, t StepFunctionsTargets) error {
	p, _ := s["Parameters"].(map[string]any)
	if p == nil {
		return fmt.Errorf("%s takes Parameters type and data", ResourcePublish)
	}
	if _, ok := s["ResultSelector"]; ok {
		return fmt.Errorf("a %s task's result is {\"id\"}: it takes no ResultSelector", ResourcePublish)
	}
	if t.EventBus == "" {
		return fmt.Errorf("no event bus for the cws:publish tasks")
	}
	source := t.Source
	if v, ok := p["source"].(string); ok {
		source = v
	}
	detail := map[string]any{"specversion": "1.0", "id.$": "States.UUID()", "source": source, "time.$": "$$.State.EnteredTime"}
	entry := map[string]any{"EventBusName": t.EventBus, "Source": source}
	tLit, tExpr, ok := param(p, "type")
	if !ok {
		return fmt.Errorf("%s takes a type", ResourcePublish)
	}
	if tExpr != "" {
		detail["type.$"], entry["DetailType.$"] = tExpr, tExpr
	} else {
		detail["type"], entry["DetailType"] = tLit, tLit
	}
	if lit, expr, ok := param(p, "subject"); ok {
		if expr != "" {
			detail["subject.$"] = expr
		} else {
			detail["subject"] = lit
		}
	}
	if lit, expr, ok := param(p, "data"); ok {
		detail["datacontenttype"] = "application/json"
		if expr != "" {
			detail["data.$"] = expr
		} else {
			detail["data"] = lit
		}
	}
	entry["Detail"] = detail
	s["Resource"] = ResourcePutEvents
	s["Parameters"] = map[string]any{"Entries": []any{entry}}
	s["ResultSelector"] = map[string]any{"id.$": "$.Entries[0].EventId"}
	return nil
}

// expandStatusClasses replaces cws.Status.4xx and cws.Status.5xx by the
// statuses of their class: Step Functions matches error names exactly.
func expandStatusClasses(v any) any {
	list, ok := v.([]any)
	if !ok {
		return v
	}
	var out []any
	seen := map[string]bool{}
	add := func(s string) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, e := range list {
		s, _ := e.(string)
		m := statusClass.FindStringSubmatch(s)
		if m == nil {
			add(s)
			continue
		}
		class, _ := strconv.Atoi(m[1])
		for code := class * 100; code < class*100+100; code++ {
			if http.StatusText(code) != "" {
				add(invoke.StatusError(code))
			}
		}
	}
	return out
}

func deepCopyJSON(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = deepCopyJSON(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = deepCopyJSON(e)
		}
		return out
	}
	return v
}
