//go:build integration

package integration

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/coworks-go/cws/async"
)

// TestLambdaSQSFaults: the faults of the consumer tests, on the Lambda SQS
// door — testdata/effects as a function that LocalStack runs (the cws
// executor: a host process, which writes the effects file), behind an
// event source mapping of batches of 10 with ReportBatchItemFailures. In
// the stream, one invocation makes the function's process exit in the
// middle of its batch, one makes it hang until the function's timeout
// ends it (each once), and three are poison. Per event: none lost; what
// runs twice is what the two crashed batches had done — each extra run
// redoes an effect of a process that crashed, at most 9 a batch (the batch
// fails whole and comes back after the visibility timeout, the idempotency
// store in memory died with the process); the dead letters are exactly the
// poison ones, each with the entry's reason.
func TestLambdaSQSFaults(t *testing.T) {
	t.Parallel()
	cfg := need(t)
	lc, c := lambda.NewFromConfig(cfg), sqs.NewFromConfig(cfg)
	url, arn, dlqURL := queueWithDLQ(t, c, false)
	ctx := ctxFor(t, 5*time.Minute)
	if _, err := c.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: aws.String(url),
		Attributes: map[string]string{"VisibilityTimeout": "6"}}); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "effects")
	fn := name(t, "effects")
	const timeout = 3
	createFunction(t, lc, fn, lambdaZip(t, "./integration/testdata/effects", ""), map[string]string{
		"EFFECTS_FILE": file, "EFFECTS_DELAY": "20ms", async.EnvDeadLetterQueueURL: dlqURL}, timeout)

	const n, exits, hangs = 150, 37, 101
	poison := []int{5, 64, 133}
	ids := sendEffects(t, c, url, n, func(i int) map[string]any {
		b := map[string]any{"n": i}
		switch {
		case i == exits:
			b["crash"] = "exit"
		case i == hangs:
			b["crash"] = "hang"
		case slices.Contains(poison, i):
			b["refuse"] = true
		}
		return b
	})
	sqsMapping(t, lc, fn, arn)

	reasons := map[string]string{} // dead letters: event id → reason
	deadline := time.Now().Add(4 * time.Minute)
	for {
		dl, err := deadLetters(c, dlqURL)(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range dl {
			id := ""
			for i, want := range ids {
				if strings.Contains(d.Body, want) {
					id = ids[i]
				}
			}
			if _, twice := reasons[id]; twice || id == "" {
				t.Errorf("a dead letter twice or of no sent event: %.200s (%s)", d.Body, d.Reason)
			}
			reasons[id] = d.Reason
		}
		lost, _ := tally(effectCounts(t, file), n)
		if lost == len(poison) && len(reasons) >= len(poison) && heldBy(t, c, url) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not settled within 4 minutes: %d without an effect (want the %d poison), %d dead letters, %d held by the queue\n%s",
				lost, len(poison), len(reasons), heldBy(t, c, url), awaitLogs(t, cfg, fn, "", 0))
		}
		time.Sleep(500 * time.Millisecond)
	}

	counts := effectCounts(t, file)
	lost, duplicates := 0, 0
	for i := range n {
		switch k := counts[i]; {
		case slices.Contains(poison, i):
			if k != 0 {
				t.Errorf("poison %d had an effect", i)
			}
			if r, ok := reasons[ids[i]]; !ok || !strings.Contains(r, "poison") {
				t.Errorf("poison %d: dead-lettered %v with reason %q", i, ok, r)
			}
		case k == 0:
			lost++
		case k > 1:
			duplicates += k - 1
		}
	}
	if len(reasons) != len(poison) {
		t.Errorf("%d dead letters, want the %d poison ones: %v", len(reasons), len(poison), reasons)
	}
	crashed := map[string]bool{} // the ids of the processes that crashed
	for _, i := range []int{exits, hangs} {
		pid, err := os.ReadFile(file + ".crashed-" + strconv.Itoa(i))
		if err != nil {
			t.Errorf("invocation %d did not crash the function: %v", i, err)
		}
		crashed[string(pid)] = true
	}
	// Each extra run redid an effect first done by a process that crashed
	// (in its crashed batch), never one of a batch that succeeded.
	runs := map[int][]string{} // by number, the processes that ran it
	effects, _ := os.ReadFile(file)
	for _, line := range strings.Split(strings.TrimSpace(string(effects)), "\n") {
		f := strings.Fields(line)
		i, _ := strconv.Atoi(f[0])
		runs[i] = append(runs[i], f[2])
	}
	for i, pids := range runs {
		for _, pid := range pids[:len(pids)-1] {
			if !crashed[pid] {
				t.Errorf("invocation %d ran again after process %s, which did not crash, had run it (runs by %v)", i, pid, pids)
			}
		}
	}
	if lost != 0 {
		t.Errorf("lost %d", lost)
	}
	if bound := 2 * 9; duplicates > bound {
		t.Errorf("%d duplicates, more than the %d the two crashed batches had done", duplicates, bound)
	}
	t.Logf("%d invocations through the Lambda SQS door, one exit and one timeout mid-batch: lost %d, duplicates %d (bound 18), dead letters %d (the %d poison, with their reasons)",
		n, lost, duplicates, len(reasons), len(poison))
}
