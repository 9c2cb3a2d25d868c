package queue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/coworks-go/cws/events"
)

// Decoder turns a delivery into its CloudEvent; a Permanent error sends the
// message to the dead-letter queue with the error as reason.
type Decoder func(d Delivery) (event.Event, error)

// Option configures a Worker.
type Option func(*Config)

// Config is what a worker's options set.
type Config struct {
	Concurrency       int           // handlers at once
	Receivers         int           // receive calls at once
	BatchSize         int           // messages a receive asks for
	VisibilityTimeout time.Duration // how long a received message stays hidden
	WaitTime          time.Duration // how long a receive waits
	BackoffBase       time.Duration // the first retry's delay
	BackoffMax        time.Duration // the longest retry delay
	ShutdownTimeout   time.Duration // how long shutdown waits for handlers
	FIFO              bool          // groups in order
	BatchFill         time.Duration // how long a receiver waits for busy handlers to free a batch's slots
	Log               *slog.Logger
}

// Configure returns the configuration the options make from the defaults
// (what New applies); a consumer that is not a Worker (a test's event source
// mapping) reads the options given to it with it.
func Configure(opts ...Option) Config {
	c := Config{Concurrency: 10, BatchSize: 10, VisibilityTimeout: 30 * time.Second, WaitTime: 20 * time.Second,
		BackoffBase: time.Second, BackoffMax: 15 * time.Minute, ShutdownTimeout: 30 * time.Second, Log: slog.Default()}
	for _, opt := range opts {
		opt(&c)
	}
	if c.Receivers == 0 {
		c.Receivers = max(1, c.Concurrency/10)
	}
	return c
}

// WithConcurrency sets how many handlers run at once (default 10).
func WithConcurrency(n int) Option { return func(o *Config) { o.Concurrency = max(1, n) } }

// WithReceivers sets how many receive calls run at once (default
// concurrency/10, at least 1).
func WithReceivers(n int) Option { return func(o *Config) { o.Receivers = max(1, n) } }

// WithBatchSize sets how many messages a receive asks for (1 to 10,
// default 10).
func WithBatchSize(n int) Option { return func(o *Config) { o.BatchSize = min(max(1, n), 10) } }

// WithBatchFill sets how long a receiver whose handlers are busy waits for
// them to free the slots of a full batch before it receives (default 0:
// it asks for the slots free). Where a receive is a request (SQS: paid
// for, and a round trip), a few milliseconds make fewer, fuller receives;
// the SQS consumer waits DefaultSQSBatchFill unless told otherwise.
func WithBatchFill(d time.Duration) Option { return func(o *Config) { o.BatchFill = max(d, 0) } }

// DefaultSQSBatchFill is the SQS consumer's BatchFill: on LocalStack, with
// four receivers of ten and handlers that take no time, receives asking for
// the slots free averaged 7.2 messages; with it, 9.9.
const DefaultSQSBatchFill = 5 * time.Millisecond

// WithVisibilityTimeout sets how long a received message stays hidden
// (default 30s); a handler running longer gets it extended.
func WithVisibilityTimeout(d time.Duration) Option {
	return func(o *Config) { o.VisibilityTimeout = d }
}

// WithWaitTime sets how long a receive waits for messages (default 20s,
// the long-poll maximum).
func WithWaitTime(d time.Duration) Option { return func(o *Config) { o.WaitTime = d } }

// WithBackoff sets the retry delay of a failed message: base times 2 to the
// power of (receive count - 1), at most max, with 20% jitter (default 1s
// and 15 min).
func WithBackoff(base, max time.Duration) Option {
	return func(o *Config) { o.BackoffBase, o.BackoffMax = base, max }
}

// WithShutdownTimeout bounds how long shutdown waits for in-flight
// handlers (default 30s); those still running then are abandoned
// unacknowledged, and their messages come back after their visibility
// timeout.
func WithShutdownTimeout(d time.Duration) Option { return func(o *Config) { o.ShutdownTimeout = d } }

// WithFIFO handles the messages of a group one after the other, in order;
// after a retryable failure the rest of the group's batch is released
// unhandled, to come back after it.
func WithFIFO() Option { return func(o *Config) { o.FIFO = true } }

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(o *Config) { o.Log = l } }

// Worker consumes a Queue; it implements events.Consumer.
type Worker struct {
	q         Queue
	decode    Decoder
	transport string
	o         Config
}

// New returns a worker of q; transport names it in events.Message.
func New(q Queue, decode Decoder, transport string, opts ...Option) *Worker {
	return &Worker{q: q, decode: decode, transport: transport, o: Configure(opts...)}
}

// run is one Consume or HandleBatch call.
type run struct {
	w        *Worker
	h        events.Handler
	slots    chan struct{}
	work     context.Context // the handlers' context: outlives the receive context until shutdown times out
	ack      func(d Delivery)
	acks     chan Delivery
	flights  []*flight       // one per handler goroutine, for the heartbeat
	units    chan []Delivery // a message, or a FIFO group's messages, for the handler pool
	wg       sync.WaitGroup  // the handler pool
	stopping chan struct{}   // closed when receiving has stopped
	done     chan struct{}   // closed when the handlers have returned (or were left behind)
}

type flight struct {
	mu       sync.Mutex
	active   bool // a handler is running on d
	d        Delivery
	deadline time.Time
}

// Consume receives and handles messages until ctx is done, then shuts down
// gracefully (see WithShutdownTimeout). It returns nil after a graceful
// shutdown.
func (w *Worker) Consume(ctx context.Context, h events.Handler) error {
	work, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	r := w.start(work, h, w.o.Concurrency)
	r.acks = make(chan Delivery, w.o.Concurrency*2)
	r.ack = func(d Delivery) {
		select {
		case r.acks <- d:
		case <-r.done: // left behind by a timed-out shutdown
		}
	}

	deleted := make(chan struct{})
	go func() { r.deleter(); close(deleted) }()
	hbDone := make(chan struct{})
	go func() { r.heartbeat(); close(hbDone) }()

	var receivers sync.WaitGroup
	for range w.o.Receivers {
		receivers.Add(1)
		go func() { defer receivers.Done(); r.receive(ctx) }()
	}
	receivers.Wait()
	close(r.stopping)
	close(r.units)

	handled := make(chan struct{})
	go func() { r.wg.Wait(); close(handled) }()
	select {
	case <-handled:
	case <-time.After(w.o.ShutdownTimeout):
		w.o.Log.Warn("shutdown timed out: abandoning in-flight messages to their visibility timeout", "queue", w.transport)
		cancelWork()
		// Handlers that heed their context return now; the others are left
		// behind, and their messages come back after their visibility.
		select {
		case <-handled:
		case <-time.After(time.Second):
		}
	}
	close(r.done)
	<-deleted
	<-hbDone
	return nil
}

// start starts the pool of handlers of a run, handling in work: h, with
// panics recovered. slots is how many messages may be received and not yet
// handled.
func (w *Worker) start(work context.Context, h events.Handler, slots int) *run {
	r := &run{w: w, h: events.Chain(h, events.Recover(w.o.Log)), slots: make(chan struct{}, slots), work: work,
		stopping: make(chan struct{}), done: make(chan struct{}), units: make(chan []Delivery, w.o.Concurrency)}
	// Long-lived handlers keep their grown stacks, and their flight
	// records, from message to message.
	r.flights = make([]*flight, w.o.Concurrency)
	for i := range w.o.Concurrency {
		f := &flight{}
		r.flights[i] = f
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			for u := range r.units {
				if w.o.FIFO {
					r.handleGroup(u, f)
					continue
				}
				r.handle(u[0], f)
				<-r.slots
			}
		}()
	}
	return r
}

// HandleBatch handles the deliveries of one batch that another service
// received — the messages of an SQS event that Lambda's event source mapping
// hands a function — with the settlement of Consume: concurrently, the
// messages of a FIFO group in order; a malformed message or a permanent
// failure dead-lettered with its reason; a retryable failure or a panic
// retried with its backoff; after a failure in a FIFO group, the rest of
// the group released unhandled. It settles each through the worker's Queue
// (Delete, ChangeVisibility, DeadLetter) and returns when every delivery is
// settled. There is no visibility heartbeat: the function's timeout bounds
// the batch.
func (w *Worker) HandleBatch(ctx context.Context, ds []Delivery, h events.Handler) {
	// The batch is received already: every message holds its slot.
	r := w.start(ctx, h, len(ds))
	for range ds {
		r.slots <- struct{}{}
	}
	r.ack = func(d Delivery) {
		if err := w.q.Delete(ctx, []Delivery{d}); err != nil {
			w.o.Log.Warn("deleting a handled message: it may be delivered again", "queue", w.transport, "message", d.ID, "error", err)
		}
	}
	units := groups(ds)
	if !w.o.FIFO {
		units = make([][]Delivery, len(ds))
		for i := range ds {
			units[i] = ds[i : i+1]
		}
	}
	for _, u := range units {
		r.units <- u
	}
	close(r.units)
	r.wg.Wait()
	close(r.done)
}

// fillSlots takes more slots, up to full, for at most BatchFill; it
// returns how many the receiver holds.
func (r *run) fillSlots(ctx context.Context, n, full int) int {
	t := time.NewTimer(r.w.o.BatchFill)
	defer t.Stop()
	for n < full {
		select {
		case r.slots <- struct{}{}:
			n++
		case <-t.C:
			return n
		case <-ctx.Done():
			return n
		}
	}
	return n
}

// receive is one receiver's loop.
func (r *run) receive(ctx context.Context) {
	o := r.w.o
	retry := 0
	for ctx.Err() == nil {
		// Take one slot (waiting for it), then as many more as are free.
		select {
		case r.slots <- struct{}{}:
		case <-ctx.Done():
			return
		}
		n := 1
	more:
		for n < o.BatchSize {
			select {
			case r.slots <- struct{}{}:
				n++
			default:
				break more
			}
		}
		if full := min(o.BatchSize, cap(r.slots)); n < full && o.BatchFill > 0 {
			// The handlers are busy: give them a moment to free a full
			// batch of slots, so that a receive asks for a full batch
			// (fewer, fuller receives: on SQS each is a request paid
			// for and, on LocalStack, CPU taken from the rest).
			n = r.fillSlots(ctx, n, full)
		}
		ds, err := r.w.q.Receive(ctx, n, o.WaitTime, o.VisibilityTimeout)
		for range n - len(ds) {
			<-r.slots
		}
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			delay := backoff(100*time.Millisecond, 30*time.Second, retry)
			retry++
			o.Log.Warn("receiving failed: retrying", "queue", r.w.transport, "error", err, "in", delay)
			select {
			case <-time.After(delay):
			case <-ctx.Done():
				return
			}
			continue
		}
		retry = 0
		if !o.FIFO {
			for i := range ds {
				r.units <- ds[i : i+1]
			}
			continue
		}
		for _, group := range groups(ds) {
			r.units <- group
		}
	}
}

// groups splits a FIFO batch into its groups, keeping the order.
func groups(ds []Delivery) [][]Delivery {
	var order []string
	byGroup := map[string][]Delivery{}
	for _, d := range ds {
		if _, ok := byGroup[d.GroupID]; !ok {
			order = append(order, d.GroupID)
		}
		byGroup[d.GroupID] = append(byGroup[d.GroupID], d)
	}
	out := make([][]Delivery, len(order))
	for i, g := range order {
		out[i] = byGroup[g]
	}
	return out
}

// handleGroup handles a FIFO group's messages in order. Once shutdown
// began, the rest is released at once. After a retryable failure the rest
// is hidden as long as the failed message, so that the group comes back
// whole and in order: SQS keeps a group locked while one of its messages is
// in flight, but LocalStack unlocks it when any released message is
// visible again.
func (r *run) handleGroup(ds []Delivery, f *flight) {
	for i, d := range ds {
		select {
		case <-r.stopping:
			r.release(ds[i:], 0)
			return
		default:
		}
		o, delay := r.handle(d, f)
		<-r.slots
		if o == outcomeRetry {
			r.release(ds[i+1:], delay)
			return
		}
	}
}

// release hides received messages for delay (0: visible at once) and frees
// their slots.
func (r *run) release(ds []Delivery, delay time.Duration) {
	for _, d := range ds {
		if err := r.w.q.ChangeVisibility(r.work, d, delay); err != nil {
			r.w.o.Log.Warn("releasing a message", "queue", r.w.transport, "message", d.ID, "error", err)
		}
		<-r.slots
	}
}

type outcome int

const (
	outcomeAck outcome = iota
	outcomeRetry
	outcomeDeadLetter
)

// handle handles one delivery and settles it: deleted, retried after the
// delay it returns, or dead-lettered. f is the handler's flight record.
func (r *run) handle(d Delivery, f *flight) (outcome, time.Duration) {
	log := r.w.o.Log
	e, err := r.w.decode(d)
	if err != nil {
		return r.deadLetter(d, fmt.Errorf("malformed message: %w", err))
	}
	f.mu.Lock()
	f.active, f.d, f.deadline = true, d, time.Now().Add(r.w.o.VisibilityTimeout)
	f.mu.Unlock()
	err = r.h.Handle(r.work, &events.Message{Event: e, ReceiveCount: d.ReceiveCount, GroupID: d.GroupID, Transport: r.w.transport})
	f.mu.Lock()
	f.active = false
	f.mu.Unlock()
	if r.work.Err() != nil {
		// Shutdown timed out: the message is abandoned to its visibility.
		return outcomeRetry, r.w.o.VisibilityTimeout
	}
	switch {
	case err == nil:
		r.ack(d)
		return outcomeAck, 0
	case events.IsPermanent(err):
		return r.deadLetter(d, err)
	default:
		delay := backoff(r.w.o.BackoffBase, r.w.o.BackoffMax, d.ReceiveCount-1)
		log.Info("handler failed: retrying", "queue", r.w.transport, "message", d.ID, "event", e.ID(),
			"receive_count", d.ReceiveCount, "error", err, "in", delay)
		r.retry(d, delay)
		return outcomeRetry, delay
	}
}

func (r *run) retry(d Delivery, delay time.Duration) {
	if err := r.w.q.ChangeVisibility(r.work, d, delay); err != nil {
		r.w.o.Log.Warn("delaying a retry", "queue", r.w.transport, "message", d.ID, "error", err)
	}
}

// deadLetter moves d to the dead-letter queue with the reason; without one,
// the message stays to be retried (never dropped).
func (r *run) deadLetter(d Delivery, reason error) (outcome, time.Duration) {
	err := r.w.q.DeadLetter(r.work, d, reason.Error())
	switch {
	case err == nil:
		r.w.o.Log.Warn("dead-lettered", "queue", r.w.transport, "message", d.ID, "reason", reason.Error())
		return outcomeDeadLetter, 0
	case errors.Is(err, ErrNoDeadLetterQueue):
		delay := backoff(r.w.o.BackoffBase, r.w.o.BackoffMax, d.ReceiveCount-1)
		r.w.o.Log.Error("cannot dead-letter: no dead-letter queue; the message stays", "queue", r.w.transport, "message", d.ID, "reason", reason.Error())
		r.retry(d, delay)
		return outcomeRetry, delay
	default:
		r.w.o.Log.Error("dead-lettering failed: the message comes back after its visibility timeout", "queue", r.w.transport, "message", d.ID, "error", err)
		return outcomeRetry, r.w.o.VisibilityTimeout
	}
}

// deleter deletes acknowledged messages in batches of up to 10.
func (r *run) deleter() {
	const flushAfter = 20 * time.Millisecond
	batch := make([]Delivery, 0, 10)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	// Batches are deleted concurrently, up to two per receiver, so that
	// deleting keeps up with receiving (measured on LocalStack: one at a
	// time halves the throughput of four receivers).
	sem := make(chan struct{}, 2*r.w.o.Receivers)
	// Deleted batches come back to be filled again (Delete keeps none).
	free := make(chan []Delivery, cap(sem)+1)
	var deleting sync.WaitGroup
	defer deleting.Wait()
	flush := func() {
		if len(batch) == 0 {
			return
		}
		ds := batch
		select {
		case batch = <-free:
		default:
			batch = make([]Delivery, 0, 10)
		}
		sem <- struct{}{}
		deleting.Go(func() {
			defer func() { <-sem }()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := r.w.q.Delete(ctx, ds); err != nil {
				r.w.o.Log.Warn("deleting handled messages: they may be delivered again", "queue", r.w.transport, "error", err)
			}
			clear(ds)
			select {
			case free <- ds[:0]:
			default:
			}
		})
	}
	for {
		select {
		case <-r.done:
			for {
				select {
				case d := <-r.acks:
					batch = append(batch, d)
					if len(batch) == cap(batch) {
						flush()
					}
				default:
					flush()
					return
				}
			}
		case d := <-r.acks:
			batch = append(batch, d)
			if len(batch) == cap(batch) {
				flush()
				timer.Stop()
			} else if len(batch) == 1 {
				timer.Reset(flushAfter)
			}
		case <-timer.C:
			flush()
		}
	}
}

// heartbeat extends the visibility of messages whose handlers run long.
func (r *run) heartbeat() {
	vis := r.w.o.VisibilityTimeout
	tick := time.NewTicker(max(vis/4, 50*time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
		case <-r.done:
			return
		}
		now := time.Now()
		for _, f := range r.flights {
			f.mu.Lock()
			due := f.active && f.deadline.Sub(now) < vis/2
			if due {
				f.deadline = now.Add(vis)
			}
			d := f.d
			f.mu.Unlock()
			if due {
				if err := r.w.q.ChangeVisibility(r.work, d, vis); err != nil {
					r.w.o.Log.Warn("extending visibility", "queue", r.w.transport, "message", d.ID, "error", err)
				}
			}
		}
	}
}

// backoff is base * 2^n, at most max, with 20% jitter.
func backoff(base, max time.Duration, n int) time.Duration {
	d := base
	for range min(n, 30) {
		d *= 2
		if d >= max {
			d = max
			break
		}
	}
	if d > max {
		d = max
	}
	jitter := time.Duration(rand.Int64N(int64(d)/5 + 1))
	return d - d/10 + jitter
}
