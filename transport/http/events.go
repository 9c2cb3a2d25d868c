package http

import (
	"encoding/json"
	"errors"
	"mime"
	"net/http"

	"github.com/cloudevents/sdk-go/v2/event"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"

	"github.com/coworks-go/cws/events"
	"github.com/coworks-go/cws/runtime"
)

// EventsPath is where the local server takes CloudEvents.
const EventsPath = "/_cws/events"

// HandlerOption configures a Handler.
type HandlerOption func(*Handler)

// WithEventsEndpoint serves POST /_cws/events: CloudEvents in the HTTP
// binding (binary, structured or batched), guarded by the App's authorizer,
// published to pub (the runtime's queue). It answers 202 once they are
// queued, 400 with the reason for an invalid event, 413 for one over the
// limit.
func WithEventsEndpoint(pub events.Publisher) HandlerOption {
	return func(h *Handler) { h.events = pub }
}

// serveEvents handles POST /_cws/events.
func (h *Handler) serveEvents(w http.ResponseWriter, r *http.Request) {
	problem := func(p *runtime.Problem) {
		p.Instance = EventsPath
		body, _ := json.Marshal(p)
		w.Header().Set("Content-Type", runtime.ProblemContentType)
		w.WriteHeader(p.Status)
		_, _ = w.Write(body)
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		problem(runtime.NewProblem(http.StatusMethodNotAllowed, "%s takes POST", EventsPath))
		return
	}
	token := r.Header.Get("Authorization")
	if token == "" {
		problem(runtime.NewProblem(http.StatusUnauthorized, "missing Authorization header"))
		return
	}
	if ok, err := h.app.Authorize(r.Context(), token); err != nil {
		problem(&runtime.Problem{Title: http.StatusText(500), Status: 500})
		return
	} else if !ok {
		problem(runtime.NewProblem(http.StatusForbidden, "the token is refused"))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, runtime.DefaultMaxBodyBytes)
	var evs []event.Event
	var err error
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "application/cloudevents-batch+json" {
		evs, err = cehttp.NewEventsFromHTTPRequest(r)
	} else {
		var e *event.Event
		if e, err = cehttp.NewEventFromHTTPRequest(r); err == nil {
			evs = []event.Event{*e}
		}
	}
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			problem(runtime.NewProblem(http.StatusRequestEntityTooLarge, "the body exceeds %d bytes", mbe.Limit))
			return
		}
		problem(runtime.BadRequest("not a CloudEvent: %v", err))
		return
	}
	ids := make([]string, len(evs))
	for i, e := range evs {
		if err := e.Validate(); err != nil {
			problem(runtime.BadRequest("event %d is not a valid CloudEvent: %v", i+1, err))
			return
		}
		if e.Type() == events.TypeInvoke {
			if _, err := events.ParseInvocation(e); err != nil {
				problem(runtime.BadRequest("event %s: %v", e.ID(), err))
				return
			}
		}
		ids[i] = e.ID()
	}
	if err := h.events.Publish(r.Context(), evs...); err != nil {
		if errors.Is(err, events.ErrTooLarge) {
			problem(runtime.NewProblem(http.StatusRequestEntityTooLarge, "%v", err))
			return
		}
		problem(runtime.NewProblem(http.StatusServiceUnavailable, "queuing the events: %v", err))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	_ = json.NewEncoder(w).Encode(map[string]any{"accepted": len(ids), "ids": ids})
}
