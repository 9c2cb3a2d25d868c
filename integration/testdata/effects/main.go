// Command effects is the service of the integration fault tests: its one
// entry, POST /effects, waits $EFFECTS_DELAY (a handler's work), then
// appends the number it is given and the time to $EFFECTS_FILE — an effect
// outside the process, which survives its being killed — so that a test
// counts, per event, how often it ran. It consumes the SQS queue of
// CWS_QUEUE_URL (awscloud), with a visibility timeout of
// $EFFECTS_VISIBILITY; it links the DynamoDB idempotency store, used when
// CWS_IDEMPOTENCY_TABLE names a table, with a claim's lease of
// $EFFECTS_LEASE (default events.DefaultLease). Deployed as a Lambda
// function it takes the queue's batches through the Lambda door instead.
package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/coworks-go/cws"
	"github.com/coworks-go/cws/async"
	"github.com/coworks-go/cws/async/awscloud"
	_ "github.com/coworks-go/cws/events/dynamostore"
	"github.com/coworks-go/cws/runtime"
	"github.com/coworks-go/cws/transport/queue"
)

// Effects is the service.
type Effects struct {
	mu    sync.Mutex
	file  *os.File
	delay time.Duration
}

// Effect is what an invocation carries: its number, how long its work
// takes if not $EFFECTS_DELAY, whether the entry refuses it (422, for
// good: a poison message) or fails on it (503, to be retried) every time,
// and whether the process crashes once its work is done, the first time
// it gets it: "exit" exits with status 3, "hang" never answers (a Lambda
// function's timeout ends it).
type Effect struct {
	N      int    `json:"n"`
	Work   string `json:"work,omitempty"`
	Refuse bool   `json:"refuse,omitempty"`
	Fail   bool   `json:"fail,omitempty"`
	Crash  string `json:"crash,omitempty"`
}

// PostEffects does the work, then records the effect: one line, one write,
// of its number, the time and the process's id.
func (s *Effects) PostEffects(ctx context.Context, in Effect) (Effect, error) {
	delay := s.delay
	if in.Work != "" {
		d, err := time.ParseDuration(in.Work)
		if err != nil {
			return in, runtime.BadRequest("work: %v", err)
		}
		delay = d
	}
	select {
	case <-time.After(delay):
	case <-ctx.Done():
		return in, ctx.Err()
	}
	if in.Crash != "" && s.firstCrash(in.N) {
		if in.Crash == "exit" {
			os.Exit(3)
		}
		select {}
	}
	switch {
	case in.Refuse:
		return in, runtime.Unprocessable("effect %d is poison", in.N)
	case in.Fail:
		return in, runtime.NewProblem(http.StatusServiceUnavailable, "effect %d cannot be done now", in.N)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := fmt.Fprintf(s.file, "%d %d %d\n", in.N, time.Now().UnixNano(), os.Getpid()); err != nil {
		return in, fmt.Errorf("recording the effect: %w", err)
	}
	return in, nil
}

// firstCrash reports whether effect n has not crashed the service before,
// marking it: a file beside the effects file, created once, holding the
// id of the process that crashes.
func (s *Effects) firstCrash(n int) bool {
	f, err := os.OpenFile(fmt.Sprintf("%s.crashed-%d", s.file.Name(), n), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return false
	}
	defer f.Close()
	fmt.Fprint(f, os.Getpid())
	return true
}

func main() {
	f, err := os.OpenFile(os.Getenv("EFFECTS_FILE"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		fmt.Fprintln(os.Stderr, "effects:", err)
		os.Exit(1)
	}
	delay, _ := time.ParseDuration(os.Getenv("EFFECTS_DELAY"))
	visibility, err := time.ParseDuration(os.Getenv("EFFECTS_VISIBILITY"))
	if err != nil {
		visibility = 30 * time.Second
	}
	lease, _ := time.ParseDuration(os.Getenv("EFFECTS_LEASE"))
	cws.Main(&Effects{file: f, delay: delay},
		awscloud.Doors(async.WithWorker(queue.WithVisibilityTimeout(visibility)), async.WithLease(lease)))
}
