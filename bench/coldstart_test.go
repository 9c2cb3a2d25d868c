package bench

import (
	"bufio"
	"bytes"
	"context"
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

	"github.com/coworks-go/cws/localstack/lambdaenv"
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

// lambdaEnv is the environment Lambda gives a function.
var lambdaEnv = []string{"AWS_LAMBDA_FUNCTION_NAME=cold", "AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
	"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128", "AWS_REGION=us-east-1", "TOKEN=cold-token", "PATH=" + os.Getenv("PATH")}

// startEnv starts a Lambda execution environment (lambdaenv, the Runtime
// API of cws invoke --runtime and of LocalStack's cws executor) for bin.
func startEnv(tb testing.TB, bin string, out io.Writer, env ...string) *lambdaenv.Env {
	tb.Helper()
	e, err := lambdaenv.Start(lambdaenv.Config{Bootstrap: bin, Env: append(append([]string{}, lambdaEnv...), env...), Output: out})
	if err != nil {
		tb.Fatal(err)
	}
	return e
}

// testEvent is an HTTP API event of GET /service/test.
const testEvent = `{"version":"2.0","routeKey":"$default","rawPath":"/service/test","rawQueryString":"","headers":{},` +
	`"requestContext":{"http":{"method":"GET","path":"/service/test","sourceIp":"192.0.2.1"},"domainName":"x.execute-api.us-east-1.amazonaws.com","stage":"$default"},"isBase64Encoded":false}`

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
	for _, impl := range []string{"cws", "bare"} {
		e := startEnv(t, bins[impl].path, io.Discard)
		res, err := e.Invoke(context.Background(), lambdaenv.Invocation{Payload: []byte(testEvent)})
		if err != nil {
			t.Fatal(err)
		}
		var r struct {
			StatusCode int    `json:"statusCode"`
			Body       string `json:"body"`
		}
		if err := json.Unmarshal(res.Payload, &r); err != nil || res.Error || r.StatusCode != 200 || r.Body != "service test" || res.Init <= 0 {
			t.Errorf("%s answered %+v %s", impl, res, res.Payload)
		}
		_ = e.Close()
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
// invocation (GET /next of lambdaenv's Runtime API); for the local server,
// exec → the first HTTP answer. It reports the binary's size (binary-B) and its packages'
// init time and allocations (init-ns, init-B, from GODEBUG=inittrace=1,
// set for every implementation alike).
func BenchmarkColdStart(b *testing.B) {
	bins := coldStartBinaries(b)
	for _, impl := range []string{"cws", "bare", "cws-biz"} {
		bin := bins[impl]
		b.Run("door=lambda/impl="+impl, func(b *testing.B) {
			var initSum time.Duration
			var initBytes float64
			n := 0
			for b.Loop() {
				b.StopTimer()
				var stderr bytes.Buffer
				e := startEnv(b, bin.path, &stderr, "GODEBUG=inittrace=1")
				b.StartTimer()
				if _, err := e.Warm(context.Background()); err != nil {
					b.Fatalf("%s did not start: %v\n%s", impl, err, stderr.String())
				}
				b.StopTimer()
				_ = e.Close()
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

// BenchmarkWarmInvoke hands GET /service/test to a warm execution
// environment through the Runtime API (lambdaenv): the invocation as Lambda
// times it, from the event handed over to the response taken.
func BenchmarkWarmInvoke(b *testing.B) {
	bins := coldStartBinaries(b)
	for _, impl := range []string{"cws", "bare"} {
		b.Run("impl="+impl, func(b *testing.B) {
			e := startEnv(b, bins[impl].path, io.Discard)
			defer e.Close()
			if _, err := e.Warm(context.Background()); err != nil {
				b.Fatal(err)
			}
			inv := lambdaenv.Invocation{Payload: []byte(testEvent)}
			for b.Loop() {
				res, err := e.Invoke(context.Background(), inv)
				if err != nil || res.Error {
					b.Fatalf("%v %+v", err, res)
				}
			}
		})
	}
}
