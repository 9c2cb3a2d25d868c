package wire

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/cloudevents/sdk-go/v2/types"
	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/google/uuid"

	"github.com/coworks-go/cws/events"
	"github.com/coworks-go/cws/events/pattern"
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
		e, err := DecodeStructured(env.Detail)
		if err != nil {
			return e, events.Permanent(fmt.Errorf("the detail of EventBridge event %s is a malformed CloudEvent: %w", env.ID, err))
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
		SetJSON(&e, env.Detail)
	}
	if err := Validate(e); err != nil {
		return e, events.Permanent(fmt.Errorf("EventBridge event %s is not a valid CloudEvent: %w", env.ID, err))
	}
	return e, nil
}

// isCloudEvent reports whether data is a JSON object with a member
// specversion (whatever its value: DecodeStructured judges it).
func isCloudEvent(data []byte) bool {
	var probe struct {
		SpecVersion json.RawMessage `json:"specversion"`
	}
	return json.Unmarshal(data, &probe) == nil && probe.SpecVersion != nil
}

// ParseEnvelope decodes an EventBridge event and returns its CloudEvent.
func ParseEnvelope(data []byte) (event.Event, error) {
	var env Envelope
	if err := jsonv2.Unmarshal(data, &env, jsontext.AllowInvalidUTF8(true), jsontext.AllowDuplicateNames(true)); err != nil {
		return event.Event{}, events.Permanentf("malformed EventBridge event: %v", err)
	}
	return env.Event()
}

// Encode returns the envelope as EventBridge delivers it, in one pass (the
// detail is written as it is).
func (env *Envelope) Encode() []byte {
	b := make([]byte, 0, 160+len(env.Detail))
	field := func(name, v string) {
		b = append(b, '"')
		b = append(b, name...)
		b = append(b, `":`...)
		b, _ = jsontext.AppendQuote(b, v)
		b = append(b, ',')
	}
	b = append(b, '{')
	field("version", env.Version)
	field("id", env.ID)
	field("detail-type", env.DetailType)
	field("source", env.Source)
	field("account", env.Account)
	field("time", env.Time.UTC().Format(time.RFC3339))
	field("region", env.Region)
	b = append(b, `"resources":[`...)
	for i, r := range env.Resources {
		if i > 0 {
			b = append(b, ',')
		}
		b, _ = jsontext.AppendQuote(b, r)
	}
	b = append(b, `],"detail":`...)
	if len(env.Detail) == 0 {
		b = append(b, "{}"...)
	} else {
		b = append(b, env.Detail...)
	}
	return append(b, '}')
}

// EnvelopeFor wraps a CloudEvent as EventBridge delivers what cws publishes
// (Source the source, DetailType the type, Detail the event): the local
// event bus uses it to deliver like EventBridge does.
func EnvelopeFor(e event.Event, account, region string, resources []string) (Envelope, error) {
	env := EnvelopeHeader(e, account, region, resources)
	env.ID = uuid.NewString()
	detail, err := e.MarshalJSON()
	if err != nil {
		return Envelope{}, fmt.Errorf("encoding event %s: %w", e.ID(), err)
	}
	env.Detail = detail
	return env, nil
}

// EnvelopeHeader is EnvelopeFor without the ID and the Detail: the event's
// source, type and time (now when it has none, to the second as
// EventBridge keeps it).
func EnvelopeHeader(e event.Event, account, region string, resources []string) Envelope {
	t := e.Time()
	if t.IsZero() {
		t = time.Now().UTC()
	}
	if resources == nil {
		resources = []string{}
	}
	return Envelope{Version: "0", DetailType: e.Type(), Source: sourceOf(e), Account: account,
		Time: t.UTC().Truncate(time.Second), Region: region, Resources: resources}
}

// sourceOf is e.Source() without making a string when the source is a
// plain relative path (cws/bench, myapp.orders), which it is as written:
// the SDK writes the URL again on every call.
func sourceOf(e event.Event) string {
	if ec, ok := e.Context.(*event.EventContextV1); ok {
		u := &ec.Source.URL
		if u.Scheme == "" && u.Opaque == "" && u.User == nil && u.Host == "" && u.RawPath == "" && u.RawQuery == "" &&
			u.Fragment == "" && !u.ForceQuery && !u.OmitHost && u.Path != "" && u.EscapedPath() == u.Path {
			// A colon in the first segment would be written after "./".
			if first, _, _ := strings.Cut(u.Path, "/"); !strings.Contains(first, ":") {
				return u.Path
			}
		}
	}
	return e.Source()
}

// The EventBridge event a schedule rule fires.
const (
	ScheduledEventType   = "Scheduled Event"
	ScheduledEventSource = "aws.events"
)

// ScheduledEvent returns the EventBridge event a schedule rule fires at t,
// as EventBridge delivers it.
func ScheduledEvent(ruleARN, account, region string, t time.Time) Envelope {
	return Envelope{Version: "0", ID: uuid.NewString(), DetailType: ScheduledEventType, Source: ScheduledEventSource,
		Account: account, Time: t.UTC(), Region: region, Resources: []string{ruleARN}, Detail: json.RawMessage("{}")}
}

// ScheduledPattern is the pattern that selects the Scheduled Events of a
// rule: the local bus routes a schedule's events with it.
func ScheduledPattern(ruleARN string) string {
	b, _ := json.Marshal(map[string]any{"source": []string{ScheduledEventSource}, "detail-type": []string{ScheduledEventType},
		"resources": []string{ruleARN}})
	return string(b)
}

// RuleARN is the ARN of a rule on the default bus.
func RuleARN(region, account, name string) string {
	return "arn:aws:events:" + region + ":" + account + ":rule/" + name
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
		return fmt.Errorf("%w: the EventBridge entry is %d bytes, over the limit of %d", events.ErrTooLarge, n, MaxPutEventsEntrySize)
	}
	return nil
}

// FlattenFor returns what pattern.Flatten makes of the envelope env with e
// as its detail (env.Detail is not used; env.Source is e's source), without writing and parsing JSON,
// keeping only the paths keep keeps (all when it is nil; see
// pattern.NewBuilder): the in-memory bus matches its rules with it.
func (env *Envelope) FlattenFor(e event.Event, keep func(path string) bool) (*pattern.Event, error) {
	b := pattern.NewBuilder(keep)
	if err := env.FlattenInto(b, e); err != nil {
		return nil, err
	}
	return b.Event(), nil
}

// envelopePath numbers the paths of an envelope FlattenInto always adds.
type envelopePath uint

const (
	pathVersion envelopePath = iota
	pathID
	pathDetailType
	pathSource
	pathAccount
	pathTime
	pathRegion
	pathResources
	pathSpecVersion
	pathDetailID
	pathDetailSource
	pathDetailTypeAttr
	pathSubject
	pathDataContentType
	pathDataSchema
	pathDetailTime
)

// envelopePaths are the paths of an envelopePath, in its order.
var envelopePaths = [...]string{"version", "id", "detail-type", "source", "account", "time", "region", "resources",
	"detail.specversion", "detail.id", "detail.source", "detail.type", "detail.subject", "detail.datacontenttype",
	"detail.dataschema", "detail.time"}

// FlattenInto is FlattenFor into b, a builder a caller reuses (Reset) for
// the events of a batch.
func (env *Envelope) FlattenInto(b *pattern.Builder, e event.Event) error {
	// The envelope's own paths: asked about once for the builder.
	m := b.Mask(envelopePaths[:])
	put := func(p envelopePath, s string) {
		if m&(1<<p) != 0 {
			b.PutString(envelopePaths[p], s)
		}
	}
	put(pathVersion, env.Version)
	put(pathID, env.ID)
	put(pathDetailType, env.DetailType)
	put(pathSource, env.Source)
	put(pathAccount, env.Account)
	if m&(1<<pathTime) != 0 {
		b.PutString("time", env.Time.UTC().Format(time.RFC3339))
	}
	put(pathRegion, env.Region)
	if m&(1<<pathResources) != 0 {
		b.Strings("resources", env.Resources)
	}
	put(pathSpecVersion, e.SpecVersion())
	put(pathDetailID, e.ID())
	put(pathDetailSource, env.Source)
	put(pathDetailTypeAttr, e.Type())
	if m&(1<<pathSubject) != 0 {
		if s := e.Subject(); s != "" {
			b.PutString("detail.subject", s)
		}
	}
	if m&(1<<pathDataContentType) != 0 {
		if s := e.DataContentType(); s != "" {
			b.PutString("detail.datacontenttype", s)
		}
	}
	if m&(1<<pathDataSchema) != 0 {
		if s := e.DataSchema(); s != "" {
			b.PutString("detail.dataschema", s)
		}
	}
	if m&(1<<pathDetailTime) != 0 {
		if t := e.Time(); !t.IsZero() {
			b.PutString("detail.time", types.FormatTime(t))
		}
	}
	for k, v := range e.Extensions() {
		switch v := v.(type) {
		case string:
			b.String("detail."+k, v)
		case bool:
			b.Bool("detail."+k, v)
		case int32:
			b.Number("detail."+k, float64(v))
		default:
			raw, err := json.Marshal(v)
			if err != nil {
				return fmt.Errorf("event %s: extension %s: %w", e.ID(), k, err)
			}
			if err := b.JSON("detail."+k, raw); err != nil {
				return fmt.Errorf("event %s: extension %s: %w", e.ID(), k, err)
			}
		}
	}
	if data := e.Data(); data != nil {
		switch {
		case e.DataBase64:
			if b.Keeps("detail.data_base64") {
				b.String("detail.data_base64", base64.StdEncoding.EncodeToString(data))
			}
		case isJSONMedia(e.DataContentType()):
			if err := b.JSON("detail.data", data); err != nil {
				return fmt.Errorf("event %s: its data is not valid JSON: %w", e.ID(), err)
			}
		default:
			b.String("detail.data", string(data))
		}
	}
	return nil
}
