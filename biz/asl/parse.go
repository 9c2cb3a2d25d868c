package asl

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Parse reads a state machine definition, JSON or YAML, and validates it as
// Step Functions does at CreateStateMachine: an *InvalidDefinition lists
// every problem.
func Parse(data []byte) (*Machine, error) {
	doc, err := decodeDefinition(data)
	if err != nil {
		return nil, &InvalidDefinition{Problems: []string{"SCHEMA_VALIDATION_FAILED: " + err.Error()}}
	}
	return FromValue(doc)
}

// FromValue validates a definition already decoded into JSON values.
func FromValue(doc any) (*Machine, error) {
	root, ok := doc.(map[string]any)
	if !ok {
		return nil, &InvalidDefinition{Problems: []string{"SCHEMA_VALIDATION_FAILED: the definition is not a JSON object at /"}}
	}
	p := &parser{}
	m := p.machine(root, "", true)
	if len(p.problems) > 0 {
		return nil, &InvalidDefinition{Problems: p.problems}
	}
	m.Definition = root
	return m, nil
}

// decodeDefinition decodes JSON or YAML into JSON values (int64, float64,
// string, bool, nil, []any, map[string]any).
func decodeDefinition(data []byte) (any, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) > 0 && trimmed[0] == '{' {
		return DecodeJSON(trimmed)
	}
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		return nil, err
	}
	return normalize(v)
}

// DecodeJSON decodes JSON into the values the engine works on: integers
// as int64, other numbers as float64.
func DecodeJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("more than one JSON value")
	}
	return normalize(v)
}

// normalize turns decoded values into the engine's: int64 and float64
// numbers, map[string]any objects.
func normalize(v any) (any, error) {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i, nil
		}
		f, err := x.Float64()
		if err != nil {
			return nil, fmt.Errorf("number %s: %w", x, err)
		}
		return f, nil
	case int:
		return int64(x), nil
	case int64, float64, string, bool, nil:
		return x, nil
	case uint64:
		if x > math.MaxInt64 {
			return float64(x), nil
		}
		return int64(x), nil
	case float32:
		return float64(x), nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			n, err := normalize(e)
			if err != nil {
				return nil, err
			}
			out[i] = n
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			n, err := normalize(e)
			if err != nil {
				return nil, err
			}
			out[k] = n
		}
		return out, nil
	case map[any]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			ks, ok := k.(string)
			if !ok {
				return nil, fmt.Errorf("key %v is not a string", k)
			}
			n, err := normalize(e)
			if err != nil {
				return nil, err
			}
			out[ks] = n
		}
		return out, nil
	}
	return nil, fmt.Errorf("value %v (%T) is not JSON", v, v)
}

type parser struct {
	problems []string
}

func (p *parser) fail(code, at, format string, args ...any) {
	if at == "" {
		at = "/"
	}
	p.problems = append(p.problems, fmt.Sprintf("%s: %s at %s", code, fmt.Sprintf(format, args...), at))
}

// fields checks that m has only the allowed fields.
func (p *parser) fields(m map[string]any, at string, allowed ...string) {
	ok := map[string]bool{}
	for _, a := range allowed {
		ok[a] = true
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !ok[k] {
			p.fail("SCHEMA_VALIDATION_FAILED", at+"/"+k, "The field '%s' is not supported by Step Functions", k)
		}
	}
}

func (p *parser) str(m map[string]any, key, at string, required bool) string {
	v, ok := m[key]
	if !ok {
		if required {
			p.fail("SCHEMA_VALIDATION_FAILED", at, "The field '%s' is required", key)
		}
		return ""
	}
	s, isStr := v.(string)
	if !isStr {
		p.fail("SCHEMA_VALIDATION_FAILED", at+"/"+key, "The value for the field '%s' must be a STRING", key)
	}
	return s
}

func (p *parser) boolean(m map[string]any, key, at string) bool {
	v, ok := m[key]
	if !ok {
		return false
	}
	b, isBool := v.(bool)
	if !isBool {
		p.fail("SCHEMA_VALIDATION_FAILED", at+"/"+key, "The value for the field '%s' must be a BOOLEAN", key)
	}
	return b
}

// number reads a number field; def when absent.
func (p *parser) number(m map[string]any, key, at string, def float64) float64 {
	v, ok := m[key]
	if !ok {
		return def
	}
	f, isNum := toFloat(v)
	if !isNum {
		p.fail("SCHEMA_VALIDATION_FAILED", at+"/"+key, "The value for the field '%s' must be a NUMBER", key)
	}
	return f
}

// integer reads an integer field between lo and hi; def when absent.
func (p *parser) integer(m map[string]any, key, at string, def, lo, hi int) int {
	if _, ok := m[key]; !ok {
		return def
	}
	f := p.number(m, key, at, float64(def))
	if f != math.Trunc(f) || f < float64(lo) || f > float64(hi) {
		p.fail("SCHEMA_VALIDATION_FAILED", at+"/"+key, "The value for the field '%s' must be an INTEGER between %d and %d", key, lo, hi)
		return def
	}
	return int(f)
}

// path reads an optional path field (absent, null, or a JSONPath); ref
// requires a reference path (ResultPath).
func (p *parser) path(m map[string]any, key, at string, ref bool) optPath {
	v, ok := m[key]
	if !ok {
		return optPath{}
	}
	if v == nil {
		return optPath{Set: true, Null: true}
	}
	s, isStr := v.(string)
	if !isStr {
		p.fail("SCHEMA_VALIDATION_FAILED", at+"/"+key, "The value for the field '%s' must be a STRING", key)
		return optPath{}
	}
	p.checkPath(s, at+"/"+key, ref)
	return optPath{Set: true, Path: s}
}

// checkPath checks a JSONPath (ref: a reference path: definite, no
// context object).
func (p *parser) checkPath(s, at string, ref bool) {
	if ref {
		if _, err := referencePath(s); err != nil {
			p.fail("INVALID_JSON_PATH", at, "Invalid JSON path in field: %s: %v", s, err)
		}
		return
	}
	if _, err := compilePath(s); err != nil {
		p.fail("INVALID_JSON_PATH", at, "Invalid JSON path in field: %s: %v", s, err)
	}
}

// template checks a payload template (Parameters, ResultSelector,
// ItemSelector): fields ending in .$ hold a path or an intrinsic function.
func (p *parser) template(v any, at string) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if strings.HasSuffix(k, ".$") {
				s, ok := e.(string)
				if !ok {
					p.fail("SCHEMA_VALIDATION_FAILED", at+"/"+k, "The value for the field '%s' must be a STRING that contains a JSONPath or an intrinsic function", k)
					continue
				}
				if strings.HasPrefix(s, "States.") {
					if _, err := parseIntrinsic(s); err != nil {
						p.fail("INVALID_INTRINSIC_FUNCTION", at+"/"+k, "The value for the field '%s' must be a valid intrinsic function: %v", k, err)
					}
				} else {
					p.checkPath(s, at+"/"+k, false)
				}
				continue
			}
			p.template(e, at+"/"+k)
		}
	case []any:
		for i, e := range x {
			p.template(e, fmt.Sprintf("%s[%d]", at, i))
		}
	}
}

func (p *parser) object(v any, at, key string) map[string]any {
	m, ok := v.(map[string]any)
	if !ok {
		p.fail("SCHEMA_VALIDATION_FAILED", at, "The value for the field '%s' must be an OBJECT", key)
	}
	return m
}

// machine reads a state machine, a branch or an item processor.
func (p *parser) machine(m map[string]any, at string, top bool) *Machine {
	allowed := []string{"Comment", "StartAt", "States"}
	if top {
		allowed = append(allowed, "TimeoutSeconds", "Version", "QueryLanguage")
	} else {
		allowed = append(allowed, "ProcessorConfig")
	}
	p.fields(m, at, allowed...)
	if ql, ok := m["QueryLanguage"]; ok && ql != "JSONPath" {
		p.fail("SCHEMA_VALIDATION_FAILED", at+"/QueryLanguage", "cws runs the JSONPath query language only, not %v", ql)
	}
	out := &Machine{Comment: p.str(m, "Comment", at, false), StartAt: p.str(m, "StartAt", at, true), States: map[string]*State{}}
	if top {
		out.TimeoutSeconds = p.integer(m, "TimeoutSeconds", at, 0, 0, 99999999)
	}
	if pc, ok := m["ProcessorConfig"].(map[string]any); ok {
		p.fields(pc, at+"/ProcessorConfig", "Mode", "ExecutionType")
		if mode, _ := pc["Mode"].(string); mode != "" && mode != "INLINE" {
			p.fail("SCHEMA_VALIDATION_FAILED", at+"/ProcessorConfig/Mode", "cws runs INLINE maps only, not %s", mode)
		}
	}
	rawStates, ok := m["States"]
	if !ok {
		p.fail("SCHEMA_VALIDATION_FAILED", at, "The field 'States' is required")
		return out
	}
	states := p.object(rawStates, at+"/States", "States")
	if len(states) == 0 && states != nil {
		p.fail("SCHEMA_VALIDATION_FAILED", at+"/States", "The field 'States' must have at least one state")
	}
	names := make([]string, 0, len(states))
	for name := range states {
		names = append(names, name)
	}
	sort.Strings(names)
	out.Order = names
	for _, name := range names {
		sat := at + "/States/" + name
		if len(name) > 80 || name == "" {
			p.fail("SCHEMA_VALIDATION_FAILED", sat, "A state's name must be 1 to 80 characters")
		}
		sm, ok := states[name].(map[string]any)
		if !ok {
			p.fail("SCHEMA_VALIDATION_FAILED", sat, "A state must be an OBJECT")
			continue
		}
		out.States[name] = p.state(name, sm, sat)
	}
	if _, ok := m["StartAt"]; ok {
		if _, ok := out.States[out.StartAt]; !ok {
			p.fail("MISSING_TRANSITION_TARGET", at+"/StartAt", "Missing 'Next' target: %s", out.StartAt)
		}
	}
	p.transitions(out, at)
	return out
}

// transitions checks that every transition names a state of the machine
// and that every state can be reached from StartAt.
func (p *parser) transitions(m *Machine, at string) {
	target := func(name, field, next string) {
		if next == "" {
			return
		}
		if _, ok := m.States[next]; !ok {
			p.fail("MISSING_TRANSITION_TARGET", at+"/States/"+name+"/"+field, "Missing 'Next' target: %s", next)
		}
	}
	for _, name := range m.Order {
		s := m.States[name]
		if s == nil {
			continue
		}
		target(name, "Next", s.Next)
		target(name, "Default", s.Default)
		for i, c := range s.Choices {
			target(name, fmt.Sprintf("Choices[%d]/Next", i), c.Next)
		}
		for i, c := range s.Catch {
			target(name, fmt.Sprintf("Catch[%d]/Next", i), c.Next)
		}
	}
	if _, ok := m.States[m.StartAt]; !ok {
		return
	}
	reached := map[string]bool{}
	var visit func(string)
	visit = func(name string) {
		s, ok := m.States[name]
		if !ok || reached[name] {
			return
		}
		reached[name] = true
		visit(s.Next)
		visit(s.Default)
		for _, c := range s.Choices {
			visit(c.Next)
		}
		for _, c := range s.Catch {
			visit(c.Next)
		}
	}
	visit(m.StartAt)
	for _, name := range m.Order {
		if !reached[name] {
			p.fail("UNREACHABLE_STATE", at+"/States/"+name, "State %s is not reachable", name)
		}
	}
}

// The fields each state type takes, beyond Type and Comment.
var stateFields = map[string][]string{
	TypePass:     {"Next", "End", "InputPath", "OutputPath", "ResultPath", "Parameters", "Result"},
	TypeTask:     {"Next", "End", "InputPath", "OutputPath", "ResultPath", "Parameters", "ResultSelector", "Resource", "TimeoutSeconds", "HeartbeatSeconds", "Retry", "Catch", "Credentials"},
	TypeChoice:   {"InputPath", "OutputPath", "Choices", "Default"},
	TypeWait:     {"Next", "End", "InputPath", "OutputPath", "Seconds", "Timestamp", "SecondsPath", "TimestampPath"},
	TypeSucceed:  {"InputPath", "OutputPath"},
	TypeFail:     {"Error", "Cause", "ErrorPath", "CausePath"},
	TypeParallel: {"Next", "End", "InputPath", "OutputPath", "ResultPath", "Parameters", "ResultSelector", "Branches", "Retry", "Catch"},
	TypeMap:      {"Next", "End", "InputPath", "OutputPath", "ResultPath", "Parameters", "ResultSelector", "ItemsPath", "ItemSelector", "ItemProcessor", "Iterator", "MaxConcurrency", "Retry", "Catch"},
}

func (p *parser) state(name string, m map[string]any, at string) *State {
	s := &State{Name: name, Type: p.str(m, "Type", at, true), Comment: p.str(m, "Comment", at, false)}
	fields, known := stateFields[s.Type]
	if !known {
		if s.Type != "" {
			p.fail("SCHEMA_VALIDATION_FAILED", at+"/Type", "The value for the field 'Type' must be one of Pass, Task, Choice, Wait, Succeed, Fail, Parallel, Map, not %q", s.Type)
		}
		return s
	}
	p.fields(m, at, append([]string{"Type", "Comment"}, fields...)...)
	has := func(f string) bool { _, ok := m[f]; return ok }

	s.Next = p.str(m, "Next", at, false)
	s.End = p.boolean(m, "End", at)
	switch s.Type {
	case TypeChoice, TypeSucceed, TypeFail:
	default:
		switch {
		case has("Next") && has("End"):
			p.fail("SCHEMA_VALIDATION_FAILED", at, "Only one of 'Next' or 'End' can be present")
		case !has("Next") && !s.End:
			p.fail("SCHEMA_VALIDATION_FAILED", at, "This state must have either an 'End' or 'Next' field")
		}
	}
	s.InputPath = p.path(m, "InputPath", at, false)
	s.OutputPath = p.path(m, "OutputPath", at, false)
	s.ResultPath = p.path(m, "ResultPath", at, true)
	if v, ok := m["Parameters"]; ok {
		s.Parameters = v
		p.template(v, at+"/Parameters")
	}
	if v, ok := m["ResultSelector"]; ok {
		s.ResultSelector = v
		p.template(v, at+"/ResultSelector")
	}
	if v, ok := m["Result"]; ok {
		s.Result, s.HasResult = v, true
	}
	s.Retry = p.retriers(m, at)
	s.Catch = p.catchers(m, at)

	switch s.Type {
	case TypeTask:
		s.Resource = p.str(m, "Resource", at, true)
		s.TimeoutSeconds = p.integer(m, "TimeoutSeconds", at, 0, 1, 99999999)
		s.HeartbeatSeconds = p.integer(m, "HeartbeatSeconds", at, 0, 1, 99999999)
	case TypeChoice:
		raw, ok := m["Choices"].([]any)
		if !ok || len(raw) == 0 {
			p.fail("SCHEMA_VALIDATION_FAILED", at+"/Choices", "The field 'Choices' must be a non-empty ARRAY")
		}
		for i, r := range raw {
			s.Choices = append(s.Choices, p.choice(r, fmt.Sprintf("%s/Choices[%d]", at, i), true))
		}
		s.Default = p.str(m, "Default", at, false)
	case TypeWait:
		n := 0
		if has("Seconds") {
			n++
			sec := p.number(m, "Seconds", at, 0)
			if sec < 0 {
				p.fail("SCHEMA_VALIDATION_FAILED", at+"/Seconds", "The value for the field 'Seconds' must not be negative")
			}
			s.Seconds = &sec
		}
		if has("Timestamp") {
			n++
			s.Timestamp = p.str(m, "Timestamp", at, false)
			if _, err := parseTimestamp(s.Timestamp); err != nil {
				p.fail("SCHEMA_VALIDATION_FAILED", at+"/Timestamp", "The value for the field 'Timestamp' must be an ISO-8601 timestamp")
			}
		}
		if has("SecondsPath") {
			n++
			s.SecondsPath = p.str(m, "SecondsPath", at, false)
			p.checkPath(s.SecondsPath, at+"/SecondsPath", false)
		}
		if has("TimestampPath") {
			n++
			s.TimestampPath = p.str(m, "TimestampPath", at, false)
			p.checkPath(s.TimestampPath, at+"/TimestampPath", false)
		}
		if n != 1 {
			p.fail("SCHEMA_VALIDATION_FAILED", at, "A Wait state must have exactly one of 'Seconds', 'Timestamp', 'SecondsPath' or 'TimestampPath'")
		}
	case TypeFail:
		s.Error, s.Cause = p.str(m, "Error", at, false), p.str(m, "Cause", at, false)
		s.ErrorPath, s.CausePath = p.str(m, "ErrorPath", at, false), p.str(m, "CausePath", at, false)
		if has("Error") && has("ErrorPath") {
			p.fail("SCHEMA_VALIDATION_FAILED", at, "Only one of 'Error' or 'ErrorPath' can be present")
		}
		if has("Cause") && has("CausePath") {
			p.fail("SCHEMA_VALIDATION_FAILED", at, "Only one of 'Cause' or 'CausePath' can be present")
		}
		for _, f := range []string{"ErrorPath", "CausePath"} {
			if v := p.str(m, f, at, false); v != "" && !strings.HasPrefix(v, "States.") {
				p.checkPath(v, at+"/"+f, false)
			}
		}
	case TypeParallel:
		raw, ok := m["Branches"].([]any)
		if !ok || len(raw) == 0 {
			p.fail("SCHEMA_VALIDATION_FAILED", at+"/Branches", "The field 'Branches' must be a non-empty ARRAY")
		}
		for i, b := range raw {
			bat := fmt.Sprintf("%s/Branches[%d]", at, i)
			if bm := p.object(b, bat, "Branches"); bm != nil {
				s.Branches = append(s.Branches, p.machine(bm, bat, false))
			}
		}
	case TypeMap:
		s.ItemsPath = p.path(m, "ItemsPath", at, false)
		if v, ok := m["ItemSelector"]; ok {
			s.ItemSelector = v
			p.template(v, at+"/ItemSelector")
		} else if s.Parameters != nil {
			s.ItemSelector, s.Parameters = s.Parameters, nil // the legacy name
		}
		s.MaxConcurrency = p.integer(m, "MaxConcurrency", at, 0, 0, 99999999)
		key := "ItemProcessor"
		if !has(key) && has("Iterator") {
			key = "Iterator"
		}
		if pm := p.object(m[key], at+"/"+key, key); pm != nil {
			s.Processor = p.machine(pm, at+"/"+key, false)
		}
	}
	return s
}

func (p *parser) errorEquals(m map[string]any, at string) []string {
	raw, ok := m["ErrorEquals"].([]any)
	if !ok || len(raw) == 0 {
		p.fail("SCHEMA_VALIDATION_FAILED", at+"/ErrorEquals", "The field 'ErrorEquals' must be a non-empty ARRAY of STRINGs")
		return nil
	}
	var out []string
	for _, e := range raw {
		s, ok := e.(string)
		if !ok {
			p.fail("SCHEMA_VALIDATION_FAILED", at+"/ErrorEquals", "The field 'ErrorEquals' must be a non-empty ARRAY of STRINGs")
			continue
		}
		out = append(out, s)
	}
	for _, s := range out {
		if s == ErrAll && len(out) > 1 {
			p.fail("SCHEMA_VALIDATION_FAILED", at+"/ErrorEquals", "States.ALL must appear alone in 'ErrorEquals'")
		}
	}
	return out
}

func (p *parser) retriers(m map[string]any, at string) []Retrier {
	v, ok := m["Retry"]
	if !ok {
		return nil
	}
	raw, ok := v.([]any)
	if !ok {
		p.fail("SCHEMA_VALIDATION_FAILED", at+"/Retry", "The field 'Retry' must be an ARRAY")
		return nil
	}
	var out []Retrier
	for i, r := range raw {
		rat := fmt.Sprintf("%s/Retry[%d]", at, i)
		rm := p.object(r, rat, "Retry")
		if rm == nil {
			continue
		}
		p.fields(rm, rat, "ErrorEquals", "IntervalSeconds", "MaxAttempts", "BackoffRate", "MaxDelaySeconds", "JitterStrategy", "Comment")
		rt := Retrier{ErrorEquals: p.errorEquals(rm, rat),
			IntervalSeconds: float64(p.integer(rm, "IntervalSeconds", rat, 1, 1, 99999999)),
			MaxAttempts:     p.integer(rm, "MaxAttempts", rat, 3, 0, 99999999),
			BackoffRate:     p.number(rm, "BackoffRate", rat, 2),
			MaxDelaySeconds: float64(p.integer(rm, "MaxDelaySeconds", rat, 0, 1, 31622400)),
			JitterStrategy:  p.str(rm, "JitterStrategy", rat, false)}
		if rt.BackoffRate < 1 {
			p.fail("SCHEMA_VALIDATION_FAILED", rat+"/BackoffRate", "The value for the field 'BackoffRate' must be at least 1.0")
		}
		if rt.JitterStrategy != "" && rt.JitterStrategy != "FULL" && rt.JitterStrategy != "NONE" {
			p.fail("SCHEMA_VALIDATION_FAILED", rat+"/JitterStrategy", "The value for the field 'JitterStrategy' must be FULL or NONE")
		}
		if len(rt.ErrorEquals) == 1 && rt.ErrorEquals[0] == ErrAll && i != len(raw)-1 {
			p.fail("SCHEMA_VALIDATION_FAILED", rat+"/ErrorEquals", "States.ALL must be in the last retrier")
		}
		out = append(out, rt)
	}
	return out
}

func (p *parser) catchers(m map[string]any, at string) []Catcher {
	v, ok := m["Catch"]
	if !ok {
		return nil
	}
	raw, ok := v.([]any)
	if !ok {
		p.fail("SCHEMA_VALIDATION_FAILED", at+"/Catch", "The field 'Catch' must be an ARRAY")
		return nil
	}
	var out []Catcher
	for i, r := range raw {
		cat := fmt.Sprintf("%s/Catch[%d]", at, i)
		cm := p.object(r, cat, "Catch")
		if cm == nil {
			continue
		}
		p.fields(cm, cat, "ErrorEquals", "Next", "ResultPath", "Comment")
		c := Catcher{ErrorEquals: p.errorEquals(cm, cat), Next: p.str(cm, "Next", cat, true), ResultPath: p.path(cm, "ResultPath", cat, true)}
		if len(c.ErrorEquals) == 1 && c.ErrorEquals[0] == ErrAll && i != len(raw)-1 {
			p.fail("SCHEMA_VALIDATION_FAILED", cat+"/ErrorEquals", "States.ALL must be in the last catcher")
		}
		out = append(out, c)
	}
	return out
}

// comparisons are the Choice operators; those ending in Path compare with
// another path's value.
var comparisons = map[string]string{
	"StringEquals": "string", "StringLessThan": "string", "StringGreaterThan": "string",
	"StringLessThanEquals": "string", "StringGreaterThanEquals": "string", "StringMatches": "string",
	"NumericEquals": "number", "NumericLessThan": "number", "NumericGreaterThan": "number",
	"NumericLessThanEquals": "number", "NumericGreaterThanEquals": "number",
	"BooleanEquals":   "boolean",
	"TimestampEquals": "timestamp", "TimestampLessThan": "timestamp", "TimestampGreaterThan": "timestamp",
	"TimestampLessThanEquals": "timestamp", "TimestampGreaterThanEquals": "timestamp",
	"IsNull": "boolean", "IsPresent": "boolean", "IsNumeric": "boolean", "IsString": "boolean",
	"IsBoolean": "boolean", "IsTimestamp": "boolean",
}

func (p *parser) choice(v any, at string, top bool) *ChoiceRule {
	m := p.object(v, at, "Choices")
	r := &ChoiceRule{}
	if m == nil {
		return r
	}
	if top {
		r.Next = p.str(m, "Next", at, true)
	} else if _, ok := m["Next"]; ok {
		p.fail("SCHEMA_VALIDATION_FAILED", at+"/Next", "Only the top-level rules of 'Choices' take 'Next'")
	}
	list := func(key string) []*ChoiceRule {
		raw, ok := m[key].([]any)
		if !ok || len(raw) == 0 {
			p.fail("SCHEMA_VALIDATION_FAILED", at+"/"+key, "The field '%s' must be a non-empty ARRAY", key)
			return nil
		}
		var out []*ChoiceRule
		for i, e := range raw {
			out = append(out, p.choice(e, fmt.Sprintf("%s/%s[%d]", at, key, i), false))
		}
		return out
	}
	ops := 0
	for k, e := range m {
		switch k {
		case "Next", "Comment", "Variable":
		case "And":
			r.And, ops = list("And"), ops+1
		case "Or":
			r.Or, ops = list("Or"), ops+1
		case "Not":
			if nm, ok := e.(map[string]any); ok {
				r.Not = p.choice(nm, at+"/Not", false)
			} else {
				p.fail("SCHEMA_VALIDATION_FAILED", at+"/Not", "The field 'Not' must be an OBJECT")
			}
			ops++
		default:
			op, isPath := k, strings.HasSuffix(k, "Path")
			if isPath {
				op = strings.TrimSuffix(k, "Path")
			}
			kind, ok := comparisons[op]
			if !ok || (isPath && strings.HasPrefix(op, "Is")) || (isPath && op == "StringMatches") {
				p.fail("SCHEMA_VALIDATION_FAILED", at+"/"+k, "The field '%s' is not supported by Step Functions", k)
				continue
			}
			ops++
			r.Op, r.Value = k, e
			switch {
			case isPath:
				s, ok := e.(string)
				if !ok {
					p.fail("SCHEMA_VALIDATION_FAILED", at+"/"+k, "The value for the field '%s' must be a STRING", k)
				} else {
					p.checkPath(s, at+"/"+k, false)
				}
			case kind == "string" || kind == "timestamp":
				s, ok := e.(string)
				if !ok {
					p.fail("SCHEMA_VALIDATION_FAILED", at+"/"+k, "The value for the field '%s' must be a STRING", k)
				} else if kind == "timestamp" {
					if _, err := parseTimestamp(s); err != nil {
						p.fail("SCHEMA_VALIDATION_FAILED", at+"/"+k, "The value for the field '%s' must be an ISO-8601 timestamp", k)
					}
				}
			case kind == "number":
				if _, ok := toFloat(e); !ok {
					p.fail("SCHEMA_VALIDATION_FAILED", at+"/"+k, "The value for the field '%s' must be a NUMBER", k)
				}
			case kind == "boolean":
				if _, ok := e.(bool); !ok {
					p.fail("SCHEMA_VALIDATION_FAILED", at+"/"+k, "The value for the field '%s' must be a BOOLEAN", k)
				}
			}
		}
	}
	if ops != 1 {
		p.fail("SCHEMA_VALIDATION_FAILED", at, "A choice rule must have exactly one comparison or one of And, Or, Not")
	}
	if r.Op != "" {
		r.Variable = p.str(m, "Variable", at, true)
		if r.Variable != "" {
			p.checkPath(r.Variable, at+"/Variable", false)
		}
	} else if _, ok := m["Variable"]; ok {
		p.fail("SCHEMA_VALIDATION_FAILED", at+"/Variable", "And, Or and Not take no 'Variable'")
	}
	return r
}
