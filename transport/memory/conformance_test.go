package memory_test

import (
	"context"
	"testing"
	"time"

	"github.com/coworks-go/cws/events"
	"github.com/coworks-go/cws/events/wire"
	"github.com/coworks-go/cws/transport/memory"
	"github.com/coworks-go/cws/transport/queue"
	"github.com/coworks-go/cws/transport/transporttest"
)

func memoryTransport(fifo bool) func(t *testing.T) *transporttest.Transport {
	return func(t *testing.T) *transporttest.Transport {
		var qopts []memory.Option
		if fifo {
			qopts = append(qopts, memory.WithFIFO())
		}
		dlq := memory.NewQueue("dlq", qopts...)
		q := memory.NewQueue("q", append(qopts, memory.WithDeadLetter(dlq, 3))...)
		return &transporttest.Transport{
			Publisher: q,
			Consumer:  func(opts ...queue.Option) events.Consumer { return q.Consumer(opts...) },
			SendRaw: func(ctx context.Context, body string) error {
				_, err := q.Send(ctx, memory.Outgoing{Body: body, GroupID: "raw"})
				return err
			},
			DeadLetters: func(ctx context.Context) ([]transporttest.DeadLetter, error) {
				ds, err := dlq.Receive(ctx, 10, 0, time.Minute)
				if err != nil {
					return nil, err
				}
				var out []transporttest.DeadLetter
				for _, d := range ds {
					out = append(out, transporttest.DeadLetter{Body: d.Body, Reason: d.Attributes[wire.AttrDeadLetterReason]})
				}
				return out, dlq.Delete(ctx, ds)
			},
			MaxReceive:   3,
			FIFO:         fifo,
			MaxEventSize: wire.MaxSQSMessageSize,
			Settle:       200 * time.Millisecond,
		}
	}
}

func TestConformance(t *testing.T) {
	t.Run("standard", func(t *testing.T) { transporttest.Run(t, transporttest.Kind{}, memoryTransport(false)) })
	t.Run("fifo", func(t *testing.T) { transporttest.Run(t, transporttest.Kind{FIFO: true}, memoryTransport(true)) })
	// The bus: a rule sends the events to the queue the consumer reads.
	t.Run("bus", func(t *testing.T) {
		transporttest.Run(t, transporttest.Kind{}, func(t *testing.T) *transporttest.Transport {
			tr := memoryTransport(false)(t)
			q := tr.Publisher.(*memory.Queue)
			bus := memory.NewBus("bus")
			if err := bus.PutRule("to-queue", `{"source":["cws/transporttest"]}`, q); err != nil {
				t.Fatal(err)
			}
			tr.Publisher = bus
			tr.MaxEventSize = wire.MaxPutEventsEntrySize
			return tr
		})
	})
}
