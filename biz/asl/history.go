package asl

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// HistoryEvent is an event of an execution's history, shaped as an event
// of Step Functions' GetExecutionHistory: its timestamp, type
// (ExecutionStarted, TaskStateEntered, TaskSucceeded …), id, the previous
// event's id, and its details under the field the type names
// (stateEnteredEventDetails …).
type HistoryEvent struct {
	Timestamp       time.Time
	Type            string
	ID              int64
	PreviousEventID int64
	// DetailsField names the details (e.g. "stateEnteredEventDetails");
	// "" for an event without details.
	DetailsField string
	Details      map[string]any
}

// MarshalJSON writes the event as GetExecutionHistory does.
func (e HistoryEvent) MarshalJSON() ([]byte, error) {
	m := map[string]any{"timestamp": e.Timestamp.Format(time.RFC3339Nano), "type": e.Type, "id": e.ID, "previousEventId": e.PreviousEventID}
	if e.DetailsField != "" {
		m[e.DetailsField] = e.Details
	}
	return json.Marshal(m)
}

// UnmarshalJSON reads an event as GetExecutionHistory writes it.
func (e *HistoryEvent) UnmarshalJSON(data []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return err
	}
	var ts string
	for k, v := range m {
		var err error
		switch {
		case k == "timestamp":
			err = json.Unmarshal(v, &ts)
		case k == "type":
			err = json.Unmarshal(v, &e.Type)
		case k == "id":
			err = json.Unmarshal(v, &e.ID)
		case k == "previousEventId":
			err = json.Unmarshal(v, &e.PreviousEventID)
		case strings.HasSuffix(k, "EventDetails"):
			e.DetailsField = k
			err = json.Unmarshal(v, &e.Details)
		}
		if err != nil {
			return fmt.Errorf("history event %s: %w", k, err)
		}
	}
	if ts != "" {
		t, err := time.Parse(time.RFC3339Nano, ts)
		if err != nil {
			return err
		}
		e.Timestamp = t
	}
	return nil
}

// StateName is the name of the state an event is about, or "".
func (e HistoryEvent) StateName() string {
	if e.Details == nil {
		return ""
	}
	name, _ := e.Details["name"].(string)
	return name
}

// event records an event of the execution.
func (r *runner) event(typ, field string, details map[string]any) {
	e := r.exec
	e.mu.Lock()
	if len(e.history) >= r.historyLimit {
		r.overflow.Store(true)
		e.mu.Unlock()
		return
	}
	ev := HistoryEvent{Timestamp: r.clock.Now().UTC(), Type: typ, ID: int64(len(e.history) + 1), DetailsField: field, Details: details}
	ev.PreviousEventID = ev.ID - 1
	e.history = append(e.history, ev)
	e.mu.Unlock()
	if r.observe != nil {
		r.observe(ev)
	}
}

// StatesEntered lists the names of the states entered, in order: the path
// an execution took.
func StatesEntered(history []HistoryEvent) []string {
	var out []string
	for _, e := range history {
		if len(e.Type) > len("StateEntered") && e.Type[len(e.Type)-len("StateEntered"):] == "StateEntered" {
			out = append(out, e.StateName())
		}
	}
	return out
}
