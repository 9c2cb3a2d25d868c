package events

import (
	"context"
	"log/slog"

	"github.com/coworks-go/cws/internal/panics"
)

// Recover is middleware that turns a panic of the handler into a retryable
// error, logged with its stack (log nil: slog.Default()): the message is
// delivered again, and dead-lettered once its queue's maximum receives is
// reached.
func Recover(log *slog.Logger) Middleware {
	if log == nil {
		log = slog.Default()
	}
	return func(next Handler) Handler {
		return HandlerFunc(func(ctx context.Context, m *Message) (err error) {
			defer func() {
				if p := recover(); p != nil {
					err = panics.Catch(ctx, log, p, "handler panicked", "event", m.Event.ID(), "transport", m.Transport)
				}
			}()
			return next.Handle(ctx, m)
		})
	}
}
