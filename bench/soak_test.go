package bench

import (
	"bufio"
	"fmt"
	"os"
	goruntime "runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	cwshttp "github.com/coworks-go/cws/transport/http"
)

// EnvSoak is how long TestSoak runs (make soak sets 10m); without it the
// soak does not run: it is not part of make test.
const EnvSoak = "LOAD_SOAK"

// sample is the process's resident memory and goroutines at one moment.
type sample struct {
	at         time.Duration
	rssKiB     int
	goroutines int
}

// residentKiB reads VmRSS from /proc/self/status.
func residentKiB() (int, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			return strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/self/status: %v", sc.Err())
}

// TestSoak drives cws's local server (the GET and POST by turns) and its
// async door (events to the entry) with two wrk processes at once for
// $LOAD_SOAK, sampling the resident memory and the goroutines every 10 s:
// the last minute's highest must stay within 10% of the second minute's
// (the first is the warm-up), no HTTP request may fail (the events' door
// may answer 503 while its queue is full) and every accepted event must
// reach the entry.
func TestSoak(t *testing.T) {
	v := os.Getenv(EnvSoak)
	if v == "" {
		t.Skipf("the soak runs with %s=DURATION (make soak: 10m)", EnvSoak)
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 3*time.Minute {
		t.Fatalf("%s=%q: a duration of 3m or more", EnvSoak, v)
	}
	wrk := wrkPath(t)
	c := loadConfig{threads: 1, connections: 16}
	syncBase := serve(t, cwshttp.NewHandler(cwsApp(t)), true)
	m := newMarks(false)
	asyncBase := asyncServer(t, m)

	start := time.Now()
	var wg sync.WaitGroup
	results := make([]wrkResult, 2)
	errs := make([]error, 2)
	for i, run := range []struct{ script, base string }{{mixScript, syncBase}, {eventsScript, asyncBase}} {
		dir := t.TempDir()
		wg.Go(func() { results[i], errs[i] = wrkRun(wrk, run.script, dir, run.base, c, d) })
	}
	var samples []sample
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(10 * time.Second)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				rss, err := residentKiB()
				if err != nil {
					t.Error(err)
					return
				}
				s := sample{time.Since(start).Round(time.Second), rss, goruntime.NumGoroutine()}
				t.Logf("%v: RSS %d KiB, %d goroutines", s.at, s.rssKiB, s.goroutines)
				samples = append(samples, s)
			}
		}
	}()
	wg.Wait()
	close(stop)
	<-sampled
	for i, r := range results {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		t.Logf("wrk %d: %d requests, %.0f req/s, p99 %v, %d non-2xx", i+1, r.requests, r.perSecond, r.p99, r.non2xx)
		// The events' door answers 503 (Retry-After) while its queue is
		// full: backpressure, not a failure; the HTTP door answers all.
		if i == 0 && r.non2xx != 0 || r.socketErrors != 0 || r.requests == 0 {
			t.Errorf("wrk %d: %d requests, %d non-2xx, %d socket errors", i+1, r.requests, r.non2xx, r.socketErrors)
		}
	}
	deadline := time.Now().Add(time.Minute)
	for {
		m.mu.Lock()
		accepted, arrived := m.nAccepted, m.nArrived
		m.mu.Unlock()
		if arrived >= accepted || time.Now().After(deadline) {
			if arrived != accepted {
				t.Errorf("%d events accepted, %d reached the entry by a minute after the load", accepted, arrived)
			} else {
				t.Logf("%d events accepted and run", accepted)
			}
			break
		}
		time.Sleep(10 * time.Millisecond)
	}

	peak := func(from, to time.Duration) (rss, gs int) {
		for _, s := range samples {
			if s.at > from && s.at <= to {
				rss, gs = max(rss, s.rssKiB), max(gs, s.goroutines)
			}
		}
		return rss, gs
	}
	rss2, gs2 := peak(time.Minute, 2*time.Minute)
	rssLast, gsLast := peak(d-time.Minute, d+time.Minute)
	t.Logf("second minute: RSS %d KiB, %d goroutines; last minute: RSS %d KiB, %d goroutines", rss2, gs2, rssLast, gsLast)
	if rss2 == 0 || rssLast == 0 {
		t.Fatal("no samples in the second or the last minute")
	}
	if float64(rssLast) > 1.1*float64(rss2) {
		t.Errorf("the resident memory grew: %d KiB in the last minute, %d KiB in the second (over 10%%)", rssLast, rss2)
	}
	if float64(gsLast) > 1.1*float64(gs2) {
		t.Errorf("the goroutines grew: %d in the last minute, %d in the second (over 10%%)", gsLast, gs2)
	}
}
