package async

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/coworks-go/cws/biz"
	"github.com/coworks-go/cws/events"
	"github.com/coworks-go/cws/events/wire"
	"github.com/coworks-go/cws/runtime"
	cwshttp "github.com/coworks-go/cws/transport/http"
	"github.com/coworks-go/cws/transport/memory"
	"github.com/coworks-go/cws/transport/queue"
)

// The local server's endpoints of the reactors and the dead letters.
const (
	// ReactorsPath lists the reactors' rules with their next fire times
	// (GET).
	ReactorsPath = "/_cws/reactors"
	// DeadLettersPath lists the dead letters with their reasons (GET).
	DeadLettersPath = "/_cws/deadletters"
	// RedrivePath sends dead letters back to the queue they came from
	// (POST {"id": ID} or {"all": true}).
	RedrivePath = DeadLettersPath + "/redrive"
)

// guarded serves h to the requests the App's authorizer lets through
// (App.Guard), and answers the others with its problem.
func guarded(app *runtime.App, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := app.Guard(r.Context(), r.Header.Get("Authorization")); p != nil {
			writeProblem(w, r, p)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// writeProblem answers p as problem+json, its instance the request's path.
func writeProblem(w http.ResponseWriter, r *http.Request, p *runtime.Problem) {
	cwshttp.WriteResponse(w, runtime.ProblemResponse(p, r.URL.Path))
}

// replyJSON answers v as indented JSON.
func replyJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = writeJSON(w, v)
}

// onlyMethod answers 405 to the requests of another method than method.
func onlyMethod(method string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != method {
			w.Header().Set("Allow", method)
			writeProblem(w, r, runtime.NewProblem(http.StatusMethodNotAllowed, "%s takes %s", r.URL.Path, method))
			return
		}
		h.ServeHTTP(w, r)
	})
}

// ReactorsEndpoint serves GET /_cws/reactors, guarded by the App's
// authorizer: the rules of the engine's reactors and workflows (an empty
// list without an engine), each schedule with its next fire time.
func ReactorsEndpoint(app *runtime.App, engine *biz.Engine) http.Handler {
	return guarded(app, onlyMethod(http.MethodGet, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rules := []biz.Rule{}
		if engine != nil {
			rules = engine.Rules(time.Now().UTC())
		}
		replyJSON(w, http.StatusOK, rules)
	})))
}

// DeadLetter is a message of the local dead-letter queue, as GET
// /_cws/deadletters lists it.
type DeadLetter struct {
	// ID is the message's id in the dead-letter queue, what a redrive
	// names.
	ID string `json:"id"`
	// Reason says why it was dead-lettered: the error of a permanent
	// failure, or its receive count over the queue's redrive policy.
	Reason string `json:"reason"`
	// Queue is the queue it came from, where a redrive sends it.
	Queue string `json:"queue"`
	// DeadLetteredAt is when it reached the dead-letter queue.
	DeadLetteredAt time.Time `json:"dead_lettered_at"`
	// EventID, EventSource, EventType and Subject are its CloudEvent's;
	// Redrives is how many times it was redriven already.
	EventID     string `json:"event_id,omitempty"`
	EventSource string `json:"event_source,omitempty"`
	EventType   string `json:"event_type,omitempty"`
	Subject     string `json:"subject,omitempty"`
	Redrives    int    `json:"redrives"`
	// Event is the CloudEvent in JSON; Body the message's body when it is
	// no CloudEvent, with DecodeError saying why.
	Event       json.RawMessage `json:"event,omitempty"`
	Body        string          `json:"body,omitempty"`
	DecodeError string          `json:"decode_error,omitempty"`
}

// RedriveRequest is the body of POST /_cws/deadletters/redrive: the id of
// one dead letter, or all of them.
type RedriveRequest struct {
	// ID names the dead letter to redrive.
	ID string `json:"id,omitempty"`
	// All redrives every dead letter (ID is then ignored).
	All bool `json:"all,omitempty"`
}

// Redriven is the answer of a redrive: the ids of the dead letters sent
// back to their queue.
type Redriven struct {
	Redriven []string `json:"redriven"`
}

// LocalDeadLetterEndpoints serves GET /_cws/deadletters and POST
// /_cws/deadletters/redrive for the embedded default's queue q and its
// dead-letter queue dlq, guarded by the App's authorizer. A redrive takes
// the dead letter off dlq and sends its event to q again, its redrive
// count one more (events.Redriven): it runs again, even within the
// idempotency window that made its duplicates refused; a message that is
// no CloudEvent goes back as it is.
func LocalDeadLetterEndpoints(app *runtime.App, q, dlq *memory.Queue) map[string]http.Handler {
	list := onlyMethod(http.MethodGet, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		out := []DeadLetter{}
		for _, m := range dlq.Waiting() {
			out = append(out, deadLetterOf(m))
		}
		replyJSON(w, http.StatusOK, out)
	}))
	redrive := onlyMethod(http.MethodPost, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req RedriveRequest
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64*1024))
		if err == nil {
			err = json.Unmarshal(body, &req)
		}
		switch {
		case err != nil:
			writeProblem(w, r, runtime.BadRequest(`the body is not {"id": ID} or {"all": true}: %v`, err))
			return
		case req.All == (req.ID != ""):
			writeProblem(w, r, runtime.BadRequest(`give the id of a dead letter, or "all": true`))
			return
		}
		var taken []memory.Waiting
		if req.All {
			taken = dlq.Take()
		} else if taken = dlq.Take(req.ID); len(taken) == 0 {
			writeProblem(w, r, runtime.NewProblem(http.StatusNotFound, "no dead letter %s (redriven already?)", req.ID))
			return
		}
		out := Redriven{Redriven: []string{}}
		for i, m := range taken {
			if err := send(r, q, m); err != nil {
				// What could not be sent stays a dead letter.
				for _, back := range taken[i:] {
					if _, err := dlq.Send(r.Context(), memory.Outgoing{Body: back.Body, Event: back.Event, Attributes: back.Attributes}); err != nil {
						app.Logger().ErrorContext(r.Context(), "a dead letter could not be put back", "id", back.ID, "error", err)
					}
				}
				writeProblem(w, r, runtime.NewProblem(http.StatusServiceUnavailable, "redriving %s: %v", m.ID, err))
				return
			}
			out.Redriven = append(out.Redriven, m.ID)
		}
		app.Logger().InfoContext(r.Context(), "dead letters redriven", "ids", out.Redriven, "queue", q.Name())
		replyJSON(w, http.StatusOK, out)
	}))
	return map[string]http.Handler{DeadLettersPath: guarded(app, list), RedrivePath: guarded(app, redrive)}
}

// send sends a dead letter back to q: its event redriven, or else its
// body and attributes as they were.
func send(r *http.Request, q *memory.Queue, m memory.Waiting) error {
	e, err := memory.Decode(queue.Delivery{ID: m.ID, Body: m.Body, Event: m.Event, Attributes: m.Attributes})
	if err != nil {
		attrs := make(map[string]string, len(m.Attributes))
		for k, v := range m.Attributes {
			if k != wire.AttrDeadLetterReason && k != wire.AttrDeadLetterSource {
				attrs[k] = v
			}
		}
		_, err = q.Send(r.Context(), memory.Outgoing{Body: m.Body, Attributes: attrs})
		return err
	}
	return q.Publish(r.Context(), events.Redriven(e))
}

// deadLetterOf describes a message of the dead-letter queue.
func deadLetterOf(m memory.Waiting) DeadLetter {
	d := DeadLetter{ID: m.ID, Reason: m.Attributes[wire.AttrDeadLetterReason], Queue: m.Attributes[wire.AttrDeadLetterSource],
		DeadLetteredAt: m.SentAt.UTC()}
	if d.Reason == "" {
		d.Reason = fmt.Sprintf("delivered %d times without success (the queue's redrive policy)", LocalMaxReceive)
	}
	e, err := memory.Decode(queue.Delivery{ID: m.ID, Body: m.Body, Event: m.Event, Attributes: m.Attributes})
	return d.WithEvent(e, m.Body, err)
}

// WithEvent returns d with what its message holds: the CloudEvent e
// decoded from it (its id, source, type, subject, redrive count and JSON),
// or, when decoding failed with err, its body and why.
func (d DeadLetter) WithEvent(e event.Event, body string, err error) DeadLetter {
	if err != nil {
		d.Body, d.DecodeError = body, err.Error()
		return d
	}
	d.EventID, d.EventSource, d.EventType, d.Subject, d.Redrives = e.ID(), e.Source(), e.Type(), e.Subject(), events.Redrives(e)
	if b, err := e.MarshalJSON(); err == nil {
		d.Event = b
	} else {
		d.Body, d.DecodeError = body, err.Error()
	}
	return d
}

// errNoLocalDeadLetters is why the dead letters are not shown with
// CWS_QUEUE_URL.
var errNoLocalDeadLetters = errors.New("the dead letters of an SQS queue are in the dead-letter queue of its redrive policy: " +
	"list, show and redrive them with cws dlq --queue DLQ (a redrive counted, so that the event runs again), " +
	"or move them back uncounted with the SQS console's redrive or aws sqs start-message-move-task; " +
	"this local server shows and redrives the dead letters of its in-memory queue only")

// UnavailableDeadLetterEndpoints answers the dead-letter endpoints with
// 501 and where to find the dead letters instead (the doors consume an
// SQS queue: CWS_QUEUE_URL), guarded by the App's authorizer.
func UnavailableDeadLetterEndpoints(app *runtime.App, queueURL string) map[string]http.Handler {
	h := guarded(app, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, r, runtime.NewProblem(http.StatusNotImplemented, "queue %s: %v", queueURL, errNoLocalDeadLetters))
	}))
	return map[string]http.Handler{DeadLettersPath: h, RedrivePath: h}
}
