package events

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/google/uuid"
)

// Envelope is an EventBridge event as rules deliver it to their targets
// (an SQS queue's message body, a Lambda function's event).
type Envelope struct {
	Version    string          `json:"version"`
	ID         string          `json:"id"`
	DetailType string          `json:"detail-type"`
	Source     string          `json:"source"`
	Account    string          `json:"account"`
	Time       time.Time       `json:"time"`
	Region     string          `json:"region"`
	Resources  []string        `json:"resources"`
	Detail     json.RawMessage `json:"detail"`
}

// Extensions of a CloudEvent made from a native EventBridge event.
const (
	ExtAWSAccount = "awsaccount"
	ExtAWSRegion  = "awsregion"
)

// IsEnvelope reports whether a JSON document looks like an EventBridge
// event: an object with detail-type, source and detail.
func IsEnvelope(data []byte) bool {
	var probe struct {
		DetailType *string          `json:"detail-type"`
		Source     *string          `json:"source"`
		Detail     *json.RawMessage `json:"detail"`
	}
	return json.Unmarshal(data, &probe) == nil && probe.DetailType != nil && probe.Source != nil && probe.Detail != nil
}

// Event returns the CloudEvent an EventBridge event carries. A detail that
// is a CloudEvent (what cws publishes: Source the event's source,
// DetailType its type, Detail the event) is that event. A native event
// (e.g. a Scheduled Event) becomes a CloudEvent the way the CloudEvents AWS
// adapters convert S3 and SNS events: id the event id, source its source,
// type its detail-type, time its time, subject its resource when it has
// exactly one (a schedule's rule ARN), data its detail as JSON, and the
// account and region as the extensions awsaccount and awsregion.
func (env *Envelope) Event() (event.Event, error) {
	if isCloudEvent(env.Detail) {
		var e event.Event
		err := json.Unmarshal(env.Detail, &e)
		if err == nil {
			err = e.Validate()
		}
		if err != nil {
			return e, Permanentf("the detail of EventBridge event %s is a malformed CloudEvent: %v", env.ID, err)
		}
		return e, nil
	}
	e := event.New()
	e.SetID(env.ID)
	e.SetSource(env.Source)
	e.SetType(env.DetailType)
	if !env.Time.IsZero() {
		e.SetTime(env.Time)
	}
	if len(env.Resources) == 1 {
		e.SetSubject(env.Resources[0])
	}
	if env.Account != "" {
		e.SetExtension(ExtAWSAccount, env.Account)
	}
	if env.Region != "" {
		e.SetExtension(ExtAWSRegion, env.Region)
	}
	if len(env.Detail) > 0 && !bytes.Equal(env.Detail, []byte("null")) {
		setJSON(&e, env.Detail)
	}
	if err := e.Validate(); err != nil {
		return e, Permanentf("EventBridge event %s is not a valid CloudEvent: %v", env.ID, err)
	}
	return e, nil
}

// isCloudEvent reports whether data is a JSON object with specversion.
func isCloudEvent(data []byte) bool {
	var probe struct {
		SpecVersion *string `json:"specversion"`
	}
	return json.Unmarshal(data, &probe) == nil && probe.SpecVersion != nil
}

// ParseEnvelope decodes an EventBridge event and returns its CloudEvent.
func ParseEnvelope(data []byte) (event.Event, error) {
	var env Envelope
	if err := json.Unmarshal(data, &env); err != nil {
		return event.Event{}, Permanentf("malformed EventBridge event: %v", err)
	}
	return env.Event()
}

// EnvelopeFor wraps a CloudEvent as EventBridge delivers what cws publishes
// (Source the source, DetailType the type, Detail the event): the local
// event bus uses it to deliver like EventBridge does.
func EnvelopeFor(e event.Event, account, region string, resources []string) (Envelope, error) {
	detail, err := json.Marshal(e)
	if err != nil {
		return Envelope{}, fmt.Errorf("encoding event %s: %w", e.ID(), err)
	}
	t := e.Time()
	if t.IsZero() {
		t = time.Now().UTC()
	}
	if resources == nil {
		resources = []string{}
	}
	return Envelope{Version: "0", ID: uuid.NewString(), DetailType: e.Type(), Source: e.Source(), Account: account,
		Time: t.UTC().Truncate(time.Second), Region: region, Resources: resources, Detail: detail}, nil
}

// MaxPutEventsEntrySize is the size limit of one EventBridge PutEvents
// entry (256 KB).
const MaxPutEventsEntrySize = 256 * 1024

// PutEventsEntrySize is the size EventBridge counts for an entry: the
// bytes of Source, DetailType, Detail and each resource, plus 14 for a
// time.
func PutEventsEntrySize(source, detailType, detail string, resources []string, withTime bool) int {
	n := len(source) + len(detailType) + len(detail)
	for _, r := range resources {
		n += len(r)
	}
	if withTime {
		n += 14
	}
	return n
}

// checkEntryField checks a Source or DetailType: present, and at most max
// characters.
func checkEntryField(name, v string, max int) error {
	if strings.TrimSpace(v) == "" {
		return fmt.Errorf("EventBridge needs a %s", name)
	}
	if len(v) > max {
		return fmt.Errorf("%s %q is over EventBridge's %d characters", name, v, max)
	}
	return nil
}

// CheckEntry checks what EventBridge checks of an entry: Source and
// DetailType (at most 256 characters), and the entry's size.
func CheckEntry(source, detailType, detail string, resources []string) error {
	if err := checkEntryField("Source", source, 256); err != nil {
		return err
	}
	if err := checkEntryField("DetailType", detailType, 256); err != nil {
		return err
	}
	if n := PutEventsEntrySize(source, detailType, detail, resources, true); n > MaxPutEventsEntrySize {
		return fmt.Errorf("%w: the EventBridge entry is %d bytes, over the limit of %d", ErrTooLarge, n, MaxPutEventsEntrySize)
	}
	return nil
}
