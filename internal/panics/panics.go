// Package panics turns a recovered panic into an error, logged with its
// stack: the one way cws recovers, for entries (a 500 answer), event
// handlers and reactors (a retryable error).
package panics

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
)

// Error is a recovered panic.
type Error struct {
	// Value is what was passed to panic.
	Value any
	// Stack is the goroutine's stack where it panicked.
	Stack []byte
}

// Error implements error.
func (e *Error) Error() string { return fmt.Sprintf("panic: %v", e.Value) }

// Catch logs msg with the panic p (what recover returned), its stack and
// attrs, and returns the *Error; nil when p is nil. Call it from a deferred
// function once recover has returned a panic, so that the attributes cost
// nothing on the way out of a call that did not panic:
//
//	defer func() {
//		if p := recover(); p != nil {
//			err = panics.Catch(ctx, log, p, "handler panicked", "event", id)
//		}
//	}()
func Catch(ctx context.Context, log *slog.Logger, p any, msg string, attrs ...any) error {
	if p == nil {
		return nil
	}
	e := &Error{Value: p, Stack: debug.Stack()}
	log.ErrorContext(ctx, msg, append(attrs, "panic", fmt.Sprint(p), "stack", string(e.Stack))...)
	return e
}
