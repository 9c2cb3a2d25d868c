package bench

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// A cold start is what a new execution environment pays before its first
// request: the binary's size (Lambda downloads and unpacks it), its
// packages' init (GODEBUG=inittrace=1), and the time from exec to ready.
// The binaries are built the way a Lambda deployment builds them:
// GOOS=linux for the host's architecture, CGO_ENABLED=0, -trimpath,
// -ldflags=-s -w, -tags lambda.norpc.

// coldBinary is a built binary of the cold-start benchmark.
type coldBinary struct {
	impl string
	path string
	size int64
}

var (
	coldOnce sync.Once
	coldBins map[string]coldBinary // by impl
	coldErr  error
)

// coldStartBinaries builds, once per process: cws (examples/crud, an
// HTTP-only service), cws-biz (examples/biz, with the CloudEvents doors on
// AWS: what those doors cost), bare (a bare aws-lambda-go handler), nethttp
// (a hand-written net/http server).
func coldStartBinaries(tb testing.TB) map[string]coldBinary {
	tb.Helper()
	coldOnce.Do(func() {
		dir, err := os.MkdirTemp("", "cws-coldstart-")
		if err != nil {
			coldErr = err
			return
		}
		coldBins = map[string]coldBinary{}
		// The examples build in their module (the repository's root), the
		// baselines in this one.
		for impl, pkg := range map[string][2]string{
			"cws":     {"..", "./examples/crud"},
			"cws-biz": {"..", "./examples/biz"},
			"bare":    {".", "./coldstart/bare"},
			"nethttp": {".", "./coldstart/nethttp"},
		} {
			path := filepath.Join(dir, impl)
			cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-tags", "lambda.norpc", "-o", path, pkg[1])
			cmd.Dir = pkg[0]
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
			if out, err := cmd.CombinedOutput(); err != nil {
				coldErr = fmt.Errorf("building %s: %v\n%s", pkg[1], err, out)
				return
			}
			fi, err := os.Stat(path)
			if err != nil {
				coldErr = err
				return
			}
			coldBins[impl] = coldBinary{impl: impl, path: path, size: fi.Size()}
		}
	})
	if coldErr != nil {
		tb.Fatal(coldErr)
	}
	return coldBins
}

// runtimeAPI is the Lambda Runtime API as far as a cold start goes: it
// tells when a runtime asks for its first invocation, and hands it the
// event given, if any.
type runtimeAPI struct {
	addr  string
	next  chan struct{}
	event chan string
	resp  chan string
}

func newRuntimeAPI(tb testing.TB) *runtimeAPI {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	rt := &runtimeAPI{addr: ln.Addr().String(), next: make(chan struct{}, 1), event: make(chan string, 1), resp: make(chan string, 1)}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == "GET" && r.URL.Path == "/2018-06-01/runtime/invocation/next":
			rt.next <- struct{}{}
			select {
			case ev := <-rt.event:
				w.Header().Set("Lambda-Runtime-Aws-Request-Id", "req-1")
				w.Header().Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(time.Now().Add(time.Minute).UnixMilli(), 10))
				w.Header().Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:000000000000:function:cold")
				_, _ = io.WriteString(w, ev)
			case <-r.Context().Done(): // the process was stopped
			}
		case r.Method == "POST" && strings.HasSuffix(r.URL.Path, "/response"):
			b, _ := io.ReadAll(r.Body)
			rt.resp <- string(b)
			w.WriteHeader(http.StatusAccepted)
		default:
			http.NotFound(w, r)
		}
	})}
	go func() { _ = srv.Serve(ln) }()
	tb.Cleanup(func() { _ = srv.Close() })
	return rt
}

// start execs bin with env.
func start(tb testing.TB, bin string, stderr io.Writer, env ...string) *exec.Cmd {
	tb.Helper()
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	return cmd
}

func stop(cmd *exec.Cmd) {
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
}

// lambdaEnv is the environment Lambda gives a function, with its Runtime
// API at addr.
func lambdaEnv(addr string) []string {
	return []string{"AWS_LAMBDA_RUNTIME_API=" + addr, "AWS_LAMBDA_FUNCTION_NAME=cold", "AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128", "AWS_REGION=us-east-1", "TOKEN=cold-token"}
}

// initTrace sums what GODEBUG=inittrace=1 printed: the packages' init time
// and the bytes they allocated.
func initTrace(out string) (d time.Duration, bytes float64) {
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		// init internal/bytealg @0.008 ms, 0 ms clock, 0 bytes, 0 allocs
		f := strings.Fields(sc.Text())
		if len(f) < 8 || f[0] != "init" {
			continue
		}
		ms, _ := strconv.ParseFloat(f[4], 64)
		b, _ := strconv.ParseFloat(f[7], 64)
		d += time.Duration(ms * float64(time.Millisecond))
		bytes += b
	}
	return d, bytes
}

// TestColdStartBinariesAnswer checks that the binaries of the cold-start
// benchmark do the work compared: each Lambda binary answers GET
// /service/test through the Runtime API, the local servers answer it over
// HTTP.
func TestColdStartBinariesAnswer(t *testing.T) {
	bins := coldStartBinaries(t)
	event := `{"version":"2.0","routeKey":"$default","rawPath":"/service/test","rawQueryString":"","headers":{},` +
		`"requestContext":{"http":{"method":"GET","path":"/service/test","sourceIp":"192.0.2.1"},"domainName":"x.execute-api.us-east-1.amazonaws.com","stage":"$default"},"isBase64Encoded":false}`
	for _, impl := range []string{"cws", "bare"} {
		rt := newRuntimeAPI(t)
		rt.event <- event
		cmd := start(t, bins[impl].path, io.Discard, lambdaEnv(rt.addr)...)
		select {
		case resp := <-rt.resp:
			var r struct {
				StatusCode int    `json:"statusCode"`
				Body       string `json:"body"`
			}
			if err := json.Unmarshal([]byte(resp), &r); err != nil || r.StatusCode != 200 || r.Body != "service test" {
				t.Errorf("%s answered %s", impl, resp)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("%s did not answer", impl)
		}
		stop(cmd)
	}
	for _, impl := range []string{"cws", "nethttp"} {
		addr := freeAddr(t)
		cmd := start(t, bins[impl].path, io.Discard, "CWS_ADDR="+addr)
		if body := waitLocal(t, addr, 30*time.Second); body != "service test" {
			t.Errorf("%s answered %q", impl, body)
		}
		stop(cmd)
	}
}

func freeAddr(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// waitLocal polls GET /service/test on addr until it answers, and returns
// the body.
func waitLocal(tb testing.TB, addr string, timeout time.Duration) string {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	for {
		resp, err := client.Get("http://" + addr + "/service/test")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			return string(b)
		}
		if time.Now().After(deadline) {
			tb.Fatalf("%s did not answer: %v", addr, err)
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// BenchmarkColdStart starts each binary per iteration and times exec →
// ready: for the Lambda door, exec → the runtime's first request for an
// invocation (Runtime API /next); for the local server, exec → the first
// HTTP answer. It reports the binary's size (binary-B) and its packages'
// init time and allocations (init-ns, init-B, from GODEBUG=inittrace=1,
// set for every implementation alike).
func BenchmarkColdStart(b *testing.B) {
	bins := coldStartBinaries(b)
	for _, impl := range []string{"cws", "bare", "cws-biz"} {
		bin := bins[impl]
		b.Run("door=lambda/impl="+impl, func(b *testing.B) {
			rt := newRuntimeAPI(b)
			var initSum time.Duration
			var initBytes float64
			n := 0
			for b.Loop() {
				var stderr bytes.Buffer
				cmd := start(b, bin.path, &stderr, append(lambdaEnv(rt.addr), "GODEBUG=inittrace=1")...)
				select {
				case <-rt.next:
				case <-time.After(30 * time.Second):
					b.Fatalf("%s did not ask for an invocation:\n%s", impl, stderr.String())
				}
				b.StopTimer()
				stop(cmd)
				d, by := initTrace(stderr.String())
				initSum += d
				initBytes += by
				n++
				b.StartTimer()
			}
			b.ReportMetric(float64(bin.size), "binary-B")
			b.ReportMetric(float64(initSum.Nanoseconds())/float64(n), "init-ns")
			b.ReportMetric(initBytes/float64(n), "init-B")
		})
	}
	for _, impl := range []string{"cws", "nethttp"} {
		bin := bins[impl]
		b.Run("door=local/impl="+impl, func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				addr := freeAddr(b)
				b.StartTimer()
				cmd := start(b, bin.path, io.Discard, "CWS_ADDR="+addr, "TOKEN=cold-token")
				waitLocal(b, addr, 30*time.Second)
				b.StopTimer()
				stop(cmd)
				b.StartTimer()
			}
			b.ReportMetric(float64(bin.size), "binary-B")
		})
	}
}
