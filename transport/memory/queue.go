// Package memory is the embedded default transport: an in-memory queue with
// SQS's semantics (visibility timeout, receive counts, redrive to a
// dead-letter queue, batches, FIFO groups) and an in-memory event bus with
// EventBridge's pattern rules, so that the whole asynchronous path runs in
// one process with no AWS.
package memory

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/coworks-go/cws/events"
	"github.com/coworks-go/cws/events/wire"
	"github.com/coworks-go/cws/transport/queue"
)

// Option configures a Queue.
type Option func(*Queue)

// WithVisibilityTimeout sets the visibility timeout of receives that give
// none (default 30s).
func WithVisibilityTimeout(d time.Duration) Option { return func(q *Queue) { q.visibility = d } }

// WithDeadLetter redrives a message to dlq once it has been received more
// than maxReceive times, like an SQS redrive policy; dlq also takes the
// messages a worker dead-letters explicitly.
func WithDeadLetter(dlq *Queue, maxReceive int) Option {
	return func(q *Queue) { q.dlq, q.maxReceive = dlq, maxReceive }
}

// WithFIFO makes a FIFO queue: a message group is delivered in order, and
// not while one of its messages is in flight; a message with the
// deduplication id of one sent in the last 5 minutes is dropped.
func WithFIFO() Option { return func(q *Queue) { q.fifo = true } }

// WithCapacity bounds how many messages the queue holds, waiting or in
// flight: a Send beyond it fails with ErrFull (0, the default: no bound).
// A producer faster than the consumers then hears it, instead of the
// queue growing until the process runs out of memory.
func WithCapacity(n int) Option { return func(q *Queue) { q.capacity = n } }

// ErrFull is the error of a Send to a queue holding its capacity.
var ErrFull = errors.New("the queue is full")

// WithMaxMessageSize sets the size limit of a message, body and attributes
// (default wire.MaxSQSMessageSize).
func WithMaxMessageSize(n int) Option { return func(q *Queue) { q.maxSize = n } }

// dedupWindow is how long a FIFO queue remembers deduplication ids.
const dedupWindow = 5 * time.Minute

// Queue is an in-memory queue. It is safe for concurrent use.
type Queue struct {
	name       string
	visibility time.Duration
	dlq        *Queue
	maxReceive int
	fifo       bool
	maxSize    int
	capacity   int
	now        func() time.Time

	mu          sync.Mutex
	avail       chan struct{} // closed and replaced when messages may be available
	seq         uint64
	handles     uint64
	ready       []*message // standard queues: visible messages, oldest first
	taken       []*message // what take returns, reused under the lock
	groups      map[string]*group
	readyGroups []*group // FIFO: groups with visible messages and none in flight
	inflight    map[string]*message
	expiry      expiryHeap
	dedup       map[string]time.Time
	sent        int64
}

type message struct {
	id       string
	body     string
	ev       *event.Event
	envelope *lazyEnvelope // writes body from ev when it is needed; nil: ev's structured encoding
	attrs    map[string]string
	group    string
	seq      uint64
	received int
	handle   string
	visible  time.Time
	index    int       // in the expiry heap, -1 when not in flight
	sentAt   time.Time // when Send took it
}

// bodyWriter returns what writes m's body when it has none yet (to call
// outside the queue's lock), or nil.
func (m *message) bodyWriter() func() string {
	switch {
	case m.body != "" || m.ev == nil:
		return nil
	case m.envelope != nil:
		return m.envelope.encode
	}
	ev := m.ev
	return func() string { return structuredBody(ev) }
}

type group struct {
	id       string
	pending  []*message // visible messages, by sequence
	inflight int
	queued   bool
}

// NewQueue returns an empty queue named name.
func NewQueue(name string, opts ...Option) *Queue {
	q := &Queue{name: name, visibility: 30 * time.Second, maxSize: wire.MaxSQSMessageSize, now: time.Now,
		avail: make(chan struct{}), groups: map[string]*group{}, inflight: map[string]*message{}, dedup: map[string]time.Time{}}
	for _, opt := range opts {
		opt(q)
	}
	return q
}

// Name returns the queue's name.
func (q *Queue) Name() string { return q.name }

// Outgoing is a message to send.
type Outgoing struct {
	Body       string
	Attributes map[string]string
	// GroupID is the message group (FIFO queues; required there).
	GroupID string
	// DedupID is the deduplication id (FIFO queues; default: the body).
	DedupID string
	// Event, when set with an empty Body, is the message's CloudEvent,
	// carried as it is: the queue's consumers get a copy of it without
	// decoding, and the body (its structured encoding) is written only
	// when it is needed — to check a size near the limit, or when the
	// message goes to a dead-letter queue. The queue keeps the pointer;
	// nobody may change the event afterwards.
	Event *event.Event

	// envelope, when set, writes the body instead (the bus's EventBridge
	// envelope), and bound is then an upper bound of its size.
	envelope *lazyEnvelope
	bound    int
}

// bodyBound returns an upper bound of the size of the body m's event
// makes: its envelope's, or its own structured encoding's.
func (m *Outgoing) bodyBound() int {
	if m.envelope != nil {
		return m.bound
	}
	return wire.EncodedSizeBound(*m.Event)
}

// writeBody writes the body of m from its event.
func (m *Outgoing) writeBody() string {
	if m.envelope != nil {
		return m.envelope.encode()
	}
	return structuredBody(m.Event)
}

// structuredBody is the structured encoding of e.
func structuredBody(e *event.Event) string {
	b, _ := e.MarshalJSON()
	return string(b)
}

// Send enqueues messages and returns their ids (empty for a FIFO duplicate).
func (q *Queue) Send(_ context.Context, msgs ...Outgoing) ([]string, error) {
	ids := make([]string, len(msgs))
	if err := q.send(msgs, ids); err != nil {
		return nil, err
	}
	return ids, nil
}

// send enqueues messages and writes their ids into ids, when not nil.
func (q *Queue) send(msgs []Outgoing, ids []string) error {
	for i := range msgs {
		m := &msgs[i]
		n := len(m.Body)
		if m.Event != nil && m.Body == "" {
			n = m.bodyBound()
			if n > q.maxSize*9/10 {
				// Near the limit the bound is not enough: write the body.
				m.Body = m.writeBody()
				n = len(m.Body)
			}
		}
		for k, v := range m.Attributes {
			n += len(k) + len(v)
		}
		if n > q.maxSize {
			return fmt.Errorf("%w: a message of %d bytes, over queue %s's limit of %d", events.ErrTooLarge, n, q.name, q.maxSize)
		}
		if q.fifo && m.GroupID == "" {
			return fmt.Errorf("queue %s is FIFO: a message needs a group id", q.name)
		}
		if q.fifo && m.DedupID == "" && m.Body == "" {
			return fmt.Errorf("queue %s is FIFO: a message carrying an event needs a deduplication id", q.name)
		}
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.capacity > 0 {
		if n := q.depth(); n+len(msgs) > q.capacity {
			return fmt.Errorf("%w: queue %s holds %d messages, its capacity is %d", ErrFull, q.name, n, q.capacity)
		}
	}
	now := q.now()
	for i := range msgs {
		m := &msgs[i]
		if q.fifo {
			dedup := m.DedupID
			if dedup == "" {
				dedup = m.Body
			}
			if t, ok := q.dedup[dedup]; ok && now.Sub(t) < dedupWindow {
				continue
			}
			q.dedup[dedup] = now
		}
		q.seq++
		msg := &message{id: q.numbered('-', q.seq), body: m.Body, ev: m.Event,
			attrs: m.Attributes, group: m.GroupID, seq: q.seq, index: -1, sentAt: now}
		if m.Body == "" {
			msg.envelope = m.envelope
		}
		if ids != nil {
			ids[i] = msg.id
		}
		q.makeVisible(msg)
		q.sent++
	}
	q.signal()
	if len(q.dedup) > 10000 {
		for k, t := range q.dedup {
			if now.Sub(t) >= dedupWindow {
				delete(q.dedup, k)
			}
		}
	}
	return nil
}

// numbered returns the queue's name, sep and n, in one allocation.
func (q *Queue) numbered(sep byte, n uint64) string {
	var b strings.Builder
	b.Grow(len(q.name) + 21)
	b.WriteString(q.name)
	b.WriteByte(sep)
	var digits [20]byte
	b.Write(strconv.AppendUint(digits[:0], n, 10))
	return b.String()
}

// makeVisible puts a message (new, or back from flight) where receives find
// it.
func (q *Queue) makeVisible(m *message) {
	if !q.fifo {
		q.ready = append(q.ready, m)
		return
	}
	g := q.groups[m.group]
	if g == nil {
		g = &group{id: m.group}
		q.groups[m.group] = g
	}
	i := len(g.pending)
	for i > 0 && g.pending[i-1].seq > m.seq {
		i--
	}
	g.pending = append(g.pending, nil)
	copy(g.pending[i+1:], g.pending[i:])
	g.pending[i] = m
	q.queueGroup(g)
}

func (q *Queue) queueGroup(g *group) {
	if g.inflight == 0 && len(g.pending) > 0 && !g.queued {
		g.queued = true
		q.readyGroups = append(q.readyGroups, g)
	}
}

// signal wakes the receivers waiting for messages.
func (q *Queue) signal() {
	close(q.avail)
	q.avail = make(chan struct{})
}

// expire returns messages whose visibility timeout is over; it returns
// when the next one is due.
func (q *Queue) expire(now time.Time) (next time.Time) {
	woke := false
	for q.expiry.Len() > 0 {
		top := q.expiry[0]
		if top.visible.After(now) {
			next = top.visible
			break
		}
		heap.Pop(&q.expiry)
		delete(q.inflight, top.handle)
		q.land(top)
		woke = true
	}
	if woke {
		q.signal()
	}
	return next
}

// land returns a message from flight to the visible ones.
func (q *Queue) land(m *message) {
	m.handle = ""
	if q.fifo {
		q.groups[m.group].inflight--
	}
	q.makeVisible(m)
}

// take removes up to max visible messages, oldest first (FIFO: whole groups
// in order, one group at a time), into a slice it reuses: read it before
// the next take, under the lock.
func (q *Queue) take(max int) []*message {
	clear(q.taken)
	out := q.taken[:0]
	if !q.fifo {
		n := min(max, len(q.ready))
		out = append(out, q.ready[:n]...)
		clear(q.ready[:n])
		q.ready = q.ready[n:]
		q.taken = out
		return out
	}
	for len(out) < max && len(q.readyGroups) > 0 {
		g := q.readyGroups[0]
		n := min(max-len(out), len(g.pending))
		out = append(out, g.pending[:n]...)
		g.pending = g.pending[n:]
		g.inflight += n
		q.readyGroups = q.readyGroups[1:]
		g.queued = false
	}
	q.taken = out
	return out
}

// Receive implements queue.Queue.
func (q *Queue) Receive(ctx context.Context, max int, wait, visibility time.Duration) ([]queue.Delivery, error) {
	if visibility <= 0 {
		visibility = q.visibility
	}
	var deadline time.Time
	for first := true; ; first = false {
		q.mu.Lock()
		// One clock read a look, under the lock: the visibility of what
		// it takes counts from it.
		now := q.now()
		if first {
			deadline = now.Add(wait)
		}
		next := q.expire(now)
		var out []queue.Delivery
		var redrive []*message
		for len(out) < max {
			ms := q.take(max - len(out))
			if len(ms) == 0 {
				break
			}
			if out == nil {
				out = make([]queue.Delivery, 0, len(ms))
			}
			for _, m := range ms {
				m.received++
				if q.dlq != nil && q.maxReceive > 0 && m.received > q.maxReceive {
					if q.fifo {
						q.groups[m.group].inflight--
						q.queueGroup(q.groups[m.group])
					}
					redrive = append(redrive, m)
					continue
				}
				// A receipt handle names one receive: the message's id
				// the first time (no string to make), then a new one.
				if m.received == 1 {
					m.handle = m.id
				} else {
					q.handles++
					m.handle = q.numbered('#', q.handles)
				}
				m.visible = now.Add(visibility)
				q.inflight[m.handle] = m
				heap.Push(&q.expiry, m)
				out = append(out, queue.Delivery{ID: m.id, Handle: m.handle, Body: m.body, Event: m.ev, Attributes: m.attrs,
					ReceiveCount: m.received, GroupID: m.group})
			}
		}
		avail := q.avail
		q.mu.Unlock()
		for _, m := range redrive {
			q.redrive(m, "")
		}
		if len(out) > 0 {
			return out, nil
		}
		if !now.Before(deadline) {
			return nil, nil
		}
		wake := deadline
		if !next.IsZero() && next.Before(wake) {
			wake = next
		}
		t := time.NewTimer(max64(wake.Sub(now), 0))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-avail:
		case <-t.C:
		}
		t.Stop()
	}
}

func max64(a, b time.Duration) time.Duration {
	if a > b {
		return a
	}
	return b
}

// redrive sends a message to the dead-letter queue, with the reason when
// it is an explicit move.
func (q *Queue) redrive(m *message, reason string) {
	attrs := make(map[string]string, len(m.attrs)+2)
	for k, v := range m.attrs {
		attrs[k] = v
	}
	attrs[wire.AttrDeadLetterSource] = q.name
	if reason != "" {
		attrs[wire.AttrDeadLetterReason] = reason
	}
	group := m.group
	if !q.dlq.fifo {
		group = ""
	} else if group == "" {
		group = "dead-letters"
	}
	body := m.body
	if write := m.bodyWriter(); write != nil {
		// A dead letter is for people and tools to read: it gets its body.
		body = write()
	}
	_, _ = q.dlq.Send(context.Background(), Outgoing{Body: body, Event: m.ev, Attributes: attrs, GroupID: group, DedupID: m.id})
}

// Delete implements queue.Queue; a stale handle (the message came back and
// was received again) deletes nothing, as with SQS.
func (q *Queue) Delete(_ context.Context, ds []queue.Delivery) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, d := range ds {
		m, ok := q.inflight[d.Handle]
		if !ok {
			continue
		}
		q.remove(m)
	}
	return nil
}

// remove drops an in-flight message for good.
func (q *Queue) remove(m *message) {
	delete(q.inflight, m.handle)
	if m.index >= 0 {
		heap.Remove(&q.expiry, m.index)
	}
	if q.fifo {
		g := q.groups[m.group]
		g.inflight--
		q.queueGroup(g)
		if g.inflight == 0 && len(g.pending) == 0 {
			delete(q.groups, m.group)
		}
		q.signal()
	}
}

// ChangeVisibility implements queue.Queue.
func (q *Queue) ChangeVisibility(_ context.Context, d queue.Delivery, timeout time.Duration) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	m, ok := q.inflight[d.Handle]
	if !ok {
		return fmt.Errorf("queue %s: receipt handle %s is not in flight", q.name, d.Handle)
	}
	if timeout <= 0 {
		delete(q.inflight, m.handle)
		heap.Remove(&q.expiry, m.index)
		q.land(m)
		q.signal()
		return nil
	}
	m.visible = q.now().Add(timeout)
	heap.Fix(&q.expiry, m.index)
	return nil
}

// DeadLetter implements queue.Queue.
func (q *Queue) DeadLetter(_ context.Context, d queue.Delivery, reason string) error {
	if q.dlq == nil {
		return queue.ErrNoDeadLetterQueue
	}
	q.mu.Lock()
	m, ok := q.inflight[d.Handle]
	if ok {
		q.remove(m)
	}
	q.mu.Unlock()
	if !ok {
		return fmt.Errorf("queue %s: receipt handle %s is not in flight", q.name, d.Handle)
	}
	q.redrive(m, reason)
	return nil
}

// Waiting is a message waiting in a queue: sent, not received or back
// from flight (Queue.Waiting, Queue.Take).
type Waiting struct {
	// ID is the message's id in this queue.
	ID string
	// Body is the message's body, written from its event when it carries
	// one.
	Body string
	// Event is the CloudEvent the message carries as it is, or nil (the
	// body is then all there is; memory.Decode reads it).
	Event *event.Event
	// Attributes are the message's attributes (a dead letter's reason and
	// source among them).
	Attributes map[string]string
	// GroupID is its FIFO message group, empty on a standard queue.
	GroupID string
	// SentAt is when it was sent to this queue; ReceiveCount how many
	// times this queue delivered it.
	SentAt       time.Time
	ReceiveCount int
}

// Waiting lists the messages waiting in the queue, oldest first; the
// messages in flight are not listed. It receives nothing: a dead-letter
// queue's messages are shown this way.
func (q *Queue) Waiting() []Waiting {
	q.mu.Lock()
	q.expire(q.now())
	out, encoders := describe(q.waiting())
	q.mu.Unlock()
	writeBodies(out, encoders)
	return out
}

// Take removes the waiting messages of the given ids from the queue and
// returns them, oldest first; the ids of messages that are not waiting
// (unknown, in flight, taken already) are passed over. Without ids it
// takes every waiting message.
func (q *Queue) Take(ids ...string) []Waiting {
	want := make(map[string]bool, len(ids))
	for _, id := range ids {
		want[id] = true
	}
	q.mu.Lock()
	q.expire(q.now())
	var taken []*message
	keep := func(ms []*message) []*message {
		kept := ms[:0]
		for _, m := range ms {
			if len(ids) == 0 || want[m.id] {
				taken = append(taken, m)
				continue
			}
			kept = append(kept, m)
		}
		clear(ms[len(kept):])
		return kept
	}
	q.ready = keep(q.ready)
	for id, g := range q.groups {
		g.pending = keep(g.pending)
		if len(g.pending) == 0 && g.inflight == 0 {
			delete(q.groups, id)
		}
	}
	groups := q.readyGroups[:0]
	for _, g := range q.readyGroups {
		if len(g.pending) > 0 {
			groups = append(groups, g)
		} else {
			g.queued = false
		}
	}
	clear(q.readyGroups[len(groups):])
	q.readyGroups = groups
	sort.Slice(taken, func(i, j int) bool { return taken[i].seq < taken[j].seq })
	out, encoders := describe(taken)
	q.mu.Unlock()
	writeBodies(out, encoders)
	return out
}

// waiting returns the visible messages, oldest first.
func (q *Queue) waiting() []*message {
	ms := append([]*message(nil), q.ready...)
	for _, g := range q.groups {
		ms = append(ms, g.pending...)
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].seq < ms[j].seq })
	return ms
}

// describe describes messages (under the queue's lock), with what writes
// the bodies still to write.
func describe(ms []*message) ([]Waiting, []func() string) {
	out := make([]Waiting, len(ms))
	encoders := make([]func() string, len(ms))
	for i, m := range ms {
		out[i] = Waiting{ID: m.id, Body: m.body, Event: m.ev, Attributes: m.attrs, GroupID: m.group, SentAt: m.sentAt, ReceiveCount: m.received}
		encoders[i] = m.bodyWriter()
	}
	return out, encoders
}

// writeBodies writes the bodies describe left to write (outside the lock).
func writeBodies(ws []Waiting, encoders []func() string) {
	for i, encode := range encoders {
		if encode != nil {
			ws[i].Body = encode()
		}
	}
}

// Stats is a snapshot of a queue.
type Stats struct {
	Visible  int   // messages waiting
	InFlight int   // messages received and not yet deleted
	Sent     int64 // messages ever sent
}

// Stats returns a snapshot of the queue.
func (q *Queue) Stats() Stats {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.expire(q.now())
	s := Stats{InFlight: len(q.inflight), Sent: q.sent, Visible: len(q.ready)}
	for _, g := range q.groups {
		s.Visible += len(g.pending)
	}
	return s
}

// Publish implements events.Publisher: each event is sent as it is (a copy
// of it), as if in structured mode; on a FIFO queue its cwsgroup extension
// is the message group and its source and id the deduplication id.
func (q *Queue) Publish(ctx context.Context, evs ...event.Event) error {
	// A batch of up to 10 (SQS's) has its messages on the stack: send
	// keeps none.
	var buf [10]Outgoing
	var msgs []Outgoing
	if len(evs) <= len(buf) {
		msgs = buf[:len(evs)]
	} else {
		msgs = make([]Outgoing, len(evs))
	}
	copies := make([]event.Event, len(evs))
	for i, e := range evs {
		if err := wire.CheckData(e); err != nil {
			return err
		}
		// The batch's copies are one allocation.
		copies[i] = events.Copy(e)
		msgs[i] = Outgoing{Event: &copies[i]}
		if q.fifo {
			msgs[i].GroupID, msgs[i].DedupID = events.Group(e), events.Key(e)
		}
	}
	return q.send(msgs, nil)
}

// Consumer returns a worker of the queue (see transport/queue).
func (q *Queue) Consumer(opts ...queue.Option) *queue.Worker {
	if q.fifo {
		opts = append([]queue.Option{queue.WithFIFO()}, opts...)
	}
	return queue.New(q, Decode, "memory", opts...)
}

// Decode is the queue.Decoder of the in-memory queue: a copy of the event
// the message carries, or else wire.DecodeSQS of its body.
func Decode(d queue.Delivery) (event.Event, error) {
	if d.Event != nil {
		return events.Copy(*d.Event), nil
	}
	return queue.DecodeSQS(d)
}

// expiryHeap orders in-flight messages by the end of their visibility.
type expiryHeap []*message

func (h expiryHeap) Len() int           { return len(h) }
func (h expiryHeap) Less(i, j int) bool { return h[i].visible.Before(h[j].visible) }
func (h expiryHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *expiryHeap) Push(x any) {
	m := x.(*message)
	m.index = len(*h)
	*h = append(*h, m)
}
func (h *expiryHeap) Pop() any {
	old := *h
	m := old[len(old)-1]
	old[len(old)-1] = nil
	m.index = -1
	*h = old[:len(old)-1]
	return m
}

// depth is how many messages the queue holds, waiting or in flight.
func (q *Queue) depth() int {
	n := len(q.ready) + len(q.inflight)
	if q.fifo {
		for _, g := range q.groups {
			n += len(g.pending)
		}
	}
	return n
}
