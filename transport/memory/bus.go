package memory

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/google/uuid"

	"github.com/coworks-go/cws/events"
	"github.com/coworks-go/cws/events/pattern"
	"github.com/coworks-go/cws/events/wire"
)

// Bus is an in-memory event bus with EventBridge's rules: an event is
// wrapped in EventBridge's envelope (Source the event's source, DetailType
// its type, Detail the event), each rule's pattern is matched against the
// envelope, and the rules that match send it to their target queues, as
// EventBridge does to SQS targets. It is safe for concurrent use.
type Bus struct {
	name    string
	account string
	region  string
	matcher *pattern.Matcher
	uses    func(path string) bool // matcher.Uses, made once

	mu    sync.RWMutex
	rules map[string]rule
}

type rule struct {
	pattern string
	targets []*Queue
}

// BusOption configures a Bus.
type BusOption func(*Bus)

// WithAccount sets the account and region of the envelopes (default
// 000000000000 and us-east-1, LocalStack's).
func WithAccount(account, region string) BusOption {
	return func(b *Bus) { b.account, b.region = account, region }
}

// NewBus returns a bus without rules.
func NewBus(name string, opts ...BusOption) *Bus {
	b := &Bus{name: name, account: "000000000000", region: "us-east-1", matcher: pattern.NewMatcher(), rules: map[string]rule{}}
	b.uses = b.matcher.Uses
	for _, opt := range opts {
		opt(b)
	}
	return b
}

// Name returns the bus's name.
func (b *Bus) Name() string { return b.name }

// PutRule adds (or replaces) a rule: events matching the pattern go to the
// targets. An invalid pattern is a *pattern.InvalidError with AWS's reason.
func (b *Bus) PutRule(name, eventPattern string, targets ...*Queue) error {
	p, err := pattern.Compile([]byte(eventPattern))
	if err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.rules[name] = rule{pattern: eventPattern, targets: targets}
	b.matcher.Add(name, p)
	return nil
}

// RemoveRule removes a rule.
func (b *Bus) RemoveRule(name string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.rules, name)
	b.matcher.Remove(name)
}

// Rules returns the rules' names and patterns, sorted by name.
func (b *Bus) Rules() [][2]string {
	b.mu.RLock()
	defer b.mu.RUnlock()
	out := make([][2]string, 0, len(b.rules))
	for n, r := range b.rules {
		out = append(out, [2]string{n, r.pattern})
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}

// Publish implements events.Publisher: each event is put on the bus, as
// EventBridge's PutEvents would (Source the event's source, DetailType its
// type, Detail the event). The event travels as it is (a copy): rules match
// a flattened envelope built from it, and the envelope's JSON is written
// only when a queue needs it. Every event is checked before any is
// delivered; each target queue gets its events in one send.
func (b *Bus) Publish(ctx context.Context, evs ...event.Event) error {
	// A batch for one target is the common case: its messages start on
	// the stack (send keeps none of the slice); the other targets' are
	// made as they come.
	var firstTo *Queue
	var firstBuf [10]Outgoing
	first := firstBuf[:0]
	var others []send
	var buf [8]string
	builder := pattern.NewBuilder(b.uses)
	// The batch's events, copied, and their envelopes are one allocation.
	lazies := make([]lazyEnvelope, len(evs))
	for i := range evs {
		e := &evs[i]
		if err := wire.CheckData(*e); err != nil {
			return err
		}
		lazy := &lazies[i]
		lazy.ev = events.Copy(*e)
		ce := &lazy.ev
		lazy.env = wire.EnvelopeHeader(*ce, b.account, b.region, nil)
		env := &lazy.env
		if err := wire.CheckEntry(env.Source, env.DetailType, "", nil); err != nil {
			return fmt.Errorf("event %s: %w", e.ID(), err)
		}
		bound := wire.EncodedSizeBound(*ce)
		if wire.PutEventsEntrySize(env.Source, env.DetailType, "", nil, true)+bound > wire.MaxPutEventsEntrySize*9/10 {
			detail, _ := ce.MarshalJSON()
			if err := wire.CheckEntry(env.Source, env.DetailType, string(detail), nil); err != nil {
				return fmt.Errorf("event %s: %w", e.ID(), err)
			}
		}
		if b.matcher.Uses("id") {
			env.ID = lazy.id()
		}
		builder.Reset()
		if err := env.FlattenInto(builder, *ce); err != nil {
			return err
		}
		group := env.Source
		if _, ok := ce.Extensions()[events.ExtGroup]; ok {
			group = events.Group(*ce)
		}
		out := Outgoing{Event: ce, GroupID: group, envelope: lazy,
			bound: 6*(36+len(env.Source)+len(env.DetailType)+len(env.Account)+len(env.Region)) + 160 + bound}
		b.mu.RLock()
		for _, name := range b.matcher.AppendMatches(buf[:0], builder.Event()) {
			// Each rule delivers to its targets, as EventBridge's do: two
			// rules with the same target deliver the event twice.
			for _, q := range b.rules[name].targets {
				o := out
				if q.fifo {
					o.DedupID = lazy.id()
				}
				if firstTo == nil || firstTo == q {
					firstTo = q
					first = append(first, o)
					continue
				}
				t := slices.IndexFunc(others, func(s send) bool { return s.to == q })
				if t < 0 {
					t = len(others)
					others = append(others, send{to: q, msgs: make([]Outgoing, 0, len(evs))})
				}
				others[t].msgs = append(others[t].msgs, o)
			}
		}
		b.mu.RUnlock()
	}
	// Nothing is sent before every event is checked.
	if firstTo != nil {
		if err := b.sendTo(firstTo, first); err != nil {
			return err
		}
	}
	for _, s := range others {
		if err := b.sendTo(s.to, s.msgs); err != nil {
			return err
		}
	}
	return nil
}

// sendTo sends messages to a target queue, an error naming both.
func (b *Bus) sendTo(q *Queue, msgs []Outgoing) error {
	if err := q.send(msgs, nil); err != nil {
		return fmt.Errorf("bus %s to queue %s: %w", b.name, q.Name(), err)
	}
	return nil
}

// send is what Publish sends a target queue.
type send struct {
	to   *Queue
	msgs []Outgoing
}

// lazyEnvelope is the EventBridge envelope of an event put on the bus; its
// id and its JSON are made when something needs them (a rule on the id, a
// FIFO target's deduplication, a body).
type lazyEnvelope struct {
	env      wire.Envelope
	ev       event.Event
	idOnce   sync.Once
	bodyOnce sync.Once
	body     string
}

func (l *lazyEnvelope) id() string {
	l.idOnce.Do(func() { l.env.ID = uuid.NewString() })
	return l.env.ID
}

func (l *lazyEnvelope) encode() string {
	l.bodyOnce.Do(func() {
		l.id()
		env := l.env
		env.Detail, _ = l.ev.MarshalJSON()
		l.body = string(env.Encode())
	})
	return l.body
}

// Put puts an EventBridge event (a native one, such as a Scheduled Event,
// or a wrapped CloudEvent) on the bus and returns the rules it matched.
// group is the message group on FIFO targets.
func (b *Bus) Put(ctx context.Context, env wire.Envelope, group string) ([]string, error) {
	body := env.Encode()
	flat, err := pattern.Flatten(body)
	if err != nil {
		return nil, err
	}
	return b.deliver(flat, Outgoing{Body: string(body), GroupID: group, DedupID: env.ID})
}

// deliver sends a message to the targets of the rules the flattened
// envelope matches.
func (b *Bus) deliver(flat *pattern.Event, m Outgoing) ([]string, error) {
	b.mu.RLock()
	matched := b.matcher.MatchEvent(flat)
	var targets []*Queue
	for _, name := range matched {
		targets = append(targets, b.rules[name].targets...)
	}
	b.mu.RUnlock()
	for _, q := range targets {
		if err := b.sendTo(q, []Outgoing{m}); err != nil {
			return matched, err
		}
	}
	return matched, nil
}
