package events

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"regexp"

	"github.com/cloudevents/sdk-go/v2/event"
)

// The W3C trace context of an event (the CloudEvents distributed tracing
// extension): cws keeps it across invocations, results and reactors, and
// logs its trace id.
const (
	ExtTraceParent = "traceparent"
	ExtTraceState  = "tracestate"
)

var traceParentRE = regexp.MustCompile(`^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$`)

// ValidTraceParent reports whether s is a W3C traceparent of version 00
// with non-zero trace and parent ids.
func ValidTraceParent(s string) bool {
	m := traceParentRE.FindStringSubmatch(s)
	return m != nil && m[1] != "00000000000000000000000000000000" && m[2] != "0000000000000000"
}

// NewTraceParent starts a trace: a traceparent with fresh random ids,
// sampled.
func NewTraceParent() string {
	var b [24]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("00-%s-%s-01", hex.EncodeToString(b[:16]), hex.EncodeToString(b[16:]))
}

// TraceID returns the trace id of a traceparent, or "".
func TraceID(traceparent string) string {
	if m := traceParentRE.FindStringSubmatch(traceparent); m != nil {
		return m[1]
	}
	return ""
}

// EnsureTraceParent returns the event's traceparent extension; an event
// without a valid one gets a new trace, recorded on the event so that what
// it causes (its result) carries it on.
func EnsureTraceParent(e *event.Event) string {
	if v, ok := e.Extensions()[ExtTraceParent]; ok {
		if s, ok := v.(string); ok && ValidTraceParent(s) {
			return s
		}
	}
	tp := NewTraceParent()
	e.SetExtension(ExtTraceParent, tp)
	return tp
}
