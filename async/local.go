package async

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"time"

	"github.com/coworks-go/cws"
	"github.com/coworks-go/cws/events"
	"github.com/coworks-go/cws/events/invoke"
	"github.com/coworks-go/cws/events/wire"
	"github.com/coworks-go/cws/runtime"
	"github.com/coworks-go/cws/transport/memory"
	"github.com/coworks-go/cws/transport/queue"
)

// Local implements cws.Door: the embedded default (an in-memory queue with
// its dead-letter queue, and a bus whose rules send invocations and the
// reactors' subscriptions to the queue, the scheduler of the reactors'
// schedules) or, with CWS_QUEUE_URL, a consumer of that queue of the
// cloud; and POST /_cws/events, which publishes to the queue.
func (d *doors) Local(ctx context.Context, app *runtime.App) (*cws.LocalDoor, error) {
	if d.err != nil {
		return nil, d.err
	}
	log := app.Logger()
	wopts := append([]queue.Option{queue.WithLogger(log)}, d.worker...)
	if name := os.Getenv(EnvQueueURL); name != "" {
		if d.cloud == nil {
			return nil, needCloud(EnvQueueURL)
		}
		q, err := d.cloud.Queue(ctx, name)
		if err != nil {
			return nil, err
		}
		// Notifications go to CWS_EVENT_BUS, or else to the queue itself,
		// where the engine matches them against the reactors' patterns.
		notify, err := d.notifications(ctx, q)
		if err != nil {
			return nil, err
		}
		engine, runner, err := d.newEngine(ctx, app, notify)
		if err != nil {
			return nil, err
		}
		door := d.newDoor(app, invoke.LocalReplies(nil, d.cloud), engine)
		consumer := q.Consumer(wopts...)
		return &cws.LocalDoor{
			Endpoints:   endpoints(app, q, engine, runner, UnavailableDeadLetterEndpoints(app, q.URL())),
			Run:         func(ctx context.Context) error { return consumer.Consume(ctx, door) },
			Description: "consuming events from SQS queue " + q.URL() + " and " + EventsPath,
		}, nil
	}

	dlq := memory.NewQueue(LocalDeadLetters)
	q := memory.NewQueue(LocalQueue, memory.WithDeadLetter(dlq, LocalMaxReceive), memory.WithCapacity(LocalCapacity))
	bus := memory.NewBus(LocalBus, memory.WithAccount(localAccount, localRegion))
	if err := bus.PutRule("cws-invocations", `{"detail-type":["`+invoke.Type+`"]}`, q); err != nil {
		return nil, err
	}
	engine, runner, err := d.newEngine(ctx, app, bus)
	if err != nil {
		return nil, err
	}
	var cloud invoke.ReplyResolver
	if d.cloud != nil {
		cloud = d.cloud
	}
	replies := invoke.LocalReplies(map[string]events.Publisher{LocalQueue: q, LocalBus: bus}, cloud)
	door := d.newDoor(app, replies, engine)
	consumer := q.Consumer(wopts...)
	run := func(ctx context.Context) error { return consumer.Consume(ctx, door) }
	if engine != nil {
		// Each subscription is a rule of the local bus targeting the queue,
		// as it is an EventBridge rule deployed; the scheduler puts the
		// Scheduled Events on the bus.
		arn := func(name string) string { return wire.RuleARN(localRegion, localAccount, name) }
		for _, r := range engine.Rules(time.Now()) {
			p := r.Pattern
			if r.Schedule != "" {
				p = wire.ScheduledPattern(arn(r.Name))
			}
			if err := bus.PutRule(r.Name, p, q); err != nil {
				return nil, err
			}
		}
		consume := run
		run = func(ctx context.Context) error {
			go func() {
				_ = engine.RunSchedules(ctx, func(ctx context.Context, rule string, at time.Time) error {
					_, err := bus.Put(ctx, wire.ScheduledEvent(arn(rule), localAccount, localRegion, at), "")
					return err
				})
			}()
			return consume(ctx)
		}
	}
	return &cws.LocalDoor{
		Endpoints:   endpoints(app, q, engine, runner, LocalDeadLetterEndpoints(app, q, dlq)),
		Run:         run,
		Description: "consuming events from in-memory queue " + LocalQueue + " and " + EventsPath,
	}, nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
