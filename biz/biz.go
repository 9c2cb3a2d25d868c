// Package biz holds the business level of cws: reactors that subscribe to
// schedules (rate and cron) and to notification events (EventBridge
// patterns), and compose the tech entries into workflows — reminders,
// alerts, invoicing.
//
// A reactor is a value with Subscriptions and React. A service lists its
// reactors with a Reactors method; cws.Main runs them beside its entries
// through the CloudEvents doors it is given (package async): locally, the
// embedded scheduler fires the schedules and the in-memory bus matches the
// patterns; deployed, each subscription is an EventBridge rule (Engine.Rules,
// awscloud.PutRules) whose target is the service's queue or function, and the
// Engine routes what arrives to the reactor it is for.
package biz

import (
	"context"
	"fmt"
	"regexp"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/coworks-go/cws/events/pattern"
	"github.com/coworks-go/cws/events/schedule"
)

// Reactor is a business service: it reacts to what it subscribes to.
type Reactor interface {
	// Subscriptions lists the schedules and events the reactor reacts to.
	Subscriptions() []Subscription
	// React handles one trigger. An error makes the transport retry the
	// trigger; an events.Permanent error sends it to the dead-letter queue
	// at once. Either way the reason is kept.
	React(ctx context.Context, t *Trigger) error
}

// Provider is a service with reactors: cws.Main runs them.
type Provider interface {
	// Reactors returns the reactors by name (lower case letters, digits and
	// hyphens).
	Reactors() map[string]Reactor
}

// Subscription is one schedule or one event pattern of a reactor.
type Subscription struct {
	// Name tells the reactor's subscriptions apart (lower case letters,
	// digits and hyphens); it is part of the rule's name.
	Name string
	// Schedule is a rate or cron expression, or "".
	Schedule string
	// Pattern is an EventBridge event pattern, or "".
	Pattern string
}

// Every subscribes to a schedule: rate(…) or cron(…).
func Every(name, expr string) Subscription { return Subscription{Name: name, Schedule: expr} }

// On subscribes to the events an EventBridge pattern matches.
func On(name, eventPattern string) Subscription {
	return Subscription{Name: name, Pattern: eventPattern}
}

// Trigger is what a reactor reacts to.
type Trigger struct {
	// Reactor and Subscription name what fired.
	Reactor, Subscription string
	// Event is the CloudEvent: for a schedule, the Scheduled Event (type
	// "Scheduled Event", source "aws.events", subject the rule's ARN); for
	// a notification, the event the pattern matched.
	Event event.Event
	// Time is when the trigger happened: the schedule's fire time, or the
	// event's time.
	Time time.Time
	// Tech calls tech entries and publishes events.
	Tech *Client
}

// Rule is a subscription as an EventBridge rule.
type Rule struct {
	// Name is the rule's name: [prefix]<reactor>-<subscription>.
	Name         string `json:"name"`
	Reactor      string `json:"reactor"`
	Subscription string `json:"subscription"`
	// Schedule is the rule's ScheduleExpression, or "".
	Schedule string `json:"schedule,omitempty"`
	// Pattern is the rule's EventPattern, or "".
	Pattern string `json:"pattern,omitempty"`
	// Next is the schedule's next fire time (for listings), or zero.
	Next time.Time `json:"next,omitzero"`

	sched   schedule.Schedule
	pattern *pattern.Pattern
}

// namePattern is what reactor and subscription names may be.
var namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

// ruleFor checks a subscription of a reactor and returns its rule.
func ruleFor(reactor string, s Subscription) (Rule, error) {
	if !namePattern.MatchString(s.Name) {
		return Rule{}, fmt.Errorf("reactor %s: subscription name %q: use lower case letters, digits and hyphens", reactor, s.Name)
	}
	r := Rule{Name: reactor + "-" + s.Name, Reactor: reactor, Subscription: s.Name, Schedule: s.Schedule, Pattern: s.Pattern}
	if len(r.Name) > 64 {
		return Rule{}, fmt.Errorf("reactor %s: rule name %q is over EventBridge's 64 characters", reactor, r.Name)
	}
	switch {
	case s.Schedule != "" && s.Pattern != "":
		return Rule{}, fmt.Errorf("reactor %s, subscription %s: a schedule or a pattern, not both", reactor, s.Name)
	case s.Schedule != "":
		sched, err := schedule.Parse(s.Schedule)
		if err != nil {
			return Rule{}, fmt.Errorf("reactor %s, subscription %s: %w", reactor, s.Name, err)
		}
		r.sched = sched
	case s.Pattern != "":
		p, err := pattern.Compile([]byte(s.Pattern))
		if err != nil {
			return Rule{}, fmt.Errorf("reactor %s, subscription %s: %w", reactor, s.Name, err)
		}
		r.pattern = p
	default:
		return Rule{}, fmt.Errorf("reactor %s, subscription %s: give a schedule or a pattern", reactor, s.Name)
	}
	return r, nil
}
