// Command cws builds, runs and inspects cws services. Run `cws --help`.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/coworks-go/cws/cmd/cws/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Execute(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
