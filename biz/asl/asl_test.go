package asl_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coworks-go/cws/biz/asl"
)

// fakeClock records the sleeps asked of it and advances at once.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

func newClock() *fakeClock { return &fakeClock{now: time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sleeps = append(c.sleeps, d)
	if d > 0 {
		c.now = c.now.Add(d)
	}
	return ctx.Err()
}

func parse(t *testing.T, def string) *asl.Machine {
	t.Helper()
	m, err := asl.Parse([]byte(def))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func run(t *testing.T, m *asl.Machine, input string, opts ...asl.Option) *asl.Execution {
	t.Helper()
	in, err := asl.DecodeJSON([]byte(input))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return m.Run(ctx, in, opts...)
}

func succeeded(t *testing.T, e *asl.Execution) string {
	t.Helper()
	status, out, errName, cause := e.Status()
	if status != asl.StatusSucceeded {
		t.Fatalf("status %s: %s %s", status, errName, cause)
	}
	return mustJSON(out)
}

func TestRetryBackoffAndCatch(t *testing.T) {
	m := parse(t, `{"StartAt":"Call","States":{
	  "Call":{"Type":"Task","Resource":"test:flaky","Retry":[
	      {"ErrorEquals":["Transient"],"IntervalSeconds":2,"MaxAttempts":3,"BackoffRate":3,"MaxDelaySeconds":10},
	      {"ErrorEquals":["States.ALL"],"MaxAttempts":0}],
	    "Catch":[{"ErrorEquals":["States.TaskFailed"],"ResultPath":"$.error","Next":"Caught"}],"End":true},
	  "Caught":{"Type":"Pass","End":true}}}`)
	var calls atomic.Int32
	failing := func(name string) asl.TaskFunc {
		return func(ctx context.Context, task *asl.Task) (any, error) {
			calls.Add(1)
			return nil, &asl.Error{Name: name, Cause: fmt.Sprintf("attempt %d", task.Attempt)}
		}
	}
	// Transient: retried 3 times after 2, 6 and 10 s (capped), then caught
	// by States.TaskFailed (a wildcard of task errors).
	clock := newClock()
	e := run(t, m, `{"order":"A-1"}`, asl.WithTasks(failing("Transient")), asl.WithClock(clock))
	if out := succeeded(t, e); out != `{"error":{"Cause":"attempt 3","Error":"Transient"},"order":"A-1"}` {
		t.Errorf("output %s", out)
	}
	if calls.Load() != 4 || fmt.Sprint(clock.sleeps) != "[2s 6s 10s]" {
		t.Errorf("%d calls, sleeps %v", calls.Load(), clock.sleeps)
	}
	// Another error: the States.ALL retrier with MaxAttempts 0 never
	// retries; caught at once.
	calls.Store(0)
	e = run(t, m, `{}`, asl.WithTasks(failing("Other")), asl.WithClock(newClock()))
	if out := succeeded(t, e); !strings.Contains(out, `"Error":"Other"`) || calls.Load() != 1 {
		t.Errorf("output %s after %d calls", out, calls.Load())
	}
	// A task that succeeds: its result, through ResultPath's default.
	e = run(t, m, `{"a":1}`, asl.WithTasks(asl.TaskFunc(func(ctx context.Context, task *asl.Task) (any, error) {
		return map[string]any{"got": task.Input}, nil
	})))
	if out := succeeded(t, e); out != `{"got":{"a":1}}` {
		t.Errorf("output %s", out)
	}
	// A plain error is States.TaskFailed with the error as its cause.
	e = run(t, parse(t, `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"x","End":true}}}`), `{}`,
		asl.WithTasks(asl.TaskFunc(func(context.Context, *asl.Task) (any, error) { return nil, errors.New("connection refused") })))
	if status, _, name, cause := e.Status(); status != asl.StatusFailed || name != asl.ErrTaskFailed || cause != "connection refused" {
		t.Errorf("%s %s %s", status, name, cause)
	}
}

func TestRuntimeErrorsAreNeverCaught(t *testing.T) {
	m := parse(t, `{"StartAt":"T","States":{
	  "T":{"Type":"Task","Resource":"x","OutputPath":"$.missing","Retry":[{"ErrorEquals":["States.ALL"]}],
	    "Catch":[{"ErrorEquals":["States.ALL"],"Next":"C"}],"End":true},
	  "C":{"Type":"Pass","End":true}}}`)
	e := run(t, m, `{}`, asl.WithTasks(asl.TaskFunc(func(context.Context, *asl.Task) (any, error) { return map[string]any{"a": 1}, nil })))
	if status, _, name, _ := e.Status(); status != asl.StatusFailed || name != asl.ErrRuntime {
		t.Errorf("%s %s", status, name)
	}
}

func TestTaskTimeout(t *testing.T) {
	m := parse(t, `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"slow","TimeoutSeconds":1,
	  "Catch":[{"ErrorEquals":["States.TaskFailed"],"Next":"Wrong"},{"ErrorEquals":["States.Timeout"],"Next":"Late"}],"End":true},
	  "Wrong":{"Type":"Pass","Result":"wrong","End":true},"Late":{"Type":"Pass","Result":"late","End":true}}}`)
	e := run(t, m, `{}`, asl.WithTasks(asl.TaskFunc(func(ctx context.Context, _ *asl.Task) (any, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	})))
	if out := succeeded(t, e); out != `"late"` {
		t.Errorf("a timed out task: %s (States.TaskFailed does not match States.Timeout)", out)
	}
	var types []string
	for _, ev := range e.History() {
		types = append(types, ev.Type)
	}
	if !strings.Contains(strings.Join(types, " "), "TaskStarted TaskTimedOut") {
		t.Errorf("history %v", types)
	}
}

func TestMapAndParallel(t *testing.T) {
	m := parse(t, `{"StartAt":"Each","States":{
	  "Each":{"Type":"Map","ItemsPath":"$.orders","MaxConcurrency":2,
	    "ItemSelector":{"index.$":"$$.Map.Item.Index","order.$":"$$.Map.Item.Value","currency.$":"$.currency"},
	    "ItemProcessor":{"StartAt":"Price","States":{"Price":{"Type":"Task","Resource":"price","End":true}}},
	    "ResultPath":"$.priced","Next":"Both"},
	  "Both":{"Type":"Parallel","Branches":[
	      {"StartAt":"Count","States":{"Count":{"Type":"Pass","Parameters":{"n.$":"States.ArrayLength($.priced)"},"End":true}}},
	      {"StartAt":"Sum","States":{"Sum":{"Type":"Pass","Parameters":{"first.$":"$.priced[0].total"},"End":true}}}],
	    "ResultSelector":{"count.$":"$[0].n","first.$":"$[1].first"},"End":true}}}`)
	var running, peak atomic.Int32
	tasks := asl.TaskFunc(func(ctx context.Context, task *asl.Task) (any, error) {
		n := running.Add(1)
		defer running.Add(-1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		time.Sleep(5 * time.Millisecond)
		in := task.Input.(map[string]any)
		return map[string]any{"total": in["order"].(map[string]any)["qty"].(int64) * 10, "index": in["index"], "currency": in["currency"]}, nil
	})
	e := run(t, m, `{"currency":"EUR","orders":[{"qty":1},{"qty":2},{"qty":3},{"qty":4},{"qty":5}]}`, asl.WithTasks(tasks))
	if out := succeeded(t, e); out != `{"count":5,"first":10}` {
		t.Errorf("output %s", out)
	}
	if peak.Load() != 2 {
		t.Errorf("MaxConcurrency 2: %d tasks ran at once", peak.Load())
	}
	entered := asl.StatesEntered(e.History())
	if len(entered) != 1+5+1+2 || entered[0] != "Each" {
		t.Errorf("states entered: %v", entered)
	}
}

func TestWait(t *testing.T) {
	m := parse(t, `{"StartAt":"A","States":{
	  "A":{"Type":"Wait","Seconds":90,"Next":"B"},
	  "B":{"Type":"Wait","SecondsPath":"$.s","Next":"C"},
	  "C":{"Type":"Wait","TimestampPath":"$.at","Next":"D"},
	  "D":{"Type":"Wait","Timestamp":"2026-11-29T12:00:00Z","End":true}}}`)
	clock := newClock()
	// At 12:00 + 90 s + 30 s, wait until 12:05: 180 s more; then a past
	// timestamp waits not at all.
	e := run(t, m, `{"s":30,"at":"2026-11-29T12:05:00Z"}`, asl.WithClock(clock))
	succeeded(t, e)
	if fmt.Sprint(clock.sleeps) != "[1m30s 30s 3m0s -5m0s]" {
		t.Errorf("sleeps %v", clock.sleeps)
	}
	e = run(t, m, `{"s":"soon","at":"x"}`, asl.WithClock(newClock()))
	if status, _, name, _ := e.Status(); status != asl.StatusFailed || name != asl.ErrRuntime {
		t.Errorf("a SecondsPath that is no number: %s %s", status, name)
	}
}

func TestChoiceOperators(t *testing.T) {
	for _, c := range []struct {
		rule, input string
		want        bool
	}{
		{`"Variable":"$.s","StringMatches":"log-*.txt"`, `{"s":"log-2026.txt"}`, true},
		{`"Variable":"$.s","StringMatches":"a\\*b"`, `{"s":"a*b"}`, true},
		{`"Variable":"$.s","StringMatches":"a\\*b"`, `{"s":"axb"}`, false},
		{`"Variable":"$.a","NumericLessThanPath":"$.b"`, `{"a":1,"b":1.5}`, true},
		{`"Variable":"$.a","StringGreaterThanEqualsPath":"$.b"`, `{"a":"b","b":"a"}`, true},
		{`"Variable":"$.t","TimestampLessThan":"2026-01-01T00:00:00Z"`, `{"t":"2025-12-31T23:59:59Z"}`, true},
		{`"Variable":"$.t","IsTimestamp":true`, `{"t":"2025-12-31"}`, false},
		{`"Variable":"$.x","IsPresent":false`, `{}`, true},
		{`"Variable":"$.x","IsNull":true`, `{"x":null}`, true},
		{`"Variable":"$.x","IsBoolean":true`, `{"x":false}`, true},
		{`"Variable":"$.x","BooleanEqualsPath":"$.y"`, `{"x":true,"y":true}`, true},
		{`"Not":{"Variable":"$.n","NumericEquals":3}`, `{"n":3}`, false},
	} {
		m := parse(t, `{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{`+c.rule+`,"Next":"Yes"}],"Default":"No"},
		  "Yes":{"Type":"Pass","Result":true,"End":true},"No":{"Type":"Pass","Result":false,"End":true}}}`)
		if out := succeeded(t, run(t, m, c.input)); out != fmt.Sprint(c.want) {
			t.Errorf("%s on %s: %s", c.rule, c.input, out)
		}
	}
	// A path that matches nothing is States.Runtime.
	m := parse(t, `{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.nope","StringEquals":"x","Next":"D"}],"Default":"D"},"D":{"Type":"Succeed"}}}`)
	if status, _, name, _ := run(t, m, `{}`).Status(); status != asl.StatusFailed || name != asl.ErrRuntime {
		t.Errorf("a missing Variable: %s %s", status, name)
	}
}

func TestIntrinsics(t *testing.T) {
	for expr, want := range map[string]string{
		`States.Format('Hello, {}! You have {} items \\{braces\\}', $.name, $.n)`: `"Hello, Ann! You have 3 items {braces}"`,
		`States.Format('{}', $.obj)`:                                           `"{\"k\":[1,2]}"`,
		`States.Array($.n, 'two', States.Array(true, null))`:                   `[3,"two",[true,null]]`,
		`States.ArrayRange(1, 9, 3)`:                                           `[1,4,7]`,
		`States.ArrayGetItem($.obj.k, 1)`:                                      `2`,
		`States.Hash('input data', 'SHA-256')`:                                 `"b4a697a057313163aee33cd8d40c66e9f0f177e00cac2de32475ffff6169c3e3"`,
		`States.Base64Decode(States.Base64Encode('ünïcode'))`:                  `"ünïcode"`,
		`States.StringSplit('a, b,,c', ', ')`:                                  `["a","b","c"]`,
		`States.MathAdd($.n, -5)`:                                              `-2`,
		`States.MathRandom(1, 1000, 42)`:                                       `"seeded"`,
		`States.JsonMerge($.obj, States.StringToJson('{"k":0,"z":1}'), false)`: `{"k":0,"z":1}`,
		`States.JsonToString($.obj)`:                                           `"{\"k\":[1,2]}"`,
		`States.ArrayContains($.obj.k, 2)`:                                     `true`,
		`States.ArrayUnique(States.Array(1, 1.0, 'a', 'a'))`:                   `[1,"a"]`,
	} {
		def := fmt.Sprintf(`{"StartAt":"A","States":{"A":{"Type":"Pass","Parameters":{"v.$":%q},"OutputPath":"$.v","End":true}}}`, expr)
		m, err := asl.Parse([]byte(def))
		if err != nil {
			t.Errorf("%s: %v", expr, err)
			continue
		}
		e := run(t, m, `{"name":"Ann","n":3,"obj":{"k":[1,2]}}`)
		status, out, name, cause := e.Status()
		got := mustJSON(out)
		if want == `"seeded"` {
			first := got
			again := mustJSON(func() any { _, o, _, _ := run(t, m, `{"name":"Ann","n":3,"obj":{"k":[1,2]}}`).Status(); return o }())
			if status != asl.StatusSucceeded || first != again {
				t.Errorf("%s: %s then %s: a seed gives the same number", expr, first, again)
			}
			continue
		}
		if status != asl.StatusSucceeded || got != want {
			t.Errorf("%s = %s (%s %s), want %s", expr, got, name, cause, want)
		}
	}
	// UUIDs are version 4, and differ.
	m := parse(t, `{"StartAt":"A","States":{"A":{"Type":"Pass","Parameters":{"a.$":"States.UUID()","b.$":"States.UUID()"},"End":true}}}`)
	_, out, _, _ := run(t, m, `{}`).Status()
	ids := out.(map[string]any)
	if a, b := ids["a"].(string), ids["b"].(string); a == b || len(a) != 36 || a[14] != '4' {
		t.Errorf("UUIDs %s %s", a, b)
	}
}

func TestInvalidDefinitions(t *testing.T) {
	for def, want := range map[string]string{
		`{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"Nowhere"}}}`:                                                                         "MISSING_TRANSITION_TARGET: Missing 'Next' target: Nowhere at /States/A/Next",
		`{"StartAt":"A","States":{"A":{"Type":"Pass","End":true,"Colour":"red"}}}`:                                                                "SCHEMA_VALIDATION_FAILED: The field 'Colour' is not supported by Step Functions at /States/A/Colour",
		`{"StartAt":"A","States":{"A":{"Type":"Choice","Choices":[]}}}`:                                                                           "The field 'Choices' must be a non-empty ARRAY at /States/A/Choices",
		`{"StartAt":"A","States":{"A":{"Type":"Wait","Seconds":1,"Timestamp":"2026-01-01T00:00:00Z","End":true}}}`:                                "exactly one of 'Seconds'",
		`{"StartAt":"A","States":{"A":{"Type":"Pass","InputPath":"a.b","End":true}}}`:                                                             "INVALID_JSON_PATH",
		`{"StartAt":"A","States":{"A":{"Type":"Pass","ResultPath":"$.a[*]","End":true}}}`:                                                         "INVALID_JSON_PATH",
		`{"StartAt":"A","States":{"A":{"Type":"Pass","Parameters":{"x.$":"States.Nope(1)"},"End":true}}}`:                                         "INVALID_INTRINSIC_FUNCTION",
		`{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"x","Retry":[{"ErrorEquals":["States.ALL"]},{"ErrorEquals":["E"]}],"End":true}}}`: "States.ALL must be in the last retrier",
		`{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"x","Retry":[{"ErrorEquals":["E"],"BackoffRate":0.5}],"End":true}}}`:              "'BackoffRate' must be at least 1.0",
		`{"StartAt":"A","States":{"A":{"Type":"Map","ItemProcessor":{"StartAt":"B","States":{"B":{"Type":"Pass","Next":"A"}}},"End":true}}}`:      "Missing 'Next' target: A at /States/A/ItemProcessor/States/B/Next",
		`{"StartAt":"A","States":{"A":{"Type":"Choice","Choices":[{"Variable":"$.x","NumericEquals":"1","Next":"A"}]}}}`:                          "'NumericEquals' must be a NUMBER",
		`{"StartAt":"A","States":{"A":{"Type":"Fail","Error":"E","ErrorPath":"$.e"}}}`:                                                            "Only one of 'Error' or 'ErrorPath'",
		`not json nor yaml: [`: "SCHEMA_VALIDATION_FAILED",
	} {
		_, err := asl.Parse([]byte(def))
		var inv *asl.InvalidDefinition
		if !errors.As(err, &inv) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", def, err, want)
		}
	}
}

func TestYAMLAndHistory(t *testing.T) {
	m := parse(t, `
Comment: a greeting
StartAt: Greet
States:
  Greet:
    Type: Pass
    Parameters:
      text.$: States.Format('Hello, {}', $.name)
    Next: Done
  Done:
    Type: Succeed
`)
	e := run(t, m, `{"name":"Ann"}`, asl.WithName("greeter", "run-1"))
	if out := succeeded(t, e); out != `{"text":"Hello, Ann"}` {
		t.Errorf("output %s", out)
	}
	if e.ARN != "arn:aws:states:local:000000000000:execution:greeter:run-1" {
		t.Errorf("ARN %s", e.ARN)
	}
	var types []string
	for i, ev := range e.History() {
		types = append(types, ev.Type)
		if ev.ID != int64(i+1) || ev.PreviousEventID != int64(i) {
			t.Errorf("event %d: id %d, previous %d", i, ev.ID, ev.PreviousEventID)
		}
	}
	want := "ExecutionStarted PassStateEntered PassStateExited SucceedStateEntered SucceedStateExited ExecutionSucceeded"
	if strings.Join(types, " ") != want {
		t.Errorf("history %v", types)
	}
	b, _ := e.History()[1].MarshalJSON()
	if !strings.Contains(string(b), `"stateEnteredEventDetails":{"input":"{\"name\":\"Ann\"}","name":"Greet"}`) || !strings.Contains(string(b), `"type":"PassStateEntered"`) {
		t.Errorf("an event's JSON: %s", b)
	}
}

func TestStopAndMachineTimeout(t *testing.T) {
	m := parse(t, `{"TimeoutSeconds":1,"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":60,"End":true}}}`)
	e := run(t, m, `{}`) // the real clock: the machine's timeout ends it
	if status, _, name, _ := e.Status(); status != asl.StatusTimedOut || name != asl.ErrTimeout {
		t.Errorf("%s %s", status, name)
	}
	m = parse(t, `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":60,"End":true}}}`)
	e = m.Start(context.Background(), map[string]any{})
	e.Stop()
	<-e.Done()
	if status, _, _, _ := e.Status(); status != asl.StatusAborted {
		t.Errorf("a stopped execution: %s", status)
	}
}

// FuzzParse: no definition makes Parse panic; what it accepts runs.
func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}`))
	f.Add([]byte(`{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.x","StringMatches":"a*","Next":"D"}],"Default":"D"},"D":{"Type":"Pass","Parameters":{"v.$":"States.Format('{}',$.x)"},"End":true}}}`))
	f.Add([]byte("StartAt: A\nStates:\n  A: {Type: Fail, Error: E}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := asl.Parse(data)
		if err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		m.Run(ctx, map[string]any{"x": "abc"}, asl.WithClock(instant{}))
	})
}

func TestHistoryLimit(t *testing.T) {
	m := parse(t, `{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"},"B":{"Type":"Pass","Next":"A"}}}`)
	e := run(t, m, `{}`, asl.WithHistoryLimit(100))
	if status, _, name, cause := e.Status(); status != asl.StatusFailed || name != asl.ErrRuntime || !strings.Contains(cause, "limit of 100 events") {
		t.Errorf("an endless loop: %s %s %s", status, name, cause)
	}
	if n := len(e.History()); n != 100 {
		t.Errorf("%d events kept", n)
	}
}
