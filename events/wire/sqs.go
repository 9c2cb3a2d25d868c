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
	// An EventBridge event (a rule's target) names its detail-type, which no
	// CloudEvent can (an attribute's name is a-z and 0-9).
	if strings.Contains(body, `"detail-type"`) && IsEnvelope(data) {
		return ParseEnvelope(data)
	}
	e, err := DecodeStructured(data)
	if err == nil {
		return e, nil
	}
	if !json.Valid(data) {
		return event.Event{}, events.Permanentf("the message is not a CloudEvent: its body is not JSON and it has no ce-specversion attribute")
	}
	return e, events.Permanent(fmt.Errorf("the message is not a CloudEvent: %w", err))
}

// decodeBinary decodes a binary-mode message: its attributes checked as
// the wire carries them (checkBinary), the event set from them, then its
// data (finishBinary) and the event (Validate).
func decodeBinary(body string, attrs map[string]string) (event.Event, error) {
	ceAttrs := make(map[string]string, len(attrs))
	for k, v := range attrs {
		if name, ok := strings.CutPrefix(k, AttrBinaryPrefix); ok {
			ceAttrs[name] = v
		}
	}
	if ct, ok := attrs[AttrContentType]; ok {
		ceAttrs["datacontenttype"] = ct
	}
	if err := checkBinary(ceAttrs); err != nil {
		return event.Event{}, events.Permanent(fmt.Errorf("the binary-mode message is not a valid CloudEvent: %w", err))
	}
	e := event.New(event.CloudEventsVersionV1)
	for name, v := range ceAttrs {
		var err error
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
		case "datacontenttype":
			e.SetDataContentType(v)
		case "time":
			var t time.Time
			if t, err = time.Parse(time.RFC3339Nano, v); err == nil {
				e.SetTime(t)
			}
		default:
			err = e.Context.SetExtension(name, v)
		}
		if err != nil {
			return e, events.Permanent(fmt.Errorf("the binary-mode message is not a valid CloudEvent: attribute ce-%s: %w", name, err))
		}
	}
	untrimmed(&e, ceAttrs)
	if !utf8.ValidString(body) {
		return e, events.Permanentf("the body of a binary-mode message is not text")
	}
	err := finishBinary(&e, []byte(body))
	if err == nil {
		err = validateDecoded(e)
	}
	if err != nil {
		return e, events.Permanent(fmt.Errorf("the binary-mode message is not a valid CloudEvent: %w", err))
	}
	return e, nil
}
