// Package wire holds the wire formats of events, plain data and functions,
// one file per carrier: SQS messages (structured and binary mode), the
// EventBridge envelope (what rules deliver, the Scheduled Event, the size
// EventBridge counts), the CloudEvents HTTP binding of the local events
// endpoint, and the size bounds the in-memory transports check. The
// transports and doors share them; none imports an AWS client.
package wire

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/coworks-go/cws/events"
)

// MaxSQSMessageSize is the size limit of an SQS message cws sends: 256 KiB
// (body and attributes), the limit of LocalStack and of SQS queues created
// with the default MaximumMessageSize.
const MaxSQSMessageSize = 256 * 1024

// MaxSQSAttributes is how many message attributes an SQS message carries at
// most.
const MaxSQSAttributes = 10

// Message attributes of SQS messages.
const (
	// AttrBinaryPrefix prefixes the CloudEvents attributes of a message in
	// binary mode (ce-id, ce-type...); the body is the data.
	AttrBinaryPrefix = "ce-"
	// AttrContentType is the datacontenttype of a message in binary mode.
	AttrContentType = "content-type"
	// AttrDeadLetterReason says why cws moved a message to the dead-letter
	// queue.
	AttrDeadLetterReason = "cws-dead-letter-reason"
	// AttrDeadLetterSource is the queue a dead letter came from.
	AttrDeadLetterSource = "cws-dead-letter-source"
)

// EncodeSQS returns the body of an SQS message carrying e in structured
// mode: the CloudEvent as JSON. cws sends structured: SQS carries at most 10
// message attributes, fewer than a CloudEvent's attributes and extensions.
func EncodeSQS(e event.Event) (string, error) {
	if err := CheckData(e); err != nil {
		return "", err
	}
	b, err := e.MarshalJSON()
	if err != nil {
		return "", fmt.Errorf("encoding event %s: %w", e.ID(), err)
	}
	if len(b) > MaxSQSMessageSize {
		return "", fmt.Errorf("%w: event %s is %d bytes as an SQS message, over the limit of %d", events.ErrTooLarge, e.ID(), len(b), MaxSQSMessageSize)
	}
	return string(b), nil
}

// DecodeSQS returns the CloudEvent of an SQS message, given its body and
// string message attributes:
//   - binary mode when the attributes carry ce-specversion: the attributes
//     ce-* are the CloudEvents attributes, content-type the datacontenttype,
//     the body the data;
//   - an EventBridge event (a rule's SQS target): its CloudEvent (see
//     Envelope.Event);
//   - structured mode otherwise: the body is the CloudEvent as JSON.
//
// A message none of these is Permanent: it goes to the dead-letter queue.
func DecodeSQS(body string, attrs map[string]string) (event.Event, error) {
	if _, ok := attrs[AttrBinaryPrefix+"specversion"]; ok {
		return decodeBinary(body, attrs)
	}
	data := []byte(body)
	// An EventBridge event (a rule's target) names its detail-type.
	if strings.Contains(body, `"detail-type"`) {
		if e, err := ParseEnvelope(data); err == nil {
			return e, nil
		}
	}
	// The common case, in one pass: a structured CloudEvent.
	var e event.Event
	err := e.UnmarshalJSON(data)
	if err == nil {
		if err = e.Validate(); err == nil {
			return e, nil
		}
	}
	if !json.Valid(data) {
		return event.Event{}, events.Permanentf("the message is not a CloudEvent: its body is not JSON and it has no ce-specversion attribute")
	}
	if IsEnvelope(data) {
		return ParseEnvelope(data)
	}
	return e, events.Permanentf("the message is not a CloudEvent: %v", err)
}

func decodeBinary(body string, attrs map[string]string) (event.Event, error) {
	switch v := attrs[AttrBinaryPrefix+"specversion"]; v {
	case event.CloudEventsVersionV1, event.CloudEventsVersionV03:
	default:
		return event.Event{}, events.Permanentf("attribute ce-specversion %q: the binary-mode message is of no CloudEvents version this runtime reads (1.0, 0.3)", v)
	}
	e := event.New(attrs[AttrBinaryPrefix+"specversion"])
	for k, v := range attrs {
		name, ok := strings.CutPrefix(k, AttrBinaryPrefix)
		if !ok {
			continue
		}
		switch name {
		case "specversion":
		case "id":
			e.SetID(v)
		case "source":
			e.SetSource(v)
		case "type":
			e.SetType(v)
		case "subject":
			e.SetSubject(v)
		case "dataschema":
			e.SetDataSchema(v)
		case "time":
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				return e, events.Permanentf("attribute ce-time %q is not an RFC 3339 time", v)
			}
			e.SetTime(t)
		default:
			e.SetExtension(name, v)
		}
	}
	ct := attrs[AttrContentType]
	if ct == "" {
		ct = attrs[AttrBinaryPrefix+"datacontenttype"]
	}
	if body != "" {
		e.SetDataContentType(ct)
		e.DataEncoded = []byte(body)
		if !utf8.ValidString(body) {
			return e, events.Permanentf("the body of a binary-mode message is not text")
		}
		if ct == "" || IsJSON(ct) {
			if ct == "" {
				e.SetDataContentType(event.ApplicationJSON)
			}
			if !json.Valid(e.DataEncoded) {
				return e, events.Permanentf("the body of a binary-mode message with content-type %q is not JSON", ct)
			}
		}
	}
	if err := e.Validate(); err != nil {
		return e, events.Permanentf("the binary-mode message is not a valid CloudEvent: %v", err)
	}
	return e, nil
}
