//go:build integration

// Package integration tests cws against a real LocalStack. It runs with the
// integration build tag (make integration, part of make test):
//
//	go test -tags integration ./integration/
//
// One LocalStack serves the whole run (localstack.Start: the environment's
// endpoint, Docker, or a host process); tests isolate themselves by unique
// resource names. In CI (CI=true) a LocalStack that cannot be had fails the
// run; elsewhere the tests skip, saying how to get one.
package integration

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/coworks-go/cws/localstack"
)

var (
	// instance is the LocalStack of this run.
	instance *localstack.Instance
	// awsCfg points every client at it.
	awsCfg aws.Config
	// unavailable says why there is no LocalStack (outside CI only).
	unavailable string
	// cwsBin is the cws command of this run: LocalStack's Lambda executor
	// runs it, and the CLI tests too.
	cwsBin string
	// runID makes this run's resource names unique.
	runID = func() string {
		b := make([]byte, 4)
		_, _ = rand.Read(b)
		return hex.EncodeToString(b)
	}()
)

// inCI reports whether the run is CI's, where skipping is failing.
func inCI() bool {
	v := strings.ToLower(os.Getenv("CI"))
	return v != "" && v != "false" && v != "0"
}

func TestMain(m *testing.M) {
	ctx := context.Background()
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	dir, err := os.MkdirTemp("", "cws-it-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "integration:", err)
		os.Exit(1)
	}
	defer os.RemoveAll(dir)
	cwsBin = filepath.Join(dir, "cws")
	if out, err := exec.Command("go", "build", "-o", cwsBin, "../cmd/cws").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "integration: building cws: %v\n%s", err, out)
		os.Exit(1)
	}
	start := time.Now()
	inst, err := localstack.Start(ctx, localstack.WithLogger(logger), localstack.WithProgress(os.Stderr),
		localstack.WithLambdaExecutor(cwsBin))
	switch {
	case err != nil && inCI():
		fmt.Fprintf(os.Stderr, "integration: FAIL: no LocalStack in CI: %v\n", err)
		os.Exit(1)
	case err != nil:
		unavailable = err.Error()
		fmt.Fprintf(os.Stderr, "integration: SKIP: %v\n", err)
	default:
		instance, awsCfg = inst, inst.AWSConfig()
		fmt.Fprintf(os.Stderr, "integration: %s, ready in %v\n", inst, time.Since(start).Round(time.Millisecond))
	}
	code := m.Run()
	if instance != nil {
		if err := instance.Stop(ctx); err != nil {
			fmt.Fprintf(os.Stderr, "integration: stopping LocalStack: %v\n", err)
		}
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

// need returns the AWS configuration of the run's LocalStack, or skips the
// test outside CI when there is none.
func need(t *testing.T) aws.Config {
	t.Helper()
	if unavailable != "" {
		t.Skip(unavailable) // it says how to get one
	}
	return awsCfg
}

// name returns a resource name unique to this run and test.
func name(t *testing.T, kind string) string {
	n := strings.NewReplacer("/", "-", "_", "-").Replace(t.Name())
	if len(n) > 40 {
		n = n[:40]
	}
	return fmt.Sprintf("cws-%s-%s-%s", runID, strings.ToLower(n), kind)
}

// ctxFor is a test's context, bounded.
func ctxFor(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
