package async

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/coworks-go/cws/events"
	"github.com/coworks-go/cws/events/invoke"
	"github.com/coworks-go/cws/events/wire"
	"github.com/coworks-go/cws/runtime"
	"github.com/coworks-go/cws/transport/memory"
)

// EventsPath is where the local server takes CloudEvents.
const EventsPath = "/_cws/events"

// Endpoint is the local server's POST /_cws/events: CloudEvents in the HTTP
// binding (binary, structured or batched), guarded by the App's authorizer
// (App.Guard), published to pub (the runtime's queue). It answers 202 with
// the ids once they are queued, and problem+json otherwise: 400 with the
// reason for an invalid event, 401/403 without a good token (asked first,
// as the other /_cws endpoints do), 405 for another method, 413 for an event over the limit, 503 when the queue
// refuses.
func Endpoint(app *runtime.App, pub events.Publisher) http.Handler {
	return guarded(app, onlyMethod(http.MethodPost, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		problem := func(p *runtime.Problem) { writeProblem(w, r, p) }
		body := http.MaxBytesReader(w, r.Body, runtime.DefaultMaxBodyBytes)
		evs, err := wire.DecodeHTTP(r.Header, body)
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				problem(runtime.NewProblem(http.StatusRequestEntityTooLarge, "the body exceeds %d bytes", mbe.Limit))
				return
			}
			// DecodeHTTP checked each event as every door does.
			problem(runtime.BadRequest("not a CloudEvent: %v", err))
			return
		}
		ids := make([]string, len(evs))
		for i, e := range evs {
			if e.Type() == invoke.Type {
				if _, err := invoke.Parse(e); err != nil {
					problem(runtime.BadRequest("event %s: %v", e.ID(), err))
					return
				}
			}
			ids[i] = e.ID()
		}
		if err := pub.Publish(r.Context(), evs...); err != nil {
			if errors.Is(err, events.ErrTooLarge) {
				problem(runtime.NewProblem(http.StatusRequestEntityTooLarge, "%v", err))
				return
			}
			if errors.Is(err, memory.ErrFull) {
				// The consumers are behind: the client tries again later.
				w.Header().Set("Retry-After", "1")
			}
			problem(runtime.NewProblem(http.StatusServiceUnavailable, "queuing the events: %v", err))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		_ = json.NewEncoder(w).Encode(map[string]any{"accepted": len(ids), "ids": ids})
	})))
}
