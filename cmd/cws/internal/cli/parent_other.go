//go:build !linux

package cli

import (
	"os"
	"syscall"
	"time"
)

// dieWithParent watches the parent: when it is gone (the process is
// re-parented), the process signals itself SIGTERM.
func dieWithParent() {
	parent := os.Getppid()
	go func() {
		for range time.Tick(time.Second) {
			if os.Getppid() != parent {
				_ = syscall.Kill(os.Getpid(), syscall.SIGTERM)
				return
			}
		}
	}()
}
