//go:build integration

package integration

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/coworks-go/cws/async"
	"github.com/coworks-go/cws/events"
	"github.com/coworks-go/cws/events/dynamostore"
	"github.com/coworks-go/cws/events/invoke"
	"github.com/coworks-go/cws/internal/motoserver"
	"github.com/coworks-go/cws/internal/testutil"
	"github.com/coworks-go/cws/localstack"
	cwssqs "github.com/coworks-go/cws/transport/sqs"
)

// The consumer's defaults (queue.Configure) that bound what a crash can
// redo: handlers at once, and acknowledged messages not yet deleted (the
// deleter's batches of 10, up to two per receiver, one receiver).
const (
	consumerConcurrency = 10
	pendingDeletes      = 2 * 10
)

// effectsSource is the source of the invocations the fault tests send.
const effectsSource = "it.faults"

// effectsBinary builds testdata/effects, the service recording each
// handled invocation in a file, once per run.
func effectsBinary(t *testing.T) string { return builtOnce(t, "./testdata/effects") }

// consumer is one run of testdata/effects consuming a queue.
type consumer struct {
	cmd    *exec.Cmd
	logs   *testutil.SyncBuffer
	exited chan struct{}
	err    error // once exited
}

// startConsumer runs testdata/effects on the queue at url, recording its
// effects in file; env adds to its environment.
func startConsumer(t *testing.T, url, file string, env ...string) *consumer {
	t.Helper()
	cmd, _ := queueService(t, effectsBinary(t), url, append([]string{"EFFECTS_FILE=" + file}, env...)...)
	c := &consumer{cmd: cmd, logs: &testutil.SyncBuffer{}, exited: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = c.logs, c.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { c.err = cmd.Wait(); close(c.exited) }()
	t.Cleanup(func() {
		select {
		case <-c.exited:
		default:
			_ = cmd.Process.Kill()
			<-c.exited
		}
	})
	return c
}

// signal sends sig and waits up to limit for the consumer to exit; it
// returns how long that took.
func (c *consumer) signal(t *testing.T, sig os.Signal, limit time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	if err := c.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.exited:
		return time.Since(start)
	case <-time.After(limit):
		t.Fatalf("the consumer did not exit within %v of %v\n%s", limit, sig, c.logs)
		return 0
	}
}

// sendEffects sends n invocations of POST /effects, numbered 0 to n-1, to
// the queue at url; body, if not nil, makes the body of number i (default
// {"n": i}). It returns their event ids, by number.
func sendEffects(t *testing.T, c *sqs.Client, url string, n int, body func(i int) map[string]any) []string {
	t.Helper()
	ctx := ctxFor(t, 2*time.Minute)
	pub := cwssqs.NewPublisher(c, url)
	next := make(chan int)
	errs := make(chan error, n)
	ids := make([]string, n)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for i := range next {
				b := map[string]any{"n": i}
				if body != nil {
					b = body(i)
				}
				e, err := invoke.New(effectsSource, "POST", "/effects", b)
				if err == nil {
					ids[i] = e.ID()
					err = pub.Publish(ctx, e)
				}
				if err != nil {
					errs <- err
				}
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	return ids
}

// effectCounts reads the effects file: how many times each number ran.
func effectCounts(t *testing.T, file string) map[int]int {
	t.Helper()
	f, err := os.Open(file)
	if errors.Is(err, os.ErrNotExist) {
		return map[int]int{}
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	counts := map[int]int{}
	s := bufio.NewScanner(f)
	for s.Scan() {
		field, _, _ := strings.Cut(s.Text(), " ")
		n, err := strconv.Atoi(field)
		if err != nil {
			t.Fatalf("effects file line %q", s.Text())
		}
		counts[n]++
	}
	return counts
}

// tally is what the effects of n invocations say: lost (never ran) and
// duplicated (ran more than once: the extra runs).
func tally(counts map[int]int, n int) (lost, duplicates int) {
	for i := range n {
		switch c := counts[i]; {
		case c == 0:
			lost++
		case c > 1:
			duplicates += c - 1
		}
	}
	return lost, duplicates
}

// until polls ok every 200ms up to limit.
func until(t *testing.T, what string, limit time.Duration, logs *testutil.SyncBuffer, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v\n%s", what, limit, logs)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestConsumerKilledMidBatch: a consumer of an SQS queue (testdata/effects
// under cws.Main with awscloud) killed with SIGKILL while it handles a
// stream of invocations, then started again, loses none. With the
// idempotency store in memory, what runs twice is at most what was in
// flight: the handlers running and the acknowledged messages not yet
// deleted. With the DynamoDB store (events/dynamostore on moto's server,
// CWS_IDEMPOTENCY_TABLE), nothing runs twice but what the kill caught
// between its effect and the recording of its outcome: an invocation whose
// effect is in the file and whose claim is still in progress. The
// restarted consumer then stops on SIGTERM with exit status 0.
func TestConsumerKilledMidBatch(t *testing.T) {
	need(t)
	t.Parallel()
	t.Run("memory", func(t *testing.T) {
		t.Parallel()
		lost, duplicates, _ := killAndRestart(t, nil)
		if lost != 0 {
			t.Errorf("lost %d", lost)
		}
		if len(duplicates) > consumerConcurrency+pendingDeletes {
			t.Errorf("%d duplicates, more than the %d in flight", len(duplicates), consumerConcurrency+pendingDeletes)
		}
	})
	t.Run("dynamodb", func(t *testing.T) {
		t.Parallel()
		srv, err := motoserver.Start(ctxFor(t, time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(srv.Stop)
		db := dynamodb.New(dynamodb.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.Endpoint),
			Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
		table := idempotencyTable(t, db)
		var caught map[string]bool
		lost, duplicates, ids := killAndRestart(t, func() { caught = inProgress(t, db, table) },
			async.EnvIdempotencyTable+"="+table, "AWS_ENDPOINT_URL_DYNAMODB="+srv.Endpoint, "EFFECTS_LEASE=3s")
		if lost != 0 {
			t.Errorf("lost %d", lost)
		}
		window := 0
		for _, n := range duplicates {
			if !caught[events.Key(effectEvent(ids[n]))] {
				t.Errorf("invocation %d ran twice, but the kill did not catch it between its effect and its outcome", n)
			} else {
				window++
			}
		}
		t.Logf("claims in progress at the kill: %d; duplicates caught between effect and outcome: %d", len(caught), window)
	})
}

// killAndRestart sends 500 invocations, SIGKILLs the consumer once a third
// ran, calls killed (if not nil), starts it again until all ran and the
// queue is empty, and stops it with SIGTERM. It returns how many never
// ran, the numbers of the extra runs, and the event ids.
func killAndRestart(t *testing.T, killed func(), env ...string) (lost int, duplicates []int, ids []string) {
	t.Helper()
	c := sqs.NewFromConfig(need(t))
	url, _ := createQueue(t, c, name(t, "q"), nil)
	const n = 500
	ids = sendEffects(t, c, url, n, nil)
	file := filepath.Join(t.TempDir(), "effects")
	env = append([]string{"EFFECTS_DELAY=20ms", "EFFECTS_VISIBILITY=5s"}, env...)

	first := startConsumer(t, url, file, env...)
	until(t, "a third handled", time.Minute, first.logs, func() bool { return len(effectCounts(t, file)) >= n/3 })
	first.signal(t, syscall.SIGKILL, 10*time.Second)
	before := effectCounts(t, file)
	if len(before) >= n {
		t.Fatalf("the consumer finished all %d before it was killed: nothing was mid-stream", n)
	}
	if killed != nil {
		killed()
	}

	second := startConsumer(t, url, file, env...)
	until(t, "all handled and the queue empty", 2*time.Minute, second.logs, func() bool {
		return len(effectCounts(t, file)) == n && heldBy(t, c, url) == 0
	})
	if took := second.signal(t, syscall.SIGTERM, 30*time.Second); second.err != nil {
		t.Errorf("after SIGTERM (%v): %v\n%s", took, second.err, second.logs)
	}
	counts := effectCounts(t, file)
	for i := range n {
		switch k := counts[i]; {
		case k == 0:
			lost++
		case k > 1:
			for range k - 1 {
				duplicates = append(duplicates, i)
			}
		}
	}
	t.Logf("%d invocations, killed after %d handled: lost %d, duplicates %d (in-flight bound %d)",
		n, len(before), lost, len(duplicates), consumerConcurrency+pendingDeletes)
	return lost, duplicates, ids
}

// effectEvent is the event of id as sendEffects sent it, for its key.
func effectEvent(id string) event.Event {
	e := event.New()
	e.SetSource(effectsSource)
	e.SetID(id)
	return e
}

// idempotencyTable creates a table as Powertools' idempotency documents it
// (partition key id, TTL on expiration) and returns its name.
func idempotencyTable(t *testing.T, db *dynamodb.Client) string {
	t.Helper()
	ctx := ctxFor(t, 30*time.Second)
	table := name(t, "idempotency")
	_, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(table),
		AttributeDefinitions: []dbtypes.AttributeDefinition{{AttributeName: aws.String(dynamostore.AttrID), AttributeType: dbtypes.ScalarAttributeTypeS}},
		KeySchema:            []dbtypes.KeySchemaElement{{AttributeName: aws.String(dynamostore.AttrID), KeyType: dbtypes.KeyTypeHash}},
		BillingMode:          dbtypes.BillingModePayPerRequest,
	})
	if err != nil {
		t.Fatalf("CreateTable: %v", err)
	}
	return table
}

// inProgress is the keys of the table's claims still in progress.
func inProgress(t *testing.T, db *dynamodb.Client, table string) map[string]bool {
	t.Helper()
	keys := map[string]bool{}
	p := dynamodb.NewScanPaginator(db, &dynamodb.ScanInput{TableName: aws.String(table)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctxFor(t, 30*time.Second))
		if err != nil {
			t.Fatalf("Scan: %v", err)
		}
		for _, item := range page.Items {
			status, _ := item[dynamostore.AttrStatus].(*dbtypes.AttributeValueMemberS)
			id, _ := item[dynamostore.AttrID].(*dbtypes.AttributeValueMemberS)
			if status != nil && id != nil && status.Value == dynamostore.StatusInProgress {
				keys[id.Value] = true
			}
		}
	}
	return keys
}

// TestConsumerSIGTERMDrains: SIGTERM while the consumer handles a stream
// of slow invocations: it finishes what it runs, deletes it, and exits 0
// well within the visibility timeout; the queue keeps exactly what it did
// not handle, and a new consumer handles that: none lost, none run twice.
func TestConsumerSIGTERMDrains(t *testing.T) {
	t.Parallel()
	c := sqs.NewFromConfig(need(t))
	url, _ := createQueue(t, c, name(t, "q"), nil)
	const n = 100
	const visibility = 10 * time.Second
	sendEffects(t, c, url, n, nil)
	file := filepath.Join(t.TempDir(), "effects")
	env := []string{"EFFECTS_DELAY=300ms", "EFFECTS_VISIBILITY=" + visibility.String()}

	first := startConsumer(t, url, file, env...)
	until(t, "20 handled", time.Minute, first.logs, func() bool { return len(effectCounts(t, file)) >= 20 })
	took := first.signal(t, syscall.SIGTERM, visibility)
	if first.err != nil {
		t.Errorf("after SIGTERM: %v\n%s", first.err, first.logs)
	}
	drained := effectCounts(t, file)
	if len(drained) >= n {
		t.Fatalf("the consumer finished all %d before SIGTERM: nothing was mid-stream", n)
	}
	if held := heldBy(t, c, url); held != n-len(drained) {
		t.Errorf("after the drain the queue holds %d, want the %d not handled", held, n-len(drained))
	}

	second := startConsumer(t, url, file, env...)
	until(t, "all handled and the queue empty", 2*time.Minute, second.logs, func() bool {
		return len(effectCounts(t, file)) == n && heldBy(t, c, url) == 0
	})
	second.signal(t, syscall.SIGTERM, visibility)
	lost, duplicates := tally(effectCounts(t, file), n)
	t.Logf("%d invocations, SIGTERM after %d handled, exited in %v: lost %d, duplicates %d",
		n, len(drained), took.Round(time.Millisecond), lost, duplicates)
	if lost != 0 || duplicates != 0 {
		t.Errorf("lost %d, duplicates %d: want none", lost, duplicates)
	}
}

// TestConsumerPoisonMessages: among a stream of invocations, some the
// entry refuses every time (422: poison) and some it fails on every time
// (503). The poison ones are dead-lettered by cws at their first receive,
// each with its reason; the failing ones are retried until the queue's
// redrive policy moves them after maxReceiveCount receives (SQS carries no
// reason). The dead-letter queue holds exactly those; the others ran once.
func TestConsumerPoisonMessages(t *testing.T) {
	t.Parallel()
	c := sqs.NewFromConfig(need(t))
	url, _, dlqURL := queueWithDLQ(t, c, false)
	const n = 60
	poison := map[int]bool{7: true, 23: true, 41: true}
	failing := map[int]bool{11: true, 52: true}
	sendEffects(t, c, url, n, func(i int) map[string]any {
		return map[string]any{"n": i, "refuse": poison[i], "fail": failing[i]}
	})
	file := filepath.Join(t.TempDir(), "effects")
	consumer := startConsumer(t, url, file, "EFFECTS_DELAY=10ms", "EFFECTS_VISIBILITY=2s")
	until(t, "the others handled, the queue empty", 2*time.Minute, consumer.logs, func() bool {
		return len(effectCounts(t, file)) == n-len(poison)-len(failing) && heldBy(t, c, url) == 0
	})
	consumer.signal(t, syscall.SIGTERM, 30*time.Second)

	number := regexp.MustCompile(`"n":\s*(\d+)`)
	reasons := map[int]string{}
	take := deadLetters(c, dlqURL)
	for deadline := time.Now().Add(30 * time.Second); len(reasons) < len(poison)+len(failing) && time.Now().Before(deadline); {
		dls, err := take(ctxFor(t, 30*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		for _, dl := range dls {
			m := number.FindStringSubmatch(dl.Body)
			if m == nil {
				t.Fatalf("a dead letter without its number: %s", dl.Body)
			}
			i, _ := strconv.Atoi(m[1])
			if _, dup := reasons[i]; dup {
				t.Errorf("invocation %d dead-lettered twice", i)
			}
			reasons[i] = dl.Reason
		}
	}
	for i, reason := range reasons {
		switch {
		case poison[i]:
			if want := fmt.Sprintf("effect %d is poison", i); !strings.Contains(reason, "422") || !strings.Contains(reason, want) {
				t.Errorf("poison %d dead-lettered with the reason %q, want its 422 and %q", i, reason, want)
			}
		case failing[i]:
			if reason != "" {
				t.Errorf("failing %d: SQS's redrive gives no reason, got %q", i, reason)
			}
		default:
			t.Errorf("invocation %d dead-lettered (%q), but it is neither poison nor failing", i, reason)
		}
	}
	if len(reasons) != len(poison)+len(failing) {
		t.Errorf("dead letters %v, want %v and %v", reasons, poison, failing)
	}
	lost, duplicates := tally(effectCounts(t, file), n)
	lost -= len(poison) + len(failing) // never run, by design
	t.Logf("%d invocations, %d poison, %d failing: dead letters %d %v, lost %d, duplicates %d",
		n, len(poison), len(failing), len(reasons), reasons, lost, duplicates)
	logs := consumer.logs.String()
	if got := strings.Count(logs, "msg=dead-lettered"); got != len(poison) {
		t.Errorf("cws dead-lettered %d messages, want the %d poison ones, once each\n%s", got, len(poison), logs)
	}
	if got := strings.Count(logs, `msg="invocation refused: dead-lettered"`); got != len(poison) {
		t.Errorf("the entry refused %d times, want once per poison message (%d)\n%s", got, len(poison), logs)
	}
	if got := strings.Count(logs, `msg="invocation failed: will be retried"`); got != len(failing)*maxReceive {
		t.Errorf("the entry failed %d times, want %d per failing message (maxReceiveCount)\n%s", got, maxReceive, logs)
	}
	if lost != 0 || duplicates != 0 {
		t.Errorf("lost %d, duplicates %d", lost, duplicates)
	}
}

// TestConsumerHeartbeatKeepsSlowMessage: two consumers share a queue whose
// visibility timeout (2s) is shorter than one invocation's work (7s). The
// consumer running it extends its visibility while it runs, so the other
// never receives it: it runs once, received once, and so do the rest.
func TestConsumerHeartbeatKeepsSlowMessage(t *testing.T) {
	t.Parallel()
	c := sqs.NewFromConfig(need(t))
	url, _ := createQueue(t, c, name(t, "q"), nil)
	const n, slow = 20, 0
	const work, visibility = 7 * time.Second, 2 * time.Second
	sendEffects(t, c, url, n, func(i int) map[string]any {
		if i == slow {
			return map[string]any{"n": i, "work": work.String()}
		}
		return map[string]any{"n": i}
	})
	file := filepath.Join(t.TempDir(), "effects")
	env := []string{"EFFECTS_DELAY=10ms", "EFFECTS_VISIBILITY=" + visibility.String()}
	a := startConsumer(t, url, file, env...)
	b := startConsumer(t, url, file, env...)
	start := time.Now()
	until(t, "all handled and the queue empty", time.Minute, a.logs, func() bool {
		return len(effectCounts(t, file)) == n && heldBy(t, c, url) == 0
	})
	took := time.Since(start)
	a.signal(t, syscall.SIGTERM, 30*time.Second)
	b.signal(t, syscall.SIGTERM, 30*time.Second)
	lost, duplicates := tally(effectCounts(t, file), n)
	logs := a.logs.String() + b.logs.String()
	if invoked := strings.Count(logs, "receive_count=1"); invoked < n {
		t.Fatalf("the logs name the receive count of %d invocations, want all %d\n%s", invoked, n, logs)
	}
	redelivered := strings.Count(logs, "receive_count=") - strings.Count(logs, "receive_count=1 ")
	t.Logf("%d invocations, one working %v under a visibility timeout of %v, all done in %v: lost %d, duplicates %d, redelivered %d",
		n, work, visibility, took.Round(time.Millisecond), lost, duplicates, redelivered)
	if took < work {
		t.Errorf("done in %v, before the slow one's work (%v) could end", took, work)
	}
	if lost != 0 || duplicates != 0 || redelivered != 0 {
		t.Errorf("lost %d, duplicates %d, redelivered %d: want none\n%s\n%s", lost, duplicates, redelivered, a.logs, b.logs)
	}
}

// cutProxy forwards TCP connections from a port of the loopback to target
// until cut, which closes the port and every connection through it, as a
// stopped LocalStack would; restore opens the same port again.
type cutProxy struct {
	addr, target string
	mu           sync.Mutex
	ln           net.Listener
	conns        map[net.Conn]bool
}

func newCutProxy(t *testing.T, target string) *cutProxy {
	t.Helper()
	p := &cutProxy{target: target, conns: map[net.Conn]bool{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(p.cut)
	return p
}

func (p *cutProxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", p.target)
			if err != nil {
				in.Close()
				continue
			}
			p.mu.Lock()
			p.conns[in], p.conns[out] = true, true
			p.mu.Unlock()
			go func() { _, _ = io.Copy(out, in); out.Close() }()
			go func() { _, _ = io.Copy(in, out); in.Close() }()
		}
	}()
}

func (p *cutProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

func (p *cutProxy) restore(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		t.Fatalf("reopening %s: %v", p.addr, err)
	}
	p.serve(ln)
}

// TestConsumerAWSUnreachable: the consumer reaches LocalStack through a
// proxy, which the test cuts mid-stream for 6s — every connection closed,
// the port refusing — and then opens again: the consumer's receives fail and
// back off, and once the port answers it carries on, to the last invocation.
// This is LocalStack unreachable, not LocalStack restarted (a restarted
// LocalStack forgets its queues: it keeps no state without its Pro
// persistence).
func TestConsumerAWSUnreachable(t *testing.T) {
	t.Parallel()
	c := sqs.NewFromConfig(need(t))
	url, _ := createQueue(t, c, name(t, "q"), nil)
	const n = 300
	const outage = 6 * time.Second
	sendEffects(t, c, url, n, nil)
	file := filepath.Join(t.TempDir(), "effects")
	proxy := newCutProxy(t, strings.TrimPrefix(instance.Endpoint, "http://"))
	consumer := startConsumer(t, url, file, "EFFECTS_DELAY=20ms", "EFFECTS_VISIBILITY=5s",
		"AWS_ENDPOINT_URL=http://"+proxy.addr)
	until(t, "a third handled", time.Minute, consumer.logs, func() bool { return len(effectCounts(t, file)) >= n/3 })
	proxy.cut()
	before := len(effectCounts(t, file))
	time.Sleep(outage)
	during := len(effectCounts(t, file)) - before
	proxy.restore(t)
	until(t, "all handled and the queue empty", 2*time.Minute, consumer.logs, func() bool {
		return len(effectCounts(t, file)) == n && heldBy(t, c, url) == 0
	})
	consumer.signal(t, syscall.SIGTERM, 30*time.Second)
	if consumer.err != nil {
		t.Errorf("after SIGTERM: %v\n%s", consumer.err, consumer.logs)
	}
	lost, duplicates := tally(effectCounts(t, file), n)
	failures := strings.Count(consumer.logs.String(), `msg="receiving failed: retrying"`)
	t.Logf("%d invocations, cut for %v after %d handled (%d more during the cut): %d failed receives, lost %d, duplicates %d",
		n, outage, before, during, failures, lost, duplicates)
	if failures == 0 {
		t.Errorf("no receive failed: the cut did not reach the consumer\n%s", consumer.logs)
	}
	if lost != 0 || duplicates > consumerConcurrency+pendingDeletes {
		t.Errorf("lost %d, duplicates %d (bound %d)", lost, duplicates, consumerConcurrency+pendingDeletes)
	}
}

// TestConsumerLocalStackRestart: LocalStack itself stopped mid-stream and
// started again on the same port — its own host process, since the other
// tests share theirs. The consumer is not restarted: it backs off while
// the endpoint refuses and the queue is gone, and carries on once the
// queue is back. LocalStack community keeps no state across a restart
// (persistence is a Pro feature), so the queue is created again, as an
// operator would after a reset, and what the stopped LocalStack still held
// is gone with it: counted and reported, not cws's to deliver. What the
// queue gets after the restart is handled, none lost and none twice.
func TestConsumerLocalStackRestart(t *testing.T) {
	need(t)
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	start := func() *localstack.Instance {
		t.Helper()
		inst, err := localstack.StartHost(ctxFor(t, 3*time.Minute), localstack.WithServices("sqs"), localstack.WithPort(port))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = inst.Stop(context.Background()) })
		return inst
	}
	ls := start()
	c := sqs.NewFromConfig(localstack.AWSConfig(ls.Endpoint))
	qname := name(t, "q")
	url := restartQueue(t, c, qname)
	const n, m = 300, 200 // sent before the stop, after the restart
	sendEffects(t, c, url, n, nil)
	file := filepath.Join(t.TempDir(), "effects")
	consumer := startConsumer(t, url, file, "EFFECTS_DELAY=20ms", "EFFECTS_VISIBILITY=5s", "AWS_ENDPOINT_URL="+ls.Endpoint)
	until(t, "a third handled", time.Minute, consumer.logs, func() bool { return len(effectCounts(t, file)) >= n/3 })
	stopping := time.Now()
	if err := ls.Stop(ctxFor(t, time.Minute)); err != nil {
		t.Fatal(err)
	}
	before := len(effectCounts(t, file))
	t.Logf("LocalStack stopped in %v, %d of %d handled", time.Since(stopping).Round(time.Millisecond), before, n)
	time.Sleep(3 * time.Second)

	restarting := time.Now()
	start() // on the same port: the consumer's endpoint again
	if got := restartQueue(t, c, qname); got != url {
		t.Fatalf("the queue's URL after the restart: %s, was %s", got, url)
	}
	t.Logf("LocalStack started again in %v", time.Since(restarting).Round(time.Millisecond))
	select {
	case <-consumer.exited:
		t.Fatalf("the consumer exited while LocalStack was down: %v\n%s", consumer.err, consumer.logs)
	default:
	}
	if h := heldBy(t, c, url); h != 0 {
		t.Fatalf("the restarted LocalStack's queue holds %d: it kept state, the test's premise is wrong", h)
	}
	sendEffects(t, c, url, m, func(i int) map[string]any { return map[string]any{"n": n + i} })
	until(t, "all sent after the restart handled and the queue empty", 2*time.Minute, consumer.logs, func() bool {
		counts := effectCounts(t, file)
		for i := n; i < n+m; i++ {
			if counts[i] == 0 {
				return false
			}
		}
		return heldBy(t, c, url) == 0
	})
	consumer.signal(t, syscall.SIGTERM, 30*time.Second)
	if consumer.err != nil {
		t.Errorf("after SIGTERM: %v\n%s", consumer.err, consumer.logs)
	}
	counts := effectCounts(t, file)
	var lost, duplicates, goneWithLocalStack int
	for i := range n + m {
		switch k := counts[i]; {
		case k == 0 && i < n:
			goneWithLocalStack++
		case k == 0:
			lost++
		case k > 1:
			duplicates += k - 1
		}
	}
	failures := strings.Count(consumer.logs.String(), `msg="receiving failed: retrying"`)
	t.Logf("%d sent, LocalStack restarted after %d handled: %d gone with the stopped LocalStack's state; of the %d sent after the restart lost %d; duplicates %d; %d failed receives while it was down",
		n+m, before, goneWithLocalStack, m, lost, duplicates, failures)
	if failures == 0 {
		t.Errorf("no receive failed: the stop did not reach the consumer\n%s", consumer.logs)
	}
	if lost != 0 || duplicates != 0 {
		t.Errorf("lost %d, duplicates %d: want none", lost, duplicates)
	}
}

// restartQueue creates the queue of TestConsumerLocalStackRestart; unlike
// createQueue it leaves the deletion to the LocalStack's stop.
func restartQueue(t *testing.T, c *sqs.Client, name string) string {
	t.Helper()
	out, err := c.CreateQueue(ctxFor(t, 30*time.Second), &sqs.CreateQueueInput{QueueName: aws.String(name)})
	if err != nil {
		t.Fatalf("CreateQueue %s: %v", name, err)
	}
	return aws.ToString(out.QueueUrl)
}
