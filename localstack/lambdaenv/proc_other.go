//go:build !linux

package lambdaenv

import (
	"os"
	"syscall"
)

// childAttr: elsewhere than Linux the runtime has no parent-death signal;
// Close stops it.
func childAttr() *syscall.SysProcAttr { return nil }

// pending: elsewhere than Linux the pipe is not asked.
func pending(*os.File) (int, bool) { return 0, false }
